"""Serving benchmark: latency and throughput of the gRPC service, and its start-up time.

Measures health Check, Forecast (one feature vector), ForecastBatch (1,000
vectors, one Candidate message each) and the same 1,000 as one dense FeatureMatrix
at several concurrencies against a server in its own process, plus the
time from process start to the first SERVING health answer. Writes
``experiments/results/serving.json`` with the config and the machine it ran on.

    python -m experiments.bench.serving [--model DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "experiments" / "results" / "serving.json"


class SyntheticModelConfig(BaseModel):
    """A stand-in meta-model shaped like a real one (all core outcomes, three checkpoints)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_features: int = Field(default=48, ge=2)
    n_rows: int = Field(default=600, ge=50)
    checkpoints: tuple[float, ...] = (0.25, 0.5, 1.0)
    n_estimators: int = Field(default=150, ge=1)
    seed: int = 0


class ServingBenchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: tuple[int, ...] = (1, 8, 64)
    requests: int = Field(default=3000, ge=1, description="calls per (method, concurrency) for health and Forecast")
    batch_size: int = Field(default=1000, ge=1)
    batch_requests: int = Field(default=40, ge=1, description="ForecastBatch calls per concurrency")
    warmup_requests: int = Field(default=50, ge=0)
    startup_runs: int = Field(default=3, ge=1)
    start_timeout_s: float = Field(default=120.0, gt=0)
    call_timeout_s: float = Field(default=120.0, gt=0)
    health_poll_s: float = Field(default=0.005, gt=0)
    server_workers: int = Field(default=16, ge=1)
    synthetic: SyntheticModelConfig = SyntheticModelConfig()


QUICK = ServingBenchConfig(
    concurrency=(1, 8, 64), requests=300, batch_requests=6, warmup_requests=10, startup_runs=1,
    synthetic=SyntheticModelConfig(n_features=24, n_rows=300, n_estimators=40),
)


