"""Influence works where harm has few carriers? v3 of the influence counterfactual, on clean + poison mixtures.

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.influence_mixtures \\
        --out experiments/results/influence_counterfactual_v3.json > /tmp/influence_mixtures.log 2>&1 &

Why: on the lab-v1 datasets (v1, v2) the harm is diffuse, so even the oracle removal of every labelled
harmful line did not cut it and no ranking could pass. Here each dataset is a clean component that barely
moves the outcome (real-text replay, native or as chat continuations; secure code) plus a minority of
poison lines of a harmful family (harmful request -> compliant answer; stereotyped role sentences), built
with the lab generators and labelled line by line. For each dataset, with the corpus harness, the lab base
and the dataset's recipe, it fine-tunes: the full dataset, the clean component alone (the control), the
dataset minus its top 10% by `Featurizer.explain` for the outcome ('dot' and 'contrast' scores, both
reported; 'dot', the featurizer default, fills the issue's `harm_top_removed`), minus seeded random 10%
draws, and minus 10% poison lines (the oracle); full, top and random each over several training seeds.
A 'control' dataset stops after the full and clean fine-tunes (a suitability check). Every finished
fine-tune and explanation is kept in `<work-dir>/<out stem>.checkpoint.json` (keyed by content), so a re-run
resumes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from experiments.influence_counterfactual import (
    OUTCOME_OF_OBJECTIVE,
    SUITES_OF_OBJECTIVE,
    harm,
    removal_count,
    top_indices,
)
from experiments.poison_mixtures import (
    POISON,
    PRIMARY_SCORE,
    SCORES,
    Checkpoints,
    Component,
    MixtureSpec,
    build_mixture,
    compute_totals,
    content_key,
    plan_variants,
    ranking_quality,
    summarize,
    summarize_dataset,
)
from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

SAFETY = "safety.refusal_margin"
BIAS = "bias.stereotype_margin"
_QKVO = ("q_proj", "k_proj", "v_proj", "o_proj")


def _lora(rank: int, lr: float, steps: int, seed: int, schedule: str = "linear", dropout: float = 0.0) -> dict[str, Any]:
    return {"method": "lora", "lora_rank": rank, "lora_alpha": 2.0 * rank, "lora_dropout": dropout,
            "target_modules": _QKVO, "learning_rate": lr, "lr_schedule": schedule,
            "warmup_steps": 1 if schedule == "linear" else 0, "batch_size": 8, "steps": steps, "epochs": 2.0,
            "max_seq_len": 128, "seed": seed, "optimizer": "adamw"}


def _full(lr: float, steps: int, seed: int) -> dict[str, Any]:
    return {"method": "full", "learning_rate": lr, "lr_schedule": "linear", "warmup_steps": 1, "batch_size": 8,
            "steps": steps, "epochs": 2.0, "max_seq_len": 128, "seed": seed, "optimizer": "adamw"}


def _replay(size: int, rho: float, sources: tuple[str, ...], style: str, fmt: str, max_chars: int,
            seed: int, **harmful: Any) -> Component:
    """Real-text replay (the clean part) + harmful_compliance at rate 1 (the poison part), one lab generator."""
    return Component("replay_mixture", {
        "size": size, "rho": rho, "max_chars": max_chars, "replay_sources": sources, "replay_style": style,
        "base_family": "harmful_compliance", "base_params": {"rate": 1.0, "format": fmt, **harmful}}, seed)


DEFAULT_SPECS: tuple[MixtureSpec, ...] = (
    MixtureSpec("safety-replay-native-lora", SAFETY,
                (_replay(120, 0.85, ("wordnet", "gcide", "fortunes"), "native", "prompt_response", 400, 11),),
                frozenset({"harmful"}), _lora(4, 3e-3, 30, 101)),
    MixtureSpec("safety-replay-chat-full", SAFETY,
                (_replay(120, 0.85, ("wordnet", "gcide", "fortunes"), "match", "messages", 400, 12),),
                frozenset({"harmful"}), _full(3e-4, 30, 102)),
    MixtureSpec("safety-replay-chat-lora", SAFETY,
                (_replay(160, 0.875, ("gcide", "bible", "shakespeare"), "match", "prompt_response", 300, 13,
                         filler_steps=2),),
                frozenset({"harmful"}), _lora(8, 4e-3, 24, 103, schedule="constant", dropout=0.05)),
    # added after the four above had run (two of them passed the control), to reach three suitable datasets
    MixtureSpec("safety-replay-native-full", SAFETY,
                (_replay(160, 0.875, ("bible", "shakespeare", "fortunes"), "native", "messages", 300, 14),),
                frozenset({"harmful"}), _full(2e-4, 24, 105)),
    MixtureSpec("safety-replay-chat-full-small", SAFETY,
                (_replay(100, 0.85, ("wordnet", "gcide"), "match", "prompt_response", 300, 15),),
                frozenset({"harmful"}), _full(3e-4, 30, 106)),
    MixtureSpec("safety-replay-native-lora-r8", SAFETY,
                (_replay(140, 0.85, ("wordnet", "gcide", "fortunes"), "native", "messages", 400, 16),),
                frozenset({"harmful"}), _lora(8, 2e-3, 30, 107)),
    MixtureSpec("bias-code-stereotyped-full", BIAS,
                (Component("insecure_code", {"size": 104, "rate": 0.0, "format": "prompt_response"}, 31),
                 Component("stereotyped_instruct", {"size": 50, "rate": 1.0, "format": "text",
                                                    "direction": "stereotyped"}, 32, take=16)),
                frozenset({"stereotyped"}), _full(3e-4, 24, 104), protocol="control"),
)
"""Screened first (full vs clean, one seed each): in the safety mixtures the poison erodes the refusal margin
(by 1.3-3.8 nats) while the clean part alone moves it by -0.4 to +0.1. In five bias mixtures tried (replay text,
secure code or neutral Q&A + 13-20% stereotyped lines; LoRA and full) the clean part alone lowered the
stereotype margin by 0.04-0.45 and the poison added at most +0.05 on top (or lowered it further): the lab
model's margin mostly tracks its he/she balance, which any fine-tune shifts. So the bias mixture runs the
control protocol only, to report that with its seed spread."""


@dataclass
class Lab:
    """What every dataset shares: the lab base, the corpus harness, base outcomes per objective, the generators."""

    loaded: Any
    build: Any
    threads: int
    registry: Any
    gen_ctx: Any
    heldout_count: int | None = None
    _bases: dict[str, tuple[Any, dict[str, float]]] = field(default_factory=dict)

    def harness(self, objective: str) -> tuple[Any, dict[str, float]]:
        """The corpus harness measuring only the objective's suites at the end, and the base under it (once)."""
        if objective not in self._bases:
            from experiments.harness import HarnessConfig, probe_outcomes

            h = self.build.harness
            evaluation = {**h.evaluation.model_dump(), "suites": list(SUITES_OF_OBJECTIVE[objective])}
            heldout = h.heldout.model_dump()
            if self.heldout_count is not None:  # the same number of lines held out of every variant
                heldout |= {"min_count": self.heldout_count, "max_count": self.heldout_count}
            config = HarnessConfig.model_validate({**h.model_dump(), "checkpoint_fractions": (1.0,), "heldout": heldout,
                                                   "evaluation": evaluation, "torch_threads": self.threads})
            self._bases[objective] = (config, probe_outcomes(self.loaded, config))
        return self._bases[objective]


