"""Clean + poison mixtures for the influence counterfactual (v3): building, labels, the fine-tune plan, summaries.

Pure helpers of experiments/influence_mixtures.py (no model, no fine-tune): a dataset is lab generator
components mixed by a seeded shuffle, each line labelled clean or poison by its generator kind, so the
ranking can be scored against the labels and an oracle removal is possible.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments.influence_counterfactual import (
    Variant,
    oracle_indices,
    random_indices,
    top_indices,
)
from featurizers.io import write_json_atomic

CLEAN, POISON = "clean", "poison"
PROTOCOLS = ("full", "control")
SCORES: tuple[str, ...] = ("dot", "contrast")
PRIMARY_SCORE = "dot"
"""The featurizer's default score, fixed before any result: it fills the issue's `harm_top_removed`."""


@dataclass(frozen=True)
class Component:
    """Lines of one lab family: its generator's first `take` lines (all if None), in its own seeded order."""

    family: str
    params: Mapping[str, Any]
    seed: int
    take: int | None = None


@dataclass(frozen=True)
class MixtureSpec:
    """A dataset: components mixed by a seeded shuffle; lines whose generator kind is in poison_kinds are poison."""

    name: str
    objective: str
    components: tuple[Component, ...]
    poison_kinds: frozenset[str]
    recipe: Mapping[str, Any]
    mix_seed: int = 0
    protocol: str = "full"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "poison_kinds": sorted(self.poison_kinds)}


@dataclass(frozen=True)
class Mixture:
    records: list[dict[str, Any]]
    kinds: list[str]
    labels: list[str]

    def indices(self, label: str) -> list[int]:
        return [i for i, lab in enumerate(self.labels) if lab == label]


def label_lines(kinds: Sequence[str], poison_kinds: frozenset[str]) -> list[str]:
    return [POISON if kind in poison_kinds else CLEAN for kind in kinds]


def mix(parts: Sequence[Sequence[Any]], takes: Sequence[int | None], poison_kinds: frozenset[str],
        seed: int) -> Mixture:
    """Concatenate each part's first `take` Examples; shuffle (seeded) when there are several parts, so a
    single generator's dataset stays byte-identical to what the lab CLI writes."""
    if len(parts) != len(takes) or not parts:
        raise ValueError("mix needs one take per part and at least one part")
    lines: list[Any] = []
    for part, take in zip(parts, takes):
        if take is not None and not 0 < take <= len(part):
            raise ValueError(f"take={take} but the component has {len(part)} lines")
        lines.extend(part[:take] if take is not None else part)
    if len(parts) > 1:
        random.Random(seed).shuffle(lines)
    kinds = [e.kind for e in lines]
    labels = label_lines(kinds, poison_kinds)
    if POISON not in labels or CLEAN not in labels:
        raise ValueError(f"a mixture needs clean and poison lines; kinds {sorted(set(kinds))}, "
                         f"poison kinds {sorted(poison_kinds)}")
    return Mixture(records=[dict(e.record) for e in lines], kinds=kinds, labels=labels)


def build_mixture(spec: MixtureSpec, registry: Any, ctx: Any) -> Mixture:
    parts = [registry.generate(c.family, dict(c.params), c.seed, ctx) for c in spec.components]
    return mix(parts, [c.take for c in spec.components], spec.poison_kinds, spec.mix_seed)