def build_synthetic_model(config: SyntheticModelConfig, directory: Path) -> Path:
    """Fit and save a synthetic model; returns the artifact directory."""
    from surrogate.model import (
        BoosterParams,
        FeatureSchema,
        ForecastModel,
        ForecastModelConfig,
    )
    from surrogate.runs.outcomes import CORE_OUTCOMES

    rng = np.random.default_rng(config.seed)
    names = tuple(f"feat.f{i:03d}" for i in range(config.n_features - 1)) + ("obs.delta.forgetting.ref_loss",)
    X = rng.normal(size=(config.n_rows, config.n_features))
    X[rng.random(config.n_rows) < 0.5, -1] = np.nan
    weights = rng.normal(size=(len(CORE_OUTCOMES), config.n_features - 1))
    Y = {}
    for k, outcome in enumerate(CORE_OUTCOMES):
        signal = X[:, :-1] @ weights[k] / np.sqrt(config.n_features)
        for c in config.checkpoints:
            Y[f"{outcome}@{c!r}"] = c * signal + 0.1 * rng.normal(size=config.n_rows)
    model_config = ForecastModelConfig(booster=BoosterParams(n_estimators=config.n_estimators), seed=config.seed)
    schema = FeatureSchema(feature_names=names, featurizer_version="bench")
    model = ForecastModel(model_config).fit(X, Y, schema, progress=True)
    return model.save(directory / "model", corpus_hash="synthetic-bench", model_version="bench")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, config: ServingBenchConfig) -> tuple[subprocess.Popen, int, float]:
    """(process, port, seconds from spawn to the first SERVING answer)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--model", str(model), "--port", str(port),
         "--max-workers", str(config.server_workers)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    serving = health_pb2.HealthCheckResponse.SERVING
    # gRPC backs off ~1 s after a refused connection; poll with a short backoff instead, or
    # the measured start-up is rounded up to the next reconnect attempt
    backoff_ms = max(1, int(config.health_poll_s * 1e3))
    options = [("grpc.initial_reconnect_backoff_ms", backoff_ms), ("grpc.min_reconnect_backoff_ms", backoff_ms),
               ("grpc.max_reconnect_backoff_ms", 4 * backoff_ms)]
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.perf_counter() - started < config.start_timeout_s:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {proc.returncode} before serving")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0).status == serving:
                    return proc, port, time.perf_counter() - started
            except grpc.RpcError:
                pass
            time.sleep(config.health_poll_s)
    proc.kill()
    raise RuntimeError(f"the server did not answer SERVING within {config.start_timeout_s} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_level(method: Any, request: Any, concurrency: int, total: int, timeout_s: float) -> dict[str, float]:
    """Issue ``total`` calls keeping ``concurrency`` in flight (futures, one issuing thread)."""
    slots = threading.Semaphore(concurrency)
    latencies = np.zeros(total)
    lock = threading.Lock()
    finished = threading.Event()
    state = {"done": 0, "errors": 0}

    def on_done(future: Any, i: int, start: float) -> None:
        latencies[i] = (time.perf_counter() - start) * 1e3
        failed = future.exception() is not None
        slots.release()
        with lock:
            state["done"] += 1
            state["errors"] += int(failed)
            if state["done"] == total:
                finished.set()

    began = time.perf_counter()
    for i in range(total):
        slots.acquire()
        start = time.perf_counter()
        future = method.future(request, timeout=timeout_s)
        future.add_done_callback(lambda f, i=i, start=start: on_done(f, i, start))
    finished.wait()
    elapsed = time.perf_counter() - began
    return {
        "requests": total,
        "errors": state["errors"],
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "mean_ms": float(latencies.mean()),
        "throughput_rps": total / elapsed,
    }


def measure(model: Path, config: ServingBenchConfig) -> dict[str, Any]:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from server.client import feature_candidate, feature_matrix
    from server.generated.tunecast.v1 import forecaster_pb2, forecaster_pb2_grpc
    from surrogate.model import ForecastModel

    fitted = ForecastModel.load(model)
    names = fitted.schema_.feature_names
    medians = fitted.feature_stats_.median
    rng = np.random.default_rng(1)
    rows = [
        {n: float(m + 0.1 * rng.normal()) for n, m in zip(names, medians) if not n.startswith("obs.")}
        for _ in range(config.batch_size)
    ]
    single = forecaster_pb2.ForecastRequest(candidate=feature_candidate(rows[0]))
    batch = forecaster_pb2.ForecastBatchRequest(candidates=[feature_candidate(r) for r in rows])
    columns = list(rows[0])
    dense = forecaster_pb2.ForecastBatchRequest(
        matrix=feature_matrix(columns, np.array([[r[c] for c in columns] for r in rows]))
    )
    health = health_pb2.HealthCheckRequest()

    startups = []
    for _ in tqdm(range(config.startup_runs - 1), desc="start-up runs", disable=config.startup_runs <= 1):
        proc, _, seconds = start_server(model, config)
        startups.append(seconds)
        stop_server(proc)
    proc, port, seconds = start_server(model, config)
    startups.append(seconds)
    results: dict[str, Any] = {}
    options = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            stub = forecaster_pb2_grpc.ForecasterStub(channel)
            plans: list[tuple[str, Callable, Any, int]] = [
                ("health_check", health_pb2_grpc.HealthStub(channel).Check, health, config.requests),
                ("forecast", stub.Forecast, single, config.requests),
                (f"forecast_batch_{config.batch_size}", stub.ForecastBatch, batch, config.batch_requests),
                (f"forecast_matrix_{config.batch_size}", stub.ForecastBatch, dense, config.batch_requests),
            ]
            for name, method, request, total in tqdm(plans, desc="methods"):
                if config.warmup_requests:
                    run_level(method, request, 1, min(config.warmup_requests, total), config.call_timeout_s)
                results[name] = {
                    str(c): run_level(method, request, c, total, config.call_timeout_s) for c in config.concurrency
                }
            stats = stub.GetStats(forecaster_pb2.GetStatsRequest(), timeout=config.call_timeout_s)
    finally:
        stop_server(proc)
    for batch_name in (f"forecast_batch_{config.batch_size}", f"forecast_matrix_{config.batch_size}"):
        for level in results[batch_name].values():
            level["candidates_per_s"] = level["throughput_rps"] * config.batch_size
    server_side = {m.method: {"count": m.count, "p50_ms": m.p50_ms, "p99_ms": m.p99_ms} for m in stats.methods}
    return {
        "startup_to_serving_s": {"runs": startups, "median": float(np.median(startups))},
        "methods": results,
        "server_side_histograms": server_side,
    }


def machine() -> dict[str, Any]:
    import grpc
    import lightgbm

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "grpcio": grpc.__version__,
        "lightgbm": lightgbm.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="artifact or registry to serve (default: fit a synthetic one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="few calls and a small model: a smoke run, not figures")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = QUICK if args.quick else ServingBenchConfig()
    host = machine()
    with tempfile.TemporaryDirectory(prefix="tunecast-bench-") as scratch:
        model = args.model if args.model is not None else build_synthetic_model(config.synthetic, Path(scratch))
        figures = measure(model, config)
    payload = {
        "config": config.model_dump(mode="json"),
        "quick": args.quick,
        "model": str(args.model) if args.model is not None else "synthetic",
        "machine": host,
        **figures,
    }
    write_json_atomic(args.out, payload, sort_keys=False)
    logger.info("wrote %s", args.out)
    print(json.dumps({"startup_to_serving_s": figures["startup_to_serving_s"]["median"],
                      **{k: {c: round(v["p50_ms"], 2) for c, v in lv.items()} for k, lv in figures["methods"].items()}},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
