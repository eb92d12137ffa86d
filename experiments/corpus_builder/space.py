"""The space run configs are sampled from: families, their knobs, dataset sizes and recipes.

A typed, saved config: the corpus it produced can always say which ranges its
runs were drawn from, and a different space is a different (documented) corpus.
"""

from __future__ import annotations

import math
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from experiments.harness.names import DEFAULT_LORA_TARGETS, LR_SCHEDULES

SIGNIFICANT_DIGITS = 3
"""Sampled floats are rounded to this many significant digits: readable, stably hashed."""


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FloatRange(_Frozen):
    """A float drawn uniformly, or log-uniformly when `log` (both ends must then be > 0)."""

    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "FloatRange":
        if self.low > self.high:
            raise ValueError(f"range low {self.low} exceeds high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got {self.low}")
        return self

    def sample(self, rng: random.Random) -> float:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return min(max(round_significant(value), self.low), self.high)


class IntRange(_Frozen):
    """An int in [low, high], drawn uniformly or log-uniformly."""

    low: int
    high: int
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "IntRange":
        if self.low > self.high:
            raise ValueError(f"range low {self.low} exceeds high {self.high}")
        if self.log and self.low < 1:
            raise ValueError(f"a log range needs low >= 1, got {self.low}")
        return self

    def sample(self, rng: random.Random) -> int:
        if not self.log:
            return rng.randint(self.low, self.high)
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
        return min(max(int(value), self.low), self.high)


class KnobSpec(_Frozen):
    """Override for one family knob: a list of choices or a float range (exactly one)."""

    choices: list[Any] | None = None
    range: FloatRange | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "KnobSpec":
        if (self.choices is None) == (self.range is None):
            raise ValueError("a knob spec needs exactly one of 'choices' or 'range'")
        if self.choices is not None and not self.choices:
            raise ValueError("knob 'choices' must not be empty")
        return self

    def sample(self, rng: random.Random) -> Any:
        if self.choices is not None:
            return rng.choice(self.choices)
        assert self.range is not None  # guaranteed by _one_kind
        return self.range.sample(rng)


def _default_knobs() -> dict[str, dict[str, KnobSpec]]:
    """Knobs whose generic range would waste runs (a near-zero unique share is one example repeated)."""
    return {"near_duplicates": {"unique_share": KnobSpec(range=FloatRange(low=0.05, high=1.0))}}


class SamplingSpace(_Frozen):
    """Ranges of every sampled quantity. Families default to every registered family."""

    families: list[str] = Field(default_factory=list, description="families to draw from; empty = all registered")
    family_weights: dict[str, float] = Field(default_factory=dict, description="relative weights; missing = 1")
    knobs: dict[str, dict[str, KnobSpec]] = Field(
        default_factory=_default_knobs, description="family -> knob -> override of the generic knob sampling"
    )
    dataset_size: IntRange = IntRange(low=50, high=2000, log=True)
    steps: IntRange = IntRange(low=20, high=300, log=True)
    lora_share: float = Field(default=0.5, ge=0, le=1, description="share of runs that use LoRA")
    full_lr: FloatRange = FloatRange(low=1e-5, high=1e-3, log=True)
    lora_lr: FloatRange = FloatRange(low=1e-4, high=1e-2, log=True)
    lora_ranks: list[int] = Field(default_factory=lambda: [2, 4, 8, 16], min_length=1)
    lora_alpha_per_rank: list[float] = Field(default_factory=lambda: [1.0, 2.0], min_length=1)
    lora_dropouts: list[float] = Field(default_factory=lambda: [0.0, 0.05, 0.1], min_length=1)
    lora_target_sets: list[tuple[str, ...]] = Field(default_factory=lambda: [DEFAULT_LORA_TARGETS], min_length=1)
    batch_sizes: list[int] = Field(default_factory=lambda: [4, 8, 16, 32], min_length=1)
    lr_schedules: list[str] = Field(default_factory=lambda: list(LR_SCHEDULES), min_length=1)
    warmup_share: FloatRange = FloatRange(low=0.0, high=0.1)
    max_seq_lens: list[int] = Field(default_factory=lambda: [128], min_length=1)
    optimizer: str = "adamw"

    @model_validator(mode="after")
    def _values_valid(self) -> "SamplingSpace":
        unknown = sorted(set(self.lr_schedules) - set(LR_SCHEDULES))
        if unknown:
            raise ValueError(f"lr_schedules {unknown} are unknown; use some of {list(LR_SCHEDULES)}")
        for name, values in (("lora_ranks", self.lora_ranks), ("batch_sizes", self.batch_sizes),
                             ("max_seq_lens", self.max_seq_lens)):
            if any(v < 1 for v in values):
                raise ValueError(f"{name} must all be >= 1, got {values}")
        if any(w < 0 for w in self.family_weights.values()):
            raise ValueError(f"family_weights must be >= 0, got {self.family_weights}")
        if self.warmup_share.low < 0 or self.warmup_share.high >= 1:
            raise ValueError(f"warmup_share must lie in [0, 1), got {self.warmup_share}")
        return self
