"""Names the harness and the corpus sampler share, kept free of torch imports."""

from __future__ import annotations

from typing import Final, Literal

LR_SCHEDULES: Final[tuple[str, ...]] = ("cosine", "linear", "constant")
LrSchedule = Literal["cosine", "linear", "constant"]
SUPPORTED_OPTIMIZERS: Final[tuple[str, ...]] = ("adamw",)
DEFAULT_LORA_TARGETS: Final[tuple[str, ...]] = ("q_proj", "k_proj", "v_proj", "o_proj")
"""Attention projections of Llama-family models (SmolLM2, the lab model, tiny)."""

NON_OUTCOME_PREFIXES: Final[tuple[str, ...]] = ("n_items.", "n_tokens.", "seconds.")
"""Keys evaluate_model returns that are counts or timings, not outcomes."""
