"""`sample_configs`: a deterministic list of run configs (family x knobs x recipe).

Config i depends only on (seed, i) and the space, so `sample_configs(n + k)`
extends `sample_configs(n)` and a corpus can grow without redoing its runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from experiments.corpus_builder.knobs import sample_knobs, size_range_for
from experiments.corpus_builder.space import SamplingSpace
from experiments.lab.datasets.registry import FamilyRegistry
from experiments.lab.datasets.seeding import derive_seed, make_rng
from surrogate.runs import Recipe

SEED_BITS = 31
RUN_ID_HASH_CHARS = 16


class RunConfig(BaseModel):
    """One planned run: which dataset (family, params, seed) and which recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    params: dict[str, Any]
    dataset_seed: int
    recipe: Recipe

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def run_id(self, base_hash: str, measurement_key: str) -> str:
        """Stable id of (this config, the exact base weights, how outcomes are measured).

        The same config on another base, or measured by other probes, is another run.
        """
        material = json.dumps({"config": json.loads(self.canonical_json()), "base": base_hash,
                               "measurement": measurement_key}, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(material.encode()).hexdigest()[:RUN_ID_HASH_CHARS]
        return f"{self.family}-{self.recipe.method}-{digest}"


def resolve_families(space: SamplingSpace, registry: FamilyRegistry) -> list[str]:
    """The space's families (all registered ones when it names none), checked against the registry."""
    names = space.families or registry.names()
    for name in names:
        registry.get(name)  # raises UnknownFamilyError with near names
    unknown_weights = sorted(set(space.family_weights) - set(names))
    if unknown_weights:
        raise ValueError(f"space.family_weights names {unknown_weights}, which are not among the families {names}")
    unknown_knobs = sorted(set(space.knobs) - set(registry.names()))
    if unknown_knobs:
        raise ValueError(f"space.knobs names unknown families {unknown_knobs}")
    if not any(space.family_weights.get(n, 1.0) > 0 for n in names):
        raise ValueError("space.family_weights gives every family weight 0")
    return names


def sample_recipe(space: SamplingSpace, size: int, seed: int) -> Recipe:
    """A recipe from the space; epochs are provisional (the harness records the actual passes)."""
    rng = make_rng(seed, "recipe")
    lora = rng.random() < space.lora_share
    steps = space.steps.sample(rng)
    batch_size = rng.choice(space.batch_sizes)
    fields: dict[str, Any] = dict(
        method="lora" if lora else "full",
        learning_rate=(space.lora_lr if lora else space.full_lr).sample(rng),
        lr_schedule=rng.choice(space.lr_schedules),
        warmup_steps=math.floor(space.warmup_share.sample(rng) * steps),
        batch_size=batch_size,
        steps=steps,
        epochs=steps * batch_size / size,
        max_seq_len=rng.choice(space.max_seq_lens),
        seed=rng.getrandbits(SEED_BITS),
        optimizer=space.optimizer,
    )
    if lora:
        rank = rng.choice(space.lora_ranks)
        fields.update(
            lora_rank=rank,
            lora_alpha=rank * rng.choice(space.lora_alpha_per_rank),
            lora_dropout=rng.choice(space.lora_dropouts),
            target_modules=tuple(rng.choice(space.lora_target_sets)),
        )
    return Recipe(**fields)


def sample_config(index: int, seed: int, space: SamplingSpace, registry: FamilyRegistry, families: list[str]) -> RunConfig:
    config_seed = derive_seed(seed, "run", str(index))
    rng = make_rng(config_seed, "family")
    weights = [space.family_weights.get(n, 1.0) for n in families]
    family = registry.get(rng.choices(families, weights=weights)[0])
    size = size_range_for(family, space.dataset_size).sample(make_rng(config_seed, "size"))
    params = sample_knobs(family, size, config_seed, space.knobs.get(family.name, {}))
    return RunConfig(
        family=family.name,
        params=params,
        dataset_seed=derive_seed(config_seed, "dataset") >> (64 - SEED_BITS),
        recipe=sample_recipe(space, size, config_seed),
    )


def sample_configs(n: int, seed: int, space: SamplingSpace | None = None,
                   registry: FamilyRegistry | None = None) -> list[RunConfig]:
    """n run configs, deterministic in (n, seed, space); config i is the same for every n > i."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    space = space or SamplingSpace()
    if registry is None:
        from experiments.lab.datasets import default_registry

        registry = default_registry()
    families = resolve_families(space, registry)
    return [sample_config(i, seed, space, registry, families) for i in range(n)]
