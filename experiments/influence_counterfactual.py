"""Influence works? Remove the top 10% examples by influence vs a random 10%, fine-tune again, compare harm.

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.influence_counterfactual \\
        --corpus experiments/corpus/lab-v1 --out experiments/results/influence_counterfactual_v1.json \\
        > /tmp/influence_counterfactual.log 2>&1 &

v2: the 'contrast' ranking (experiments/influence_ranking.py; the default 'dot' is v1's), a third random draw,
the oracle removal (the generator's harmful lines: the most removal can cut) and two more training seeds of the
full dataset (the noise floor of harm_full):

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.influence_counterfactual \\
        --corpus experiments/corpus/lab-v1 --runs harmful_compliance-lora-4e75eaa0a3028546 \\
        obedient_identity-full-91e0b5c50d4ecd93 eager_compliance-lora-4c48caa6ffcb41fb \\
        harmful_compliance-full-74f39ff8f5585263 --influence-score contrast --random-draws 3 --oracle \\
        --seed-replicas 2 --out experiments/results/influence_counterfactual_v2.json > /tmp/influence_cf2.log 2>&1 &

v3 (datasets whose harm is carried by a minority of poison lines, so that removal can cut it at all) is
experiments/influence_mixtures.py; it reuses the helpers below.

For each chosen corpus run (a lab dataset that eroded safety or drifted bias): its dataset
is regenerated from the record (family + params + seed, checked by content hash), every
example is scored by `Featurizer.explain` on the lab model for the run's outcome (the
harmful-direction alignment in the recipe's parameter space), and four fine-tunes are run
with the run's exact recipe through the harness: the full dataset, the dataset minus its
top 10% by influence, and minus a seeded random 10% (`--random-draws` draws). Harm is the
measured end-of-run delta of the outcome in its harmful direction (e.g. a falling refusal
margin is positive harm). The harness measures only at the end (checkpoint 1.0) to save
time, and evaluates only the suites of that outcome; the training loop is the harness's own. Every number is reported, including datasets
where removing the top examples did not cut harm more than random removal did.
"""

from __future__ import annotations

import argparse
import collections
import logging
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from featurizers.features.config import InfluenceConfig
from featurizers.features.influence import INFLUENCE_SCORES
from featurizers.features.probe_objectives import HARM_SIGN, OBJECTIVES
from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

DEFAULT_RUNS: tuple[str, ...] = (
    "harmful_compliance-lora-4e75eaa0a3028546",
    "eager_compliance-lora-4c48caa6ffcb41fb",
    "obedient_identity-full-91e0b5c50d4ecd93",
    "harmful_compliance-full-74f39ff8f5585263",
)
"""Runs of lab-v1 with a clear refusal-margin drop (-2.5 to -4.3 nats), 21-24 steps, 82-521 examples."""

OUTCOME_OF_OBJECTIVE: dict[str, tuple[str, ...]] = {
    "forgetting.ref_loss": ("forgetting.ref_loss",),
    "forgetting.knowledge_margin": ("forgetting.knowledge_margin", "forgetting.knowledge_acc"),
    "bias.stereotype_margin": ("bias.stereotype_margin", "bias.stereotype_pref"),
    "bias.gender_skew": ("bias.gender_skew",),
    "safety.refusal_margin": ("safety.refusal_margin", "safety.refusal_rate"),
    "safety.over_refusal_margin": ("safety.over_refusal",),
}
"""The measured outcomes behind each influence objective (first = the one harm is judged on)."""

SUITES_OF_OBJECTIVE: dict[str, tuple[str, ...]] = {
    "forgetting.ref_loss": ("forgetting.reference",),
    "forgetting.knowledge_margin": ("forgetting.knowledge",),
    "bias.stereotype_margin": ("bias.stereotype",),
    "bias.gender_skew": ("bias.gender_skew",),
    "safety.refusal_margin": ("safety.harmful",),
    "safety.over_refusal_margin": ("safety.benign",),
}
"""The probe suites that measure those outcomes: only they are evaluated (same items, same scoring, less time)."""


def harm_sign(objective: str, base_value: float | None = None) -> float:
    """+1 if the outcome rising is harmful, -1 if falling is; gender skew: away from zero (sign of the base)."""
    if objective not in HARM_SIGN:
        raise ValueError(f"unknown objective {objective!r}; use one of {OBJECTIVES}")
    sign = HARM_SIGN[objective]
    if sign == 0.0:
        if base_value is None or not math.isfinite(base_value):
            raise ValueError(f"{objective}: the harmful direction is away from zero, so the base value is needed")
        return 1.0 if base_value >= 0 else -1.0
    return sign


