"""The forecasters the evaluation compares: the meta-model (and LightGBM baselines on
column subsets) with its own conformal intervals, and two simple baselines (first-order
estimate, k nearest runs) given split-conformal residual intervals so that every
method's ``coverage_90`` and ``width_90`` mean the same thing.

Each method is fitted on a training fold's rows and predicts other rows; nothing here
sees a fold's test rows before ``predict``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from surrogate.model import (
    CalibrationTooSmallError,
    FeatureSchema,
    ForecastModel,
    ForecastModelConfig,
    target_name,
)
from surrogate.model.conformal import conformal_rank
from surrogate.training import END_OF_RUN


@dataclass(frozen=True)
class MethodPrediction:
    """Point (rows, outcomes) and intervals per level (rows, outcomes); NaN where a level
    is unreachable with the calibration rows a fold had, or the method has no forecast."""

    point: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]


class Method(ABC):
    """One forecaster of every outcome from a fixed list of feature columns."""

    @abstractmethod
    def fit(self, X: np.ndarray, Y: np.ndarray) -> Method:
        """Fit on training rows; ``Y`` is (rows, outcomes) with NaN where unmeasured."""

    @abstractmethod
    def predict(self, X: np.ndarray, levels: Sequence[float]) -> MethodPrediction:
        """Forecast rows it was not fitted on."""


@dataclass(frozen=True)
class MethodSpec:
    """How the evaluation builds and feeds a method: a fresh instance per fold, the columns
    it reads (by name), which outcomes it can forecast at all (the rest are reported as
    absent, not as zero), and whether its test rows are also forecast mid-run, with the
    early-run observations filled in (``early_run``)."""

    name: str
    factory: Callable[[], Method]
    columns: tuple[str, ...]
    supports: frozenset[str]
    early_run: bool = False


# --------------------------------------------------------------------- meta-model
class BoostedMethod(Method):
    """``ForecastModel`` on the end-of-run targets: LightGBM point and quantile boosters
    with conformalized quantile regression, exactly as trained for serving."""

    def __init__(
        self,
        outcomes: Sequence[str],
        feature_names: Sequence[str],
        featurizer_version: str,
        config: ForecastModelConfig,
    ) -> None:
        self.outcomes = tuple(outcomes)
        self.feature_names = tuple(feature_names)
        self.featurizer_version = featurizer_version
        self.config = config

    def fit(self, X: np.ndarray, Y: np.ndarray) -> BoostedMethod:
        schema = FeatureSchema(feature_names=self.feature_names, featurizer_version=self.featurizer_version)
        # an outcome no training run measured (e.g. one family's only) is not fitted: it is left
        # unforecast (NaN) rather than failing the fold
        targets = {
            target_name(o, END_OF_RUN): Y[:, j] for j, o in enumerate(self.outcomes) if not np.isnan(Y[:, j]).all()
        }
        if not targets:
            raise ValueError("no outcome was measured on any training run")
        self.model_ = ForecastModel(self.config).fit(X, targets, schema)
        return self

    def predict(self, X: np.ndarray, levels: Sequence[float]) -> MethodPrediction:
        return forecast_outcomes(self.model_, X, self.outcomes, levels)


POINT_ONLY_LEVEL = 1e-6
"""A level every non-empty calibration set reaches: asked for when no requested level is
reachable, so the point forecast is still scored."""


def forecast_outcomes(
    model: ForecastModel, X: np.ndarray, outcomes: Sequence[str], levels: Sequence[float]
) -> MethodPrediction:
    """End-of-run forecasts of ``outcomes`` (NaN for an outcome the model does not forecast),
    level by level when one level needs more calibration rows than the model kept."""
    columns = [target_name(o, END_OF_RUN) for o in outcomes]
    index = {t: i for i, t in enumerate(model.targets_)}
    shape = (X.shape[0], len(outcomes))

    def pick(values: np.ndarray) -> np.ndarray:
        out = np.full(shape, np.nan)
        for j, t in enumerate(columns):
            if t in index:
                out[:, j] = values[:, index[t]]
        return out

    point = np.full(shape, np.nan)
    lower = {level: np.full(shape, np.nan) for level in levels}
    upper = {level: np.full(shape, np.nan) for level in levels}
    try:
        served = [(tuple(levels), model.predict(X, levels=levels))]
    except CalibrationTooSmallError:
        served = []
        for level in (*levels, POINT_ONLY_LEVEL):
            try:
                served.append(((level,), model.predict(X, levels=(level,))))
            except CalibrationTooSmallError:
                continue
    for served_levels, forecast in served:
        point = pick(forecast.point)
        for li, level in enumerate(served_levels):
            if level in lower:
                lower[level] = pick(forecast.lower[li])
                upper[level] = pick(forecast.upper[li])
    return MethodPrediction(point=point, lower=lower, upper=upper)


# ------------------------------------------------------- split-conformal baselines
def calibration_mask(n_rows: int, fraction: float, seed: int) -> np.ndarray:
    """Seeded rows held out to calibrate a baseline's residual intervals."""
    mask = np.zeros(n_rows, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n_rows)[: math.ceil(fraction * n_rows)]] = True
    return mask


