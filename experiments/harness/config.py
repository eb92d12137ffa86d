"""Typed settings of the fine-tune harness: what is measured, when, and how it trains.

Everything a run depends on that is not in the `Recipe` lives here, so the
config saved beside a corpus says exactly how its outcomes were produced.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from experiments.harness.names import (
    DEFAULT_LORA_TARGETS,
    LR_SCHEDULES,
    NON_OUTCOME_PREFIXES,
)
from featurizers.probes.evaluate import EvaluationConfig

__all__ = ["DEFAULT_LORA_TARGETS", "LR_SCHEDULES", "NON_OUTCOME_PREFIXES", "HarnessConfig", "HeldoutConfig",
           "OptimizerConfig"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HeldoutConfig(_Frozen):
    """The slice of the fine-tune dataset kept out of training to measure task.heldout_loss."""

    share: float = Field(default=0.1, gt=0, lt=1, description="share of the dataset held out")
    min_count: int = Field(default=8, ge=1, description="at least this many examples held out")
    max_count: int = Field(default=200, ge=1, description="at most this many examples held out")
    seed: int = Field(default=0, description="mixed with the dataset hash: same data, same slice")
    batch_size: int = Field(default=16, ge=1, description="examples per forward when scoring the slice")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> HeldoutConfig:
        if self.min_count > self.max_count:
            raise ValueError(f"heldout.min_count {self.min_count} exceeds heldout.max_count {self.max_count}")
        return self


class OptimizerConfig(_Frozen):
    """AdamW settings the Recipe does not carry (recipe.optimizer names the algorithm)."""

    beta1: float = Field(default=0.9, ge=0, lt=1)
    beta2: float = Field(default=0.999, ge=0, lt=1)
    eps: float = Field(default=1e-8, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float | None = Field(default=1.0, gt=0, description="clip the global grad norm; null = no clipping")
    min_lr_ratio: float = Field(default=0.0, ge=0, le=1, description="floor of the decayed lr, as a share of the peak")


class HarnessConfig(_Frozen):
    """How a run is trained and measured, beyond its recipe."""

    checkpoint_fractions: tuple[float, ...] = Field(
        default=(0.1, 0.25, 0.5, 1.0), description="shares of recipe.steps after which outcomes are measured"
    )
    evaluation: EvaluationConfig = Field(default_factory=lambda: EvaluationConfig(split="eval"))
    heldout: HeldoutConfig = Field(default_factory=HeldoutConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    device: str = Field(default="auto", description="where runs train when the harness loads the base itself")
    progress: bool = Field(default=False, description="show a tqdm bar over the steps of each run")
    torch_threads: int | None = Field(
        default=None, ge=1, description="CPU threads for torch during a run (restored after); null = torch's default. "
        "1 is often fastest on a small shared machine, where threads fight other jobs for cores",
    )

    @field_validator("checkpoint_fractions")
    @classmethod
    def _fractions_valid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError("checkpoint_fractions must hold at least one fraction (e.g. [1.0])")
        if any(not 0 < f <= 1 for f in value):
            raise ValueError(f"checkpoint_fractions must lie in (0, 1], got {list(value)}")
        if list(value) != sorted(set(value)):
            raise ValueError(f"checkpoint_fractions must be strictly increasing, got {list(value)}")
        if value[-1] != 1.0:
            raise ValueError(f"checkpoint_fractions must end with 1.0 (the end of the run), got {list(value)}")
        return value

    @field_validator("evaluation")
    @classmethod
    def _eval_split(cls, value: EvaluationConfig) -> EvaluationConfig:
        if value.split != "eval":
            raise ValueError(
                f"evaluation.split is {value.split!r}; run outcomes must be measured on the 'eval' half "
                "(the 'feature' half belongs to the featurizers)"
            )
        return value

    def measurement_key(self) -> str:
        """sha256 of the settings that change measured outcomes (not device, threads or progress bars)."""
        material = self.model_dump(mode="json", exclude={"device", "progress", "torch_threads"})
        if not material["evaluation"]["max_items"]:
            # Settings added later leave the key (and so every run id) of corpora built before them unchanged.
            del material["evaluation"]["max_items"]
        text = json.dumps(material, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
