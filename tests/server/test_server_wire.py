"""Forecast replies encoded as wire bytes (``server.wire``) parse to exactly the messages
the message API builds (``convert.candidate_forecasts``), whatever the OOD findings,
ids, levels, target subsets and offsets."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from server.convert import candidate_forecasts, forecast_reply
from server.generated.tunecast.v1 import forecaster_pb2
from server.wire import encode_forecasts, target_template, varint
from surrogate.model import Forecast, OODReport

TARGETS = (("forgetting.ref_loss", 0.25), ("forgetting.ref_loss", 1.0), ("bias.gender_skew", 0.5),
           ("safety.refusal_margin", 1.0), ("ünïcode.outcome", 0.75))
FEATURES = tuple(f"feat.{i}" for i in range(9)) + ("obs.delta.ü",)


def _forecast(rng: np.random.Generator, n_rows: int, levels: tuple[float, ...]) -> Forecast:
    n_targets = len(TARGETS)
    point = rng.normal(size=(n_rows, n_targets))
    point[0, 0] = 0.0
    point[1 % n_rows, 1] = -0.0
    width = rng.random((len(levels), n_rows, n_targets))
    out_of_range = rng.random((n_rows, len(FEATURES))) < 0.2
    unseen = rng.random((n_rows, len(FEATURES))) < 0.1
    distance = rng.random(n_rows) * 3.0
    distance[::5] = 0.0
    distance[1::7] = np.nan
    distance[2::9] = np.inf
    ood = OODReport(feature_names=FEATURES, out_of_range=out_of_range, unseen_missing=unseen, distance=distance,
                    distance_flagged=np.nan_to_num(distance, posinf=9.0) > 1.5)
    return Forecast(targets=tuple(f"{o}@{c}" for o, c in TARGETS), levels=levels, point=point,
                    lower=point[None] - width, upper=point[None] + width, observed=rng.random(n_rows) < 0.5, ood=ood)


@pytest.mark.parametrize("levels", [(0.9,), (0.8, 0.9), (0.5, 0.8, 0.95)])
@pytest.mark.parametrize("n_rows,offset", [(1, 0), (1, 200), (37, 0), (37, 130)])
def test_encoded_replies_equal_message_api_replies(levels, n_rows, offset):
    rng = np.random.default_rng(n_rows + offset + len(levels))
    forecast = _forecast(rng, n_rows, levels)
    n_total = offset + n_rows
    ids = [("" if i % 4 == 0 else f"cand-{i}-é" * (1 + i % 40)) for i in range(n_total)]
    featurized = rng.random(n_total) < 0.5
    cache_hit = featurized & (rng.random(n_total) < 0.5)
    snapshot = SimpleNamespace(targets=TARGETS)
    for columns in (np.arange(len(TARGETS)), np.array([1, 3]), np.array([4])):
        expected = forecaster_pb2.ForecastBatchResponse(
            forecasts=candidate_forecasts(forecast, snapshot, columns, ids, featurized, cache_hit, offset=offset)
        )
        targets = tuple(TARGETS[j] for j in columns)
        encoded = encode_forecasts(forecast, targets, columns, ids, featurized, cache_hit, offset)
        got = forecaster_pb2.ForecastBatchResponse.FromString(encoded)
        assert got == expected
        assert [f.index for f in got.forecasts] == list(range(offset, n_total))
        if n_rows == 1:
            single = forecaster_pb2.ForecastResponse.FromString(encoded)
            assert single.forecast == expected.forecasts[0]


def test_forecast_reply_carries_stamp_and_levels():
    rng = np.random.default_rng(3)
    forecast = _forecast(rng, 4, (0.8, 0.9))
    snapshot = SimpleNamespace(targets=TARGETS, version="v7", featurizer_version="feat-1")
    columns = np.arange(len(TARGETS))
    flags = np.zeros(4, dtype=bool)
    reply = forecast_reply(forecaster_pb2.ForecastBatchResponse, forecast, snapshot, columns, ["a"] * 4, flags, flags,
                           (0.8, 0.9))
    assert reply.HasField("model")
    assert (reply.model.model_version, reply.model.featurizer_version) == ("v7", "feat-1")
    assert list(reply.levels) == [0.8, 0.9]
    assert len(reply.forecasts) == 4 and reply.forecasts[2].targets[4].outcome == "ünïcode.outcome"


def test_varints_and_template_positions():
    assert [varint(n) for n in (0, 1, 127, 128, 300, 2**31 - 1)] == [
        b"\x00", b"\x01", b"\x7f", b"\x80\x01", b"\xac\x02", b"\xff\xff\xff\xff\x07"]
    layout = target_template(TARGETS[:2], 2)
    assert layout.positions.size == 2 * (1 + 2 * 2) * 8
    assert np.unique(layout.positions).size == layout.positions.size
    assert not layout.template[layout.positions].any()
