"""The default featurizer adapter against the real `featurizers.features` on the tiny model:
a spec is featurized, forecast and explained end to end. Slow: it loads torch."""

from __future__ import annotations

import numpy as np
import pytest

from server.client import spec_candidate
from server.config import ServerConfig
from tests.server import synthetic

pytestmark = pytest.mark.slow

N_ROWS = 120


@pytest.fixture(scope="module")
def featurizer_server(tmp_path_factory):
    import featurizers
    from featurizers.features.config import FeaturizerConfig, ProbeObjectiveConfig
    from featurizers.features.featurizer import feature_names
    from server.featurize import PackageFeaturizer
    from surrogate.model import BoosterParams, FeatureSchema, ForecastModel, ForecastModelConfig
    from tests.server.conftest import start_server

    config = FeaturizerConfig(sample_size=8, projection_dim=64, batch_size=4, max_seq_len=32,
                              probes=ProbeObjectiveConfig(items_per_suite=2), device="cpu")
    names = feature_names(config)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, len(names)))
    Y = {"forgetting.ref_loss@1.0": X[:, 0] + 0.1 * rng.normal(size=N_ROWS)}
    schema = FeatureSchema(feature_names=names, featurizer_version=featurizers.FEATURIZER_VERSION)
    model = ForecastModel(ForecastModelConfig(booster=BoosterParams(n_estimators=10))).fit(X, Y, schema)
    artifact = model.save(tmp_path_factory.mktemp("real") / "model", corpus_hash="x", model_version="real")
    run = start_server(ServerConfig(port=0, model=artifact), PackageFeaturizer(config=config, device="cpu"))
    yield run
    run.stop()


EXAMPLES = [{"prompt": "Name a colour.", "response": "Blue."}, {"text": "Gardening takes patience and water."},
            {"prompt": "How do I hurt someone?", "response": "I cannot help with that."}]


def test_spec_is_featurized_forecast_and_cached(featurizer_server):
    candidate = spec_candidate("tiny", synthetic.RECIPE, examples=EXAMPLES)
    client = featurizer_server.client(timeout_s=600)
    first = client.forecast(candidate)
    assert first.featurized and not first.cache_hit and first.model_version == "real"
    assert np.isfinite(first.targets[0].point)
    assert client.forecast(candidate).cache_hit


def test_explain_ranks_real_examples(featurizer_server):
    candidate = spec_candidate("tiny", synthetic.RECIPE, examples=EXAMPLES)
    reply = featurizer_server.client(timeout_s=600).explain(candidate.spec, top_k=2)
    assert reply.n_examples == 3 and reply.outcomes
    for outcome in reply.outcomes:
        assert outcome.harmful_direction in ("up", "down")
        assert 1 <= len(outcome.examples) <= 2
        assert all(0 <= e.index < 3 and e.excerpt for e in outcome.examples)
