"""Rank statistics of the featurizer-evidence scripts: agree with scipy, handle NaN, ties and small groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from experiments.rank_stats import (
    group_summary,
    mann_whitney,
    partial_spearman_ci,
    sign_agreement,
    spearman_ci,
)


def test_spearman_matches_scipy_with_ties_and_drops_nan():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=60).astype(float)  # many ties
    y = x + rng.normal(size=60)
    x_nan, y_nan = np.append(x, [np.nan, 1.0]), np.append(y, [2.0, np.inf])
    result = spearman_ci(x_nan, y_nan, n_boot=200, level=0.9, seed=0)
    assert result.n == 60
    assert result.rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert result.ci_low < result.rho < result.ci_high


def test_spearman_interval_is_seeded_and_monotone_data_is_exact():
    x = np.arange(20.0)
    first = spearman_ci(x, -x ** 3, n_boot=100, level=0.9, seed=3)
    assert first.rho == pytest.approx(-1.0)
    assert first.ci_low == pytest.approx(-1.0) and first.ci_high == pytest.approx(-1.0)
    y = np.random.default_rng(0).normal(size=20)
    assert spearman_ci(x, y, n_boot=100, level=0.9, seed=3) == spearman_ci(x, y, n_boot=100, level=0.9, seed=3)


def test_small_or_constant_groups_give_no_rho():
    assert spearman_ci(np.arange(5.0), np.arange(5.0), n_boot=10, level=0.9, seed=0).rho is None
    assert spearman_ci(np.ones(12), np.arange(12.0), n_boot=10, level=0.9, seed=0).rho is None
    with pytest.raises(ValueError, match="level"):
        spearman_ci(np.arange(12.0), np.arange(12.0), n_boot=10, level=1.5, seed=0)


def test_partial_spearman_removes_a_shared_driver():
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 10, size=400)  # run size drives both
    x = z + rng.normal(scale=0.5, size=400)
    y = z + rng.normal(scale=0.5, size=400)
    raw = spearman_ci(x, y, n_boot=50, level=0.9, seed=0)
    partial = partial_spearman_ci(x, y, z, n_boot=50, level=0.9, seed=0)
    assert raw.rho > 0.9
    assert abs(partial.rho) < 0.15


def test_sign_agreement_ignores_zeros_and_nan():
    assert sign_agreement(np.array([1.0, -1.0, 0.0, np.nan, 2.0]), np.array([2.0, 1.0, 5.0, 1.0, 3.0])) == pytest.approx(2 / 3)
    assert sign_agreement(np.zeros(3), np.ones(3)) is None


def test_group_summary_and_mann_whitney():
    summary = group_summary(np.array([1.0, 2.0, 3.0, 4.0, np.nan]))
    assert summary["n"] == 4 and summary["median"] == pytest.approx(2.5) and summary["iqr"] == pytest.approx(1.5)
    separated = mann_whitney(np.arange(10.0) + 100, np.arange(10.0))
    assert separated["p"] < 0.001 and separated["p_a_greater"] == pytest.approx(1.0)
    assert mann_whitney(np.zeros(5), np.zeros(5))["p"] is None  # all tied: no test
