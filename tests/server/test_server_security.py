"""TLS, bearer tokens, admin-only RPCs, and paths that try to leave the data roots."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import grpc
import pytest

from server.client import ForecastClient, RetryPolicy, spec_candidate
from server.config import ServerConfig
from tests.server import synthetic
from tests.server.conftest import ADMIN_TOKEN, USER_TOKEN, FakeFeaturizer, start_server

ROW = synthetic.feature_row()
ONE_TRY = RetryPolicy(attempts=1)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(scope="module")
def secure(registry_root, token_files, tmp_path_factory):
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    config = ServerConfig(
        port=0, model=registry_root, tls_cert=cert, tls_key=key,
        token_file=token_files["user"], admin_token_file=token_files["admin"],
    )
    run = start_server(config, FakeFeaturizer())
    run.cert = cert.read_bytes()
    yield run
    run.stop()


def _client(run, **kwargs) -> ForecastClient:
    kwargs.setdefault("root_certificates", run.cert)
    kwargs.setdefault("server_name", "localhost")
    return run.client(**kwargs)


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()


def test_tls_with_token_forecasts(secure):
    result = _client(secure, token=USER_TOKEN).forecast(ROW)
    assert result.model_version == "v1"


def test_missing_or_wrong_token_is_unauthenticated(secure):
    assert _code(lambda: _client(secure).forecast(ROW)) == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: _client(secure, token="user-token-0123456789abcdeX").forecast(ROW)) == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: _client(secure, token=USER_TOKEN[:-1]).model_info()) == grpc.StatusCode.UNAUTHENTICATED
    with grpc.secure_channel(
        secure.address, grpc.ssl_channel_credentials(secure.cert), options=[("grpc.ssl_target_name_override", "localhost")]
    ) as channel:
        from server.generated.tunecast.v1 import forecaster_pb2, forecaster_pb2_grpc

        stub = forecaster_pb2_grpc.ForecasterStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.GetModelInfo(forecaster_pb2.GetModelInfoRequest(), metadata=[("authorization", f"Basic {USER_TOKEN}")], timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_needs_no_token(secure):
    assert _client(secure).health() == "SERVING"


def test_plaintext_or_untrusted_clients_cannot_connect(secure, tmp_path):
    plain = ForecastClient(secure.address, token=USER_TOKEN, retry=ONE_TRY, timeout_s=3)
    try:
        assert _code(lambda: plain.forecast(ROW)) == grpc.StatusCode.UNAVAILABLE
    finally:
        plain.close()
    other_cert, _ = _self_signed(tmp_path)
    untrusted = _client(secure, token=USER_TOKEN, root_certificates=other_cert.read_bytes(), timeout_s=3)
    assert _code(lambda: untrusted.forecast(ROW)) == grpc.StatusCode.UNAVAILABLE


def test_admin_rpc_needs_the_admin_token(secure):
    user = _client(secure, token=USER_TOKEN, admin_token=USER_TOKEN)
    assert _code(lambda: user.reload(version="v2")) == grpc.StatusCode.PERMISSION_DENIED
    admin = _client(secure, token=ADMIN_TOKEN, admin_token=ADMIN_TOKEN)
    assert admin.reload(version="v2").model_version == "v2"
    assert admin.forecast(ROW).model_version == "v2"  # the admin token also passes ordinary calls
    assert admin.reload().model_version == "v1"
    stats = {m.method: m for m in admin.stats().methods}
    assert stats["/tunecast.v1.Forecaster/Forecast"].codes["UNAUTHENTICATED"] >= 1
    assert stats["/tunecast.v1.Forecaster/ReloadModel"].codes["PERMISSION_DENIED"] >= 1


def test_reload_is_refused_when_no_admin_token_is_configured(registry_root):
    run = start_server(ServerConfig(port=0, model=registry_root))
    try:
        assert _code(lambda: run.client(admin_token="anything").reload(version="v2")) == grpc.StatusCode.PERMISSION_DENIED
        assert run.client().forecast(ROW).model_version == "v1"
    finally:
        run.stop()


# ------------------------------------------------------------------ paths
def _dataset_code(running, path: str) -> grpc.StatusCode | None:
    candidate = spec_candidate("lab", synthetic.RECIPE, dataset_path=path)
    try:
        running.client().forecast(candidate)
    except grpc.RpcError as exc:
        return exc.code()
    return None


@pytest.mark.parametrize(
    "path",
    ["../outside/secret.jsonl", "escape.jsonl", "outdir/secret.jsonl", "./../outside/secret.jsonl",
     "good.jsonl/../../outside/secret.jsonl"],
)
def test_paths_leaving_the_data_root_are_denied(running, path):
    assert _dataset_code(running, path) == grpc.StatusCode.PERMISSION_DENIED


def test_absolute_paths_outside_are_denied_inside_are_fine(running, data_roots):
    assert _dataset_code(running, str(data_roots["outside"] / "secret.jsonl")) == grpc.StatusCode.PERMISSION_DENIED
    assert _dataset_code(running, "/etc/passwd") == grpc.StatusCode.PERMISSION_DENIED
    assert _dataset_code(running, str(data_roots["root"] / "good.jsonl")) is None
    assert _dataset_code(running, "inner.jsonl") is None  # a symlink that stays inside
    assert _dataset_code(running, "missing.jsonl") == grpc.StatusCode.NOT_FOUND
    assert _dataset_code(running, "bad\x00name.jsonl") == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "base_model", ["../outside", "/etc", "outdir", "lab+lora:../outside", "tiny:../outside/secret.jsonl", "not-a-model"]
)
def test_base_model_paths_are_confined_too(running, base_model):
    candidate = spec_candidate(base_model, synthetic.RECIPE, examples=[{"text": "hi"}])
    with pytest.raises(grpc.RpcError) as err:
        running.client().forecast(candidate)
    assert err.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
    assert err.value.details().startswith("candidate.spec.base_model")


def test_no_data_roots_means_no_paths(registry_root):
    run = start_server(ServerConfig(port=0, model=registry_root), FakeFeaturizer())
    try:
        assert _dataset_code(run, "good.jsonl") == grpc.StatusCode.PERMISSION_DENIED
    finally:
        run.stop()


def test_reload_by_path_is_confined_to_the_model_roots(running, data_roots, registry_root):
    admin = running.client(admin_token=ADMIN_TOKEN)
    assert _code(lambda: admin.reload(path=str(data_roots["root"]))) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: admin.reload(path="../../")) == grpc.StatusCode.PERMISSION_DENIED
    assert admin.reload(path="v2").model_version == "v2"  # relative to the registry's models/
    assert admin.reload(path=str(registry_root / "models" / "v1")).model_version == "v1"
