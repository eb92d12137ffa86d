"""The parameters a recipe would train, on a private copy of the base model.

LoRA: the adapter is built with the recipe's rank, alpha and targets, A initialised from
a derived seed. peft initialises B to zero, so at step 0 every gradient w.r.t. A is
exactly zero and the first updates move B alone: the sketches cover the B matrices,
whose gradient is (alpha/r) * dL/dW * A^T. Full fine-tuning: every parameter, or (by
default, to bound cost) the last blocks plus the final norm and optionally the head.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from featurizers.features.config import FeaturizerConfig
from featurizers.features.seeding import derive_torch_seed
from surrogate.runs import Recipe

logger = logging.getLogger(__name__)

LORA_SKETCHED_MARKER = "lora_B"
_BLOCK_INDEX = re.compile(r"(?:^|\.)layers\.(\d+)\.")


@dataclass
class ParamSpace:
    """A gradient-ready model copy and the ordered parameters the sketches cover."""

    model: torch.nn.Module
    names: tuple[str, ...]
    key: dict[str, Any]
    _params: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self._params.values())

    def params(self) -> dict[str, torch.Tensor]:
        """Detached sketched parameters, in `names` order: the inputs of torch.func transforms."""
        return dict(self._params)

    def flatten(self, grads: dict[str, torch.Tensor], batched: bool) -> torch.Tensor:
        """Concatenate per-parameter gradients into [batch, D] (or [D]) in `names` order."""
        if batched:
            return torch.cat([grads[name].reshape(grads[name].shape[0], -1) for name in self.names], dim=1)
        return torch.cat([grads[name].reshape(-1) for name in self.names])


def param_space_key(recipe: Recipe, config: FeaturizerConfig) -> dict[str, Any]:
    """The recipe and config fields that decide which parameters are sketched and their values."""
    if recipe.method == "lora":
        return {"method": "lora", "lora_rank": recipe.lora_rank, "lora_alpha": recipe.lora_alpha,
                "target_modules": sorted(recipe.target_modules), "seed": config.seed}
    return {"method": "full", "last_blocks": config.gradients.full_last_blocks,
            "lm_head": config.gradients.full_include_lm_head}


def build_param_space(base: torch.nn.Module, recipe: Recipe, config: FeaturizerConfig,
                      device: torch.device) -> ParamSpace:
    """Copy the base (never modified) to `device`, wrap it as the recipe would, pick the sketched parameters."""
    model = copy.deepcopy(base).to(device)
    model.eval()
    if config.gradients.eager_attention and hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    if recipe.method == "lora":
        model = _with_lora(model, recipe, config.seed)
        named = [(n, p) for n, p in model.named_parameters() if LORA_SKETCHED_MARKER in n]
    else:
        named = _full_subset(model, config)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    if not named:
        raise ValueError(f"recipe.method {recipe.method!r}: no parameters to sketch; check recipe.target_modules")
    params = {name: p.detach() for name, p in named}
    space = ParamSpace(model=model, names=tuple(params), key=param_space_key(recipe, config), _params=params)
    logger.info("sketching %d parameters in %d tensors (%s)", space.n_params, len(space.names), recipe.method)
    return space


def _with_lora(model: torch.nn.Module, recipe: Recipe, seed: int) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    if recipe.lora_rank is None or recipe.lora_alpha is None:
        raise ValueError("recipe: method 'lora' needs lora_rank and lora_alpha")
    missing = [t for t in recipe.target_modules
               if not any(n == t or n.endswith("." + t) for n, _ in model.named_modules())]
    if missing:
        raise ValueError(f"recipe.target_modules {missing} match no module of {type(model).__name__}")
    lora = LoraConfig(r=recipe.lora_rank, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout or 0.0,
                      target_modules=list(recipe.target_modules), bias="none", task_type="CAUSAL_LM")
    # The adapter init is seeded by the featurizer, not the recipe: the sketch estimates what
    # LoRA of this shape does, and one init per shape lets a corpus share probe gradients.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_torch_seed(seed, "lora-init"))
        wrapped = get_peft_model(model, lora)
    wrapped.eval()
    return wrapped


def _full_subset(model: torch.nn.Module, config: FeaturizerConfig) -> list[tuple[str, torch.nn.Parameter]]:
    named = list(model.named_parameters())  # tied weights appear once
    last = config.gradients.full_last_blocks
    if last is None:
        return named
    blocks = {int(m.group(1)) for n, _ in named if (m := _BLOCK_INDEX.search(n))}
    if not blocks:
        raise ValueError(f"gradients.full_last_blocks: {type(model).__name__} has no '.layers.N.' blocks; set it to null")
    first = max(blocks) - last + 1
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    head_weight = head.weight if head is not None and config.gradients.full_include_lm_head else None
    chosen = []
    for name, parameter in named:
        match = _BLOCK_INDEX.search(name)
        in_last_blocks = match is not None and int(match.group(1)) >= first
        final_norm = match is None and "norm" in _module_name(name)
        if in_last_blocks or final_norm or parameter is head_weight:
            chosen.append((name, parameter))
    return chosen


def _module_name(param_name: str) -> str:
    """'model.norm.weight' -> 'norm': the module that owns a parameter."""
    parts = param_name.split(".")
    return parts[-2] if len(parts) > 1 else ""
