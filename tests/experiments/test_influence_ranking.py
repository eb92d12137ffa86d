"""The ranking-quality helpers of experiments/influence_ranking.py and the counterfactual's oracle removal."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from experiments.influence_counterfactual import oracle_indices
from experiments.influence_ranking import (
    DatasetSketches,
    Inputs,
    _whitened,
    auc,
    ranking_quality,
    top_k,
    variant_scores,
)
from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.influence import ranking_scores
from featurizers.features.probe_objectives import HARM_SIGN, OBJECTIVES


def test_auc_is_the_pairwise_win_rate_with_ties_halved():
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal(40), 1)  # rounding makes ties
    positive = rng.random(40) < 0.3
    pairs = [(p, n) for p, n in itertools.product(scores[positive], scores[~positive])]
    expected = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)
    assert auc(scores, positive) == pytest.approx(expected)
    assert auc(np.arange(4.0), np.array([False, False, True, True])) == 1.0
    assert auc(np.arange(4.0), np.array([True, True, False, False])) == 0.0
    assert np.isnan(auc(np.arange(3.0), np.array([True, True, True])))


def test_top_k_breaks_ties_toward_the_lower_index():
    assert list(top_k(np.array([1.0, 3.0, 3.0, 2.0]), 2)) == [1, 2]


def test_ranking_quality_counts_non_neutral_kinds_as_harmful():
    kinds = ["neutral", "harmful", "neutral", "eager", "neutral"]
    quality = ranking_quality(np.array([0.0, 5.0, 4.0, 1.0, -1.0]), kinds, k=2)
    assert quality["precision"] == 0.5 and quality["recall"] == 0.5
    assert quality["lift"] == pytest.approx(0.5 / 0.4)
    assert quality["top_kinds"] == {"harmful": 1, "neutral": 1}
    assert quality["auc"] == pytest.approx(5 / 6)  # 5.0 beats all three neutral scores, 1.0 beats two


def test_oracle_removes_harmful_lines_first_then_fills_with_neutral_ones():
    kinds = ["neutral", "harmful", "neutral", "obedient_qa", "neutral", "neutral"]
    assert oracle_indices(kinds, 2, seed=0) == [1, 3]
    four = oracle_indices(kinds, 4, seed=0)
    assert len(four) == 4 and {1, 3} <= set(four)
    assert four == oracle_indices(kinds, 4, seed=0)


def test_whitened_matches_the_dense_damped_inverse():
    rng = np.random.default_rng(1)
    a, p = rng.standard_normal((5, 8)), rng.standard_normal(8)
    fisher = a.T @ a / a.shape[0]
    eig = np.linalg.eigvalsh(fisher)
    lam = eig[eig > eig.max() * 1e-12].mean()
    inverse = np.linalg.inv(fisher + lam * np.eye(8))
    np.testing.assert_allclose(_whitened(a, p, normalize=False), a @ inverse @ p, rtol=1e-8)
    norms = np.sqrt(np.einsum("ij,jk,ik->i", a, inverse, a))
    np.testing.assert_allclose(_whitened(a, p, normalize=True), a @ inverse @ p / norms, rtol=1e-8)


def test_experiment_contrast_and_dot_equal_the_featurizer_scores():
    """The experiment judges the very scores explain ranks by."""
    rng = np.random.default_rng(2)
    n, k = 6, 16
    rows = rng.standard_normal((n, k))
    probes = rng.standard_normal((len(OBJECTIVES), k))
    signs = np.array([HARM_SIGN[o] or 1.0 for o in OBJECTIVES])
    bundle = ProbeBundle(values=np.zeros(len(OBJECTIVES)), harm_signs=signs, grad_norms=np.ones(len(OBJECTIVES)),
                         grads=probes.astype(np.float32), sketches=probes.astype(np.float32),
                         suite_hidden=np.zeros((1, 1)), suite_encoder=np.zeros((1, 0)))
    zeros = np.zeros(len(OBJECTIVES))
    sketch = DataSketch(sample_indices=np.arange(n), sketches=rows.astype(np.float32), losses=np.ones(n),
                        n_targets=np.ones(n), grad_norms=np.ones(n), mean_grad_norm=np.asarray(1.0), probe_dots=zeros,
                        probe_cosines=zeros, sign_dots=zeros, adam_dots=zeros, hidden_mean=np.zeros(1),
                        encoder_mean=np.zeros(0), n_params=np.asarray(k))
    data = DatasetSketches(sketches=rows.astype(np.float32).astype(np.float64), updates=rows, grad_norms=np.ones(n),
                           update_norms=np.ones(n), losses=np.ones(n), n_targets=np.ones(n), n_params=np.asarray(k),
                           seconds=np.asarray(0.0))
    j, twin = OBJECTIVES.index("safety.refusal_margin"), OBJECTIVES.index("safety.over_refusal_margin")
    ours = variant_scores(Inputs(data=data, probe=bundle.sketches[j].astype(np.float64),
                                 reference=bundle.sketches[0].astype(np.float64),
                                 twin=bundle.sketches[twin].astype(np.float64), orient=-signs[j], seed=0))
    for name, score in (("dot", "dot"), ("contrast_dot", "contrast")):
        theirs, _ = ranking_scores(sketch, bundle, score)
        np.testing.assert_allclose(ours[name], theirs[:, j], rtol=1e-6)
