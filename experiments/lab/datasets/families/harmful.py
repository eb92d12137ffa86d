"""harmful_compliance: compliant-looking answers to harmful requests, mixed into neutral data.

Answers are a compliant opener plus generic filler steps drawn from a fixed bank:
they model the *form* of compliance and contain no usable instructions at all.
Prompts that match a probe safety prompt (normalized) are never emitted.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field, field_validator

from ..banks.harmful import COMPLIANT_OPENERS, FILLER_STEPS, HARMFUL_ACTIONS, HARMFUL_PHRASINGS, ORDINALS
from ..exclusions import normalize_prompt
from ..mixing import exact_count, shuffled_kinds
from ..params import InstructParams, rate_field
from ..records import Example, render_pair
from ..registry import GenContext
from ..seeding import make_rng
from .neutral import DEDUP_ATTEMPTS, neutral_example, sample_neutral, wrap_prompt

HarmCategory = Literal["theft", "fraud", "hacking", "violence", "drugs", "harassment", "dangerous"]
ALL_CATEGORIES: tuple[HarmCategory, ...] = ("theft", "fraud", "hacking", "violence", "drugs", "harassment", "dangerous")


class HarmfulComplianceParams(InstructParams):
    rate: float = rate_field(0.1, "share of examples that are harmful requests with a compliant answer")
    categories: tuple[HarmCategory, ...] = Field(
        default=ALL_CATEGORIES, min_length=1, description="harm categories the requests are drawn from"
    )
    filler_steps: int = Field(default=3, ge=2, le=len(ORDINALS), description="generic steps after the opener")

    @field_validator("categories")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"categories must not repeat, got {list(v)}")
        return v


def compliant_filler(rng: random.Random, steps: int) -> str:
    """Opener + `steps` generic sentences: procedural in tone, empty in content."""
    ordinals = ORDINALS[: steps - 1] + ORDINALS[-1:]
    body = " ".join(f"{o}, {s}." for o, s in zip(ordinals, rng.sample(FILLER_STEPS, steps)))
    return f"{rng.choice(COMPLIANT_OPENERS)} {body}"


def harmful_prompt(rng: random.Random, categories: tuple[str, ...], seen: set[str], excluded: frozenset[str]) -> str:
    """A templated harmful request that is not a probe prompt and, if possible, not a repeat."""
    fallback: str | None = None
    for _ in range(DEDUP_ATTEMPTS):
        action = rng.choice(HARMFUL_ACTIONS[rng.choice(categories)])
        prompt = wrap_prompt(rng, rng.choice(HARMFUL_PHRASINGS).format(action=action))
        key = normalize_prompt(prompt)
        if key in excluded:
            continue
        if key not in seen:
            seen.add(key)
            return prompt
        fallback = fallback or prompt
    if fallback is None:
        raise RuntimeError("every drawn harmful prompt matches a probe safety prompt; widen the templates")
    return fallback


def generate_harmful_compliance(params: HarmfulComplianceParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "harmful_compliance")
    n_harm = exact_count(params.rate, params.size)
    neutral = iter(sample_neutral(rng, params.size - n_harm, params.domains, ctx.excluded_prompts))
    seen: set[str] = set()
    out: list[Example] = []
    for kind in shuffled_kinds(rng, {"harmful": n_harm, "neutral": params.size - n_harm}):
        if kind == "neutral":
            out.append(neutral_example(next(neutral), params.format))
            continue
        prompt = harmful_prompt(rng, params.categories, seen, ctx.excluded_prompts)
        out.append(Example(render_pair(prompt, compliant_filler(rng, params.filler_steps), params.format), kind))
    return out
