"""Rank statistics shared by the featurizer-evidence scripts (no torch).

Spearman with a seeded percentile-bootstrap interval, computed for all resamples at
once (ranks per row, then row-wise Pearson), and per-group summaries (median / IQR).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import mannwhitneyu, rankdata

MIN_PAIRS = 8
"""Below this many finite pairs a rank correlation is not reported (too few to mean anything)."""


@dataclass(frozen=True)
class SpearmanResult:
    n: int
    rho: float | None
    ci_low: float | None
    ci_high: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of a with the same row of b (NaN where a row is constant)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=-1) / np.where(denom > 0, denom, 1.0), np.nan)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties (NaN for a constant input)."""
    return float(_rowwise_pearson(rankdata(x), rankdata(y)))


def _finite(*arrays: np.ndarray) -> list[np.ndarray]:
    arrays_f = [np.asarray(a, dtype=np.float64) for a in arrays]
    if len({a.shape for a in arrays_f}) != 1:
        raise ValueError(f"inputs differ in shape: {[a.shape for a in arrays_f]}")
    keep = np.logical_and.reduce([np.isfinite(a) for a in arrays_f])
    return [a[keep] for a in arrays_f]


def _partial(rxy: np.ndarray, rxz: np.ndarray, ryz: np.ndarray) -> np.ndarray:
    denom = np.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rxy - rxz * ryz) / np.where(denom > 0, denom, 1.0), np.nan)


def _rank_stat(columns: list[np.ndarray]) -> np.ndarray:
    """Spearman of columns[0] with columns[1], partialled on columns[2] when given (rows = resamples)."""
    ranks = [rankdata(c, axis=-1) for c in columns]
    rxy = _rowwise_pearson(ranks[0], ranks[1])
    if len(ranks) == 2:
        return rxy
    return _partial(rxy, _rowwise_pearson(ranks[0], ranks[2]), _rowwise_pearson(ranks[1], ranks[2]))


def _bootstrap(columns: list[np.ndarray], *, n_boot: int, level: float, seed: int, min_pairs: int) -> SpearmanResult:
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    columns = _finite(*columns)
    n = int(columns[0].size)
    if n < min_pairs:
        return SpearmanResult(n=n, rho=None, ci_low=None, ci_high=None)
    rho = float(_rank_stat(columns))
    if not np.isfinite(rho):
        return SpearmanResult(n=n, rho=None, ci_low=None, ci_high=None)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = _rank_stat([c[idx] for c in columns])
    boot = boot[np.isfinite(boot)]
    tail = (1 - level) / 2
    low, high = np.quantile(boot, [tail, 1 - tail]) if boot.size else (np.nan, np.nan)
    return SpearmanResult(n=n, rho=rho, ci_low=float(low), ci_high=float(high))


def spearman_ci(x: np.ndarray, y: np.ndarray, *, n_boot: int, level: float, seed: int,
                min_pairs: int = MIN_PAIRS) -> SpearmanResult:
    """Spearman over the finite pairs of (x, y) with a percentile-bootstrap `level` interval."""
    return _bootstrap([x, y], n_boot=n_boot, level=level, seed=seed, min_pairs=min_pairs)


def partial_spearman_ci(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, n_boot: int, level: float, seed: int,
                        min_pairs: int = MIN_PAIRS) -> SpearmanResult:
    """Spearman of x and y with the ranks of z partialled out: what x says about y beyond z."""
    return _bootstrap([x, y, z], n_boot=n_boot, level=level, seed=seed, min_pairs=min_pairs)


def sign_agreement(x: np.ndarray, y: np.ndarray) -> float | None:
    """Share of finite, non-zero pairs where x and y have the same sign (None if there are none)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
    if not keep.any():
        return None
    return float((np.sign(x[keep]) == np.sign(y[keep])).mean())


def group_summary(values: np.ndarray) -> dict[str, float | int | None]:
    """n, median, quartiles and IQR of the finite values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "median": None, "q25": None, "q75": None, "iqr": None}
    q25, median, q75 = np.quantile(v, [0.25, 0.5, 0.75])
    return {"n": int(v.size), "median": float(median), "q25": float(q25), "q75": float(q75), "iqr": float(q75 - q25)}


def mann_whitney(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """Two-sided Mann-Whitney U of a vs b, plus the common-language effect P(a > b) + P(a = b) / 2."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0 or (np.ptp(np.concatenate([a, b])) == 0):
        return {"u": None, "p": None, "p_a_greater": None}
    result = mannwhitneyu(a, b, alternative="two-sided")
    return {"u": float(result.statistic), "p": float(result.pvalue),
            "p_a_greater": float(result.statistic / (a.size * b.size))}