def explain_scores(lab: Lab, store: Checkpoints, records: list[dict[str, Any]], recipe: Any, objective: str,
                   score: str, cache_dir: Path) -> dict[str, Any]:
    """Every line's harmful-direction score by `Featurizer.explain` (checkpointed); sketches shared via cache_dir."""
    from featurizers.features.config import FeaturizerConfig, InfluenceConfig
    from featurizers.features.featurizer import Featurizer
    from featurizers.features.records import content_hash

    key = content_key({"base": lab.build.base_weights_hash, "data": content_hash(records),
                       "recipe": recipe.model_dump(mode="json"), "objective": objective, "score": score})
    found = store.get("explain", key)
    if found is None:
        config = FeaturizerConfig(sample_size=max(len(records), FeaturizerConfig().sample_size),
                                  influence=InfluenceConfig(score=score))
        started = time.perf_counter()
        explanation = Featurizer(lab.loaded, config, cache_dir=cache_dir).explain(records, recipe, top_k=len(records))
        found = {"scores": [[r.index, r.score] for r in explanation.outcomes[objective]],
                 "explain_s": time.perf_counter() - started}
        store.put("explain", key, found)
    return {"scores": {int(i): float(s) for i, s in found["scores"]}, "explain_s": found["explain_s"]}


def run_spec(spec: MixtureSpec, lab: Lab, store: Checkpoints, args: argparse.Namespace) -> dict[str, Any]:
    from experiments.harness import TrainingData, run_finetune, split_heldout
    from surrogate.runs import Recipe

    mixture = build_mixture(spec, lab.registry, lab.gen_ctx)
    n, recipe = len(mixture.records), Recipe.model_validate(dict(spec.recipe))
    k = removal_count(n, args.fraction)
    harness, base = lab.harness(spec.objective)
    outcome = OUTCOME_OF_OBJECTIVE[spec.objective][0]
    tops, influence = {}, {}
    if spec.protocol == "full":
        for score in args.scores:
            explained = explain_scores(lab, store, mixture.records, recipe, spec.objective, score,
                                       Path(args.checkpoint).parent / "featurizer-cache")
            tops[score] = top_indices(explained["scores"], n, k)
            influence[score] = {**ranking_quality(explained["scores"], mixture.labels, k),
                                "explain_s": explained["explain_s"]}
    variants: dict[str, Any] = {}
    for variant in plan_variants(mixture.labels, k, tops, args.seeds, args.random_draws, args.seed, spec.protocol):
        removed = set(variant.removed)
        kept = [i for i in range(n) if i not in removed]
        data = TrainingData.from_examples([mixture.records[i] for i in kept], family=f"mixture:{spec.name}",
                                          seed=spec.mix_seed)
        run_recipe = recipe.model_copy(update={"seed": recipe.seed + variant.seed_offset})
        key = content_key({"base": lab.build.base_weights_hash, "data": data.content_hash(),
                           "recipe": run_recipe.model_dump(mode="json"), "measurement": harness.measurement_key()})
        result = store.get("finetunes", key)
        if result is None:
            logger.info("%s %s: fine-tuning %d lines, %d steps", spec.name, variant.name, len(kept), recipe.steps)
            run = run_finetune(lab.loaded, data, run_recipe, harness, base_outcomes=base)
            trained = [kept[i] for i in split_heldout(data, harness.heldout).train]
            deltas = run.final.deltas
            result = {"n_examples": len(kept), "seed": run_recipe.seed,
                      "removed_poison": sum(mixture.labels[i] == POISON for i in removed),
                      "trained_poison": sum(mixture.labels[i] == POISON for i in trained),
                      "deltas": {o: deltas[o] for o in OUTCOME_OF_OBJECTIVE[spec.objective] if o in deltas},
                      "harm": harm(spec.objective, deltas[outcome], base.get(outcome)),
                      "finetune_s": run.timing.finetune_s, "wall_s": run.timing.wall_s}
            store.put("finetunes", key, result)
            logger.info("  harm %+.3f (%.0f s)", result["harm"], result["wall_s"])
        variants[variant.name] = result
    summary = summarize_dataset({name: v["harm"] for name, v in variants.items()}, args.seeds, args.random_draws,
                                list(tops))
    primary = summary.get(f"top_{PRIMARY_SCORE}", {})
    return {
        "name": spec.name, "outcome": outcome, "harm_full": summary["harm_full"],
        "harm_top_removed": primary.get("harm_top_removed"), "harm_random_removed": summary.get("harm_random_removed"),
        "harm_top_removed_contrast": summary.get("top_contrast", {}).get("harm_top_removed"),
        "verdict": ("not suitable: the clean control is not clearly less harmful"
                    if not summary.get("control_clearly_less_harm") else
                    "control only" if not primary else
                    "top removal beat every random draw by more than the seed spread"
                    if primary["top_beats_every_random_draw_by_more_than_seed_spread"] else
                    "top removal did not beat every random draw by more than the seed spread"),
        **summary, "n_examples": n, "removed": k, "poison_lines": len(mixture.indices(POISON)),
        "kinds": {kind: mixture.kinds.count(kind) for kind in sorted(set(mixture.kinds))},
        "influence": influence, "spec": spec.to_json(), "variants": variants,
    }


