"""Shared pydantic knobs of the families: size bounds, formats, rates, instruction domains."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .records import ChatFormat

MIN_SIZE = 50
MAX_SIZE = 20_000
DEFAULT_SIZE = 1_000

Domain = Literal["customer_support", "medicine", "law", "finance", "cooking", "travel"]
ALL_DOMAINS: tuple[Domain, ...] = get_args(Domain)


class FamilyParams(BaseModel):
    """Knobs every family has. Frozen and strict, so a typo in a knob is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(default=DEFAULT_SIZE, ge=MIN_SIZE, le=MAX_SIZE, description="number of examples")


class InstructParams(FamilyParams):
    """Knobs of families built on the neutral instruction bank."""

    format: ChatFormat = Field(default="prompt_response", description="record format written to JSONL")
    domains: tuple[Domain, ...] = Field(
        default=ALL_DOMAINS, min_length=1, description="instruction domains drawn from, equally weighted"
    )

    @field_validator("domains")
    @classmethod
    def _unique_domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"domains must not repeat, got {list(v)}")
        return v


def rate_field(default: float, description: str) -> Any:
    """A share in [0, 1]; the family turns it into an exact count of examples."""
    return Field(default=default, ge=0.0, le=1.0, description=description)
