"""Units of the server package: path confinement, bearer parsing, metrics, deadlines, config."""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
import pytest

from server.auth import TokenPolicy, bearer_token, read_token
from server.config import ServerConfig
from server.deadline import Deadline
from server.errors import ServiceError
from server.featurize import FeatureCache
from server.metrics import ServerMetrics
from server.paths import real_roots, resolve_inside

LIMIT = 4096


@pytest.fixture()
def tree(tmp_path: Path) -> dict[str, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "a.jsonl").write_text("{}")
    (outside / "b.jsonl").write_text("{}")
    (root / "link").symlink_to(outside / "b.jsonl")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    return {"root": root, "outside": outside, "roots": real_roots([root])}


def _code(fn) -> grpc.StatusCode:
    with pytest.raises(ServiceError) as err:
        fn()
    return err.value.code


def test_resolve_inside_accepts_relative_and_absolute_inside(tree):
    roots = tree["roots"]
    expected = Path(os.path.realpath(tree["root"] / "sub" / "a.jsonl"))
    assert resolve_inside("sub/a.jsonl", roots, "f", "file", LIMIT) == expected
    assert resolve_inside(str(tree["root"] / "sub" / "a.jsonl"), roots, "f", "file", LIMIT) == expected
    assert resolve_inside("sub", roots, "f", "dir", LIMIT) == expected.parent


@pytest.mark.parametrize("raw", ["../outside/b.jsonl", "sub/../../outside/b.jsonl", "link", "dirlink/b.jsonl", "sub/.."])
def test_resolve_inside_denies_escapes(tree, raw):
    assert _code(lambda: resolve_inside(raw, tree["roots"], "f", "file", LIMIT)) == grpc.StatusCode.PERMISSION_DENIED


def test_resolve_inside_other_refusals(tree):
    roots = tree["roots"]
    assert _code(lambda: resolve_inside(str(tree["outside"] / "b.jsonl"), roots, "f", "file", LIMIT)) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: resolve_inside("nope.jsonl", roots, "f", "file", LIMIT)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: resolve_inside("sub", roots, "f", "file", LIMIT)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: resolve_inside("", roots, "f", "file", LIMIT)) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: resolve_inside("a" * 10, roots, "f", "file", 5)) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: resolve_inside("sub/a.jsonl", (), "f", "file", LIMIT)) == grpc.StatusCode.PERMISSION_DENIED


def test_bearer_token_parsing():
    assert bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("x", "y"), ("authorization", "bearer  abc ")]) == "abc"
    assert bearer_token([("authorization", "Basic abc")]) == ""
    assert bearer_token([]) is None and bearer_token(None) is None


def test_token_policy_rules():
    admin_methods, open_methods = frozenset({"/s/Admin"}), frozenset({"/h/Check"})
    policy = TokenPolicy("user-secret", "admin-secret", admin_methods, open_methods)
    md = lambda token: [("authorization", f"Bearer {token}")]  # noqa: E731
    assert policy.check("/h/Check", None) is None
    assert policy.check("/s/Call", md("user-secret")) is None
    assert policy.check("/s/Call", md("admin-secret")) is None
    assert policy.check("/s/Call", None).code == grpc.StatusCode.UNAUTHENTICATED
    assert policy.check("/s/Call", md("user-secreT")).code == grpc.StatusCode.UNAUTHENTICATED
    assert policy.check("/s/Admin", md("admin-secret")) is None
    assert policy.check("/s/Admin", md("user-secret")).code == grpc.StatusCode.PERMISSION_DENIED
    assert policy.check("/s/Admin", None).code == grpc.StatusCode.UNAUTHENTICATED
    open_policy = TokenPolicy(None, None, admin_methods, open_methods)
    assert open_policy.check("/s/Call", None) is None
    assert open_policy.check("/s/Admin", md("x")).code == grpc.StatusCode.PERMISSION_DENIED


def test_read_token_refuses_empty_and_multi_token_files(tmp_path):
    empty, two = tmp_path / "empty", tmp_path / "two"
    empty.write_text("\n")
    two.write_text("abc def\n")
    with pytest.raises(ValueError, match="empty"):
        read_token(empty, "--token-file")
    with pytest.raises(ValueError, match="whitespace"):
        read_token(two, "--token-file")
    with pytest.raises(ValueError, match="cannot be read"):
        read_token(tmp_path / "missing", "--token-file")


def test_metrics_histogram_and_quantiles():
    metrics = ServerMetrics((1.0, 10.0, 100.0))
    for latency in [0.5] * 50 + [5.0] * 49 + [500.0]:
        metrics.observe("/s/M", "OK", latency)
    metrics.observe("/s/M", "INVALID_ARGUMENT", 0.2)
    (snap,) = metrics.snapshot()
    assert snap.count == 101 and snap.codes == {"OK": 100, "INVALID_ARGUMENT": 1}
    assert snap.bucket_counts == (51, 49, 0, 1)
    assert 0.0 < snap.quantile_ms(0.5) <= 1.0
    assert 10.0 >= snap.quantile_ms(0.99) > 1.0
    text = metrics.prometheus_text({"up": 1.0})
    assert 'tunecast_server_latency_ms_bucket{method="/s/M",le="+Inf"} 101' in text
    assert 'tunecast_server_requests_total{method="/s/M",code="OK"} 100' in text


def test_deadline():
    assert Deadline.none().remaining() is None
    Deadline.none().check("anything")
    past = Deadline(time.monotonic() - 1.0)
    assert past.remaining() == 0.0
    with pytest.raises(ServiceError) as err:
        past.check("featurizing")
    assert err.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_feature_cache_is_bounded_lru():
    cache = FeatureCache(2)
    cache.put("a", {"x": 1.0})
    cache.put("b", {"x": 2.0})
    assert cache.get("a") == {"x": 1.0}
    cache.put("c", {"x": 3.0})
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    assert (cache.hits, cache.misses) == (2, 1)


def test_server_config_checks():
    with pytest.raises(ValueError, match="tls_cert and tls_key"):
        ServerConfig(tls_cert=Path("c.pem"))
    with pytest.raises(ValueError, match="latency_buckets_ms"):
        ServerConfig(latency_buckets_ms=(5.0, 1.0))
    assert ServerConfig(host="::1", port=5).address == "[::1]:5"


def test_serve_without_model_uses_the_embedded_default_or_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    """`tunecast serve` with no --model serves the packaged default; when a build ships none, it
    exits 2 naming how to train one instead of starting a server with nothing to serve."""
    from surrogate import default_model
    from tunecast.cli import main

    monkeypatch.setattr(default_model, "default_model_dir", lambda: tmp_path / "absent")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "embedded default meta-model is absent" in err and "tunecast train" in err
