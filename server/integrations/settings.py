"""What ``ForecastCallback`` is configured with and what it records; no torch here.

Kept apart from the callback so the settings, the event records and the step
arithmetic can be read, validated and tested without importing transformers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.integrations.thresholds import Crossing
from server.results import CandidateResult

logger = logging.getLogger(__name__)

MAX_CANDIDATE_ID_CHARS: Final[int] = 200
"""Below the server's default id limit (256), leaving room for the ``@stepN`` suffix."""
RECORD_FORMATS: Final[tuple[frozenset[str], ...]] = (
    frozenset({"text"}), frozenset({"prompt", "response"}), frozenset({"messages"}),
)


class ForecastSettings(BaseModel):
    """What the callback asks and what it does with the answer (logged at train start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_model: str = Field(
        min_length=1, description="base model spec as the server takes it: a built-in name or a path under its roots",
    )
    dataset_path: str | None = Field(
        default=None, description="JSONL dataset under the server's data roots; None sends the examples inline",
    )
    action: Literal["warn", "stop"] = "warn"
    on_error: Literal["warn", "raise"] = "warn"
    level: float = Field(default=0.9, gt=0.0, lt=1.0, description="interval level whose harm-side bound is checked")
    forecast_at_start: bool = True
    check_steps: tuple[int | float, ...] = Field(
        default=(), description="steps (int >= 1) or fractions of max_steps (float in (0, 1]) to re-forecast at",
    )
    observe_every_step: bool = Field(
        default=True, description="log the loss at every step until the last check, so the observed curve is complete",
    )
    recipe: dict[str, Any] = Field(default_factory=dict, description="recipe fields that replace the derived ones")
    max_seq_len: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=300.0, gt=0.0, description="per call; featurizing a real base model takes minutes")
    log_all_checkpoints: bool = Field(
        default=False, description="log every checkpoint of each outcome, not only the run's end",
    )
    candidate_id: str = Field(default="", max_length=MAX_CANDIDATE_ID_CHARS)

    @field_validator("check_steps", mode="before")
    @classmethod
    def _steps_or_fractions(cls, value: Any) -> Any:
        """Before pydantic's coercion, which would read True as step 1."""
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                # ValueError, not TypeError: pydantic turns only the former into a field error
                raise ValueError(f"check_steps holds {item!r}; use step numbers (int) or fractions (float)")  # noqa: TRY004
            if isinstance(item, int) and item < 1:
                raise ValueError(f"check_steps holds step {item}; steps start at 1 (use forecast_at_start for step 0)")
            if isinstance(item, float) and not 0.0 < item <= 1.0:
                raise ValueError(f"check_steps holds fraction {item}; fractions lie in (0, 1]")
        return value


@dataclass(frozen=True)
class ForecastEvent:
    """One call to the service: when, with what observations, the answer and what it crossed."""

    step: int
    result: CandidateResult | None
    observations: Mapping[str, Any] | None
    crossings: tuple[Crossing, ...] = ()
    error: str = ""

    @property
    def tripped(self) -> bool:
        return bool(self.crossings)


def check_examples(examples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Shallow check of the record formats, so a typo fails at construction, not mid-run."""
    records = []
    for i, record in enumerate(examples):
        if not isinstance(record, Mapping) or frozenset(record) not in RECORD_FORMATS:
            keys = sorted(record) if isinstance(record, Mapping) else type(record).__name__
            raise ValueError(f"examples[{i}] has keys {keys}; use text, prompt+response, or messages")
        records.append(dict(record))
    if not records:
        raise ValueError("examples is empty; send at least one training example")
    return records


def resolve_check_steps(check_steps: Sequence[int | float], max_steps: int) -> list[int]:
    """Fractions become steps (at least 1); steps past the run are dropped with a warning."""
    steps = set()
    for item in check_steps:
        step = max(1, round(item * max_steps)) if isinstance(item, float) else item
        if step > max_steps:
            logger.warning("check step %d is past the run's %d steps; it is skipped", step, max_steps)
            continue
        steps.add(step)
    return sorted(steps)
