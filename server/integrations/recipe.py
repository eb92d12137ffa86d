"""The recipe of a Trainer run, in the run corpus's terms (``surrogate.runs.Recipe``).

Where each field comes from (the caller can override any of them):

- ``method``, ``lora_rank``, ``lora_alpha``, ``lora_dropout``, ``target_modules``: the
  model. A PEFT model whose active adapter is LoRA is ``"lora"`` with ``r``,
  ``lora_alpha``, ``lora_dropout`` and ``target_modules`` of its config (targets given
  as a regex or ``"all-linear"`` are read off the wrapped modules); anything else is
  ``"full"``.
- ``learning_rate``: ``args.learning_rate`` (the peak).
- ``lr_schedule``: ``args.lr_scheduler_type``; ``constant_with_warmup`` becomes
  ``constant``; names the corpus does not know pass unchanged (the meta-model counts
  them as "other").
- ``warmup_steps``: ``args.get_warmup_steps(state.max_steps)`` (a step count or a ratio).
- ``batch_size``: examples per optimizer step, ``state.train_batch_size`` (per device)
  x ``gradient_accumulation_steps`` x ``world_size``.
- ``steps``: ``state.max_steps``, the Trainer's own count (from ``max_steps`` or epochs).
- ``epochs``: passes over the training examples, ``steps x batch_size / n_train``;
  without ``n_train``, ``state.num_train_epochs``.
- ``max_seq_len``: the caller's value, else the tokenizer's ``model_max_length`` when
  it is set, capped by the model's ``max_position_embeddings``.
- ``seed``: ``args.seed``.
- ``optimizer``: ``args.optim``; every ``adamw_*`` variant becomes ``adamw``.

Only attributes are read here (no transformers or peft import), so the mapping can be
tested and reused without torch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

logger = logging.getLogger(__name__)

SCHEDULES: Final[dict[str, str]] = {
    "linear": "linear",
    "cosine": "cosine",
    "constant": "constant",
    "constant_with_warmup": "constant",
}
"""Trainer scheduler name -> corpus schedule name (warm-up is a separate field)."""
ADAMW_PREFIX: Final[str] = "adamw"
UNSET_MODEL_MAX_LENGTH: Final[int] = 1_000_000
"""Tokenizers without a known limit report a huge ``model_max_length`` (1e30); ignore such values."""
LORA_PEFT_TYPE: Final[str] = "LORA"
LORA_FIELDS: Final[tuple[str, ...]] = ("lora_rank", "lora_alpha", "lora_dropout")


def _name(value: Any) -> str:
    """The string behind a str-valued enum (SchedulerType, OptimizerNames, PeftType) or a plain string."""
    return str(getattr(value, "value", value))


def schedule_name(value: Any) -> str:
    name = _name(value)
    return SCHEDULES.get(name, name)


def optimizer_name(value: Any) -> str:
    name = _name(value)
    return ADAMW_PREFIX if name.startswith(ADAMW_PREFIX) else name


def _active_adapter(model: Any, configs: Mapping[str, Any]) -> str:
    active = getattr(model, "active_adapter", None)
    names = [active] if isinstance(active, str) else list(active or ())
    if not names:
        names = list(configs)[:1]
    if len(names) != 1:
        raise ValueError(f"the model has {len(names)} active adapters {names}; pass the recipe explicitly (recipe={{...}})")
    return names[0]


def _wrapped_module_names(model: Any) -> list[str]:
    """Last name parts of the modules peft wrapped with LoRA (they own a ``lora_A``)."""
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules() if hasattr(module, "lora_A")})


def lora_fields(model: Any) -> dict[str, Any] | None:
    """The LoRA fields of a PEFT LoRA model; None for a model without adapters."""
    configs = getattr(model, "peft_config", None)
    if not isinstance(configs, Mapping) or not configs:
        return None
    adapter = _active_adapter(model, configs)
    config = configs[adapter]
    peft_type = _name(getattr(config, "peft_type", ""))
    if peft_type != LORA_PEFT_TYPE:
        raise ValueError(
            f"adapter {adapter!r} is {peft_type or 'of unknown type'}; the run corpus knows full fine-tunes "
            "and LoRA only, so pass the recipe explicitly (recipe={...})"
        )
    targets = getattr(config, "target_modules", None)
    if isinstance(targets, (list, tuple, set, frozenset)) and targets:
        modules = sorted(str(t) for t in targets)
    else:  # a regex or peft's "all-linear": what was actually wrapped is what counts
        modules = _wrapped_module_names(model)
    for flag in ("use_rslora", "use_dora"):
        if getattr(config, flag, False):
            logger.warning("adapter %r sets %s, which the recipe cannot express; the forecast assumes plain LoRA", adapter, flag)
    if getattr(config, "rank_pattern", None) or getattr(config, "alpha_pattern", None):
        logger.warning("adapter %r has per-module ranks or alphas; the recipe records only r and lora_alpha", adapter)
    return {
        "method": "lora",
        "lora_rank": int(config.r),
        "lora_alpha": float(config.lora_alpha),
        "lora_dropout": float(config.lora_dropout),
        "target_modules": modules,
    }


def max_sequence_length(model: Any, tokenizer: Any, explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    limits = []
    tokenizer_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_max, int) and 0 < tokenizer_max < UNSET_MODEL_MAX_LENGTH:
        limits.append(tokenizer_max)
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    if not limits:
        raise ValueError("cannot tell the training sequence length from the tokenizer or model config; pass max_seq_len")
    return min(limits)


def derive_recipe(
    args: Any,
    state: Any,
    model: Any,
    *,
    tokenizer: Any = None,
    n_train: int | None = None,
    max_seq_len: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The recipe of this run as validated JSON (``surrogate.runs.Recipe`` fields); see the table above."""
    from surrogate.runs import Recipe

    steps = int(state.max_steps)
    per_device = int(getattr(state, "train_batch_size", None) or args.per_device_train_batch_size)
    batch_size = per_device * int(args.gradient_accumulation_steps) * int(getattr(args, "world_size", 1) or 1)
    epochs = steps * batch_size / n_train if n_train else float(state.num_train_epochs)
    recipe: dict[str, Any] = {
        "method": "full",
        "lora_rank": None,
        "lora_alpha": None,
        "lora_dropout": None,
        "target_modules": [],
        "learning_rate": float(args.learning_rate),
        "lr_schedule": schedule_name(args.lr_scheduler_type),
        "warmup_steps": int(args.get_warmup_steps(steps)),
        "batch_size": batch_size,
        "steps": steps,
        "epochs": epochs,
        "max_seq_len": max_sequence_length(model, tokenizer, max_seq_len),
        "seed": int(args.seed),
        "optimizer": optimizer_name(args.optim),
    }
    recipe.update(lora_fields(model) or {})
    given = dict(overrides or {})
    recipe.update(given)
    if recipe["method"] == "full":  # an override to "full" drops the LoRA fields it did not set itself
        for name in LORA_FIELDS:
            recipe[name] = given.get(name)
        recipe["target_modules"] = given.get("target_modules", [])
    return Recipe.model_validate(recipe).model_dump(mode="json")
