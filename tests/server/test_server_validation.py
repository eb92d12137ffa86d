"""Every malformed request gets INVALID_ARGUMENT naming its field, and the server keeps serving."""

from __future__ import annotations

import math

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.client import spec_candidate
from server.generated.tunecast.v1 import candidate_pb2, forecaster_pb2, forecaster_pb2_grpc
from tests.server import synthetic

KNOWN = list(synthetic.FEATURES)


@pytest.fixture(scope="module")
def stub(running):
    """One channel for the whole module: the fuzz tests send hundreds of calls."""
    with grpc.insecure_channel(running.address) as channel:
        yield forecaster_pb2_grpc.ForecasterStub(channel)


def _call(stub, request, method: str = "Forecast"):
    try:
        return getattr(stub, method)(request, timeout=20), None
    except grpc.RpcError as exc:
        return None, exc


def _request(features=None, names=None, values=None, levels=(), outcomes=(), candidate_id=""):
    vector = candidate_pb2.FeatureVector(named=features or {}, names=names or [], values=values or [])
    return forecaster_pb2.ForecastRequest(
        candidate=candidate_pb2.Candidate(id=candidate_id, features=vector), levels=list(levels), outcomes=list(outcomes)
    )


def _assert_invalid(stub, request, field_prefix: str, method: str = "Forecast", contains: str = ""):
    reply, err = _call(stub, request, method)
    assert err is not None, f"expected INVALID_ARGUMENT for {field_prefix}, got a reply"
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert err.details().startswith(field_prefix), err.details()
    assert contains in err.details()
    return err.details()


ROW = synthetic.feature_row()


@pytest.mark.parametrize(
    ("request_", "field", "contains"),
    [
        (_request({**ROW, "data.n_exampels": 1.0}), 'candidate.features.named["data.n_exampels"]', "did you mean 'data.n_examples'"),
        (_request({**ROW, "data.mean_chars": math.nan}), 'candidate.features.named["data.mean_chars"]', "finite"),
        (_request({**ROW, "data.mean_chars": math.inf}), 'candidate.features.named["data.mean_chars"]', "finite"),
        (_request(names=["recipe.log_lr", "data.n_examples"], values=[0.1]), "candidate.features.values", "pair up"),
        (_request(names=["recipe.log_lr", "recipe.log_lr"], values=[0.1, 0.2]), "candidate.features.names", "twice"),
        (_request(names=["recipe.log_lr", "bogus"], values=[0.1, 0.2]), 'candidate.features.names["bogus"]', "unknown"),
        (_request(names=["recipe.log_lr"], values=[-math.inf]), 'candidate.features.values["recipe.log_lr"]', "finite"),
        (_request(ROW, names=["recipe.log_lr"], values=[0.1]), "candidate.features", "not both"),
        (_request(), "candidate.features", "empty"),
        (_request(ROW, levels=[0.0]), "levels[0]", "between 0 and 1"),
        (_request(ROW, levels=[0.9, 1.0]), "levels[1]", "between 0 and 1"),
        (_request(ROW, levels=[math.nan]), "levels[0]", ""),
        (_request(ROW, levels=[0.9, 0.9]), "levels[1]", "twice"),
        (_request(ROW, levels=[0.5] * 17), "levels", "limit"),
        (_request(ROW, outcomes=["bias.gender_skw"]), "outcomes[0]", "did you mean 'bias.gender_skew'"),
        (_request(ROW, candidate_id="x" * 300), "candidate.id", "limit"),
        (forecaster_pb2.ForecastRequest(), "candidate", "required"),
        (forecaster_pb2.ForecastRequest(candidate=candidate_pb2.Candidate(id="a")), "candidate.input", "set one of"),
    ],
)
def test_forecast_refusals_name_the_field(stub, request_, field, contains):
    _assert_invalid(stub, request_, field, contains=contains)


def test_featurizer_version_mismatch_is_refused(stub):
    request = _request(ROW)
    request.candidate.features.featurizer_version = "someone-else-2"
    _assert_invalid(stub, request, "candidate.features.featurizer_version", contains="test-featurizer-1")


def test_batch_refusals_name_the_candidate(running, stub):
    good = _request(ROW).candidate
    bad = _request({"nope": 1.0}).candidate
    request = forecaster_pb2.ForecastBatchRequest(candidates=[good, good, bad])
    _assert_invalid(stub, request, 'candidates[2].features.named["nope"]', "ForecastBatch")
    _assert_invalid(stub, forecaster_pb2.ForecastBatchRequest(), "candidates", "ForecastBatch", "empty")
    limit = running.deps.config.limits.max_batch_candidates
    too_many = forecaster_pb2.ForecastBatchRequest(candidates=[good] * (limit + 1))
    _assert_invalid(stub, too_many, "candidates", "ForecastBatch", "ForecastStream")


