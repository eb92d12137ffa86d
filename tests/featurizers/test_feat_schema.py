"""Feature names and schema: stable, ordered, valid, and carried by every vector."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from featurizers import FEATURIZER_VERSION
from featurizers.features.config import FeaturizerConfig, ForwardConfig
from featurizers.features.featurizer import feature_names
from featurizers.features.observations import OBSERVATION_FEATURES
from featurizers.features.recipe_features import RECIPE_FEATURES
from featurizers.features.schema import (
    FEATURE_NAME_PATTERN,
    EarlyObservations,
    FeatureSchema,
    FeatureSchemaMismatchError,
    FeatureVector,
)
from tests.featurizers.feature_data import benign_dataset, mixed_format_dataset


def test_names_are_unique_valid_and_grouped_in_a_fixed_order():
    names = feature_names(FeaturizerConfig())
    assert len(names) == len(set(names))
    assert all(FEATURE_NAME_PATTERN.fullmatch(n) for n in names)
    assert names[: len(RECIPE_FEATURES)] == RECIPE_FEATURES
    assert names[-len(OBSERVATION_FEATURES):] == OBSERVATION_FEATURES
    prefixes = [n.split(".")[0] for n in names]
    first_seen = list(dict.fromkeys(prefixes))
    assert first_seen == ["recipe", "data", "lex", "fwd", "grad", "probe", "align", "fo", "fo_sign", "fo_adam", "infl", "obs"]
    assert feature_names(FeaturizerConfig()) == names  # no hidden state between calls


def test_encoder_flag_adds_only_the_encoder_distances():
    plain = feature_names(FeaturizerConfig())
    with_encoder = feature_names(FeaturizerConfig(forward=ForwardConfig(use_sentence_encoder=True)))
    assert [n for n in with_encoder if n not in plain] == [n for n in with_encoder if n.startswith("enc.")]
    assert [n for n in with_encoder if not n.startswith("enc.")] == list(plain)


def test_vectors_of_different_data_and_recipes_share_one_schema(tiny_featurizer, lora_recipe, full_recipe):
    a = tiny_featurizer.featurize(benign_dataset(), lora_recipe)
    b = tiny_featurizer.featurize(mixed_format_dataset(), full_recipe)
    assert a.names == b.names == feature_names(tiny_featurizer.config)
    assert a.feature_schema.featurizer_version == FEATURIZER_VERSION
    assert a.feature_schema.projection_dim == tiny_featurizer.config.projection_dim
    assert a.feature_schema.model_weights_hash == tiny_featurizer.loaded.weights_hash()
    finite = np.isfinite(a.as_array())
    assert not finite[[i for i, n in enumerate(a.names) if n.startswith("obs.")]].any()
    assert finite[[i for i, n in enumerate(a.names) if not n.startswith("obs.")]].all()


def test_vector_json_round_trip_keeps_nan_as_null(tiny_featurizer, lora_recipe):
    vector = tiny_featurizer.featurize(benign_dataset(), lora_recipe)
    text = vector.model_dump_json()
    payload = json.loads(text)  # strict JSON: NaN went out as null
    assert payload["values"][vector.names.index("obs.step")] is None
    back = FeatureVector.model_validate_json(text)
    np.testing.assert_array_equal(back.as_array(), vector.as_array())
    assert back.feature_schema == vector.feature_schema


def test_schema_rejects_bad_and_duplicate_names():
    base = dict(featurizer_version="x", projection_dim=8, projection_kind="rademacher", seed=0, model_weights_hash="h")
    with pytest.raises(ValueError, match="appears twice"):
        FeatureSchema(feature_names=("a", "a"), **base)
    with pytest.raises(ValueError, match="feature_names\\[0\\]"):
        FeatureSchema(feature_names=("bad name",), **base)
    schema = FeatureSchema(feature_names=("a", "b"), **base)
    with pytest.raises(FeatureSchemaMismatchError, match="projection_dim"):
        schema.check_same(schema.model_copy(update={"projection_dim": 16}))
    with pytest.raises(ValueError, match="values has 1 entries"):
        FeatureVector(feature_schema=schema, values=(1.0,))


def test_observations_fill_obs_features_and_unknown_outcomes_are_refused(tiny_featurizer, lora_recipe):
    observations = EarlyObservations(step=10, loss_curve=[{"step": 1, "loss": 3.0}, {"step": 10, "loss": 2.0}],
                                     probe_deltas={"safety.refusal_margin": -0.5})
    vector = tiny_featurizer.featurize(benign_dataset(), lora_recipe, observations)
    assert vector["obs.step"] == 10
    assert vector["obs.fraction"] == pytest.approx(10 / lora_recipe.steps)
    assert vector["obs.loss_drop"] == pytest.approx(1.0)
    assert vector["obs.delta.safety.refusal_margin"] == -0.5
    assert vector["obs.delta_extrapolated.safety.refusal_margin"] == pytest.approx(-0.5 * lora_recipe.steps / 10)
    assert math.isnan(vector["obs.delta.bias.gender_skew"])
    with pytest.raises(ValueError, match="unknown outcome"):
        EarlyObservations(step=3, probe_deltas={"safety.refusal_rat": 1.0})
    with pytest.raises(ValueError, match="exceeds recipe.steps"):
        tiny_featurizer.featurize(benign_dataset(), lora_recipe, EarlyObservations(step=lora_recipe.steps + 1))