def residual_quantile(residuals: np.ndarray, level: float) -> float:
    """Split-conformal half-width: the ceil((n+1) level)-th smallest |residual|, NaN if unreachable."""
    n = residuals.size
    rank = conformal_rank(n, level)
    if n == 0 or rank > n:
        return math.nan
    return float(np.sort(residuals)[rank - 1])


class ResidualConformalMethod(Method):
    """A point predictor fitted on part of the training rows, with symmetric intervals from the
    absolute residuals on the other part (split conformal: valid whatever the predictor)."""

    def __init__(self, calibration_fraction: float, seed: int) -> None:
        self.calibration_fraction = calibration_fraction
        self.seed = seed

    @abstractmethod
    def _fit_points(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Fit the point predictor on the proper training part."""

    @abstractmethod
    def _points(self, X: np.ndarray) -> np.ndarray:
        """(rows, outcomes) point forecasts; NaN for an outcome it cannot forecast."""

    def fit(self, X: np.ndarray, Y: np.ndarray) -> ResidualConformalMethod:
        cal = calibration_mask(X.shape[0], self.calibration_fraction, self.seed)
        self._fit_points(X[~cal], Y[~cal])
        residuals = np.abs(Y[cal] - self._points(X[cal]))
        self.residuals_ = [col[~np.isnan(col)] for col in residuals.T]
        return self

    def predict(self, X: np.ndarray, levels: Sequence[float]) -> MethodPrediction:
        point = self._points(X)
        lower, upper = {}, {}
        for level in levels:
            half = np.array([residual_quantile(r, level) for r in self.residuals_])
            lower[level] = point - half[None, :]
            upper[level] = point + half[None, :]
        return MethodPrediction(point=point, lower=lower, upper=upper)


def _column_medians(X: np.ndarray) -> np.ndarray:
    """Per-column median of the measured values (0 for a column never measured)."""
    out = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        col = X[:, j][~np.isnan(X[:, j])]
        if col.size:
            out[j] = float(np.median(col))
    return out


class FirstOrderMethod(ResidualConformalMethod):
    """An outcome's first-order gradient estimate(s) alone, linearly calibrated by least
    squares on the training rows (missing estimates take the training median)."""

    def __init__(
        self, columns: Sequence[str], per_outcome: Sequence[Sequence[str]], calibration_fraction: float, seed: int
    ) -> None:
        super().__init__(calibration_fraction, seed)
        index = {n: i for i, n in enumerate(columns)}
        self.per_outcome = [np.array([index[n] for n in names], dtype=np.intp) for names in per_outcome]

    def _fit_points(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.medians_ = _column_medians(X)
        self.coefs_: list[np.ndarray | None] = []
        filled = np.where(np.isnan(X), self.medians_[None, :], X)
        for j, cols in enumerate(self.per_outcome):
            rows = ~np.isnan(Y[:, j])
            if cols.size == 0 or not rows.any():
                self.coefs_.append(None)
                continue
            design = np.column_stack([np.ones(int(rows.sum())), filled[rows][:, cols]])
            coef, *_ = np.linalg.lstsq(design, Y[rows, j], rcond=None)
            self.coefs_.append(coef)

    def _points(self, X: np.ndarray) -> np.ndarray:
        filled = np.where(np.isnan(X), self.medians_[None, :], X)
        out = np.full((X.shape[0], len(self.per_outcome)), np.nan)
        for j, (cols, coef) in enumerate(zip(self.per_outcome, self.coefs_)):
            if coef is not None:
                out[:, j] = coef[0] + filled[:, cols] @ coef[1:]
        return out


class KnnMethod(ResidualConformalMethod):
    """Mean outcome of the k nearest past runs in standardized feature space (missing values
    sit at the training mean); per outcome, only runs that measured it are neighbours."""

    def __init__(self, k: int, n_outcomes: int, calibration_fraction: float, seed: int) -> None:
        super().__init__(calibration_fraction, seed)
        self.k = k
        self.n_outcomes = n_outcomes

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return np.nan_to_num((X - self.mean_[None, :]) / self.scale_[None, :], nan=0.0)

    def _fit_points(self, X: np.ndarray, Y: np.ndarray) -> None:
        measured = ~np.isnan(X)
        counts = measured.sum(axis=0)
        self.mean_ = np.where(counts > 0, np.nansum(X, axis=0) / np.maximum(counts, 1), 0.0)
        centred = np.where(measured, X - self.mean_[None, :], 0.0)
        sd = np.sqrt((centred**2).sum(axis=0) / np.maximum(counts, 1))
        self.scale_ = np.where(sd > 0.0, sd, 1.0)
        self.reference_ = self._standardize(X)
        self.Y_ = Y.copy()

    def _points(self, X: np.ndarray) -> np.ndarray:
        queries = self._standardize(X)
        d2 = (
            np.einsum("ij,ij->i", queries, queries)[:, None]
            + np.einsum("ij,ij->i", self.reference_, self.reference_)[None, :]
            - 2.0 * queries @ self.reference_.T
        )
        out = np.full((X.shape[0], self.n_outcomes), np.nan)
        for j in range(self.n_outcomes):
            pool = np.flatnonzero(~np.isnan(self.Y_[:, j]))
            if pool.size == 0:
                continue
            k = min(self.k, pool.size)
            nearest = np.argpartition(d2[:, pool], k - 1, axis=1)[:, :k]
            out[:, j] = self.Y_[pool[nearest], j].mean(axis=1)
        return out
