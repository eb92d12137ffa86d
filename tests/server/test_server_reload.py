"""Hot reload under traffic: no request fails, and none mixes two models."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from server.client import ForecastClient, RetryPolicy
from server.model_holder import ModelHolder, load_serving_model
from surrogate.model import ModelRegistry
from tests.server import synthetic
from tests.server.conftest import ADMIN_TOKEN

N_SENDERS = 4
N_RELOADS = 16


def _expected_points(registry_root, rows) -> dict[str, np.ndarray]:
    registry = ModelRegistry(registry_root)
    out = {}
    for version in ("v1", "v2"):
        model = registry.load(version)
        out[version] = model.predict(model.schema_.matrix_from_rows(rows)).point
    return out


def test_reload_loop_under_load_has_zero_failures_and_no_mixing(running, registry_root):
    rows = [synthetic.feature_row({"recipe.log_lr": v}) for v in (-0.5, 0.0, 0.5)]
    expected = _expected_points(registry_root, rows)
    assert not np.allclose(expected["v1"], expected["v2"])
    stop = threading.Event()
    failures: list[str] = []
    seen: dict[str, int] = {"v1": 0, "v2": 0}
    lock = threading.Lock()

    def send(worker: int) -> None:
        client = ForecastClient(running.address, retry=RetryPolicy(attempts=1), timeout_s=20)
        try:
            i = 0
            while not stop.is_set():
                r = i % len(rows)
                try:
                    results = client.forecast_batch([rows[r]] * 2)
                except Exception as exc:  # any failure is what this test counts
                    failures.append(f"worker {worker}: {exc!r}")
                    continue
                versions = {res.model_version for res in results}
                if len(versions) != 1:
                    failures.append(f"worker {worker}: one reply mixed versions {versions}")
                    continue
                version = versions.pop()
                points = np.array([t.point for t in results[0].targets])
                if not np.allclose(points, expected[version][r], rtol=0, atol=1e-12):
                    failures.append(f"worker {worker}: reply stamped {version} does not match {version}'s forecast")
                with lock:
                    seen[version] += 1
                i += 1
        finally:
            client.close()

    threads = [threading.Thread(target=send, args=(w,)) for w in range(N_SENDERS)]
    for t in threads:
        t.start()
    admin = running.client(admin_token=ADMIN_TOKEN, timeout_s=30)
    try:
        for k in range(N_RELOADS):
            reply = admin.reload(version="v2" if k % 2 == 0 else "v1")
            assert reply.model_version in ("v1", "v2")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    admin.reload(version="v1")
    assert failures == []
    assert seen["v1"] > 0 and seen["v2"] > 0
    stats = {m.method: m for m in running.client().stats().methods}
    assert set(stats["/tunecast.v1.Forecaster/ForecastBatch"].codes) == {"OK"}


def test_a_failed_reload_keeps_the_old_model(running, tmp_path):
    """A broken artifact (altered file) is refused; the server keeps answering with v1."""
    import shutil

    from server.model_holder import ModelSource

    broken = tmp_path / "registry"
    shutil.copytree(running.deps.source.path, broken)
    metrics = broken / "models" / "v2" / "metrics.json"
    metrics.write_text(metrics.read_text().replace("0.81", "0.99"))
    holder = ModelHolder()
    holder.install(load_serving_model(broken / "models" / "v1"))
    source = ModelSource.from_path(broken)
    from server.errors import ServiceError

    with pytest.raises(ServiceError, match="cannot load"):
        holder.reload(source.resolve("v2", None, 4096))
    assert holder.get().version == "v1"
    assert running.client().forecast(synthetic.feature_row()).model_version == "v1"


def test_snapshot_taken_before_a_swap_stays_whole(registry_root):
    """The holder's contract: a reader's snapshot is immutable, whatever is installed later."""
    holder = ModelHolder()
    registry = ModelRegistry(registry_root)
    holder.install(load_serving_model(registry.path("v1")))
    taken = holder.get()
    holder.install(load_serving_model(registry.path("v2")))
    assert taken.version == "v1" and holder.get().version == "v2"
    assert holder.reloads == 1
