"""The committed stubs under server/generated are what `make proto` would write now."""

from __future__ import annotations

import re
from pathlib import Path

from server.proto_gen import GENERATED_ROOT, PROTO_PACKAGE_DIR, generate

# Tool-version stamps differ between grpcio-tools releases without any change of contract.
_VERSION_LINES = [
    re.compile(r"^# Protobuf Python Version: .*$", re.MULTILINE),
    re.compile(r"^GRPC_GENERATED_VERSION = .*$", re.MULTILINE),
    re.compile(r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)", re.DOTALL),
]


def _normalised(text: str) -> str:
    for pattern in _VERSION_LINES:
        text = pattern.sub("<version>", text)
    return text


def _stub_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _normalised(p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in {".py", ".pyi"}
    }


def test_committed_stubs_are_current(tmp_path):
    fresh_root = tmp_path / "generated"
    generate(fresh_root)
    fresh, committed = _stub_files(fresh_root), _stub_files(GENERATED_ROOT)
    assert sorted(fresh) == sorted(committed), "stub files differ: run `make proto`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], f"stale stubs {stale}: run `make proto` and commit server/generated"


def test_generated_imports_point_into_the_server_package():
    for path in (GENERATED_ROOT / PROTO_PACKAGE_DIR).glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from tunecast.v1 import" not in text, path.name


def test_generation_detects_a_changed_contract(tmp_path):
    """The check can fail: a proto with one more field yields different stubs."""
    import shutil

    from server.proto_gen import PROTO_ROOT

    protos = tmp_path / "proto"
    shutil.copytree(PROTO_ROOT, protos)
    forecast = protos / PROTO_PACKAGE_DIR / "forecast.proto"
    forecast.write_text(forecast.read_text().replace("bool cache_hit = 7;", "bool cache_hit = 7;\n  string extra = 8;"))
    generate(tmp_path / "out", protos)
    changed = _normalised((tmp_path / "out" / PROTO_PACKAGE_DIR / "forecast_pb2.py").read_text())
    assert changed != _stub_files(GENERATED_ROOT)[f"{PROTO_PACKAGE_DIR}/forecast_pb2.py"]
