"""The meta-model: LightGBM point and quantile boosters per target, conformalized.

Shaped like a scikit-learn estimator (parameters in ``__init__``, state ending
in ``_`` set by ``fit`` or ``load``) and calibrated like MAPIE's split CQR: a
seeded part of the training rows is held out, its conformity scores are kept
whole, and any level is served from them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from threadpoolctl import ThreadpoolController

from surrogate.model.boosters import BoosterSpec, derive_seed
from surrogate.model.config import ForecastModelConfig
from surrogate.model.conformal import REGIMES, apply_correction
from surrogate.model.errors import NotFittedError
from surrogate.model.fitting import (
    TargetCalibration,
    as_matrix,
    booster_roles,
    check_targets,
    fit_target,
    observed_rows,
    prepare,
)
from surrogate.model.forecast import Forecast
from surrogate.model.ood import (
    FeatureStats,
    OODReport,
    check_rows,
    fit_feature_stats,
    prepare_checks,
)
from surrogate.model.schema import FeatureSchema
from surrogate.model.tree_predict import compile_model_texts

if TYPE_CHECKING:
    from surrogate.model.artifact_files import TrainingProvenance

logger = logging.getLogger(__name__)


class ForecastModel:
    """Point forecast and conformal intervals of every outcome target from a feature vector.

    ``fit(X, Y, schema)`` then ``predict(X, levels)``; ``save``/``load`` move
    the fitted state to and from a versioned directory of text and JSON.
    """

    def __init__(self, config: ForecastModelConfig | None = None) -> None:
        self.config = config

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        X: np.ndarray,
        Y: Mapping[str, np.ndarray],
        schema: FeatureSchema,
        *,
        progress: bool = False,
    ) -> ForecastModel:
        """Fit boosters per target on a seeded training part, calibrate on the rest.

        ``Y`` maps target names (``outcome@fraction``) to arrays with one value
        per row of ``X``; NaN marks a run that did not measure that target.
        """
        # only fitting shows progress; serving never imports tqdm
        from tqdm.auto import tqdm

        config = self.config if self.config is not None else ForecastModelConfig()
        if not isinstance(config, ForecastModelConfig):
            raise TypeError(f"config must be a ForecastModelConfig, got {type(config).__name__}")
        if not isinstance(schema, FeatureSchema):
            raise TypeError(f"schema must be a FeatureSchema, got {type(schema).__name__}")
        X = as_matrix(X, schema, "X")
        targets, ys = check_targets(Y, X.shape[0])
        data = prepare(X, schema, config)
        specs: list[BoosterSpec] = []
        calibrations: list[TargetCalibration] = []
        for target in tqdm(targets, desc="fitting targets", disable=not progress):
            target_specs, calibration = fit_target(target, data, ys[target], config, schema)
            specs.extend(target_specs)
            calibrations.append(calibration)
            logger.info(
                "fitted %s: %d training rows, calibration rows pre/mid %s",
                target, calibration.n_train,
                [calibration.get(config.base_levels[0], r).scores.size for r in REGIMES],
            )
        stats_rng = np.random.default_rng(derive_seed(config.seed, "ood-reference"))
        stats = fit_feature_stats(
            X, schema.observation_indices, config.ood, stats_rng, ThreadpoolController(), config.num_threads
        )
        self._set_fitted(config, schema, targets, specs, calibrations, stats)
        return self

    # ------------------------------------------------------------ fitted state
    def _set_fitted(
        self,
        config: ForecastModelConfig,
        schema: FeatureSchema,
        targets: tuple[str, ...],
        specs: Sequence[BoosterSpec],
        calibrations: Sequence[TargetCalibration],
        stats: FeatureStats,
    ) -> None:
        """Install fitted state and the structures that make predict cheap."""
        roles = booster_roles(config.base_levels)
        expected = [(t, kind, level) for t in targets for kind, level, _ in roles]
        got = [(s.target, s.kind, s.base_level) for s in specs]
        if got != expected:
            raise ValueError(
                f"boosters are not in target x role order: expected {expected[:3]}..., got {got[:3]}..."
            )
        n_roles = len(roles)
        n_targets = len(targets)
        grid = np.arange(n_targets * n_roles).reshape(n_targets, n_roles)
        self.config_ = config
        self.schema_ = schema
        self.targets_ = targets
        self.boosters_ = tuple(specs)
        self.calibration_ = tuple(calibrations)
        self.feature_stats_ = stats
        self._ood_checks = prepare_checks(stats, config.ood)
        self.width_floor_ = np.array([c.width_floor for c in calibrations], dtype=np.float64)
        self._obs_idx = schema.observation_indices
        self._point_cols = grid[:, 0]
        self._lower_cols = grid[:, 1::2].T.copy()
        self._upper_cols = grid[:, 2::2].T.copy()
        self._corrections: dict[tuple[float, str], tuple[int, np.ndarray]] = {}
        self.model_version_: str | None = None
        self._blas = ThreadpoolController()
        self.forest_ = compile_model_texts([s.model_text for s in specs], [s.label for s in specs])
        for level in config.levels:
            self._correction(level, "pre")

    def _check_fitted(self) -> None:
        if not hasattr(self, "forest_"):
            raise NotFittedError(
                "this ForecastModel is not fitted yet: call fit(X, Y, schema) or "
                "ForecastModel.load(directory) before predict or save"
            )

    def _correction(self, level: float, regime: str) -> tuple[int, np.ndarray]:
        """(base-level index, per-target correction) for a level, computed once and cached."""
        key = (level, regime)
        cached = self._corrections.get(key)
        if cached is not None:
            return cached
        base_levels = self.config_.base_levels
        b = min(range(len(base_levels)), key=lambda i: (abs(base_levels[i] - level), -base_levels[i]))
        values = np.array(
            [c.get(base_levels[b], regime).correction(level) for c in self.calibration_], dtype=np.float64
        )
        if len(self._corrections) < self.config_.correction_cache_size:
            self._corrections[key] = (b, values)
        return b, values

    # -------------------------------------------------------------- predicting
    def predict(
        self,
        X: np.ndarray,
        levels: Sequence[float] | None = None,
        *,
        feature_names: Sequence[str] | None = None,
        featurizer_version: str | None = None,
    ) -> Forecast:
        """Point forecasts, conformal intervals at each level (default: config
        ``levels``) and out-of-distribution flags for each row of ``X``.

        Passing ``feature_names`` and ``featurizer_version`` makes the call
        refuse features laid out or computed differently from training.
        """
        self._check_fitted()
        schema = self.schema_
        if feature_names is not None:
            schema.check_names(feature_names)
        schema.check_featurizer_version(featurizer_version)
        levels_t = self._check_levels(levels)
        X = as_matrix(X, schema, "X")
        raw = self.forest_.predict(X)
        observed = observed_rows(X, self._obs_idx)
        any_observed = bool(observed.any())
        kind = self.config_.score
        n_rows, n_targets = X.shape[0], len(self.targets_)
        lower = np.empty((len(levels_t), n_rows, n_targets))
        upper = np.empty_like(lower)
        for li, level in enumerate(levels_t):
            b, corr = self._correction(level, "pre")
            if any_observed:
                _, corr_mid = self._correction(level, "mid")
                corr = np.where(observed[:, None], corr_mid[None, :], corr[None, :])
            lower[li], upper[li] = apply_correction(
                raw[:, self._lower_cols[b]], raw[:, self._upper_cols[b]], corr, kind, self.width_floor_
            )
        point = raw[:, self._point_cols]
        # The point has its own booster and can fall outside the quantile pair's interval;
        # widening the interval to hold it never lowers coverage, and a forecast whose point
        # lies outside its own interval reads as a contradiction.
        np.minimum(lower, point[None, :, :], out=lower)
        np.maximum(upper, point[None, :, :], out=upper)
        ood = self._ood(X)
        return Forecast(
            targets=self.targets_,
            levels=levels_t,
            point=point,
            lower=lower,
            upper=upper,
            observed=observed,
            ood=ood,
        )

    def check_ood(self, X: np.ndarray) -> OODReport:
        """Out-of-distribution findings for rows in schema order, without forecasting
        (what ``predict`` attaches; also how evaluations count extrapolated runs)."""
        self._check_fitted()
        return self._ood(as_matrix(X, self.schema_, "X"))

    def _ood(self, X: np.ndarray) -> OODReport:
        config = self.config_
        return check_rows(
            X, self.feature_stats_, config.ood, self.schema_.feature_names, self._blas, config.num_threads,
            self._ood_checks,
        )

    def accelerate(self, *, background: bool = False) -> bool:
        """Evaluate the trees with the compiled kernels from now on (numba, when installed;
        equal results, 5-20x faster). Worth it for a process that predicts many rows; with
        ``background`` a server keeps answering, with numpy, while the kernels load.
        Returns whether they are installed (or, with ``background``, being prepared)."""
        self._check_fitted()
        return self.forest_.accelerate(background=background)

    def _check_levels(self, levels: Sequence[float] | None) -> tuple[float, ...]:
        if levels is None:
            return self.config_.levels
        out = tuple(float(level) for level in levels)
        if not out:
            raise ValueError("levels is empty: ask for at least one interval level, e.g. (0.9,)")
        for level in out:
            if not 0.0 < level < 1.0:
                raise ValueError(f"levels holds {level}: each level must be strictly between 0 and 1")
        return out

    def calibration_sizes(self) -> dict[str, dict[str, int]]:
        """Calibration rows per target and regime (first base level), for reports."""
        self._check_fitted()
        level = self.config_.base_levels[0]
        return {
            c.target: {r: int(c.get(level, r).scores.size) for r in REGIMES} for c in self.calibration_
        }

    # ---------------------------------------------------------------- artifact
    def save(
        self,
        directory: str | os.PathLike[str],
        *,
        corpus_hash: str,
        model_version: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        provenance: TrainingProvenance | None = None,
    ) -> Path:
        """Write the fitted model as a new versioned directory (see ``surrogate.model.artifact``)."""
        self._check_fitted()
        from surrogate.model.artifact import save_model

        return save_model(
            self, directory, corpus_hash=corpus_hash, model_version=model_version, metrics=metrics,
            provenance=provenance,
        )

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> ForecastModel:
        """Read and validate a directory written by :meth:`save`."""
        from surrogate.model.artifact import load_model

        return load_model(directory)
