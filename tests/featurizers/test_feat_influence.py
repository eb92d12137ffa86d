"""Influence ranking scores: the contrast score, the plain dot, and what they must not change.

The contrast score ranks against the refusal objective's gradient minus its twin's (the
same margin on benign prompts), so an example pushing only the generic "answer, don't
refuse" direction that every assistant example shares no longer outranks one that
erodes refusal of harmful requests specifically.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.config import FeaturizerConfig, InfluenceConfig
from featurizers.features.featurizer import Featurizer
from featurizers.features.influence import (
    CONTRAST_TWIN,
    INFLUENCE_FEATURES,
    contrast_sketches,
    explain_sketch,
    influence_features,
    ranking_scores,
)
from featurizers.features.probe_objectives import HARM_SIGN, OBJECTIVES
from tests.featurizers.feature_data import BENIGN_QA, compliant_dataset

K = 8
REFUSAL = OBJECTIVES.index("safety.refusal_margin")
OVER_REFUSAL = OBJECTIVES.index("safety.over_refusal_margin")


def _bundle(probe_sketches: np.ndarray) -> ProbeBundle:
    n_obj = len(OBJECTIVES)
    signs = np.array([HARM_SIGN[o] or 1.0 for o in OBJECTIVES])
    return ProbeBundle(values=np.zeros(n_obj), harm_signs=signs, grad_norms=np.linalg.norm(probe_sketches, axis=1),
                       grads=probe_sketches.astype(np.float32), sketches=probe_sketches.astype(np.float32),
                       suite_hidden=np.zeros((1, 2)), suite_encoder=np.zeros((1, 0)))


def _sketch(rows: np.ndarray) -> DataSketch:
    n = rows.shape[0]
    return DataSketch(sample_indices=np.arange(n), sketches=rows.astype(np.float32), losses=np.ones(n),
                      n_targets=np.ones(n), grad_norms=np.linalg.norm(rows, axis=1), mean_grad_norm=np.asarray(1.0),
                      probe_dots=np.zeros(len(OBJECTIVES)), probe_cosines=np.zeros(len(OBJECTIVES)),
                      sign_dots=np.zeros(len(OBJECTIVES)), adam_dots=np.zeros(len(OBJECTIVES)),
                      hidden_mean=np.zeros(2), encoder_mean=np.zeros(0), n_params=np.asarray(K))


def _planted() -> tuple[DataSketch, ProbeBundle, list[dict]]:
    """Refusal gradient = generic part c + selective part s; over-refusal gradient = c alone.
    Example 0 follows s with norm 1; example 1 follows c with norm 10; example 2 is orthogonal to both."""
    c, s, other = np.eye(K)[0], np.eye(K)[1], np.eye(K)[2]
    probes = np.zeros((len(OBJECTIVES), K))
    probes[REFUSAL] = 3.0 * c + s
    probes[OVER_REFUSAL] = 3.0 * c
    rows = np.stack([s, 10.0 * c, 5.0 * other])
    records = [{"text": f"example {i}"} for i in range(rows.shape[0])]
    return _sketch(rows), _bundle(probes), records


def test_contrast_ranks_the_selective_example_first_despite_a_smaller_norm():
    sketch, probes, records = _planted()
    contrast = explain_sketch(sketch, probes, records, top_k=3, excerpt_chars=40, score="contrast")
    dot = explain_sketch(sketch, probes, records, top_k=3, excerpt_chars=40, score="dot")
    assert contrast.outcomes["safety.refusal_margin"][0].index == 0
    assert dot.outcomes["safety.refusal_margin"][0].index == 1  # the generic example wins the plain dot
    top = contrast.outcomes["safety.refusal_margin"][0]
    assert top.score == pytest.approx(1.0) and top.cosine == pytest.approx(1.0, abs=1e-6)


def test_contrast_directions_subtract_the_twin_and_leave_other_objectives_alone():
    rng = np.random.default_rng(0)
    probes = _bundle(rng.standard_normal((len(OBJECTIVES), K)))
    directions = contrast_sketches(probes)
    raw = probes.sketches.astype(np.float64)
    for j, objective in enumerate(OBJECTIVES):
        twin = CONTRAST_TWIN.get(objective)
        expected = raw[j] - raw[OBJECTIVES.index(twin)] if twin else raw[j]
        np.testing.assert_allclose(directions[j], expected)
    assert CONTRAST_TWIN["safety.refusal_margin"] == "safety.over_refusal_margin"


def test_unknown_score_is_refused():
    sketch, probes, _ = _planted()
    with pytest.raises(ValueError, match="influence score"):
        ranking_scores(sketch, probes, "magic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        InfluenceConfig(score="magic")  # type: ignore[arg-type]


def test_score_choice_changes_neither_features_nor_the_config_fingerprint():
    sketch, probes, _ = _planted()
    assert set(influence_features(sketch, probes, 0.9)) == set(INFLUENCE_FEATURES)
    contrast = FeaturizerConfig(influence=InfluenceConfig(score="contrast"))
    assert FeaturizerConfig().influence.score == "dot"
    assert contrast.result_hash() == FeaturizerConfig().result_hash()
    assert "score" not in FeaturizerConfig().result_material()["influence"]


def test_featurize_is_identical_under_either_score(tiny_loaded, small_config, lora_recipe):
    data = compliant_dataset()[:4] + [{"prompt": q, "response": a} for q, a in BENIGN_QA[:6]]
    contrast_config = small_config.model_copy(update={"influence": InfluenceConfig(score="contrast")})
    a = Featurizer(tiny_loaded, small_config).featurize(data, lora_recipe).as_array()
    b = Featurizer(tiny_loaded, contrast_config).featurize(data, lora_recipe).as_array()
    np.testing.assert_array_equal(a, b)