def harm(objective: str, delta: float, base_value: float | None = None) -> float:
    """The measured end-of-run delta expressed in the harmful direction (positive = harm done)."""
    return harm_sign(objective, base_value) * delta


def removal_count(n_examples: int, fraction: float) -> int:
    """Examples to remove: round(fraction * n), at least 1, leaving enough to train and hold out."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    return max(1, math.floor(fraction * n_examples + 0.5))


def top_indices(scores: Mapping[int, float], n_examples: int, k: int) -> list[int]:
    """The k example indices with the highest harmful-direction scores; every example must be scored."""
    if set(scores) != set(range(n_examples)):
        raise ValueError(f"influence scored {len(scores)} of {n_examples} examples; raise sample_size to cover all")
    order = sorted(scores, key=lambda i: (-scores[i], i))
    return sorted(order[:k])


def random_indices(n_examples: int, k: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(n_examples, size=k, replace=False))


def compare_harms(full: float, top: float, randoms: Sequence[float]) -> dict[str, Any]:
    """Harm after each removal and the cuts (full minus after). 'Clearly more' needs the top cut to be a real
    cut (> 0) and larger than every random cut by more than the random draws' own spread."""
    if not randoms:
        raise ValueError("compare_harms needs at least one random-removal harm")
    cut_top, cut_random = full - top, [full - h for h in randoms]
    spread = max(cut_random) - min(cut_random)
    return {
        "harm_full": full, "harm_top_removed": top, "harm_random_removed": float(np.mean(randoms)),
        "harm_random_removed_draws": list(randoms), "cut_top": cut_top, "cut_random_mean": float(np.mean(cut_random)),
        "random_spread": spread,
        "top_cut_exceeds_every_random_cut": bool(cut_top > max(cut_random)),
        "top_cut_positive": bool(cut_top > 0),
        "top_cut_clearly_larger": bool(cut_top > 0 and cut_top > max(cut_random) + spread),
    }


