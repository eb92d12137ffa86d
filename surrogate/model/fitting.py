"""Fitting one target: data checks, the training/calibration split, boosters, scores.

Kept apart from the estimator so the estimator reads as the public flow and
this module as the recipe behind it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from surrogate.model.boosters import (
    BoosterKind,
    BoosterSpec,
    booster_text,
    derive_seed,
    effective_min_data_in_leaf,
    make_dataset,
    objective_params,
    train_booster,
)
from surrogate.model.config import ForecastModelConfig
from surrogate.model.conformal import (
    REGIMES,
    CalibrationScores,
    conformity_scores,
    min_calibration_size,
)
from surrogate.model.errors import CalibrationTooSmallError, SchemaMismatchError
from surrogate.model.schema import FeatureSchema, parse_target
from surrogate.runs.outcomes import order_outcomes

if TYPE_CHECKING:  # lightgbm is imported by the training functions in boosters, never on load
    import lightgbm as lgb

Role = tuple[BoosterKind, float | None, float | None]
"""(kind, base level, quantile alpha) of one booster of a target."""


@dataclass(frozen=True)
class TargetCalibration:
    """Everything conformal about one target: its scores and the width floor they used."""

    target: str
    width_floor: float
    n_train: int
    scores: tuple[CalibrationScores, ...]

    def get(self, base_level: float, regime: str) -> CalibrationScores:
        for s in self.scores:
            if s.base_level == base_level and s.regime == regime:
                return s
        raise KeyError(f"target {self.target!r} has no scores for base level {base_level}, regime {regime}")


@dataclass(frozen=True)
class FitData:
    """The rows every target shares: features as given, with observations masked,
    which rows carry observations, and which rows calibrate."""

    X: np.ndarray
    X_pre: np.ndarray
    observed: np.ndarray
    calibration: np.ndarray


def booster_roles(base_levels: Sequence[float]) -> list[Role]:
    """Roles of the boosters of one target, in storage order: point, then (lower, upper) per pair."""
    roles: list[Role] = [("point", None, None)]
    for level in base_levels:
        tail = (1.0 - level) / 2.0
        roles.append(("lower", level, tail))
        roles.append(("upper", level, 1.0 - tail))
    return roles


def order_targets(names: Sequence[str]) -> tuple[str, ...]:
    """Core outcomes in architecture order, then checkpoints ascending."""
    parsed = {name: parse_target(name) for name in names}
    rank = {o: i for i, o in enumerate(order_outcomes({o for o, _ in parsed.values()}))}
    return tuple(sorted(names, key=lambda n: (rank[parsed[n][0]], parsed[n][1])))


def as_matrix(X: Any, schema: FeatureSchema, field: str) -> np.ndarray:
    """A C-contiguous float64 array (no copy when already one); refuse wrong shapes and infinities."""
    try:
        arr = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field} must be a numeric array: {exc}") from exc
    if arr.ndim != 2:
        raise ValueError(
            f"{field} must be 2-D (rows, features), got shape {arr.shape}; pass one row as X[None, :]"
        )
    if arr.shape[1] != schema.n_features:
        raise SchemaMismatchError(
            f"{field} has {arr.shape[1]} columns, the schema (featurizer "
            f"{schema.featurizer_version}) has {schema.n_features} features"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{field} has no rows")
    bad = np.isinf(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{field}[{row}, {col}] (feature {schema.feature_names[col]!r}) is infinite; "
            "use NaN for a missing value"
        )
    return arr


def check_targets(Y: Mapping[str, Any], n_rows: int) -> tuple[tuple[str, ...], dict[str, np.ndarray]]:
    """Target names in canonical order and their values as float arrays of length ``n_rows``."""
    if not isinstance(Y, Mapping) or not Y:
        raise ValueError("Y must be a non-empty mapping of target name -> array of values")
    ys: dict[str, np.ndarray] = {}
    for name, values in Y.items():
        try:
            parse_target(name)
        except ValueError as exc:
            raise ValueError(f"Y key {name!r}: {exc}") from exc
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (n_rows,):
            raise ValueError(f"Y[{name!r}] has shape {arr.shape}, expected ({n_rows},) to match X")
        infinite = np.flatnonzero(np.isinf(arr))
        if infinite.size:
            raise ValueError(f"Y[{name!r}][{int(infinite[0])}] is infinite; use NaN for a missing value")
        ys[name] = arr
    return order_targets(list(ys)), ys


def observed_rows(X: np.ndarray, obs_idx: np.ndarray) -> np.ndarray:
    """Rows carrying at least one early-run observation."""
    if obs_idx.size == 0:
        return np.zeros(X.shape[0], dtype=bool)
    return (~np.isnan(X[:, obs_idx])).any(axis=1)


def prepare(X: np.ndarray, schema: FeatureSchema, config: ForecastModelConfig) -> FitData:
    """Draw the seeded calibration rows and the observation-masked copy of X."""
    n_rows = X.shape[0]
    rng = np.random.default_rng(derive_seed(config.seed, "calibration-split"))
    calibration = np.zeros(n_rows, dtype=bool)
    calibration[rng.permutation(n_rows)[: math.ceil(config.calibration_fraction * n_rows)]] = True
    obs_idx = schema.observation_indices
    X_pre = X.copy()
    X_pre[:, obs_idx] = np.nan
    return FitData(X=X, X_pre=X_pre, observed=observed_rows(X, obs_idx), calibration=calibration)


def check_sizes(target: str, n_train: int, n_cal: int, config: ForecastModelConfig) -> None:
    """Fail before training when a target cannot be fitted or calibrated at the configured levels."""
    if n_train < config.min_train_rows:
        raise ValueError(
            f"Y[{target!r}]: {n_train} training rows with a value, fewer than "
            f"min_train_rows={config.min_train_rows}; add runs or drop the target"
        )
    needed = max(min_calibration_size(level) for level in config.levels)
    if n_cal < needed:
        raise CalibrationTooSmallError(
            f"Y[{target!r}]: {n_cal} calibration rows with a value, but levels "
            f"{list(config.levels)} need at least {needed} (ceil((n+1)*level) <= n); "
            "add runs, raise calibration_fraction or lower the levels"
        )


def train_target(
    target: str,
    data: FitData,
    y: np.ndarray,
    rows: np.ndarray,
    config: ForecastModelConfig,
    schema: FeatureSchema,
    rounds: Mapping[Role, int] | None = None,
) -> dict[Role, lgb.Booster]:
    """Train every booster of one target on ``rows``.

    With observation features, each observed run appears twice (masked and as
    observed) so the trees learn both the pre-run and the mid-run regime.
    """
    X_fit, y_fit = data.X[rows], y[rows]
    with_obs = rows & data.observed
    if config.augment_observations and with_obs.any():
        X_fit = np.vstack([data.X_pre[rows], data.X[with_obs]])
        y_fit = np.concatenate([y[rows], y[with_obs]])
    dataset = make_dataset(X_fit, y_fit, schema.feature_names, config.booster)
    min_leaf = effective_min_data_in_leaf(config.booster, int(rows.sum()))
    out = {}
    for role in booster_roles(config.base_levels):
        kind, level, alpha = role
        out[role] = train_booster(
            dataset,
            config.booster,
            objective_params(kind, config.point_objective, alpha),
            derive_seed(config.seed, target, kind, repr(level)),
            config.num_threads,
            config.booster.n_estimators if rounds is None else rounds[role],
            min_leaf,
        )
    return out


def calibrate_target(
    target: str,
    boosters: Mapping[Role, lgb.Booster],
    data: FitData,
    y: np.ndarray,
    cal: np.ndarray,
    floor: float,
    config: ForecastModelConfig,
) -> tuple[CalibrationScores, ...]:
    """Sorted scores of the calibration rows: every row with observations masked
    ('pre'), and the observed rows as observed ('mid')."""
    mid = cal & data.observed
    regimes = {"pre": (data.X_pre[cal], y[cal]), "mid": (data.X[mid], y[mid])}
    out = []
    for level in config.base_levels:
        _, lower_role, upper_role = booster_roles([level])
        for regime in REGIMES:
            Xr, yr = regimes[regime]
            values = np.empty(0)
            if Xr.shape[0]:
                lo = boosters[lower_role].predict(Xr, raw_score=True, num_threads=config.num_threads)
                hi = boosters[upper_role].predict(Xr, raw_score=True, num_threads=config.num_threads)
                values = np.sort(conformity_scores(lo, hi, yr, config.score, floor))
            out.append(CalibrationScores(target, level, regime, values))
    return tuple(out)


def fit_target(
    target: str, data: FitData, y: np.ndarray, config: ForecastModelConfig, schema: FeatureSchema
) -> tuple[list[BoosterSpec], TargetCalibration]:
    """Train on the training part, score the calibration part, optionally refit on all rows."""
    has_y = ~np.isnan(y)
    train = has_y & ~data.calibration
    cal = has_y & data.calibration
    check_sizes(target, int(train.sum()), int(cal.sum()), config)
    spread = float(np.std(y[train]))
    floor = config.min_width_fraction * (spread if spread > 0.0 else 1.0)
    boosters = train_target(target, data, y, train, config, schema)
    scores = calibrate_target(target, boosters, data, y, cal, floor, config)
    if config.interval_method == "split_refit":
        rounds = {role: b.current_iteration() for role, b in boosters.items()}
        boosters = train_target(target, data, y, train | cal, config, schema, rounds)
    specs = []
    for (kind, level, alpha), booster in boosters.items():
        text, n_iter = booster_text(booster)
        specs.append(BoosterSpec(target, kind, level, alpha, n_iter, text))
    return specs, TargetCalibration(target, floor, int(train.sum()), scores)
