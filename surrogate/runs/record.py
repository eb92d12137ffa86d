"""The run record: one real fine-tune, what it was and what it did.

It is the unit of the run corpus the meta-model learns from. Features are
deliberately absent: they are recomputed by the current featurizers and joined
by (dataset hash, base model hash), so a better featurizer never needs the
runs redone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from surrogate.runs.outcomes import check_outcome_name

RUN_RECORD_SCHEMA_VERSION: Final[int] = 1

DELTA_REL_TOLERANCE: Final[float] = 1e-6
DELTA_ABS_TOLERANCE: Final[float] = 1e-9
"""How far a stored delta may sit from (value - step-0 value): room for a
producer that computed it in float32, none for a wrong baseline."""

JSONScalar = str | int | float | bool | None
"""A dataset parameter value: anything JSON holds that is not a container."""

NonEmptyStr = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    """Shared config: immutable, no unknown fields, no NaN/inf anywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class BaseModelRef(_Strict):
    """Which base model was fine-tuned; the hash pins the exact weights."""

    name: NonEmptyStr
    weights_hash: NonEmptyStr


class DatasetRef(_Strict):
    """Which dataset was used; lab datasets regenerate from family + params + seed."""

    family: NonEmptyStr
    params: dict[str, JSONScalar | list[JSONScalar]] = Field(default_factory=dict)
    seed: int
    content_hash: NonEmptyStr
    n_examples: int = Field(ge=1)
    format: NonEmptyStr

    @field_validator("params", mode="before")
    @classmethod
    def _params_are_flat_json(cls, value: object) -> object:
        """One clear message per bad value instead of one per union branch."""
        if not isinstance(value, Mapping):
            return value
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            for element in items:
                if not isinstance(element, str | int | float | bool | None):
                    raise ValueError(
                        f"dataset.params[{key!r}] holds a {type(element).__name__}; values must "
                        "be JSON scalars (str, int, float, bool, null) or lists of them"
                    )
                if isinstance(element, float) and not math.isfinite(element):
                    raise ValueError(
                        f"dataset.params[{key!r}] holds {element}; floats must be finite"
                    )
        return value


class Recipe(_Strict):
    """How the fine-tune was run: everything an optimizer run depends on."""

    method: Literal["full", "lora"]
    lora_rank: int | None = Field(default=None, ge=1)
    lora_alpha: float | None = Field(default=None, gt=0)
    lora_dropout: float | None = Field(default=None, ge=0, lt=1)
    target_modules: tuple[NonEmptyStr, ...] = ()
    learning_rate: float = Field(gt=0)
    lr_schedule: NonEmptyStr
    warmup_steps: int = Field(ge=0)
    batch_size: int = Field(ge=1)
    steps: int = Field(ge=1)
    epochs: float = Field(gt=0)
    max_seq_len: int = Field(ge=1)
    seed: int
    optimizer: NonEmptyStr

    @model_validator(mode="after")
    def _lora_fields_match_method(self) -> Recipe:
        if self.method == "lora":
            for name in ("lora_rank", "lora_alpha", "lora_dropout"):
                if getattr(self, name) is None:
                    raise ValueError(f"recipe.{name} is required when method is 'lora'")
            if not self.target_modules:
                raise ValueError(
                    "recipe.target_modules must name at least one module when method is 'lora'"
                )
        else:
            for name in ("lora_rank", "lora_alpha", "lora_dropout"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"recipe.{name} must be null when method is 'full' "
                        "(it only means something for LoRA)"
                    )
        return self


