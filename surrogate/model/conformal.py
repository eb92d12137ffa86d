"""Split-conformal pieces of conformalized quantile regression (CQR), in plain numpy.

Calibration scores are stored whole, so any level can be served later; the
finite-sample rule ceil((n+1) * level) <= n decides whether a level is
reachable with n calibration rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from surrogate.model.errors import CalibrationTooSmallError

ScoreKind = Literal["scaled", "absolute"]

_RANK_TOLERANCE: Final[float] = 1e-9
"""Absorbs float error in (n+1)*level, e.g. 10 * 0.9 = 9.000000000000002 must rank 9."""

REGIMES: Final[tuple[str, ...]] = ("pre", "mid")
"""'pre': no early-run observation given; 'mid': at least one ``obs.*`` feature given."""


def conformal_rank(n: int, level: float) -> int:
    """1-based rank of the calibration score that bounds a fresh score with prob. >= level."""
    return math.ceil((n + 1) * level - _RANK_TOLERANCE)


def min_calibration_size(level: float) -> int:
    """Smallest n for which ``conformal_rank(n, level) <= n``."""
    n = 1
    while conformal_rank(n, level) > n:
        n += 1
    return n


def ordered_bounds(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantile boosters can cross; sorting the pair keeps scores and intervals consistent."""
    return np.minimum(lower, upper), np.maximum(lower, upper)


def local_width(lower: np.ndarray, upper: np.ndarray, floor: np.ndarray | float) -> np.ndarray:
    """Quantile width used to scale scores, floored so that a zero width cannot divide."""
    return np.maximum(upper - lower, floor)


def conformity_scores(
    lower: np.ndarray, upper: np.ndarray, y: np.ndarray, kind: ScoreKind, floor: float
) -> np.ndarray:
    """CQR score per row: how far ``y`` lies outside [lower, upper] (negative inside)."""
    lower, upper = ordered_bounds(lower, upper)
    raw = np.maximum(lower - y, y - upper)
    if kind == "scaled":
        return raw / local_width(lower, upper, floor)
    return raw


def apply_correction(
    lower: np.ndarray,
    upper: np.ndarray,
    correction: np.ndarray,
    kind: ScoreKind,
    floor: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Widen (or narrow) [lower, upper] by the conformal correction; an empty result
    collapses to its midpoint."""
    lower, upper = ordered_bounds(lower, upper)
    if kind == "scaled":
        step = correction * local_width(lower, upper, floor)
    else:
        step = np.broadcast_to(correction, lower.shape)
    lo = lower - step
    hi = upper + step
    crossed = lo > hi
    if np.any(crossed):
        mid = 0.5 * (lo + hi)
        lo = np.where(crossed, mid, lo)
        hi = np.where(crossed, mid, hi)
    return lo, hi


@dataclass(frozen=True)
class CalibrationScores:
    """Sorted conformity scores of one target, one quantile pair and one regime."""

    target: str
    base_level: float
    regime: str
    scores: np.ndarray

    def correction(self, level: float) -> float:
        """The score quantile that gives coverage >= level, or a clear error if unreachable."""
        n = int(self.scores.size)
        rank = conformal_rank(n, level)
        if rank > n:
            hint = (
                "; or send the request without obs.* features (few calibration runs carried them)"
                if self.regime == "mid"
                else ""
            )
            raise CalibrationTooSmallError(
                f"target {self.target!r}: {n} calibration rows in regime {self.regime!r} cannot "
                f"support level {level}: split conformal needs ceil((n+1)*level) <= n, i.e. at "
                f"least {min_calibration_size(level)} rows; lower the level, add runs, or raise "
                f"calibration_fraction{hint}"
            )
        return float(self.scores[rank - 1])
