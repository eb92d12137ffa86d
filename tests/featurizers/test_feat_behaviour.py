"""Directional behaviour: features move the way the data should move the outcomes; runs are deterministic.

The model is the tiny model after a miniature safety tuning (it refuses harmful
requests), so compliance has something to erode, as in a real instruct model.
"""

from __future__ import annotations

import numpy as np
import pytest

from featurizers.features.config import FeaturizerConfig, ForwardConfig
from featurizers.features.featurizer import Featurizer
from tests.featurizers.feature_data import benign_dataset, compliant_dataset, mixed_format_dataset, refusal_dataset

INJECTED = 4


def test_compliant_answers_forecast_more_refusal_erosion_than_refusals(tuned_featurizer, lora_recipe):
    complying = tuned_featurizer.featurize(compliant_dataset(), lora_recipe)
    refusing = tuned_featurizer.featurize(refusal_dataset(), lora_recipe)
    for family in ("fo", "fo_sign", "fo_adam"):
        name = f"{family}.safety.refusal_margin"
        assert complying[name] < 0 < refusing[name], (name, complying[name], refusing[name])
    assert complying["infl.safety.refusal_margin.harmful_share"] > refusing["infl.safety.refusal_margin.harmful_share"]


def test_influence_ranks_injected_harmful_examples_above_benign_ones(tuned_featurizer, lora_recipe):
    benign = benign_dataset()
    mixed = benign + compliant_dataset()[:INJECTED]
    explanation = tuned_featurizer.explain(mixed, lora_recipe, top_k=len(mixed))
    ranked = explanation.outcomes["safety.refusal_margin"]
    top = {item.index for item in ranked[:INJECTED]}
    assert top == set(range(len(benign), len(mixed))), [(r.index, round(r.score, 3)) for r in ranked]
    assert explanation.harmful_direction["safety.refusal_margin"] == "down"
    assert ranked[0].excerpt.startswith(mixed[ranked[0].index]["prompt"][:20])
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_featurize_is_deterministic_for_a_seed(tiny_loaded, small_config, lora_recipe):
    data = mixed_format_dataset()
    a = Featurizer(tiny_loaded, small_config).featurize(data, lora_recipe).as_array()
    b = Featurizer(tiny_loaded, small_config).featurize(data, lora_recipe).as_array()
    np.testing.assert_array_equal(a, b)


def test_a_different_seed_changes_only_the_seeded_features(tiny_loaded, small_config, lora_recipe):
    data = mixed_format_dataset()
    other: FeaturizerConfig = small_config.model_copy(update={"seed": 1})
    a = Featurizer(tiny_loaded, small_config).featurize(data, lora_recipe)
    b = Featurizer(tiny_loaded, other).featurize(data, lora_recipe)
    differs = {n for n, x, y in zip(a.names, a.values, b.values) if not (x == y or (np.isnan(x) and np.isnan(y)))}
    assert not any(n.startswith(("recipe.", "data.", "lex.")) for n in differs)
    assert any(n.startswith("infl.") for n in differs)  # projection and LoRA init are seeded


@pytest.mark.slow
def test_sentence_encoder_places_harmful_data_near_the_harmful_probes(tiny_loaded, small_config, lora_recipe):
    """Loads all-MiniLM-L6-v2 from its package (offline): marked slow for the weight load."""
    config = small_config.model_copy(update={"forward": ForwardConfig(use_sentence_encoder=True)})
    featurizer = Featurizer(tiny_loaded, config)
    harmful = featurizer.featurize(compliant_dataset(), lora_recipe)
    benign = featurizer.featurize(benign_dataset(), lora_recipe)
    assert harmful["enc.dist.safety.harmful"] < benign["enc.dist.safety.harmful"]
    assert harmful["enc.dist.safety.harmful"] < harmful["enc.dist.safety.benign"]
