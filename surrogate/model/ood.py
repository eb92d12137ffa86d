"""Out-of-distribution checks: per-feature range flags and distance to the training rows.

A forecast for a feature vector unlike any training run is an extrapolation;
the report says so, names the features at fault, and never blocks the forecast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from surrogate.model.config import OODConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OODReport:
    """Per-row findings; boolean matrices are (rows, features) in schema order."""

    feature_names: tuple[str, ...]
    out_of_range: np.ndarray
    unseen_missing: np.ndarray
    distance: np.ndarray
    distance_flagged: np.ndarray

    @property
    def flagged(self) -> np.ndarray:
        """True for rows the model has to extrapolate to, for any reason."""
        return self.out_of_range.any(axis=1) | self.unseen_missing.any(axis=1) | self.distance_flagged

    def features_at_fault(self, row: int) -> tuple[str, ...]:
        """Names of the features of ``row`` that are out of range or unexpectedly missing."""
        cols = np.flatnonzero(self.out_of_range[row] | self.unseen_missing[row])
        return tuple(self.feature_names[c] for c in cols)

    @property
    def faults(self) -> list[tuple[str, ...]]:
        return [self.features_at_fault(r) for r in range(self.out_of_range.shape[0])]


@dataclass(frozen=True)
class FeatureStats:
    """What the training rows looked like, per feature and as a reference cloud."""

    minimum: np.ndarray
    maximum: np.ndarray
    median: np.ndarray
    mad: np.ndarray
    seen_missing: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    distance_columns: np.ndarray
    reference: np.ndarray
    distance_scale: float


def _standardize(X: np.ndarray, mean: np.ndarray, scale: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """z-scores of the distance columns; a missing value sits at the training mean."""
    z = (X[:, cols] - mean[cols]) / scale[cols]
    return np.ascontiguousarray(np.nan_to_num(z, nan=0.0))


def _nearest_distances(
    queries: np.ndarray, reference: np.ndarray, chunk_rows: int, exclude_self: bool = False,
    ref_sq: np.ndarray | None = None,
) -> np.ndarray:
    """Euclidean distance of each query row to its nearest reference row, in chunks
    (``ref_sq``: the reference rows' squared norms, when computed beforehand)."""
    out = np.empty(queries.shape[0], dtype=np.float64)
    if ref_sq is None:
        ref_sq = np.einsum("ij,ij->i", reference, reference)
    for start in range(0, queries.shape[0], chunk_rows):
        q = queries[start : start + chunk_rows]
        d2 = np.einsum("ij,ij->i", q, q)[:, None] + ref_sq[None, :] - 2.0 * (q @ reference.T)
        if exclude_self:
            idx = np.arange(q.shape[0])
            d2[idx, start + idx] = np.inf
        out[start : start + chunk_rows] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def fit_feature_stats(
    X: np.ndarray,
    observation_indices: np.ndarray,
    config: OODConfig,
    rng: np.random.Generator,
    controller: ThreadpoolController | None = None,
    num_threads: int = 1,
) -> FeatureStats:
    """Summarise the training rows; observation features are left out of the distance
    because their absence is a regime, not a novelty."""
    n_features = X.shape[1]
    present = ~np.isnan(X)
    seen_missing = ~present.all(axis=0)
    seen_missing[observation_indices] = True
    never_present = ~present.any(axis=0)
    if never_present.any():
        logger.warning("features never observed in training: %s", np.flatnonzero(never_present).tolist())
    with np.errstate(all="ignore"):
        filled = np.where(never_present[None, :], 0.0, X)
        minimum = np.where(never_present, np.inf, np.nanmin(filled, axis=0))
        maximum = np.where(never_present, -np.inf, np.nanmax(filled, axis=0))
        median = np.where(never_present, 0.0, np.nanmedian(filled, axis=0))
        mad = np.where(never_present, 0.0, np.nanmedian(np.abs(filled - median), axis=0))
        mean = np.where(never_present, 0.0, np.nanmean(filled, axis=0))
        std = np.where(never_present, 0.0, np.nanstd(filled, axis=0))
    scale = np.where(std > 0.0, std, 1.0)
    is_obs = np.zeros(n_features, dtype=bool)
    is_obs[observation_indices] = True
    distance_columns = np.flatnonzero(~is_obs & ~never_present)
    rows = X.shape[0]
    take = min(rows, config.distance_reference_rows)
    picked = np.sort(rng.choice(rows, size=take, replace=False)) if take < rows else np.arange(rows)
    reference = np.ascontiguousarray(_standardize(X[picked], mean, scale, distance_columns))
    distance_scale = 1.0
    if reference.shape[0] >= 2 and reference.shape[1] > 0:
        with blas_limit(controller, num_threads):
            loo = _nearest_distances(reference, reference, config.distance_chunk_rows, exclude_self=True)
        q = float(np.quantile(loo, config.distance_quantile))
        distance_scale = q if q > 0.0 else 1.0
    return FeatureStats(
        minimum=minimum, maximum=maximum, median=median, mad=mad, seen_missing=seen_missing,
        mean=mean, scale=scale, distance_columns=distance_columns,
        reference=reference, distance_scale=distance_scale,
    )


def blas_limit(controller: ThreadpoolController | None, num_threads: int) -> AbstractContextManager[object]:
    """Cap BLAS threads for the distance products: a multi-threaded OpenBLAS on a busy
    machine turns a 0.3 ms product into tens of milliseconds."""
    if controller is None:
        return nullcontext()
    return controller.limit(limits=num_threads, user_api="blas")


@dataclass(frozen=True)
class RowChecks:
    """What ``check_rows`` derives from the statistics and config alone, computed once per
    model (``prepare_checks``) instead of once per request: bounds, scales, reference norms."""

    low: np.ndarray | None
    high: np.ndarray | None
    median: np.ndarray | None
    sigma: np.ndarray | None
    never_seen: np.ndarray
    expected: np.ndarray
    distance_mean: np.ndarray
    distance_scale: np.ndarray
    reference_sq: np.ndarray | None


def prepare_checks(stats: FeatureStats, config: OODConfig) -> RowChecks:
    """The per-model part of ``check_rows`` (same arithmetic, so the same flags)."""
    low = high = median = sigma = None
    with np.errstate(invalid="ignore"):
        if config.range_margin is not None:
            span = stats.maximum - stats.minimum
            span = np.where(np.isfinite(span), span, 0.0)
            low = stats.minimum - config.range_margin * span
            high = stats.maximum + config.range_margin * span
        if config.robust_z_max is not None:
            raw_sigma = config.mad_to_sigma * stats.mad
            median, sigma = stats.median, np.where(raw_sigma > 0.0, raw_sigma, np.inf)
    cols = stats.distance_columns
    has_reference = stats.reference.shape[0] > 0 and stats.reference.shape[1] > 0
    return RowChecks(
        low=low, high=high, median=median, sigma=sigma,
        never_seen=stats.minimum > stats.maximum, expected=~stats.seen_missing,
        distance_mean=stats.mean[cols], distance_scale=stats.scale[cols],
        reference_sq=np.einsum("ij,ij->i", stats.reference, stats.reference) if has_reference else None,
    )


def check_rows(
    X: np.ndarray,
    stats: FeatureStats,
    config: OODConfig,
    feature_names: Sequence[str],
    controller: ThreadpoolController | None = None,
    num_threads: int = 1,
    checks: RowChecks | None = None,
) -> OODReport:
    """Flag each row's features against the training statistics (``checks``: from
    ``prepare_checks(stats, config)``, when the caller keeps it)."""
    if checks is None:
        checks = prepare_checks(stats, config)
    present = ~np.isnan(X)
    with np.errstate(invalid="ignore"):
        outside = np.zeros(X.shape, dtype=bool) | checks.never_seen
        if checks.low is not None:
            outside |= (X < checks.low) | (X > checks.high)
        if checks.median is not None:
            outside |= np.abs(X - checks.median) / checks.sigma > config.robust_z_max
    out = present & outside
    unseen_missing = ~present & checks.expected
    if checks.reference_sq is not None:
        z = (X[:, stats.distance_columns] - checks.distance_mean) / checks.distance_scale
        with blas_limit(controller, num_threads):
            nearest = _nearest_distances(
                np.ascontiguousarray(np.nan_to_num(z, nan=0.0)), stats.reference, config.distance_chunk_rows,
                ref_sq=checks.reference_sq,
            )
        distance = nearest / stats.distance_scale
    else:
        distance = np.zeros(X.shape[0])
    return OODReport(
        feature_names=tuple(feature_names),
        out_of_range=out,
        unseen_missing=unseen_missing,
        distance=distance,
        distance_flagged=distance > config.distance_flag_ratio,
    )
