"""Happy path of every RPC against a real server, checked against the model itself."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from server.client import feature_candidate, spec_candidate
from server.generated.tunecast.v1 import candidate_pb2, forecaster_pb2
from surrogate.model import ModelRegistry
from tests.server import synthetic

RECIPE = synthetic.RECIPE


def _expected(registry_root, version: str, row: dict[str, float], levels=(0.8, 0.9)):
    model = ModelRegistry(registry_root).load(version)
    X = model.schema_.matrix_from_rows([row])
    return model, model.predict(X, levels)


def test_health_serving_and_model_info(running, registry_root):
    client = running.client()
    assert client.health() == "SERVING"
    assert client.health("tunecast.v1.Forecaster") == "SERVING"
    info = client.model_info()
    assert info.model.model_version == "v1"
    assert info.model.featurizer_version == synthetic.FEATURIZER_VERSION
    assert tuple(info.feature_names) == synthetic.FEATURES
    assert list(info.observation_features) == [synthetic.OBSERVATION]
    assert tuple(info.outcomes) == synthetic.OUTCOMES
    assert tuple(info.checkpoints) == synthetic.CHECKPOINTS
    assert tuple(info.default_levels) == (0.8, 0.9)
    assert info.corpus.corpus_hash == "sha256:synthetic-v1"
    assert len(info.corpus.targets) == len(synthetic.OUTCOMES) * len(synthetic.CHECKPOINTS)
    assert all(t.train_rows > 0 and t.calibration_rows > 0 for t in info.corpus.targets)
    assert {m.name: m.value for m in info.coverage} == {"held_out.coverage.0.8": 0.81, "held_out.coverage.0.9": 0.9}
    assert info.metrics["held_out"]["mae"]["forgetting.ref_loss@1.0"] == pytest.approx(0.04)


def test_forecast_matches_the_model(running, registry_root):
    row = synthetic.feature_row({"data.gendered_rate": 0.6})
    result = running.client().forecast(row, levels=[0.8, 0.9])
    model, expected = _expected(registry_root, "v1", row)
    assert result.model_version == "v1" and result.featurizer_version == synthetic.FEATURIZER_VERSION
    assert len(result.targets) == len(model.targets_)
    for j, target in enumerate(model.targets_):
        outcome, checkpoint = target.split("@")
        got = result.target(outcome, float(checkpoint))
        assert got.point == pytest.approx(expected.point[0, j])
        for li, level in enumerate((0.8, 0.9)):
            interval = got.interval(level)
            assert interval.lower == pytest.approx(expected.lower[li, 0, j])
            assert interval.upper == pytest.approx(expected.upper[li, 0, j])
            assert interval.lower <= got.point <= interval.upper
    assert not result.ood.flagged and not result.observed and not result.featurized


def test_forecast_default_levels_outcome_filter_and_parallel_lists(running):
    client = running.client()
    row = synthetic.feature_row()
    candidate = candidate_pb2.Candidate(
        id="cols", features=candidate_pb2.FeatureVector(names=list(row), values=list(row.values()))
    )
    result = client.forecast(candidate, outcomes=["bias.gender_skew"])
    assert result.candidate_id == "cols"
    assert {t.outcome for t in result.targets} == {"bias.gender_skew"}
    assert [i.level for i in result.targets[0].intervals] == [0.8, 0.9]
    named = client.forecast(row, outcomes=["bias.gender_skew"])
    assert [t.point for t in named.targets] == [t.point for t in result.targets]


def test_forecast_with_observation_uses_mid_run_calibration(running):
    result = running.client().forecast(synthetic.feature_row({synthetic.OBSERVATION: 0.2}))
    assert result.observed


def test_ood_warning_names_the_feature(running):
    result = running.client().forecast(synthetic.feature_row({"data.refusal_rate": 25.0}))
    assert result.ood.flagged
    assert result.ood.out_of_range == ("data.refusal_rate",)
    missing = running.client().forecast({"recipe.log_lr": 0.1})
    assert "data.n_examples" in missing.ood.unexpectedly_missing


def test_forecast_batch_and_stream_agree(running):
    rng = np.random.default_rng(3)
    rows = [synthetic.feature_row({"recipe.log_lr": float(v)}) for v in rng.uniform(-0.9, 0.9, size=600)]
    client = running.client()
    batch = client.forecast_batch(rows, levels=[0.9])
    streamed = list(client.forecast_stream(rows, levels=[0.9]))
    assert [r.index for r in batch] == list(range(600)) == [r.index for r in streamed]
    for a, b in zip(batch, streamed):
        assert [t.point for t in a.targets] == [t.point for t in b.targets]
        assert [t.intervals for t in a.targets] == [t.intervals for t in b.targets]
    single = client.forecast(rows[123], levels=[0.9])
    assert [t.point for t in single.targets] == pytest.approx([t.point for t in batch[123].targets])


def test_stream_chunks_carry_one_model_version(running):
    rows = [synthetic.feature_row()] * (running.deps.config.limits.stream_chunk_candidates * 2 + 5)
    request = forecaster_pb2.ForecastBatchRequest(candidates=[feature_candidate(r) for r in rows])
    from server.generated.tunecast.v1 import forecaster_pb2_grpc

    with grpc.insecure_channel(running.address) as channel:
        chunks = list(forecaster_pb2_grpc.ForecasterStub(channel).ForecastStream(request, timeout=30))
    assert len(chunks) == 3
    assert len({c.model.model_version for c in chunks}) == 1
    assert sum(len(c.forecasts) for c in chunks) == len(rows)


def test_forecast_from_spec_featurizes_once_then_hits_the_cache(running):
    before = running.featurizer.calls
    examples = [{"prompt": "Say hi", "response": "Hi!"}, {"text": "Plain text about birds."}]
    candidate = spec_candidate("lab", RECIPE, examples=examples, candidate_id="inline")
    client = running.client()
    first = client.forecast(candidate, timeout_s=5.0)
    second = client.forecast(candidate)
    assert first.featurized and not first.cache_hit
    assert second.cache_hit
    assert running.featurizer.calls == before + 1
    assert [t.point for t in first.targets] == [t.point for t in second.targets]
    remaining = running.featurizer.deadlines[-1]
    assert remaining is not None and 0 < remaining <= 5.5  # the caller's 5 s deadline, as the server saw it


def test_forecast_from_dataset_file_and_observations(running):
    observations = {"step": 20, "loss_curve": [{"step": 10, "loss": 2.0}, {"step": 20, "loss": 1.8}],
                    "probe_deltas": {"forgetting.ref_loss": 0.1}}
    candidate = spec_candidate("tiny", RECIPE, dataset_path="good.jsonl", observations=observations)
    result = running.client().forecast(candidate)
    assert result.featurized and result.observed
    plain = running.client().forecast(spec_candidate("tiny", RECIPE, dataset_path="good.jsonl"))
    assert plain.featurized and not plain.observed


def test_explain_ranks_examples(running):
    candidate = spec_candidate("lab", RECIPE, dataset_path="good.jsonl")
    reply = running.client().explain(candidate.spec, outcomes=["safety.refusal_margin"], top_k=2)
    assert [o.outcome for o in reply.outcomes] == ["safety.refusal_margin"]
    assert reply.outcomes[0].harmful_direction == "up"
    examples = reply.outcomes[0].examples
    assert len(examples) == 2 and examples[0].score >= examples[1].score
    assert examples[0].index == 0 and examples[0].excerpt.startswith("Tell me a fact.")
    assert reply.n_examples == 3
    everything = running.client().explain(candidate.spec)
    assert {o.outcome for o in everything.outcomes} == {"forgetting.ref_loss", "safety.refusal_margin"}
    with pytest.raises(grpc.RpcError) as err:
        running.client().explain(candidate.spec, outcomes=["bias.nope"])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith("outcomes[0]")


def test_explain_with_a_missing_featurizer_module_is_unimplemented(registry_root, monkeypatch):
    """The default adapter answers UNIMPLEMENTED, naming the module, when the torch side is absent."""
    from server import featurize
    from server.config import ServerConfig
    from tests.server.conftest import start_server

    monkeypatch.setattr(featurize, "FEATURES_MODULE", "featurizers.not_built_yet")
    run = start_server(ServerConfig(port=0, model=registry_root), featurize.PackageFeaturizer())
    try:
        candidate = spec_candidate("lab", RECIPE, examples=[{"text": "hello"}])
        with pytest.raises(grpc.RpcError) as err:
            run.client().explain(candidate.spec)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "featurizers.not_built_yet" in err.value.details()
    finally:
        run.stop()


def test_reload_switches_versions_and_needs_admin(running):
    from tests.server.conftest import ADMIN_TOKEN

    plain = running.client()
    with pytest.raises(grpc.RpcError) as err:
        plain.reload(version="v2")
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    admin = running.client(admin_token=ADMIN_TOKEN)
    reply = admin.reload(version="v2")
    assert (reply.previous_version, reply.model_version) == ("v1", "v2")
    assert plain.forecast(synthetic.feature_row()).model_version == "v2"
    assert admin.reload().model_version == "v1"  # back to the registry's CURRENT
    with pytest.raises(grpc.RpcError) as err:
        admin.reload(version="v9")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert plain.forecast(synthetic.feature_row()).model_version == "v1"


def test_get_stats_counts_calls(running):
    client = running.client()
    client.forecast(synthetic.feature_row())
    stats = client.stats()
    methods = {m.method: m for m in stats.methods}
    forecast = methods["/tunecast.v1.Forecaster/Forecast"]
    assert forecast.count >= 1 and forecast.codes["OK"] >= 1
    assert sum(forecast.bucket_counts) == forecast.count
    assert len(forecast.bucket_counts) == len(forecast.bucket_upper_ms) + 1
    assert 0 < forecast.p50_ms <= forecast.p99_ms
    assert stats.model.model_version in {"v1", "v2"}
    assert 'tunecast_server_requests_total{method="/tunecast.v1.Forecaster/Forecast",code="OK"}' in stats.prometheus_text


def test_reflection_lists_the_service(running):
    with grpc.insecure_channel(running.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"tunecast.v1.Forecaster", "grpc.health.v1.Health"} <= names