class Checkpoint(_Strict):
    """Probe outcomes measured at one step: absolute values and change since step 0."""

    step: int = Field(ge=0)
    fraction: float = Field(ge=0.0, le=1.0)
    outcomes: dict[str, float]
    deltas: dict[str, float]

    @field_validator("outcomes", "deltas")
    @classmethod
    def _names_are_dotted(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("must hold at least one outcome")
        for name in value:
            check_outcome_name(name)
        return value

    @model_validator(mode="after")
    def _deltas_cover_outcomes(self) -> Checkpoint:
        if set(self.deltas) != set(self.outcomes):
            missing = sorted(set(self.outcomes) - set(self.deltas))
            extra = sorted(set(self.deltas) - set(self.outcomes))
            raise ValueError(
                f"deltas keys must equal outcomes keys at step {self.step}: "
                f"missing deltas {missing}, deltas without outcome {extra}"
            )
        return self


class LossPoint(_Strict):
    """Training loss at one optimizer step."""

    step: int = Field(ge=0)
    loss: float


class Timing(_Strict):
    """Where the time went and on what: the cost side of a forecast."""

    wall_s: float = Field(ge=0)
    finetune_s: float = Field(ge=0)
    eval_s: float = Field(ge=0)
    tokens_seen: int = Field(ge=0)
    hardware: NonEmptyStr
    device: NonEmptyStr


class RunRecord(_Strict):
    """One fine-tune run as stored in the run corpus (featurizer-independent)."""

    schema_version: Literal[1] = RUN_RECORD_SCHEMA_VERSION
    run_id: Annotated[str, Field(min_length=1, max_length=256)]
    created_at: AwareDatetime
    base: BaseModelRef
    dataset: DatasetRef
    recipe: Recipe
    checkpoints: tuple[Checkpoint, ...] = Field(min_length=1)
    loss_curve: tuple[LossPoint, ...] = ()
    timing: Timing

    @field_validator("run_id")
    @classmethod
    def _run_id_is_plain(cls, value: str) -> str:
        if value != value.strip() or any(ch in value for ch in "\n\r\t"):
            raise ValueError(f"run_id {value!r} has surrounding whitespace or control characters")
        return value

    @field_validator("checkpoints")
    @classmethod
    def _checkpoints_form_a_trajectory(
        cls, value: tuple[Checkpoint, ...]
    ) -> tuple[Checkpoint, ...]:
        first = value[0]
        if first.step != 0 or first.fraction != 0.0:
            raise ValueError(
                "checkpoints[0] must be the base model at step 0 with fraction 0.0, "
                f"got step {first.step} fraction {first.fraction}"
            )
        names = set(first.outcomes)
        for i in range(1, len(value)):
            prev, cur = value[i - 1], value[i]
            if cur.step <= prev.step:
                raise ValueError(
                    f"checkpoints[{i}].step {cur.step} must be greater than "
                    f"checkpoints[{i - 1}].step {prev.step}"
                )
            if cur.fraction <= prev.fraction:
                raise ValueError(
                    f"checkpoints[{i}].fraction {cur.fraction} must be greater than "
                    f"checkpoints[{i - 1}].fraction {prev.fraction}"
                )
            if set(cur.outcomes) != names:
                raise ValueError(
                    f"checkpoints[{i}].outcomes keys differ from checkpoints[0]: "
                    f"missing {sorted(names - set(cur.outcomes))}, "
                    f"extra {sorted(set(cur.outcomes) - names)}"
                )
        for i, ckpt in enumerate(value):
            for name, delta in ckpt.deltas.items():
                expected = ckpt.outcomes[name] - first.outcomes[name]
                if not math.isclose(
                    delta, expected, rel_tol=DELTA_REL_TOLERANCE, abs_tol=DELTA_ABS_TOLERANCE
                ):
                    raise ValueError(
                        f"checkpoints[{i}].deltas[{name!r}] is {delta} but outcome minus "
                        f"step-0 value is {expected}"
                    )
        return value

    @field_validator("loss_curve")
    @classmethod
    def _loss_steps_increase(cls, value: tuple[LossPoint, ...]) -> tuple[LossPoint, ...]:
        for i in range(1, len(value)):
            if value[i].step <= value[i - 1].step:
                raise ValueError(
                    f"loss_curve[{i}].step {value[i].step} must be greater than "
                    f"loss_curve[{i - 1}].step {value[i - 1].step}"
                )
        return value

    @model_validator(mode="after")
    def _steps_within_recipe(self) -> RunRecord:
        last = self.checkpoints[-1]
        if last.step > self.recipe.steps:
            raise ValueError(
                f"checkpoints[{len(self.checkpoints) - 1}].step {last.step} exceeds "
                f"recipe.steps {self.recipe.steps}"
            )
        if self.loss_curve and self.loss_curve[-1].step > self.recipe.steps:
            raise ValueError(
                f"loss_curve[{len(self.loss_curve) - 1}].step {self.loss_curve[-1].step} "
                f"exceeds recipe.steps {self.recipe.steps}"
            )
        return self

    @property
    def final(self) -> Checkpoint:
        """The last checkpoint: what 'end of run' means for stats and tables."""
        return self.checkpoints[-1]

    def canonical_json(self) -> str:
        """Key-sorted compact JSON: equal records give equal text, so it can be hashed."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False
        )


def make_checkpoints(
    measurements: Sequence[tuple[int, Mapping[str, float]]], total_steps: int
) -> list[Checkpoint]:
    """Build checkpoints from (step, absolute outcomes) pairs, step 0 first.

    Saves producers from computing fractions and deltas by hand (and getting the
    baseline wrong): fraction is step / total_steps, delta is value minus step 0.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not measurements or measurements[0][0] != 0:
        raise ValueError("measurements must start with the step-0 (base model) measurement")
    base = measurements[0][1]
    checkpoints = []
    for step, outcomes in measurements:
        missing = sorted(set(base) - set(outcomes))
        if missing:
            raise ValueError(f"measurement at step {step} lacks outcomes {missing}")
        checkpoints.append(
            Checkpoint(
                step=step,
                fraction=step / total_steps,
                outcomes=dict(outcomes),
                deltas={name: outcomes[name] - base[name] for name in outcomes if name in base},
            )
        )
    return checkpoints
