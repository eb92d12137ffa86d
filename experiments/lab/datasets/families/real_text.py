"""domain_shift: pure real text from one source, packed into passages of bounded length."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field, model_validator

from ..passages import pack_paragraphs, sample_passages
from ..params import FamilyParams
from ..records import Example, render_text
from ..registry import GenContext
from ..seeding import make_rng
from ..sources import TextSource

DomainSource = Literal["linuxdoc", "bible", "shakespeare", "fortunes"]
MIN_MAX_CHARS = 100
MAX_MAX_CHARS = 8_000


class PassageKnobs(FamilyParams):
    """Passage length knobs shared by the real-text families."""

    max_chars: int = Field(default=800, ge=MIN_MAX_CHARS, le=MAX_MAX_CHARS,
                           description="longest passage in characters (paragraphs are packed up to it)")
    min_chars: int = Field(default=80, ge=1, description="shorter passages are dropped")
    allow_repeats: bool = Field(default=True, description="repeat passages when the source is too small for size")

    @model_validator(mode="after")
    def _bounds(self) -> "PassageKnobs":
        if self.min_chars > self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) must not exceed max_chars ({self.max_chars})")
        return self


class DomainShiftParams(PassageKnobs):
    source: DomainSource = Field(default="linuxdoc", description="which real text to fine-tune on")
    format: Literal["text"] = Field(default="text", description="plain text records only")


def source_passages(
    source: TextSource, name: str, n: int, rng: random.Random, knobs: PassageKnobs
) -> list[str]:
    """n passages of source `name`, packed and sampled as `knobs` say."""
    packed = pack_paragraphs(source.paragraphs(name), knobs.max_chars, knobs.min_chars)
    return sample_passages(packed, n, rng, allow_repeats=knobs.allow_repeats, label=f"source {name!r}")


def generate_domain_shift(params: DomainShiftParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "domain_shift", params.source)
    passages = source_passages(ctx.source, params.source, params.size, rng, params)
    return [Example(render_text(p), "domain") for p in passages]