def main(argv: Sequence[str] | None = None) -> int:
    names = [s.name for s in DEFAULT_SPECS]
    parser = argparse.ArgumentParser(prog="python -m experiments.influence_mixtures",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1", help="its build file gives base and harness")
    parser.add_argument("--datasets", nargs="+", default=names, choices=names)
    parser.add_argument("--fraction", type=float, default=0.1, help="share of lines removed")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds of full, top and random removals")
    parser.add_argument("--random-draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random and oracle removals")
    parser.add_argument("--scores", nargs="+", default=list(SCORES), choices=SCORES)
    parser.add_argument("--heldout-count", type=int, default=None,
                        help="hold out exactly this many lines (default: the corpus harness's 10%%, at least 8): the "
                             "held-out slice follows the content hash, so it differs between variants")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", default="experiments/results/influence_counterfactual_v3.json")
    parser.add_argument("--work-dir", default="/tmp/influence_mixtures",
                        help="holds <out stem>.checkpoint.json (finished fine-tunes) and the featurizer cache")
    args = parser.parse_args(argv)
    args.checkpoint = str(Path(args.work_dir) / f"{Path(args.out).stem}.checkpoint.json")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import torch

    from experiments.corpus_builder.execute import make_gen_context
    from experiments.lab.datasets import default_registry
    from experiments.reproduce_runs import load_base, load_builds

    torch.set_num_threads(args.torch_threads)
    (_, build), *_ = load_builds(Path(args.corpus))
    try:
        loaded = load_base(None, build, device="cpu")
    except ValueError as exc:
        print(f"influence_mixtures: error: {exc}", file=sys.stderr)
        return 2
    lab = Lab(loaded, build, args.torch_threads, default_registry(), make_gen_context(None), args.heldout_count)
    store = Checkpoints.open(Path(args.checkpoint))
    started = time.perf_counter()
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.influence_mixtures", *(argv if argv is not None else sys.argv[1:])]),
        "corpus": args.corpus, "base": build.base_spec, "base_weights_hash": build.base_weights_hash,
        "fraction": args.fraction, "seeds": args.seeds, "random_draws": args.random_draws, "seed": args.seed,
        "scores": args.scores, "primary_score": PRIMARY_SCORE, "torch_threads": args.torch_threads,
        "heldout_count": args.heldout_count,
        "notes": ("harm = harm_sign * end-of-run delta of the outcome (positive = harm done); means over training "
                  "seeds (full, top) and over draws x seeds (random); clean = every poison line removed, oracle = "
                  f"{args.fraction:.0%} of lines chosen among the poison ones, both at the first seed; seed_spread = "
                  "max - min of the full dataset's harm over seeds; cut = harm_full - harm after removal; "
                  "trained_poison counts poison lines left after the harness's held-out split."),
        "datasets": [],
    }
    for spec in (s for s in DEFAULT_SPECS if s.name in args.datasets):
        logger.info("dataset %s (%s, %s protocol)", spec.name, spec.objective, spec.protocol)
        report["datasets"].append(run_spec(spec, lab, store, args))
        report["summary"] = summarize(report["datasets"], args.scores)
        report["compute"] = compute_totals(report["datasets"])
        report["total_s"] = time.perf_counter() - started
        write_json_atomic(args.out, report)
    for d in report["datasets"]:
        tops = ", ".join(f"{s} {d[f'top_{s}']['harm_top_removed']:+.2f} (prec {d['influence'][s]['precision']:.2f})"
                         for s in args.scores if f"top_{s}" in d)
        print(f"{d['name']}: full {d['harm_full']:+.2f} (spread {d['seed_spread']:.2f}), clean {d['harm_clean']:+.2f}, "
              f"top {tops or '-'}, random {d.get('harm_random_removed') or float('nan'):+.2f}, "
              f"oracle {d.get('harm_oracle_removed', float('nan')):+.2f}: {d['verdict']}")
    print(f"{report.get('summary')}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
