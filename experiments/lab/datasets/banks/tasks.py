"""A templated instruction task: several phrasings of one request and one sensible answer.

Slots hold either plain strings or mappings that fill several coupled fields at once
(e.g. a vegetable and its roasting time), so answers stay consistent with prompts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

SlotValue = str | Mapping[str, str]


@dataclass(frozen=True)
class Task:
    key: str
    domain: str
    prompts: tuple[str, ...]
    answer: tuple[str, ...]
    slots: Mapping[str, tuple[SlotValue, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FilledTask:
    """A task with slots filled: one prompt and the answer as a list of sentences."""

    key: str
    domain: str
    prompt: str
    sentences: tuple[str, ...]


def draw_fields(rng: random.Random, slots: Mapping[str, tuple[SlotValue, ...]]) -> dict[str, str]:
    """One value per slot, in sorted slot order so the draw sequence is stable."""
    fields: dict[str, str] = {}
    for name in sorted(slots):
        value = rng.choice(slots[name])
        if isinstance(value, Mapping):
            fields.update(value)
        else:
            fields[name] = value
    return fields


def fill_task(task: Task, rng: random.Random) -> FilledTask:
    fields = draw_fields(rng, task.slots)
    try:
        prompt = rng.choice(task.prompts).format_map(fields)
        sentences = tuple(s.format_map(fields) for s in task.answer)
    except KeyError as err:
        raise ValueError(f"task {task.key!r}: template uses slot {err} that has no values") from err
    return FilledTask(task.key, task.domain, prompt, sentences)


def join_prose(sentences: tuple[str, ...]) -> str:
    return " ".join(sentences)
