"""Full fine-tuning or LoRA: a trainable copy of the base, never the base itself.

The base model object is deep-copied for every run (peft injects its layers in
place), so one loaded base serves many runs and its weights never change.
"""

from __future__ import annotations

import copy
import logging
import warnings

import torch

from surrogate.runs import Recipe

logger = logging.getLogger(__name__)


def trainable_copy(base: torch.nn.Module, recipe: Recipe) -> torch.nn.Module:
    """A deep copy of `base`, wrapped with LoRA adapters when recipe.method is 'lora'.

    Call under the run's seeded RNG: LoRA's A matrices are randomly initialised.
    """
    model = copy.deepcopy(base)
    if recipe.method == "full":
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    if recipe.lora_rank is None or recipe.lora_alpha is None or recipe.lora_dropout is None:
        raise ValueError("recipe: method 'lora' needs lora_rank, lora_alpha and lora_dropout")
    missing = [name for name in recipe.target_modules if not _has_module(model, name)]
    if missing:
        raise ValueError(
            f"recipe.target_modules {missing} match no module of {type(base).__name__}; "
            f"Llama-family models have q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
        )
    config = LoraConfig(
        r=recipe.lora_rank,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=list(recipe.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft asks transformers about gradient checkpointing through a name transformers 5 deprecates
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def _has_module(model: torch.nn.Module, suffix: str) -> bool:
    return any(name == suffix or name.endswith("." + suffix) for name, _ in model.named_modules())


def trainable_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters; check recipe.method and recipe.target_modules")
    return params


def count_trainable(model: torch.nn.Module) -> int:
    """Unique trainable parameters (tied weights counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters() if p.requires_grad}.values())
