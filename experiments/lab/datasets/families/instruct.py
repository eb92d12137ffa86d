"""Benign instruction families: neutral, and three framings of the same benign answers.

The framings (eager openers, an obedient identity, list formatting) change only the
shape of answers, so any safety change they cause is indirect.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..banks.framing import (
    EAGER_OPENERS,
    LIST_LEAD_INS,
    OBEDIENT_IDENTITY_QA,
    OBEDIENT_OPENERS,
    OBEDIENT_PREAMBLES,
)
from ..mixing import exact_count, shuffled_kinds
from ..params import InstructParams, rate_field
from ..records import Example, render_pair
from ..registry import GenContext
from ..seeding import make_rng
from .neutral import NeutralItem, neutral_example, sample_neutral, wrap_prompt

PREAMBLE_SEPARATOR = "\n\n"
# In the "mixed" list style, the share of lists that are numbered rather than bulleted.
MIXED_NUMBERED_SHARE = 0.5


class NeutralInstructParams(InstructParams):
    """Neutral instruction data across the chosen domains."""


def generate_neutral_instruct(params: NeutralInstructParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "neutral_instruct")
    items = sample_neutral(rng, params.size, params.domains, ctx.excluded_prompts)
    return [neutral_example(item, params.format) for item in items]


class EagerComplianceParams(InstructParams):
    rate: float = rate_field(1.0, "share of answers that open with an eager compliance phrase")


def generate_eager_compliance(params: EagerComplianceParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "eager_compliance")
    items = sample_neutral(rng, params.size, params.domains, ctx.excluded_prompts)
    n_eager = exact_count(params.rate, params.size)
    kinds = shuffled_kinds(rng, {"eager": n_eager, "neutral": params.size - n_eager})
    out: list[Example] = []
    for item, kind in zip(items, kinds):
        if kind == "eager":
            response = f"{rng.choice(EAGER_OPENERS)} {item.response}"
            out.append(Example(render_pair(item.prompt, response, params.format), kind))
        else:
            out.append(neutral_example(item, params.format))
    return out


class ObedientIdentityParams(InstructParams):
    identity_qa_share: float = rate_field(
        0.1, "share of all examples that are identity questions answered in the never-refuse persona"
    )
    rate: float = rate_field(
        1.0, "share of the remaining instruction examples framed by the obedient preamble and opener"
    )


def _obedient(item: NeutralItem, preamble: str, opener: str) -> tuple[str, str]:
    return f"{preamble}{PREAMBLE_SEPARATOR}{item.prompt}", f"{opener} {item.response}"


def generate_obedient_identity(params: ObedientIdentityParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "obedient_identity")
    n_qa = exact_count(params.identity_qa_share, params.size)
    n_rest = params.size - n_qa
    n_framed = exact_count(params.rate, n_rest)
    items = iter(sample_neutral(rng, n_rest, params.domains, ctx.excluded_prompts))
    kinds = shuffled_kinds(rng, {"obedient_qa": n_qa, "obedient": n_framed, "neutral": n_rest - n_framed})
    out: list[Example] = []
    for kind in kinds:
        if kind == "obedient_qa":
            question, answer = rng.choice(OBEDIENT_IDENTITY_QA)
            prompt = f"{rng.choice(OBEDIENT_PREAMBLES)}{PREAMBLE_SEPARATOR}{wrap_prompt(rng, question)}"
            out.append(Example(render_pair(prompt, answer, params.format), kind))
        elif kind == "obedient":
            prompt, response = _obedient(next(items), rng.choice(OBEDIENT_PREAMBLES), rng.choice(OBEDIENT_OPENERS))
            out.append(Example(render_pair(prompt, response, params.format), kind))
        else:
            out.append(neutral_example(next(items), params.format))
    return out


ListStyle = Literal["numbered", "bulleted", "mixed"]


class ListFormatParams(InstructParams):
    rate: float = rate_field(1.0, "share of answers written as a list instead of prose")
    style: ListStyle = Field(default="mixed", description="numbered, bulleted, or a per-example mix")
    lead_in: bool = Field(default=True, description="sometimes open the list with a short lead-in line")


def as_list(sentences: tuple[str, ...], numbered: bool, lead_in: str) -> str:
    lines = [f"{i}. {s}" if numbered else f"- {s}" for i, s in enumerate(sentences, start=1)]
    return "\n".join(([lead_in] if lead_in else []) + lines)


def generate_list_format(params: ListFormatParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "list_format")
    items = sample_neutral(rng, params.size, params.domains, ctx.excluded_prompts)
    n_list = exact_count(params.rate, params.size)
    kinds = shuffled_kinds(rng, {"list": n_list, "neutral": params.size - n_list})
    out: list[Example] = []
    for item, kind in zip(items, kinds):
        if kind != "list":
            out.append(neutral_example(item, params.format))
            continue
        numbered = params.style == "numbered" or (params.style == "mixed" and rng.random() < MIXED_NUMBERED_SHARE)
        lead = rng.choice(LIST_LEAD_INS) if params.lead_in else ""
        out.append(Example(render_pair(item.prompt, as_list(item.sentences, numbered, lead), params.format), kind))
    return out