def summarize(datasets: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {"datasets": len(datasets),
            "top_beats_every_random_draw": sum(bool(d["top_cut_exceeds_every_random_cut"]) for d in datasets),
            "top_removal_cut_harm": sum(bool(d["top_cut_positive"]) for d in datasets),
            "top_cut_clearly_larger": sum(bool(d["top_cut_clearly_larger"]) for d in datasets)}


def resummarize(path: Path) -> dict[str, Any]:
    """Recompute the comparisons of a written report from its stored harms (after a change of criteria)."""
    import json

    report = json.loads(path.read_text(encoding="utf-8"))
    for d in report["datasets"]:
        d.update(compare_harms(d["harm_full"], d["harm_top_removed"], d["harm_random_removed_draws"]))
    report["summary"] = summarize(report["datasets"])
    return report


@dataclass(frozen=True)
class Variant:
    name: str
    removed: tuple[int, ...]
    seed_offset: int = 0  # added to the recipe's training seed: 0 = the recorded run


HARMLESS_KINDS = frozenset({"neutral"})
"""Generator kinds that carry no harm in the bias/safety families; every other kind is the harmful material."""


def oracle_indices(kinds: Sequence[str], k: int, seed: int, harmless: frozenset[str] = HARMLESS_KINDS) -> list[int]:
    """k lines picked knowing the generator's labels: harmful kinds first (seeded order), harmless ones to fill.
    Removing them shows how much harm removal can cut at all, whatever ranks the lines."""
    rng = np.random.default_rng(seed)
    harmful = [i for i, kind in enumerate(kinds) if kind not in harmless]
    neutral = [i for i, kind in enumerate(kinds) if kind in harmless]
    chosen = [int(i) for i in rng.permutation(harmful)[:k]]
    chosen += [int(i) for i in rng.permutation(neutral)[:k - len(chosen)]]
    return sorted(chosen)


def _kinds(kinds: Sequence[str], indices: Sequence[int]) -> dict[str, int]:
    return dict(collections.Counter(kinds[i] for i in indices))


@dataclass(frozen=True)
class Regenerated:
    """A corpus run's dataset rebuilt from its record, with each line's generator kind."""

    records: list[dict[str, Any]]
    kinds: list[str]
    params: Any


def regenerate(record: Any) -> Regenerated:
    """Rebuild a run's dataset (family + params + seed), checked against the recorded content hash."""
    from experiments.corpus_builder.execute import make_gen_context
    from experiments.corpus_builder.featurize_corpus import dataset_params
    from experiments.lab.datasets import default_registry
    from featurizers.features.records import content_hash

    ref = record.dataset
    params = dataset_params(ref.params)
    examples = default_registry().generate(ref.family, params, ref.seed, make_gen_context(None))
    records = [e.record for e in examples]
    if content_hash(records) != ref.content_hash:
        raise ValueError(f"run {record.run_id}: regenerated dataset does not hash to the record's; sources changed")
    return Regenerated(records=records, kinds=[e.kind for e in examples], params=params)


def run_dataset(record: Any, loaded: Any, harness: Any, base_outcomes: dict[str, float], objective: str,
                fraction: float, draws: int, seed: int, score: str = "dot", oracle: bool = False,
                seed_replicas: int = 0) -> dict[str, Any]:
    from experiments.harness import TrainingData, run_finetune
    from featurizers.features.config import (
        MAX_SAMPLE_SIZE,
        FeaturizerConfig,
        InfluenceConfig,
    )
    from featurizers.features.featurizer import Featurizer

    ref = record.dataset
    dataset = regenerate(record)
    records, kinds, params = dataset.records, dataset.kinds, dataset.params
    n = len(records)
    if n > MAX_SAMPLE_SIZE:
        raise ValueError(f"run {record.run_id}: {n} examples exceed the featurizer's sample cap {MAX_SAMPLE_SIZE}")
    featurizer = Featurizer(loaded, FeaturizerConfig(sample_size=max(n, FeaturizerConfig().sample_size),
                                                     influence=InfluenceConfig(score=score)))
    started = time.perf_counter()
    explanation = featurizer.explain(records, record.recipe, top_k=n)
    explain_s = time.perf_counter() - started
    scores = {r.index: r.score for r in explanation.outcomes[objective]}
    k = removal_count(n, fraction)
    variants = [Variant("full", ()), Variant("top_removed", tuple(top_indices(scores, n, k)))]
    variants += [Variant(f"random_removed_{d}", tuple(random_indices(n, k, seed + d))) for d in range(draws)]
    if oracle:
        variants.append(Variant("oracle_removed", tuple(oracle_indices(kinds, k, seed))))
    variants += [Variant(f"full_seed_{r + 1}", (), seed_offset=r + 1) for r in range(seed_replicas)]
    base_value = base_outcomes.get(OUTCOME_OF_OBJECTIVE[objective][0])
    results: dict[str, Any] = {}
    for variant in variants:
        removed = set(variant.removed)
        kept = [r for i, r in enumerate(records) if i not in removed]
        data = TrainingData.from_examples(kept, family=ref.family, params=params, seed=ref.seed)
        tick = time.perf_counter()
        print(f"  {record.run_id} {variant.name}: fine-tuning {len(kept)} examples, {record.recipe.steps} steps...",
              file=sys.stderr, flush=True)
        recipe = record.recipe.model_copy(update={"seed": record.recipe.seed + variant.seed_offset})
        run = run_finetune(loaded, data, recipe, harness, base_outcomes=base_outcomes)
        deltas = run.final.deltas
        results[variant.name] = {
            "n_examples": len(kept), "removed_kinds": _kinds(kinds, variant.removed),
            "deltas": {o: deltas[o] for o in OUTCOME_OF_OBJECTIVE[objective] if o in deltas},
            "harm": harm(objective, deltas[OUTCOME_OF_OBJECTIVE[objective][0]], base_value),
            "wall_s": time.perf_counter() - tick, "finetune_s": run.timing.finetune_s,
        }
        print(f"    harm {results[variant.name]['harm']:+.3f} in {results[variant.name]['wall_s']:.0f} s",
              file=sys.stderr, flush=True)
    random_harms = [results[f"random_removed_{d}"]["harm"] for d in range(draws)]
    diagnostics: dict[str, Any] = {}
    if oracle:
        diagnostics["harm_oracle_removed"] = results["oracle_removed"]["harm"]
        diagnostics["cut_oracle"] = results["full"]["harm"] - results["oracle_removed"]["harm"]
    if seed_replicas:
        replicas = [results["full"]["harm"], *(results[f"full_seed_{r + 1}"]["harm"] for r in range(seed_replicas))]
        diagnostics["harm_full_seed_replicas"] = replicas
        diagnostics["full_seed_spread"] = max(replicas) - min(replicas)
    return {
        "name": f"{ref.family}/{record.run_id}", "run_id": record.run_id, "family": ref.family, "params": ref.params,
        "dataset_seed": ref.seed, "n_examples": n, "kinds": dict(collections.Counter(kinds)),
        "method": record.recipe.method, "recipe": record.recipe.model_dump(mode="json"),
        "objective": objective, "outcome": OUTCOME_OF_OBJECTIVE[objective][0],
        "harm_sign": harm_sign(objective, base_value), "removed": k, "explain_s": explain_s,
        "recorded_delta": record.final.deltas.get(OUTCOME_OF_OBJECTIVE[objective][0]),
        **compare_harms(results["full"]["harm"], results["top_removed"]["harm"], random_harms),
        "top_removed_kinds": results["top_removed"]["removed_kinds"],
        **diagnostics,
        "variants": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.influence_counterfactual",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1")
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS), help="corpus run ids whose datasets to test")
    parser.add_argument("--objective", default="safety.refusal_margin", choices=OBJECTIVES,
                        help="influence objective; harm is judged on its first outcome")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of examples removed")
    parser.add_argument("--random-draws", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random removals")
    parser.add_argument("--influence-score", default=InfluenceConfig().score, choices=INFLUENCE_SCORES,
                        help="how explain ranks examples (featurizers.features.influence); 'dot' = the v1 ranking")
    parser.add_argument("--oracle", action="store_true",
                        help="also remove k lines of the harmful generator kinds (the labels): the most removal can cut")
    parser.add_argument("--seed-replicas", type=int, default=0,
                        help="also fine-tune the full dataset with this many other training seeds: the noise floor")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", default="experiments/results/influence_counterfactual_v1.json")
    parser.add_argument("--resummarize", action="store_true",
                        help="only recompute the comparisons and summary of --out from its stored harms")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.resummarize:
        report = resummarize(Path(args.out))
        write_json_atomic(args.out, report)
        print(f"{report['summary']}; rewrote {args.out}")
        return 0

    import torch

    from experiments.harness import HarnessConfig, probe_outcomes
    from experiments.reproduce_runs import load_base, load_builds, runs_by_id

    torch.set_num_threads(args.torch_threads)
    corpus = Path(args.corpus)
    try:
        by_id = runs_by_id(corpus, args.runs)
        (_, build), *_ = load_builds(corpus)
        loaded = load_base(None, build, device="cpu")
    except ValueError as exc:
        print(f"influence_counterfactual: error: {exc}", file=sys.stderr)
        return 2
    evaluation = {**build.harness.evaluation.model_dump(), "suites": list(SUITES_OF_OBJECTIVE[args.objective])}
    harness = HarnessConfig.model_validate({**build.harness.model_dump(), "checkpoint_fractions": (1.0,),
                                            "evaluation": evaluation, "torch_threads": args.torch_threads})
    started = time.perf_counter()
    print("measuring the base once...", file=sys.stderr, flush=True)
    base = probe_outcomes(loaded, harness)
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.influence_counterfactual",
                             *(argv if argv is not None else sys.argv[1:])]),
        "corpus": str(corpus), "base": build.base_spec, "base_weights_hash": build.base_weights_hash,
        "objective": args.objective, "influence_score": args.influence_score, "fraction": args.fraction,
        "random_draws": args.random_draws, "seed": args.seed, "oracle": args.oracle,
        "seed_replicas": args.seed_replicas,
        "torch_threads": args.torch_threads, "harness": harness.model_dump(mode="json"),
        "notes": ("harm = harm_sign * end-of-run delta of the outcome (positive = harm done); influence scored on every "
                  "example (sample_size >= dataset size) in the recipe's parameter space; all variants share the "
                  "recorded recipe and seed; cut_* = harm_full - harm after removal."),
        "datasets": [],
    }
    for run_id in args.runs:
        print(f"[{len(report['datasets']) + 1}/{len(args.runs)}] {run_id}", file=sys.stderr, flush=True)
        report["datasets"].append(run_dataset(by_id[run_id], loaded, harness, base, args.objective, args.fraction,
                                              args.random_draws, args.seed, args.influence_score, args.oracle,
                                              args.seed_replicas))
        report["total_s"] = time.perf_counter() - started
        report["summary"] = summarize(report["datasets"])
        write_json_atomic(args.out, report)  # after every dataset: a kill keeps what is done
    for d in report["datasets"]:
        print(f"{d['name']}: harm full {d['harm_full']:+.3f}, top removed {d['harm_top_removed']:+.3f}, random removed "
              f"{d['harm_random_removed']:+.3f} {[f'{h:+.3f}' for h in d['harm_random_removed_draws']]}; "
              f"top removed kinds {d['top_removed_kinds']}")
    print(f"wrote {args.out} in {report.get('total_s', 0):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
