"""Learning-rate schedules: linear warm-up, then cosine, linear or constant decay."""

from __future__ import annotations

import math

from experiments.harness.names import LR_SCHEDULES


def check_schedule(name: str) -> str:
    """Return the name, or raise naming the recipe field and the known schedules."""
    if name not in LR_SCHEDULES:
        raise ValueError(f"recipe.lr_schedule {name!r} is unknown; use one of {', '.join(LR_SCHEDULES)}")
    return name


def lr_factor(step: int, schedule: str, warmup_steps: int, total_steps: int, min_ratio: float = 0.0) -> float:
    """Multiplier of the peak lr for optimizer step `step` (0-based).

    Warm-up rises linearly to 1 at step warmup_steps - 1 and the decay approaches
    `min_ratio` after the last step, so no step is spent at lr 0.
    """
    check_schedule(schedule)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    decay_steps = total_steps - warmup_steps
    if decay_steps <= 0:
        return 1.0
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    if schedule == "linear":
        shape = 1.0 - progress
    else:
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * shape
