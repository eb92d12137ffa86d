"""The server as a process (`python -m server serve`): every RPC served without
importing torch, JSON access logs, SIGHUP reload and a graceful SIGTERM shutdown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc

from server.client import ForecastClient, RetryPolicy
from surrogate.model import ModelRegistry
from tests.server import synthetic

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_process_serves_logs_reloads_on_sighup_and_stops_on_sigterm(registry_root, token_files, tmp_path):
    registry = tmp_path / "registry"
    shutil.copytree(registry_root, registry)
    port = _free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--model", str(registry), "--port", str(port),
             "--admin-token-file", str(token_files["admin"]), "--grace", "2"],
            cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=log,
        )
    client = ForecastClient(f"127.0.0.1:{port}", retry=RetryPolicy(attempts=1), timeout_s=5)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = client.health()
                if status == "SERVING":
                    break
            except grpc.RpcError:
                time.sleep(0.1)
        assert status == "SERVING", log_path.read_text()[-2000:]
        row = synthetic.feature_row()
        assert client.forecast(row).model_version == "v1"
        assert len(client.forecast_batch([row] * 3)) == 3
        assert len(list(client.forecast_stream([row] * 3))) == 3
        assert client.model_info().model.model_version == "v1"
        assert client.stats().methods

        ModelRegistry(registry).set_current("v2")
        proc.send_signal(signal.SIGHUP)
        version = None
        while time.monotonic() < deadline:
            version = client.forecast(synthetic.feature_row()).model_version
            if version == "v2":
                break
            time.sleep(0.1)
        assert version == "v2"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("logger") == "tunecast.access"]
    assert any(r["method"] == "/tunecast.v1.Forecaster/Forecast" and r["code"] == "OK" for r in access)
    assert all({"ts", "latency_ms", "peer"} <= set(r) for r in access)
    messages = [r["msg"] for r in records]
    assert any("serving model v2" in m for m in messages)
    assert messages[-1] == "stopped"
    assert records[-1]["torch_loaded"] is False  # the serving path never imported torch
    assert records[-1]["reloads"] == 1
