"""The Python client (retries, deadlines) and the `forecast` / `serve` command lines."""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections.abc import Mapping

import grpc
import pytest

from server.app import build_deps, create_server, load_model
from server.cli import add_forecast_parser, add_serve_parser, forecast_command, parse_levels, read_feature_file
from server.client import ForecastClient, RetryPolicy, spec_candidate
from server.config import ServerConfig
from server.deadline import Deadline
from server.featurize import FeaturizationJob
from tests.server import synthetic
from tests.server.conftest import FakeFeaturizer, start_server

SLOW_FEATURIZE_S = 1.5


class SlowFeaturizer(FakeFeaturizer):
    def featurize(self, job: FeaturizationJob, deadline: Deadline) -> Mapping[str, float]:
        self.deadlines.append(deadline.remaining())
        time.sleep(SLOW_FEATURIZE_S)
        return super().featurize(job, deadline)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_client_gives_up_after_its_attempts_when_nothing_listens():
    client = ForecastClient(f"127.0.0.1:{_free_port()}", retry=RetryPolicy(attempts=3, initial_backoff_s=0.05), timeout_s=5)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        client.health()
    client.close()
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - start < 5


def test_client_retries_until_a_late_server_comes_up(registry_root):
    port = _free_port()
    deps = build_deps(ServerConfig(port=port, model=registry_root))
    box = {}

    def start_late() -> None:
        time.sleep(0.5)
        server, _ = create_server(f"127.0.0.1:{port}", deps)
        server.start()
        load_model(deps)
        box["server"] = server

    thread = threading.Thread(target=start_late)
    thread.start()
    client = ForecastClient(
        f"127.0.0.1:{port}", retry=RetryPolicy(attempts=30, initial_backoff_s=0.05, max_backoff_s=0.3), timeout_s=60
    )
    try:
        thread.join()
        assert client.forecast(synthetic.feature_row()).model_version == "v1"
    finally:
        client.close()
        thread.join()
        if "server" in box:
            box["server"].stop(0)


def test_deadline_reaches_the_featurizer_and_expires(registry_root):
    featurizer = SlowFeaturizer()
    run = start_server(ServerConfig(port=0, model=registry_root), featurizer)
    try:
        candidate = spec_candidate("lab", synthetic.RECIPE, examples=[{"text": "slow"}])
        with pytest.raises(grpc.RpcError) as err:
            run.client().forecast(candidate, timeout_s=0.5)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert featurizer.deadlines and featurizer.deadlines[0] is not None and featurizer.deadlines[0] <= 0.6
    finally:
        run.stop()


def _forecast_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_forecast_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["forecast", *argv])


def test_forecast_command_prints_a_table_and_json(running, tmp_path, capsys):
    features = tmp_path / "features.json"
    features.write_text(json.dumps({**synthetic.feature_row(), synthetic.OBSERVATION: None}))
    assert forecast_command(_forecast_args("--server", running.address, "--features", str(features))) == 0
    table = capsys.readouterr().out
    assert "model v1" in table and "80% interval" in table and "90% interval" in table
    assert "forgetting.ref_loss" in table and "safety.refusal_margin" in table
    assert forecast_command(_forecast_args("--server", running.address, "--features", str(features),
                                           "--levels", "0.5", "--json")) == 0
    (payload,) = json.loads(capsys.readouterr().out)
    assert payload["model_version"] == "v1"
    assert all(len(t["intervals"]) == 1 and t["intervals"][0]["level"] == 0.5 for t in payload["targets"])


def test_forecast_command_batches_lists_and_warns_out_of_distribution(running, tmp_path, capsys):
    features = tmp_path / "many.json"
    features.write_text(json.dumps([synthetic.feature_row(), synthetic.feature_row({"data.refusal_rate": 30.0})]))
    assert forecast_command(_forecast_args("--server", running.address, "--features", str(features))) == 0
    out = capsys.readouterr().out
    assert "candidate 0" in out and "candidate 1" in out
    assert "out of range: data.refusal_rate" in out


def test_forecast_command_reports_server_refusals(running, tmp_path, capsys):
    features = tmp_path / "bad.json"
    features.write_text(json.dumps({"no.such.feature": 1.0}))
    assert forecast_command(_forecast_args("--server", running.address, "--features", str(features))) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err


def test_feature_file_and_levels_are_checked(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": "high"}')
    with pytest.raises(ValueError, match="expected a number"):
        read_feature_file(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected an object"):
        read_feature_file(bad)
    with pytest.raises(ValueError, match="strictly between"):
        parse_levels("0.9,1.5")
    assert parse_levels("0.8, 0.9,") == [0.8, 0.9]


def test_serve_parser_takes_every_option(tmp_path):
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args([
        "serve", "--model", "m", "--host", "0.0.0.0", "--port", "0", "--data-root", "d1", "--data-root", "d2",
        "--tls-cert", "c.pem", "--tls-key", "k.pem", "--token-file", "t", "--admin-token-file", "a",
    ])
    assert [str(p) for p in args.data_root] == ["d1", "d2"] and args.port == 0 and str(args.tls_key) == "k.pem"
    assert args.func.__name__ == "serve_command"
