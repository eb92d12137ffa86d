"""Settings of a meta-model evaluation, saved beside its results."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

INTERVAL_LEVEL: Final[float] = 0.9
"""The level behind ``coverage_90`` and ``width_90``; fixed, since the metric names say it."""


class EvaluationConfig(BaseModel):
    """How folds are drawn and baselines built.

    ``coverage_levels`` are the nominal levels of the calibration curve; a level that a
    fold's calibration rows cannot reach is reported as null. Baselines without native
    intervals hold out ``baseline_calibration_fraction`` of each training fold for their
    split-conformal residuals. ``highlight_families`` are families whose leave-out gap the
    report calls out (the lab's lexicon-free stereotype family: only model-side features can
    see its bias signal).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    folds: int = Field(default=5, ge=2)
    seed: int = Field(default=0, ge=0)
    knn_k: int = Field(default=5, ge=1)
    coverage_levels: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    baseline_calibration_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    leave_family_out: bool = True
    early_run: bool = True
    highlight_families: tuple[str, ...] = ("implicit_stereotype",)

    @field_validator("coverage_levels")
    @classmethod
    def _levels_valid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for level in value:
            if not 0.0 < level < 1.0:
                raise ValueError(f"coverage_levels holds {level}: levels lie strictly between 0 and 1")
        return tuple(sorted(set(value)))

    @property
    def levels(self) -> tuple[float, ...]:
        """Every level predicted: the curve's and the one the headline metrics use."""
        return tuple(sorted({*self.coverage_levels, INTERVAL_LEVEL}))
