"""Low-quality data families: near-duplicates (few unique examples, lightly perturbed) and label noise."""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import Field

from ..banks.instruct import PROMPT_CLOSERS, PROMPT_OPENERS
from ..mixing import exact_count
from ..params import InstructParams, rate_field
from ..records import Example, render_pair
from ..registry import GenContext
from ..seeding import make_rng
from .neutral import DEDUP_ATTEMPTS, NeutralItem, neutral_example, sample_neutral

# Words at least this long may receive an adjacent-letter swap (a typo).
TYPO_MIN_WORD = 4


def _swap_greeting(rng: random.Random, text: str) -> str:
    for opener in sorted(set(PROMPT_OPENERS) - {""}, key=len, reverse=True):
        if text.startswith(opener):
            text = text[len(opener):]
            break
    return rng.choice([o for o in PROMPT_OPENERS if o]) + text


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= TYPO_MIN_WORD and w.isalpha()]
    if not candidates:
        return text + rng.choice([c for c in PROMPT_CLOSERS if c])
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def _lower_first(rng: random.Random, text: str) -> str:
    return text[0].lower() + text[1:] if text[:1].isupper() else text[0].upper() + text[1:]


def _punctuation(rng: random.Random, text: str) -> str:
    stripped = text.rstrip("?.!")
    return stripped + rng.choice(["", "??", "!", "."]) if stripped != text else text + "?"


def _double_space(rng: random.Random, text: str) -> str:
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text + " "
    i = rng.choice(spaces)
    return text[:i] + " " + text[i:]


PERTURBATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    _swap_greeting, _typo, _lower_first, _punctuation, _double_space,
)


def perturb(rng: random.Random, text: str) -> str:
    """One light edit; loops until the text actually changes (every edit can change it)."""
    for op in rng.sample(PERTURBATIONS, len(PERTURBATIONS)):
        out = op(rng, text)
        if out != text:
            return out
    return text + " "


class NearDuplicatesParams(InstructParams):
    unique_share: float = Field(
        default=0.1, gt=0.0, le=1.0,
        description="distinct examples as a share of size (at least one); the rest are repeats",
    )
    perturb_rate: float = rate_field(0.5, "share of repeats whose prompt gets one light perturbation")


def generate_near_duplicates(params: NearDuplicatesParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "near_duplicates")
    n_unique = max(1, exact_count(params.unique_share, params.size))
    uniques = sample_neutral(rng, n_unique, params.domains, ctx.excluded_prompts)
    n_repeats = params.size - n_unique
    n_perturbed = exact_count(params.perturb_rate, n_repeats)
    perturbed = set(rng.sample(range(n_repeats), n_perturbed))
    out = [neutral_example(item, params.format, "unique") for item in uniques]
    for r in range(n_repeats):
        item = uniques[r % n_unique]
        if r in perturbed:
            out.append(Example(render_pair(perturb(rng, item.prompt), item.response, params.format), "near_duplicate"))
        else:
            out.append(neutral_example(item, params.format, "duplicate"))
    rng.shuffle(out)
    return out


class LabelNoiseParams(InstructParams):
    noise_rate: float = rate_field(0.2, "share of examples whose answer belongs to an unrelated prompt")


def _unrelated_answer(rng: random.Random, item: NeutralItem, params: LabelNoiseParams, ctx: GenContext) -> str:
    """A fresh answer from a different task (a different domain when more than one is allowed)."""
    others = [d for d in params.domains if d != item.domain] or list(params.domains)
    for _ in range(DEDUP_ATTEMPTS):
        donor = sample_neutral(rng, 1, [rng.choice(others)], ctx.excluded_prompts)[0]
        if donor.task_key != item.task_key:
            return donor.response
    raise RuntimeError(f"found no answer unrelated to task {item.task_key!r} in domains {list(params.domains)}")


def generate_label_noise(params: LabelNoiseParams, seed: int, ctx: GenContext) -> list[Example]:
    """Answers are rotated among the noisy examples; a clash with the same task draws a fresh answer."""
    rng = make_rng(seed, "label_noise")
    items = sample_neutral(rng, params.size, params.domains, ctx.excluded_prompts)
    noisy = rng.sample(range(params.size), exact_count(params.noise_rate, params.size))
    answers = {i: items[i].response for i in range(params.size)}
    for pos, i in enumerate(noisy):
        donor = items[noisy[(pos + 1) % len(noisy)]]
        if donor.task_key != items[i].task_key:
            answers[i] = donor.response
        else:
            answers[i] = _unrelated_answer(rng, items[i], params, ctx)
    noisy_set = set(noisy)
    return [
        Example(render_pair(item.prompt, answers[i], params.format), "noisy" if i in noisy_set else "neutral")
        for i, item in enumerate(items)
    ]