def plan_variants(labels: Sequence[str], k: int, tops: Mapping[str, Sequence[int]], seeds: int, draws: int,
                  random_seed: int, protocol: str) -> list[Variant]:
    """Every fine-tune of a dataset, the suitability check first: full and clean at the first seed, the other
    full seeds, then (full protocol) the top removals, the random draws (same draws at every seed), the oracle."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if seeds < 1 or (protocol == "full" and draws < 1):
        raise ValueError(f"need seeds >= 1 and draws >= 1, got {seeds}, {draws}")
    poison = tuple(i for i, lab in enumerate(labels) if lab == POISON)
    plan = [Variant("full@s0", ()), Variant("clean", poison)]
    plan += [Variant(f"full@s{r}", (), r) for r in range(1, seeds)]
    if protocol == "control":
        return plan
    for score, top in tops.items():
        plan += [Variant(f"top_{score}@s{r}", tuple(top), r) for r in range(seeds)]
    n = len(labels)
    for d in range(draws):
        drawn = tuple(random_indices(n, k, random_seed + d))
        plan += [Variant(f"random{d}@s{r}", drawn, r) for r in range(seeds)]
    plan.append(Variant("oracle", tuple(oracle_indices(labels, k, random_seed, harmless=frozenset({CLEAN})))))
    return plan


def ranking_quality(scores: Mapping[int, float], labels: Sequence[str], k: int) -> dict[str, Any]:
    """Precision and recall of the top k against the poison labels, and the poison-vs-clean AUC."""
    from experiments.influence_ranking import auc

    n = len(labels)
    top = top_indices(scores, n, k)
    positive = np.array([lab == POISON for lab in labels])
    hits = int(positive[top].sum())
    return {"precision": hits / k, "recall": hits / int(positive.sum()), "poison_in_top": hits,
            "poison_share": float(positive.mean()),
            "auc": auc(np.array([scores[i] for i in range(n)]), positive)}


def _series(harms: Mapping[str, float], prefix: str, seeds: int) -> list[float]:
    return [harms[f"{prefix}@s{r}"] for r in range(seeds)]


def summarize_dataset(harms: Mapping[str, float], seeds: int, draws: int, scores: Sequence[str]) -> dict[str, Any]:
    """Means over seeds and draws, cuts (full minus after) and the verdicts. A top removal passes when its cut
    beats every random draw's (each draw averaged over the seeds) by more than the full dataset's seed spread."""
    full = _series(harms, "full", seeds)
    harm_full, spread = float(np.mean(full)), float(max(full) - min(full))
    out: dict[str, Any] = {"harm_full": harm_full, "harm_full_seeds": full, "seed_spread": spread}
    if "clean" in harms:
        out["harm_clean"] = harms["clean"]
        out["control_clearly_less_harm"] = bool(harm_full - harms["clean"] > spread)
    if f"random0@s{seeds - 1}" not in harms:
        return out
    by_draw = [_series(harms, f"random{d}", seeds) for d in range(draws)]
    draw_means = [float(np.mean(h)) for h in by_draw]
    cut_random = [harm_full - m for m in draw_means]
    out |= {"harm_random_removed": float(np.mean(by_draw)), "harm_random_removed_draws": draw_means,
            "harm_random_removed_by_draw_and_seed": by_draw, "cut_random_draws": cut_random}
    for score in scores:
        top = _series(harms, f"top_{score}", seeds)
        cut = harm_full - float(np.mean(top))
        out[f"top_{score}"] = {
            "harm_top_removed": float(np.mean(top)), "harm_top_removed_seeds": top, "cut_top": cut,
            "top_cut_positive": bool(cut > 0), "top_beats_every_random_draw": bool(cut > max(cut_random)),
            "top_beats_every_random_draw_by_more_than_seed_spread": bool(cut - max(cut_random) > spread),
            "seeds_where_top_is_below_every_draw": sum(top[r] < min(h[r] for h in by_draw) for r in range(seeds)),
        }
    if "oracle" in harms:
        out |= {"harm_oracle_removed": harms["oracle"], "cut_oracle": harm_full - harms["oracle"]}
    return out


def summarize(datasets: Sequence[Mapping[str, Any]], scores: Sequence[str]) -> dict[str, Any]:
    """Pass counts over the datasets that ran the full protocol ('all') and over those whose clean control was
    clearly less harmful ('suitable': only there can removing a minority of lines cut the harm at all)."""
    tested = [d for d in datasets if scores and f"top_{scores[0]}" in d]
    subsets = {"all": tested, "suitable": [d for d in tested if d.get("control_clearly_less_harm")]}
    summary: dict[str, Any] = {
        "datasets": len(datasets), "full_protocol": len(tested), "suitable_full_protocol": len(subsets["suitable"]),
        "control_clearly_less_harm": sum(bool(d.get("control_clearly_less_harm")) for d in datasets),
    }
    keys = ("top_cut_positive", "top_beats_every_random_draw", "top_beats_every_random_draw_by_more_than_seed_spread")
    for score in scores:
        summary[score] = {name: {key: sum(bool(d[f"top_{score}"][key]) for d in group) for key in keys}
                          for name, group in subsets.items()}
    return summary


def compute_totals(datasets: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The study's cost from its recorded timings (checkpointed fine-tunes keep the time they took when run)."""
    runs = [v for d in datasets for v in d["variants"].values()]
    return {"finetunes": len(runs), "finetune_wall_s": sum(v["wall_s"] for v in runs),
            "explain_s": sum(q["explain_s"] for d in datasets for q in d["influence"].values())}


def content_key(material: Mapping[str, Any]) -> str:
    """A stable key of everything a result depends on (the checkpoint is indexed by it)."""
    return hashlib.sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:24]


@dataclass
class Checkpoints:
    """Finished fine-tunes and explanations by content key, rewritten atomically after each: a kill loses one."""

    path: Path
    data: dict[str, dict[str, Any]] = field(default_factory=lambda: {"finetunes": {}, "explain": {}})

    @classmethod
    def open(cls, path: Path) -> Checkpoints:
        if not path.exists():
            return cls(path)
        return cls(path, json.loads(path.read_text(encoding="utf-8")))

    def get(self, section: str, key: str) -> Any:
        return self.data[section].get(key)

    def put(self, section: str, key: str, value: Any) -> None:
        self.data[section][key] = value
        write_json_atomic(self.path, self.data)
