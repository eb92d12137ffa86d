"""Building `Recipe`s (the surrogate's schema) with sane defaults, from steps or from epochs."""

from __future__ import annotations

import math
from typing import Any, Literal

from experiments.harness.names import DEFAULT_LORA_TARGETS
from surrogate.runs import Recipe

DEFAULT_LORA_ALPHA_PER_RANK = 2.0
DEFAULT_LORA_DROPOUT = 0.05
DEFAULT_MAX_SEQ_LEN = 128
DEFAULT_OPTIMIZER = "adamw"
DEFAULT_SCHEDULE = "cosine"


def steps_for_epochs(epochs: float, n_train: int, batch_size: int) -> int:
    """Optimizer steps that make `epochs` passes over `n_train` examples (rounded up, at least 1)."""
    if epochs <= 0 or n_train < 1 or batch_size < 1:
        raise ValueError(f"epochs ({epochs}), n_train ({n_train}) and batch_size ({batch_size}) must be positive")
    return max(1, math.ceil(epochs * n_train / batch_size))


def make_recipe(
    method: Literal["full", "lora"],
    learning_rate: float,
    *,
    steps: int | None = None,
    epochs: float | None = None,
    n_train: int | None = None,
    batch_size: int = 16,
    lora_rank: int | None = None,
    lora_alpha: float | None = None,
    lora_dropout: float | None = None,
    target_modules: tuple[str, ...] | None = None,
    lr_schedule: str = DEFAULT_SCHEDULE,
    warmup_steps: int = 0,
    max_seq_len: int = DEFAULT_MAX_SEQ_LEN,
    seed: int = 0,
    optimizer: str = DEFAULT_OPTIMIZER,
) -> Recipe:
    """A Recipe from either `steps` or `epochs` (+ n_train); LoRA fields default from the rank.

    With `steps`, the recorded epochs are provisional (the harness records the passes
    actually made once the held-out slice is known); n_train makes them exact.
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps or epochs")
    if epochs is not None and n_train is None:
        raise ValueError("epochs needs n_train (the training examples after the held-out slice)")
    if epochs is not None and n_train is not None:
        steps = steps_for_epochs(epochs, n_train, batch_size)
    if steps is None:
        raise ValueError("give exactly one of steps or epochs")
    fields: dict[str, Any] = dict(
        method=method, learning_rate=learning_rate, lr_schedule=lr_schedule, warmup_steps=warmup_steps,
        batch_size=batch_size, steps=steps, epochs=steps * batch_size / (n_train or batch_size),
        max_seq_len=max_seq_len, seed=seed, optimizer=optimizer,
    )
    if method == "lora":
        rank = lora_rank or 8
        fields.update(
            lora_rank=rank,
            lora_alpha=lora_alpha if lora_alpha is not None else DEFAULT_LORA_ALPHA_PER_RANK * rank,
            lora_dropout=lora_dropout if lora_dropout is not None else DEFAULT_LORA_DROPOUT,
            target_modules=tuple(target_modules or DEFAULT_LORA_TARGETS),
        )
    return Recipe(**fields)
