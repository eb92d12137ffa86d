"""FineTuneSpec from the wire -> a validated FeaturizationJob.

The recipe is checked by the run corpus's own schema (``surrogate.runs.Recipe``),
so the server accepts exactly what a run record could hold. The base model spec
is a file path in disguise (a directory, a .gguf file, ``BASE+lora:DIR``), so every
path in it is confined to the data roots like a dataset path; only the
featurizer's built-in names pass as they are.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Final

from server.config import RequestLimits
from server.datasets import dataset_input
from server.errors import denied, invalid
from server.featurize import FeaturizationJob
from server.generated.tunecast.v1 import candidate_pb2
from server.paths import resolve_inside
from surrogate.runs.outcomes import CORE_OUTCOMES

LORA_SEPARATOR: Final[str] = "+lora:"
TINY_PREFIX: Final[str] = "tiny:"
GGUF_SUFFIX: Final[str] = ".gguf"
OPTIONAL_LORA_FIELDS: Final[tuple[str, ...]] = ("lora_rank", "lora_alpha", "lora_dropout")
PLAIN_FIELDS: Final[tuple[str, ...]] = (
    "method", "learning_rate", "lr_schedule", "warmup_steps", "batch_size", "steps", "epochs",
    "max_seq_len", "seed", "optimizer",
)


def recipe_input(recipe: candidate_pb2.Recipe, field: str) -> dict[str, Any]:
    """The recipe as validated JSON; the first pydantic error names its field."""
    from pydantic import ValidationError

    from surrogate.runs import Recipe

    raw: dict[str, Any] = {name: getattr(recipe, name) for name in PLAIN_FIELDS}
    for name in OPTIONAL_LORA_FIELDS:
        raw[name] = getattr(recipe, name) if recipe.HasField(name) else None
    raw["target_modules"] = tuple(recipe.target_modules)
    for name in ("learning_rate", "epochs", "lora_alpha", "lora_dropout"):
        value = raw[name]
        if value is not None and not math.isfinite(value):
            raise invalid(f"{field}.{name}", f"is {value}; it must be finite")
    for name in ("method", "lr_schedule", "optimizer"):
        if not raw[name]:
            raise invalid(f"{field}.{name}", "is required")
    try:
        return Recipe.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise invalid(f"{field}.{loc}" if loc else field, message) from None


def observations_input(
    obs: candidate_pb2.EarlyObservations, recipe: dict[str, Any], field: str
) -> dict[str, Any]:
    """EarlyObservations as JSON, checked like the featurizer's schema checks them."""
    if not 1 <= obs.step <= recipe["steps"]:
        raise invalid(f"{field}.step", f"is {obs.step}; it must lie in [1, recipe.steps={recipe['steps']}]")
    previous = -1
    curve = []
    for i, point in enumerate(obs.loss_curve):
        where = f"{field}.loss_curve[{i}]"
        if point.step <= previous or point.step > obs.step:
            raise invalid(f"{where}.step", f"is {point.step}; steps must increase strictly and not pass step {obs.step}")
        if not math.isfinite(point.loss):
            raise invalid(f"{where}.loss", f"is {point.loss}; losses must be finite")
        previous = point.step
        curve.append({"step": point.step, "loss": point.loss})
    deltas = {}
    for name, value in obs.probe_deltas.items():
        where = f'{field}.probe_deltas["{name[:80]}"]'
        if name not in CORE_OUTCOMES:
            raise invalid(where, f"is not an outcome the probes measure; known: {', '.join(CORE_OUTCOMES)}")
        if not math.isfinite(value):
            raise invalid(where, f"is {value}; deltas must be finite")
        deltas[name] = value
    return {"step": obs.step, "loss_curve": curve, "probe_deltas": deltas}


def confine_model_spec(
    raw: str, field: str, builtin: Collection[str], roots: Sequence[Path], limits: RequestLimits
) -> str:
    """The spec with every path part replaced by its real path inside the data roots."""
    if not raw:
        raise invalid(field, "is empty: name a base model (a built-in name or a path under the data roots)")
    if len(raw) > limits.max_path_chars or "\x00" in raw:
        raise invalid(field, "is too long or contains a NUL character")
    if LORA_SEPARATOR in raw:
        base, adapter = raw.split(LORA_SEPARATOR, 1)
        base_spec = confine_model_spec(base, field, builtin, roots, limits)
        adapter_dir = resolve_inside(adapter, roots, field, "dir", limits.max_path_chars)
        return f"{base_spec}{LORA_SEPARATOR}{adapter_dir}"
    if raw.startswith(TINY_PREFIX):
        config = resolve_inside(raw[len(TINY_PREFIX):], roots, field, "file", limits.max_path_chars)
        return f"{TINY_PREFIX}{config}"
    if raw in builtin:
        return raw
    if not roots:
        raise denied(field, f"{raw[:80]!r} is not a built-in model ({sorted(builtin)}) and this server has no data roots")
    real = resolve_inside(raw, roots, field, "file" if raw.endswith(GGUF_SUFFIX) else "dir", limits.max_path_chars)
    return str(real)


def featurization_job(
    spec: candidate_pb2.FineTuneSpec,
    field: str,
    *,
    builtin_models: Collection[str],
    data_roots: Sequence[Path],
    limits: RequestLimits,
) -> FeaturizationJob:
    """Validate every part of a spec; the dataset is read here (bounded) so its hash keys the cache."""
    if not spec.HasField("recipe"):
        raise invalid(f"{field}.recipe", "is required")
    if not spec.HasField("dataset"):
        raise invalid(f"{field}.dataset", "is required")
    recipe = recipe_input(spec.recipe, f"{field}.recipe")
    observations = (
        observations_input(spec.observations, recipe, f"{field}.observations")
        if spec.HasField("observations") else None
    )
    base_model = confine_model_spec(spec.base_model, f"{field}.base_model", builtin_models, data_roots, limits)
    dataset = dataset_input(spec.dataset, f"{field}.dataset", limits, data_roots)
    return FeaturizationJob(base_model=base_model, recipe=recipe, dataset=dataset, observations=observations)