def test_undecodable_bytes_are_invalid_argument(running):
    with grpc.insecure_channel(running.address) as channel:
        raw = channel.unary_unary("/tunecast.v1.Forecaster/Forecast", request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as err:
            raw(b"\xff\xff\xff\xff\x0f", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _spec_request(**overrides):
    recipe = {**synthetic.RECIPE, **overrides.pop("recipe", {})}
    candidate = spec_candidate(
        overrides.pop("base_model", "lab"), recipe,
        examples=overrides.pop("examples", [{"text": "hello there"}]),
        observations=overrides.pop("observations", None),
    )
    return forecaster_pb2.ForecastRequest(candidate=candidate)


@pytest.mark.parametrize(
    ("overrides", "field", "contains"),
    [
        ({"recipe": {"method": "qlora"}}, "candidate.spec.recipe.method", ""),
        ({"recipe": {"learning_rate": -1.0}}, "candidate.spec.recipe.learning_rate", ""),
        ({"recipe": {"learning_rate": "Infinity"}}, "candidate.spec.recipe.learning_rate", "finite"),
        ({"recipe": {"steps": 0}}, "candidate.spec.recipe.steps", ""),
        ({"recipe": {"optimizer": ""}}, "candidate.spec.recipe.optimizer", "required"),
        ({"recipe": {"target_modules": []}}, "candidate.spec.recipe", "target_modules"),
        ({"examples": [{"prompt": "only a prompt"}]}, "candidate.spec.dataset.inline.examples[0]", "match no format"),
        ({"examples": [{"text": "a", "prompt": "b", "response": "c"}]}, "candidate.spec.dataset.inline.examples[0]", "no format"),
        ({"examples": [{"messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}]}]},
         "candidate.spec.dataset.inline.examples[0].messages[1].role", "robot"),
        ({"examples": []}, "candidate.spec.dataset.inline.examples", "empty"),
        ({"base_model": ""}, "candidate.spec.base_model", "empty"),
        ({"observations": {"step": 500}}, "candidate.spec.observations.step", "recipe.steps=200"),
        ({"observations": {"step": 20, "probe_deltas": {"bias.unknown": 1.0}}},
         'candidate.spec.observations.probe_deltas["bias.unknown"]', "not an outcome"),
        ({"observations": {"step": 20, "loss_curve": [{"step": 5, "loss": 1.0}, {"step": 5, "loss": 0.9}]}},
         "candidate.spec.observations.loss_curve[1].step", "strictly"),
    ],
)
def test_spec_refusals_name_the_field(stub, overrides, field, contains):
    _assert_invalid(stub, _spec_request(**overrides), field, contains=contains)


def test_oversized_inline_dataset_is_refused(registry_root):
    """Limits are config: a server with small ones refuses past them (and names the field)."""
    from server.config import RequestLimits, ServerConfig
    from tests.server.conftest import FakeFeaturizer, start_server

    limits = RequestLimits(max_inline_examples=20, max_inline_bytes=1000)
    run = start_server(ServerConfig(port=0, model=registry_root, limits=limits), FakeFeaturizer())
    try:
        with grpc.insecure_channel(run.address) as channel:
            small = forecaster_pb2_grpc.ForecasterStub(channel)
            many = _spec_request(examples=[{"text": "x"}] * 21)
            _assert_invalid(small, many, "candidate.spec.dataset.inline.examples", contains="inline limit")
            big = _spec_request(examples=[{"text": "y" * 600}, {"text": "z" * 600}])
            _assert_invalid(small, big, "candidate.spec.dataset.inline.examples[1]", contains="in total")
            assert small.Forecast(_spec_request(examples=[{"text": "x"}] * 20), timeout=20).forecast.featurized
    finally:
        run.stop()


def test_broken_dataset_file_names_the_line(stub):
    request = forecaster_pb2.ForecastRequest(
        candidate=spec_candidate("lab", synthetic.RECIPE, dataset_path="broken.jsonl")
    )
    _assert_invalid(stub, request, "candidate.spec.dataset.path line 2", contains="not JSON")


# -------------------------------------------------------------------- fuzzing
_bad_value = st.sampled_from([math.nan, math.inf, -math.inf])
_unknown_name = st.text(min_size=1, max_size=30).filter(lambda s: s not in KNOWN)
_bad_level = st.one_of(
    st.floats(max_value=0.0, allow_nan=False), st.floats(min_value=1.0, allow_nan=False), st.just(math.nan)
)


@st.composite
def malformed_requests(draw):
    """A valid request with exactly one thing broken, and the field the answer must name."""
    row = dict(draw(st.dictionaries(st.sampled_from(KNOWN), st.floats(-2, 2), min_size=1)))
    kind = draw(st.sampled_from(["unknown", "nonfinite", "level", "outcome", "pairing"]))
    if kind == "unknown":
        name = draw(_unknown_name)
        return _request({**row, name: 0.5}), "candidate.features.named["
    if kind == "nonfinite":
        name = draw(st.sampled_from(sorted(row)))
        return _request({**row, name: draw(_bad_value)}), "candidate.features.named["
    if kind == "level":
        levels = draw(st.lists(st.floats(0.05, 0.95), max_size=3, unique=True))
        position = draw(st.integers(0, len(levels)))
        levels.insert(position, draw(_bad_level))
        return _request(row, levels=levels), f"levels[{position}]"
    if kind == "outcome":
        outcome = draw(st.text(max_size=30).filter(lambda s: s not in synthetic.OUTCOMES))
        return _request(row, outcomes=[outcome]), "outcomes[0]"
    names = list(row)
    extra = draw(st.integers(1, 3))
    return _request(names=names, values=list(row.values()) + [0.0] * extra), "candidate.features.values"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=malformed_requests())
def test_fuzzed_malformed_requests_are_invalid_argument(stub, case):
    request, field = case
    _assert_invalid(stub, request, field)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    row=st.dictionaries(st.text(max_size=20), st.floats(allow_nan=True, allow_infinity=True), max_size=6),
    levels=st.lists(st.floats(allow_nan=True), max_size=3),
)
def test_fuzzed_requests_only_get_ok_or_invalid_argument(stub, row, levels):
    reply, err = _call(stub, _request(row, levels=levels))
    if err is not None:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    else:
        assert reply.forecast.targets


def test_still_serving_after_the_fuzzing(running):
    client = running.client()
    assert client.health() == "SERVING"
    assert client.forecast(ROW).targets
    stats = {m.method: m for m in client.stats().methods}
    assert "INTERNAL" not in stats["/tunecast.v1.Forecaster/Forecast"].codes
    assert "UNKNOWN" not in stats["/tunecast.v1.Forecaster/Forecast"].codes
