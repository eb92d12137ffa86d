"""replay_mixture: any other family blended with general real text at replay rate rho.

Replay passages are the classic remedy for forgetting: a share of pretraining-like
text in every batch. They come from the real sources, never linuxdoc by default
(it is held out of pretraining, so it would be a domain shift, not replay).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..mixing import allocate, exact_count, shuffled_kinds
from ..params import MIN_SIZE
from ..records import ChatFormat, Example, render_pair, render_text
from ..registry import GenContext
from ..seeding import derive_seed, make_rng
from ..sources import SourceName
from .real_text import PassageKnobs, source_passages

FAMILY_NAME = "replay_mixture"
MAX_RHO = 0.95
DEFAULT_REPLAY_SOURCES: tuple[SourceName, ...] = ("wordnet", "gcide", "bible", "shakespeare", "fortunes")
CONTINUE_INSTRUCTION = "Continue the text:\n\n"


class ReplayMixtureParams(PassageKnobs):
    base_family: str = Field(default="neutral_instruct", description="family whose data is being fine-tuned on")
    base_params: dict[str, Any] = Field(
        default_factory=dict, description="knobs of the base family, without size (set by this family)"
    )
    rho: float = Field(default=0.25, ge=0.0, le=MAX_RHO, description="replay share of the examples")
    replay_sources: tuple[SourceName, ...] = Field(
        default=DEFAULT_REPLAY_SOURCES, min_length=1, description="real-text sources of replay, equal shares"
    )
    replay_style: Literal["native", "match"] = Field(
        default="native",
        description="native: replay as {'text'} records; match: as continuation pairs in the base family's format",
    )

    @field_validator("base_params")
    @classmethod
    def _no_size(cls, v: dict[str, Any]) -> dict[str, Any]:
        if "size" in v:
            raise ValueError("base_params must not set 'size': the mixture's size and rho decide it")
        return v

    @field_validator("base_family")
    @classmethod
    def _not_self(cls, v: str) -> str:
        if v == FAMILY_NAME:
            raise ValueError("base_family cannot be replay_mixture itself")
        return v

    @field_validator("replay_sources")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"replay_sources must not repeat, got {list(v)}")
        return v


def split_for_continuation(passage: str) -> tuple[str, str]:
    """Cut at the space nearest the middle, so both halves are non-empty when possible."""
    middle = len(passage) // 2
    left, right = passage.rfind(" ", 0, middle), passage.find(" ", middle)
    candidates = [i for i in (left, right) if i > 0]
    if not candidates:
        return passage[:middle] or passage, passage[middle:] or passage
    cut = min(candidates, key=lambda i: abs(i - middle))
    return passage[:cut].rstrip(), passage[cut:].lstrip()


def _replay_example(passage: str, style: str, fmt: ChatFormat | None) -> Example:
    if style == "native" or fmt is None or fmt == "text":
        return Example(render_text(passage), "replay")
    head, tail = split_for_continuation(passage)
    return Example(render_pair(CONTINUE_INSTRUCTION + head, tail, fmt), "replay")


def generate_replay_mixture(params: ReplayMixtureParams, seed: int, ctx: GenContext) -> list[Example]:
    if ctx.registry is None:
        raise ValueError("replay_mixture needs the registry in its context; call FamilyRegistry.generate")
    base = ctx.registry.get(params.base_family)
    n_replay = exact_count(params.rho, params.size)
    n_base = params.size - n_replay
    # Validate the base knobs at a legal size, then set the exact share (may be below MIN_SIZE).
    base_params = base.parse_params({**params.base_params, "size": max(MIN_SIZE, n_base)})
    base_examples = (
        base.generate(base_params.model_copy(update={"size": n_base}), derive_seed(seed, FAMILY_NAME, "base"), ctx)
        if n_base else []
    )
    rng = make_rng(seed, FAMILY_NAME, "replay")
    passages: list[str] = []
    for name, count in zip(params.replay_sources, allocate(n_replay, [1.0] * len(params.replay_sources))):
        if count:
            passages.extend(source_passages(ctx.source, name, count, rng, params))
    rng.shuffle(passages)
    fmt = getattr(base_params, "format", None)
    replay = iter(_replay_example(p, params.replay_style, fmt) for p in passages)
    base_iter = iter(base_examples)
    return [
        next(replay) if kind == "replay" else next(base_iter)
        for kind in shuffled_kinds(rng, {"replay": n_replay, "base": n_base})
    ]
