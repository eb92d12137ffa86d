"""Scores of out-of-fold forecasts: rank agreement, fit, error and interval honesty.

Plain numpy so the evaluation stays torch-free and cheap to import; a metric that
cannot be computed (too few rows, a constant column, an unreachable interval level)
is NaN here and ``null`` in JSON, never a made-up zero.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

METRIC_NAMES: Final[tuple[str, ...]] = ("spearman", "r2", "mae", "coverage_90", "width_90", "n")
MIN_ROWS_FOR_CORRELATION: Final[int] = 3


def rankdata(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (as scipy's 'average')."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    start = 0
    while start < values.size:
        stop = start + 1
        while stop < values.size and sorted_values[stop] == sorted_values[start]:
            stop += 1
        ranks[order[start:stop]] = 0.5 * (start + stop - 1) + 1.0
        start = stop
    return ranks


def spearman(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Pearson correlation of the ranks; NaN when either side is constant or has < 3 rows."""
    if actual.size < MIN_ROWS_FOR_CORRELATION:
        return math.nan
    ra, rp = rankdata(actual), rankdata(predicted)
    ra -= ra.mean()
    rp -= rp.mean()
    denom = math.sqrt(float(ra @ ra) * float(rp @ rp))
    if denom == 0.0:
        return math.nan
    return float(ra @ rp) / denom


def r2(actual: np.ndarray, predicted: np.ndarray) -> float:
    """1 - SS_res / SS_tot around the mean of the scored rows (negative when worse than that mean)."""
    if actual.size < 2:
        return math.nan
    total = float(np.sum((actual - actual.mean()) ** 2))
    if total == 0.0:
        return math.nan
    return 1.0 - float(np.sum((actual - predicted) ** 2)) / total


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted))) if actual.size else math.nan


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of rows whose value lies in [lower, upper]; NaN if any interval is missing."""
    if actual.size == 0 or np.isnan(lower).any() or np.isnan(upper).any():
        return math.nan
    return float(np.mean((lower <= actual) & (actual <= upper)))


def mean_width(lower: np.ndarray, upper: np.ndarray) -> float:
    if lower.size == 0 or np.isnan(lower).any() or np.isnan(upper).any():
        return math.nan
    return float(np.mean(upper - lower))


def score(
    actual: np.ndarray,
    point: np.ndarray,
    lower_90: np.ndarray,
    upper_90: np.ndarray,
) -> dict[str, float]:
    """The metric dict of one method and outcome over the rows where the outcome was measured
    and the method forecast a point (rows with NaN in either are left out and not counted)."""
    actual = np.asarray(actual, dtype=np.float64)
    point = np.asarray(point, dtype=np.float64)
    keep = ~np.isnan(actual) & ~np.isnan(point)
    a, p = actual[keep], point[keep]
    lo, hi = np.asarray(lower_90, dtype=np.float64)[keep], np.asarray(upper_90, dtype=np.float64)[keep]
    return {
        "spearman": spearman(a, p),
        "r2": r2(a, p),
        "mae": mae(a, p),
        "coverage_90": coverage(a, lo, hi),
        "width_90": mean_width(lo, hi),
        "n": int(a.size),
    }
