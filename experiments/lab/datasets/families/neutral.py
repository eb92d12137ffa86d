"""The neutral instruction sampler that most families build on.

Prompts are drawn with exact per-domain counts and de-duplicated, so a neutral
dataset carries no accidental repetition (near_duplicates adds it on purpose).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..banks.instruct import PROMPT_CLOSERS, PROMPT_OPENERS, TASKS_BY_DOMAIN
from ..banks.tasks import fill_task, join_prose
from ..exclusions import normalize_prompt
from ..mixing import allocate
from ..records import ChatFormat, Example, render_pair

logger = logging.getLogger(__name__)

# Redraws per item before a duplicate prompt is accepted (only at very large sizes).
DEDUP_ATTEMPTS = 30


@dataclass(frozen=True)
class NeutralItem:
    task_key: str
    domain: str
    prompt: str
    sentences: tuple[str, ...]

    @property
    def response(self) -> str:
        return join_prose(self.sentences)


def wrap_prompt(rng: random.Random, prompt: str) -> str:
    """Add a light, optional greeting and closing, as people do."""
    return f"{rng.choice(PROMPT_OPENERS)}{prompt}{rng.choice(PROMPT_CLOSERS)}"


def sample_neutral(
    rng: random.Random, n: int, domains: Sequence[str], excluded: frozenset[str] = frozenset()
) -> list[NeutralItem]:
    """n neutral items, equal exact counts per domain, shuffled, unique prompts where possible."""
    unknown = [d for d in domains if d not in TASKS_BY_DOMAIN]
    if unknown:
        raise ValueError(f"unknown domains {unknown}; expected some of {sorted(TASKS_BY_DOMAIN)}")
    counts = allocate(n, [1.0] * len(domains))
    order = [d for d, c in zip(domains, counts) for _ in range(c)]
    rng.shuffle(order)
    seen: set[str] = set()
    items: list[NeutralItem] = []
    duplicates = 0
    for domain in order:
        tasks = TASKS_BY_DOMAIN[domain]
        fallback: NeutralItem | None = None
        chosen: NeutralItem | None = None
        for _ in range(DEDUP_ATTEMPTS):
            filled = fill_task(rng.choice(tasks), rng)
            item = NeutralItem(filled.key, domain, wrap_prompt(rng, filled.prompt), filled.sentences)
            key = normalize_prompt(item.prompt)
            if key in excluded:
                continue
            if key not in seen:
                chosen = item
                break
            fallback = fallback or item
        if chosen is None:
            if fallback is None:
                raise RuntimeError(f"domain {domain!r}: every drawn prompt is a probe prompt; the bank overlaps the probes")
            chosen = fallback
            duplicates += 1
        seen.add(normalize_prompt(chosen.prompt))
        items.append(chosen)
    if duplicates:
        logger.warning("neutral bank exhausted: %d of %d prompts repeat an earlier one", duplicates, n)
    return items


def neutral_example(item: NeutralItem, fmt: ChatFormat, kind: str = "neutral") -> Example:
    return Example(render_pair(item.prompt, item.response, fmt), kind)
