"""Load: many concurrent Forecast calls, all answered OK, and the stats add up."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from server.client import ForecastClient, RetryPolicy
from tests.server import synthetic


def _hammer(address: str, total: int, concurrency: int) -> tuple[int, float, np.ndarray]:
    """(failures, seconds, per-call latencies in ms) for ``total`` calls from ``concurrency`` threads."""
    rng = np.random.default_rng(11)
    rows = [synthetic.feature_row({"recipe.log_lr": float(v)}) for v in rng.uniform(-0.9, 0.9, size=64)]
    clients = [ForecastClient(address, retry=RetryPolicy(attempts=1), timeout_s=60) for _ in range(concurrency)]
    per_worker = total // concurrency

    def work(w: int) -> tuple[int, list[float]]:
        failures, latencies = 0, []
        client = clients[w]
        for i in range(per_worker):
            start = time.perf_counter()
            try:
                result = client.forecast(rows[(w + i) % len(rows)])
                if len(result.targets) != len(synthetic.OUTCOMES) * len(synthetic.CHECKPOINTS):
                    failures += 1
            except Exception:  # counted, not raised: the test reports them all at once
                failures += 1
            latencies.append((time.perf_counter() - start) * 1e3)
        return failures, latencies

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(work, range(concurrency)))
    finally:
        for client in clients:
            client.close()
    elapsed = time.perf_counter() - start
    return sum(f for f, _ in results), elapsed, np.concatenate([np.asarray(l) for _, l in results])


def _check(running, total: int, concurrency: int) -> None:
    before = {m.method: m.count for m in running.client().stats().methods}
    failures, elapsed, latencies = _hammer(running.address, total, concurrency)
    assert failures == 0
    served = total // concurrency * concurrency
    assert latencies.size == served
    after = {m.method: m for m in running.client().stats().methods}
    forecast = after["/tunecast.v1.Forecaster/Forecast"]
    assert forecast.count - before.get("/tunecast.v1.Forecaster/Forecast", 0) == served
    print(f"\n{served} calls at concurrency {concurrency}: {served / elapsed:.0f}/s, "
          f"p50 {np.percentile(latencies, 50):.2f} ms, p99 {np.percentile(latencies, 99):.2f} ms")


def test_modest_load(running):
    _check(running, total=2000, concurrency=16)


@pytest.mark.slow
def test_full_load(running):
    _check(running, total=20_000, concurrency=64)
