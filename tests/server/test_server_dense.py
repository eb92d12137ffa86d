"""Dense batches (FeatureMatrix in, ForecastMatrix out): same numbers as per-candidate
batches, strict validation naming the field, and streaming in order."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest

from server.client import feature_matrix
from server.generated.tunecast.v1 import (
    candidate_pb2,
    forecaster_pb2,
    forecaster_pb2_grpc,
)
from tests.server import synthetic

NAMES = [n for n in synthetic.FEATURES if not n.startswith("obs.")]


@pytest.fixture(scope="module")
def stub(running):
    with grpc.insecure_channel(running.address) as channel:
        yield forecaster_pb2_grpc.ForecasterStub(channel)


def _rows(n: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([synthetic.feature_row()[name] for name in NAMES])
    values = np.tile(base, (n, 1))
    values[:, NAMES.index("recipe.log_lr")] = rng.uniform(-0.9, 0.9, size=n)
    values[:, NAMES.index("data.gendered_rate")] = rng.uniform(0.0, 0.8, size=n)
    return values


def test_matrix_forecasts_equal_per_candidate_forecasts(running):
    values = _rows(300)
    values[7, NAMES.index("data.refusal_rate")] = 25.0  # out of range: flagged with details
    ids = [f"c{i}" for i in range(len(values))]
    client = running.client()
    dense = client.forecast_matrix(NAMES, values, candidate_ids=ids, levels=[0.8, 0.9])
    per = client.forecast_batch([dict(zip(NAMES, row)) for row in values.tolist()], levels=[0.8, 0.9])
    assert dense.candidate_ids == tuple(ids)
    assert dense.levels == (0.8, 0.9) and dense.model_version == per[0].model_version
    assert dense.point.shape == (300, len(dense.targets))
    assert dense.lower.shape == dense.upper.shape == (2, 300, len(dense.targets))
    for r in (0, 7, 150, 299):
        for t, (outcome, checkpoint) in enumerate(dense.targets):
            target = per[r].target(outcome, checkpoint)
            assert dense.point[r, t] == target.point
            for li, level in enumerate(dense.levels):
                assert dense.lower[li, r, t] == target.interval(level).lower
                assert dense.upper[li, r, t] == target.interval(level).upper
        assert bool(dense.ood_flagged[r]) == per[r].ood.flagged
    assert set(dense.ood) == {r for r in range(300) if per[r].ood.flagged} and 7 in dense.ood
    assert dense.ood[7] == per[7].ood
    assert not dense.observed.any()


def test_missing_cells_and_outcome_filter(running):
    names = [*NAMES, synthetic.OBSERVATION]
    values = np.column_stack([_rows(4), [0.2, np.nan, 0.1, np.nan]])
    client = running.client()
    dense = client.forecast_matrix(names, values, nan_is_missing=True, outcomes=["bias.gender_skew"])
    assert dense.observed.tolist() == [True, False, True, False]
    assert {o for o, _ in dense.targets} == {"bias.gender_skew"}
    single = client.forecast(dict(zip(NAMES, values[1, :-1].tolist())), outcomes=["bias.gender_skew"])
    assert [t.point for t in single.targets] == pytest.approx(dense.point[1].tolist())
    with pytest.raises(ValueError, match="nan_is_missing"):
        feature_matrix(names, values)


def test_stream_answers_dense_chunks_in_order(running):
    chunk = running.deps.config.limits.stream_chunk_candidates
    values = _rows(chunk * 2 + 3, seed=9)
    client = running.client()
    streamed = client.forecast_matrix(NAMES, values, stream=True, levels=[0.9])
    whole = client.forecast_matrix(NAMES, values, levels=[0.9])
    np.testing.assert_array_equal(streamed.point, whole.point)
    np.testing.assert_array_equal(streamed.lower, whole.lower)
    np.testing.assert_array_equal(streamed.upper, whole.upper)


def _matrix_request(**fields) -> forecaster_pb2.ForecastBatchRequest:
    defaults = {"names": NAMES, "values": _rows(2).reshape(-1).tolist()}
    return forecaster_pb2.ForecastBatchRequest(matrix=candidate_pb2.FeatureMatrix(**{**defaults, **fields}))


def _refusal(stub, request, method: str = "ForecastBatch") -> str:
    with pytest.raises(grpc.RpcError) as err:
        getattr(stub, method)(request, timeout=20) if method == "ForecastBatch" else list(
            getattr(stub, method)(request, timeout=20))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    return err.value.details()


def _values_with(flat: int, value: float) -> list[float]:
    values = _rows(2).reshape(-1)
    values[flat] = value
    return values.tolist()


@pytest.mark.parametrize(
    ("fields", "starts", "contains"),
    [
        ({"names": []}, "matrix.names", "empty"),
        ({"names": [*NAMES[:-1], "data.n_exampels"]}, f"matrix.names[{len(NAMES) - 1}]", "did you mean 'data.n_examples'"),
        ({"names": [*NAMES[:-1], NAMES[0]]}, f"matrix.names[{len(NAMES) - 1}]", "repeats names[0]"),
        ({"values": []}, "matrix.values", "empty"),
        ({"values": [0.1] * (len(NAMES) + 1)}, "matrix.values", "whole number of rows"),
        ({"values": _values_with(len(NAMES) + 2, math.nan)}, f"matrix.values[{len(NAMES) + 2}]", f"row 1, {NAMES[2]!r}"),
        ({"values": _values_with(0, math.inf)}, "matrix.values[0]", "finite"),
        ({"missing": [1, 2 * len(NAMES)]}, "matrix.missing[1]", "positions run from 0"),
        ({"candidate_ids": ["only-one"]}, "matrix.candidate_ids", "one per row"),
        ({"candidate_ids": ["a", "x" * 300]}, "matrix.candidate_ids[1]", "limit"),
        ({"featurizer_version": "someone-else-2"}, "matrix.featurizer_version", "test-featurizer-1"),
    ],
)
def test_matrix_refusals_name_the_field(stub, fields, starts, contains):
    details = _refusal(stub, _matrix_request(**fields))
    assert details.startswith(starts), details
    assert contains in details, details


def test_nan_listed_as_missing_is_accepted(stub):
    reply = stub.ForecastBatch(_matrix_request(values=_values_with(3, math.nan), missing=[3]), timeout=20)
    assert reply.matrix.rows == 2 and len(reply.forecasts) == 0


def test_matrix_with_candidates_or_over_the_limit_is_refused(running, stub):
    both = _matrix_request()
    both.candidates.add().features.named.update(synthetic.feature_row())
    assert _refusal(stub, both).startswith("matrix")
    limit = running.deps.config.limits.max_batch_candidates
    too_many = _matrix_request(values=np.tile(_rows(1), (limit + 1, 1)).reshape(-1).tolist())
    details = _refusal(stub, too_many)
    assert details.startswith("matrix.values") and "ForecastStream" in details
    assert _refusal(stub, _matrix_request(names=[]), "ForecastStream").startswith("matrix.names")


def test_client_matrix_shape_is_checked():
    with pytest.raises(ValueError, match="rows, 2"):
        feature_matrix(["a", "b"], np.zeros((3, 3)))
