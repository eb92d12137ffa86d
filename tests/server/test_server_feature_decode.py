"""The compiled feature decoder gives the rows and the errors of the protobuf path
(``validation.feature_row``), for named maps, parallel names/values, odd but valid wire
encodings and every kind of bad vector; a warmed-up server answers as a cold one."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from server import feature_decode
from server.app import build_deps, load_model, warm_up
from server.client import feature_candidate, spec_candidate
from server.config import ServerConfig
from server.errors import ServiceError
from server.forecasting import batch_field, candidate_rows
from server.generated.tunecast.v1 import candidate_pb2
from server.validation import feature_row
from tests.server import synthetic
from tests.server.conftest import FakeFeaturizer

pytest.importorskip("numba")


@pytest.fixture(scope="module")
def deps(registry_root: Path):
    deps = build_deps(ServerConfig(model=registry_root, port=0), FakeFeaturizer())
    load_model(deps)
    assert feature_decode.load()
    return deps


def _python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feature_decode._Loaded, "kernels", None)


def _rows_or_error(candidates, deps) -> np.ndarray | tuple[str, str, str]:
    try:
        return candidate_rows(candidates, deps.holder.get(), deps.env, batch_field).rows
    except ServiceError as exc:
        return (str(exc.code), exc.detail, type(exc).__name__)


def _pv(names, values, version: str = "") -> candidate_pb2.Candidate:
    return candidate_pb2.Candidate(
        id="pv", features=candidate_pb2.FeatureVector(names=names, values=values, featurizer_version=version)
    )


def _good_candidates() -> list[candidate_pb2.Candidate]:
    row = synthetic.feature_row()
    names = list(row)
    return [
        feature_candidate(row, "named"),
        feature_candidate({**row, synthetic.OBSERVATION: -0.25}, "named-obs"),
        feature_candidate({names[0]: 0.0, names[3]: -1e-300}, "sparse"),
        _pv(names[::-1], [float(i) for i in range(len(names))]),
        _pv(names[:2], [1e300, -0.0], version=synthetic.FEATURIZER_VERSION),
        feature_candidate(row, "versioned", featurizer_version=synthetic.FEATURIZER_VERSION),
    ]


def test_decoded_rows_equal_protobuf_rows(deps, monkeypatch):
    candidates = _good_candidates()
    spec = spec_candidate("lab", synthetic.RECIPE, examples=[{"text": "a short example"}], candidate_id="spec")
    for batch in (candidates, candidates[:1], [spec, *candidates, spec]):
        decoded = _rows_or_error(batch, deps)
        with monkeypatch.context() as m:
            _python_path(m)
            expected = _rows_or_error(batch, deps)
        assert isinstance(decoded, np.ndarray), decoded
        np.testing.assert_array_equal(decoded, expected)


BAD_VECTORS = [
    ("unknown named", lambda names: feature_candidate({"nope.feature": 1.0})),
    ("non-finite named", lambda names: candidate_pb2.Candidate(
        features=candidate_pb2.FeatureVector(named={names[0]: float("nan")}))),
    ("infinite value", lambda names: _pv(names[:2], [1.0, float("inf")])),
    ("both forms", lambda names: candidate_pb2.Candidate(
        features=candidate_pb2.FeatureVector(named={names[0]: 1.0}, names=[names[1]], values=[2.0]))),
    ("length mismatch", lambda names: _pv(names[:3], [1.0, 2.0])),
    ("empty", lambda names: candidate_pb2.Candidate(features=candidate_pb2.FeatureVector())),
    ("repeated name", lambda names: _pv([names[0], names[1], names[0]], [1.0, 2.0, 3.0])),
    ("unknown name", lambda names: _pv([names[0], "nöpe"], [1.0, 2.0])),
    ("other featurizer", lambda names: feature_candidate({names[0]: 1.0}, featurizer_version="other-9")),
]


@pytest.mark.parametrize("label,make", BAD_VECTORS, ids=[b[0] for b in BAD_VECTORS])
def test_bad_vectors_get_the_protobuf_paths_error(deps, monkeypatch, label, make):
    names = list(synthetic.feature_row())
    good = _good_candidates()
    batch = [good[0], good[3], make(names), good[1]]
    decoded = _rows_or_error(batch, deps)
    with monkeypatch.context() as m:
        _python_path(m)
        expected = _rows_or_error(batch, deps)
    assert isinstance(expected, tuple), label
    assert decoded == expected
    assert "candidates[2]" in decoded[1] or "candidates[2]" in str(decoded)


def _entry(*fields: bytes) -> bytes:
    body = b"".join(fields)
    return b"\x0a" + bytes([len(body)]) + body


def _key(name: str) -> bytes:
    encoded = name.encode()
    return b"\x0a" + bytes([len(encoded)]) + encoded


def _value(x: float) -> bytes:
    return b"\x11" + struct.pack("<d", x)


def test_odd_but_valid_wire_encodings(deps):
    """Unpacked values, map entries with the value first or missing, duplicate map keys
    (the last wins) decode as protobuf reads them; an unknown field goes to protobuf."""
    snapshot = deps.holder.get()
    names = list(synthetic.feature_row())
    unpacked = b"".join(b"\x12" + bytes([len(n)]) + n.encode() for n in names[:3]) + b"".join(
        b"\x19" + struct.pack("<d", v) for v in (0.5, -2.0, 3.25))
    blobs = [
        unpacked,
        _entry(_value(1.5), _key(names[0])) + _entry(_key(names[1])),
        _entry(_key(names[2]), _value(1.0)) + _entry(_key(names[2]), _value(-4.0)),
        _entry(_key(names[0]), _value(1.0)) + b"\x48\x01",  # field 9, a varint: not decoded here
        b"\x0a\x05\x0a\x03abc",  # truncated entry
    ]
    result = feature_decode.decode(blobs, snapshot.schema.feature_names)
    assert result is not None
    rows, accepted = result
    assert accepted.tolist() == [True, True, True, False, False]
    for i, blob in enumerate(blobs[:4]):
        expected = feature_row(candidate_pb2.FeatureVector.FromString(blob), snapshot, "f", deps.env.limits)
        if accepted[i]:
            np.testing.assert_array_equal(rows[i], expected)


def test_warmed_up_server_answers_as_before(running):
    """Forecasts before and after the warm-up (compiled trees and decoder) are equal."""
    client = running.client()
    rows = [synthetic.feature_row({"recipe.log_lr": 0.1 * i}) for i in range(12)]
    before = client.forecast_batch(rows)
    single_before = client.forecast(rows[0])
    warm_up(running.deps.holder.get()).join(timeout=600)
    assert running.deps.holder.get().model.forest_.acceleration.compiled is not None
    assert client.forecast_batch(rows) == before
    assert client.forecast(rows[0]) == single_before
