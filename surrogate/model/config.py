"""Typed configuration of the meta-model, saved inside every model artifact.

Defaults suit the corpus sizes we expect (50 to 2,000 runs): small trees, a
slow learning rate and few enough boosters that one forecast stays cheap.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_levels(name: str, levels: tuple[float, ...]) -> tuple[float, ...]:
    if not levels:
        raise ValueError(f"{name} must hold at least one level")
    for level in levels:
        if not 0.0 < level < 1.0:
            raise ValueError(f"{name} holds {level}: every level must be strictly between 0 and 1")
    if len(set(levels)) != len(levels):
        raise ValueError(f"{name} holds a level twice: {levels}")
    return tuple(sorted(levels))


class BoosterParams(_Frozen):
    """LightGBM knobs shared by the point and quantile boosters of every target.

    Small trees with many rows per leaf: tail quantiles estimated from a dozen
    rows overfit badly. On a small target the leaf minimum shrinks to
    ``n_train // small_data_leaf_divisor`` (never below ``min_data_in_leaf_floor``)
    so that a 50-run corpus can still split.

    80 rounds at 0.12 rather than 300 at 0.05: a model serves every booster of every
    outcome and checkpoint on each forecast, so predict cost is proportional to the
    trees. On 121 lab-v1 runs (5-fold and leave-one-family-out, ``tunecast
    evaluate-model --config``) the 300-round model's Spearman was higher on 13 of 20
    (outcome, split) cells, by a median of 0.02 (at most 0.14), for 3.75x the trees.
    """

    n_estimators: int = Field(default=80, ge=1)
    learning_rate: float = Field(default=0.12, gt=0.0)
    num_leaves: int = Field(default=7, ge=2)
    max_depth: int = Field(default=-1, ge=-1)
    min_data_in_leaf: int = Field(default=20, ge=1)
    min_data_in_leaf_floor: int = Field(default=3, ge=1)
    small_data_leaf_divisor: int = Field(default=8, ge=1)
    min_sum_hessian_in_leaf: float = Field(default=1e-3, ge=0.0)
    lambda_l2: float = Field(default=1.0, ge=0.0)
    feature_fraction: float = Field(default=0.9, gt=0.0, le=1.0)
    bagging_fraction: float = Field(default=0.9, gt=0.0, le=1.0)
    bagging_freq: int = Field(default=1, ge=0)
    max_bin: int = Field(default=255, ge=2)
    min_data_in_bin: int = Field(default=3, ge=1)


class OODConfig(_Frozen):
    """When a request counts as outside what the model has seen.

    ``range_margin`` widens each feature's training [min, max] by that share of
    its range; ``robust_z_max`` bounds |x - median| / (1.4826 MAD). Either rule
    may be switched off (None), not both: extrapolation must always be flagged.
    """

    range_margin: float | None = Field(default=0.1, ge=0.0)
    robust_z_max: float | None = Field(default=None, gt=0.0)
    mad_to_sigma: float = Field(default=1.4826, gt=0.0)
    distance_reference_rows: int = Field(default=2000, ge=2)
    distance_quantile: float = Field(default=0.95, gt=0.0, le=1.0)
    distance_flag_ratio: float = Field(default=1.5, gt=0.0)
    distance_chunk_rows: int = Field(default=256, ge=1)

    @model_validator(mode="after")
    def _one_rule_on(self) -> OODConfig:
        if self.range_margin is None and self.robust_z_max is None:
            raise ValueError(
                "ood: range_margin and robust_z_max are both None; enable at least one "
                "so out-of-range features are flagged"
            )
        return self


class ForecastModelConfig(_Frozen):
    """Everything that shapes a fitted meta-model; stored in ``meta.json``.

    ``interval_method``: "split" (default) serves the boosters fitted on the
    training part, so the conformal guarantee holds exactly in finite samples;
    "split_refit" refits them on all rows with the same iteration counts after
    calibrating, sharper models but coverage only approximately guaranteed.
    CV+ is not offered: it serves one model per fold, multiplying predict cost.

    ``score``: "absolute" is the original CQR score max(lo - y, y - hi);
    "scaled" divides it by the local quantile width (CQR-r), so a single
    quantile pair serves any level while staying adaptive to local noise.
    Widths are floored at ``min_width_fraction`` times the target's training
    standard deviation. ``base_levels`` are the nominal levels of the quantile
    pairs fitted per target; a requested level uses the nearest pair. One
    central pair (0.8) is estimated more stably than a 0.9 pair on small data.

    ``fused_max_rows`` is no longer used (prediction walks every booster at
    once with the numpy evaluator of ``tree_predict``); it stays so that
    artifacts whose config holds it still load. ``num_threads`` is used for
    training and the out-of-distribution distances; 1 avoids OpenMP
    oversubscription on shared machines.
    ``correction_cache_size`` bounds how many (level, regime) conformal
    corrections are kept, so arbitrary levels from clients cannot grow memory.
    """

    point_objective: Literal["l2", "l1"] = "l2"
    base_levels: tuple[float, ...] = (0.8,)
    levels: tuple[float, ...] = (0.8, 0.9)
    score: Literal["scaled", "absolute"] = "scaled"
    min_width_fraction: float = Field(default=1e-3, gt=0.0)
    interval_method: Literal["split", "split_refit"] = "split"
    calibration_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    min_train_rows: int = Field(default=20, ge=2)
    augment_observations: bool = True
    seed: int = Field(default=0, ge=0)
    num_threads: int = Field(default=1, ge=1)
    fused_max_rows: int = Field(default=2, ge=0)
    correction_cache_size: int = Field(default=64, ge=0)
    booster: BoosterParams = BoosterParams()
    ood: OODConfig = OODConfig()

    @field_validator("base_levels")
    @classmethod
    def _base_levels_valid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _check_levels("base_levels", value)

    @field_validator("levels")
    @classmethod
    def _levels_valid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _check_levels("levels", value)
