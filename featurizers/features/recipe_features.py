"""Recipe features: the optimizer run as numbers, plus what it implies for this model and data.

Trainable parameter counts are computed from the model's modules (LoRA analytically:
rank x (rows + cols) per targeted matrix), so no adapter has to be built to count them.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from surrogate.runs import Recipe

KNOWN_SCHEDULES = ("cosine", "linear", "constant")
DECAY_MEAN_MULTIPLIER = {"cosine": 0.5, "linear": 0.5, "constant": 1.0}
"""Mean of the lr multiplier over the decay phase (from 1 to 0); unknown schedules count as constant."""
WARMUP_MEAN_MULTIPLIER = 0.5
"""Linear warm-up from 0 to the peak averages half the peak."""

RECIPE_FEATURES: tuple[str, ...] = (
    "recipe.method_full", "recipe.method_lora", "recipe.lora_rank", "recipe.lora_alpha", "recipe.lora_scale",
    "recipe.lora_dropout", "recipe.n_target_modules",
    "recipe.learning_rate", "recipe.log10_lr", "recipe.steps", "recipe.log10_steps", "recipe.batch_size",
    "recipe.epochs", "recipe.warmup_steps", "recipe.warmup_share",
    *(f"recipe.schedule_{name}" for name in KNOWN_SCHEDULES), "recipe.schedule_other",
    "recipe.lr_x_steps", "recipe.log10_lr_x_steps", "recipe.lr_area",
    "recipe.max_seq_len", "recipe.examples_seen", "recipe.tokens_seen", "recipe.log10_tokens_seen",
    "recipe.trainable_params", "recipe.log10_trainable_params", "recipe.trainable_share",
)


def _matches(name: str, target: str) -> bool:
    return name == target or name.endswith("." + target)


def unique_parameter_count(model: torch.nn.Module) -> int:
    """All parameters, tied weights counted once."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def trainable_parameter_count(model: torch.nn.Module, recipe: Recipe) -> int:
    """Parameters the recipe trains: all of them for 'full', the adapter matrices for 'lora'."""
    if recipe.method == "full":
        return unique_parameter_count(model)
    if recipe.lora_rank is None:
        raise ValueError("recipe.lora_rank is required when method is 'lora'")
    total = 0
    matched: set[str] = set()
    for name, module in model.named_modules():
        hits = [t for t in recipe.target_modules if _matches(name, t)]
        weight = getattr(module, "weight", None)
        if not hits or not isinstance(weight, torch.Tensor) or weight.dim() != 2:
            continue
        matched.update(hits)
        rows, cols = weight.shape
        total += recipe.lora_rank * (rows + cols)
    missing = [t for t in recipe.target_modules if t not in matched]
    if missing:
        raise ValueError(
            f"recipe.target_modules {missing} match no 2-D weight of {type(model).__name__}; "
            "Llama-family models have q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
        )
    return total


def lr_area(recipe: Recipe) -> float:
    """Sum of the scheduled learning rate over all steps: how far the optimizer can walk."""
    warmup = min(recipe.warmup_steps, recipe.steps)
    decay = recipe.steps - warmup
    multiplier = DECAY_MEAN_MULTIPLIER.get(recipe.lr_schedule, DECAY_MEAN_MULTIPLIER["constant"])
    return recipe.learning_rate * (WARMUP_MEAN_MULTIPLIER * warmup + multiplier * decay)


def recipe_features(recipe: Recipe, model: torch.nn.Module, token_lengths: np.ndarray) -> dict[str, float]:
    """Named recipe features; `token_lengths` are untruncated example lengths (a sample is fine)."""
    if token_lengths.size == 0:
        raise ValueError("recipe features need the token lengths of at least one example")
    lora = recipe.method == "lora"
    rank = float(recipe.lora_rank or 0)
    alpha = float(recipe.lora_alpha or 0.0)
    trainable = trainable_parameter_count(model, recipe)
    total = unique_parameter_count(model)
    fed = float(np.minimum(token_lengths, recipe.max_seq_len).mean())
    examples_seen = recipe.steps * recipe.batch_size
    tokens_seen = examples_seen * fed
    values = {
        "recipe.method_full": float(not lora),
        "recipe.method_lora": float(lora),
        "recipe.lora_rank": rank,
        "recipe.lora_alpha": alpha,
        "recipe.lora_scale": alpha / rank if rank else 0.0,
        "recipe.lora_dropout": float(recipe.lora_dropout or 0.0),
        "recipe.n_target_modules": float(len(recipe.target_modules)) if lora else 0.0,
        "recipe.learning_rate": recipe.learning_rate,
        "recipe.log10_lr": math.log10(recipe.learning_rate),
        "recipe.steps": float(recipe.steps),
        "recipe.log10_steps": math.log10(recipe.steps),
        "recipe.batch_size": float(recipe.batch_size),
        "recipe.epochs": recipe.epochs,
        "recipe.warmup_steps": float(recipe.warmup_steps),
        "recipe.warmup_share": min(recipe.warmup_steps / recipe.steps, 1.0),
        **{f"recipe.schedule_{name}": float(recipe.lr_schedule == name) for name in KNOWN_SCHEDULES},
        "recipe.schedule_other": float(recipe.lr_schedule not in KNOWN_SCHEDULES),
        "recipe.lr_x_steps": recipe.learning_rate * recipe.steps,
        "recipe.log10_lr_x_steps": math.log10(recipe.learning_rate * recipe.steps),
        "recipe.lr_area": lr_area(recipe),
        "recipe.max_seq_len": float(recipe.max_seq_len),
        "recipe.examples_seen": float(examples_seen),
        "recipe.tokens_seen": tokens_seen,
        "recipe.log10_tokens_seen": math.log10(max(tokens_seen, 1.0)),
        "recipe.trainable_params": float(trainable),
        "recipe.log10_trainable_params": math.log10(max(trainable, 1)),
        "recipe.trainable_share": trainable / total,
    }
    return {name: values[name] for name in RECIPE_FEATURES}
