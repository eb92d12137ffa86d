"""Signal: do the first-order estimates rank the measured end-of-run deltas across a run corpus?

    python -m experiments.first_order_signal --corpus experiments/corpus/lab-v1 \\
        --out experiments/results/first_order.json [--n-boot 2000 --level 0.9 --seed 0]

For each probe objective o and each estimator (fo: -lr*steps*<g_o, mean g>, fo_sign: with
sign(g), fo_adam: with g / sqrt(g^2 + var/batch)), Spearman's rho (n, bootstrap interval)
between the estimate and the end-of-run delta of each outcome o stands for, over all
featurized runs, per method and per family; plus the share of runs where the estimate's
sign matches the delta's. Each estimate predicts the change of its objective's value,
and every objective has the sign of its outcomes (ARCHITECTURE.md: delta = fine-tuned
minus base; e.g. refusal margin up = refusal rate up), so a useful estimate has rho > 0.
Because |estimate| and |delta| both grow with lr*steps, each cell also gives the partial
Spearman with lr*steps partialled out (what the estimate knows beyond run size).
Baselines beside it: lr*steps alone and the direction-only alignment cosine (expected sign
flipped: it is the cosine with the loss gradient, which descent moves against).
Runs still being featurized are simply not in the table yet: the JSON says how many were read.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from experiments.rank_stats import MIN_PAIRS, partial_spearman_ci, sign_agreement, spearman_ci
from featurizers.io import write_json_atomic
from surrogate.runs.training_table import TrainingTable, load_training_table

logger = logging.getLogger(__name__)

ESTIMATORS: tuple[str, ...] = ("fo", "fo_sign", "fo_adam")
OBJECTIVE_OUTCOMES: dict[str, tuple[tuple[str, int], ...]] = {
    "forgetting.ref_loss": (("forgetting.ref_loss", 1),),
    "forgetting.knowledge_margin": (("forgetting.knowledge_margin", 1), ("forgetting.knowledge_acc", 1)),
    "bias.stereotype_margin": (("bias.stereotype_margin", 1), ("bias.stereotype_pref", 1)),
    "bias.gender_skew": (("bias.gender_skew", 1),),
    "safety.refusal_margin": (("safety.refusal_margin", 1), ("safety.refusal_rate", 1)),
    "safety.over_refusal_margin": (("safety.over_refusal", 1),),
}
"""Objective -> (outcome, expected sign of rho). Every objective is built with its outcomes' sign
(featurizers.features.probe_objectives): ref_loss objective = mean NLL, margins = preferred minus
rival log-likelihood, gender skew = male minus female, over-refusal = refusal margin on benign prompts."""

RUN_SIZE_FEATURE = "recipe.lr_x_steps"
"""Run size: |delta| and |estimate| both grow with it, so each cell also reports rho with it partialled out."""


@dataclass(frozen=True)
class SignalConfig:
    n_boot: int
    level: float
    seed: int
    min_pairs: int


def estimate_feature(estimator: str, objective: str) -> str:
    """Feature name of one first-order estimate (as featurizers.features.gradient_features names it)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; use one of {ESTIMATORS}")
    return f"{estimator}.{objective}"


def _cell(x: np.ndarray, y: np.ndarray, size: np.ndarray, config: SignalConfig, seed: int) -> dict[str, Any]:
    kwargs = dict(n_boot=config.n_boot, level=config.level, seed=seed, min_pairs=config.min_pairs)
    result = spearman_ci(x, y, **kwargs)
    partial = partial_spearman_ci(x, y, size, **kwargs) if not np.array_equal(x, size) else None
    return {**result.as_dict(), "sign_agreement": sign_agreement(x, y),
            "partial_given_lr_x_steps": partial.as_dict() if partial is not None else None}


def correlate(table: TrainingTable, feature: str, outcome: str, config: SignalConfig, seed: int) -> dict[str, Any]:
    """Overall, per-method and per-family Spearman of one feature against one outcome's end delta."""
    x = table.columns([feature])[:, 0]
    y = table.outcomes[outcome]
    size = table.columns([RUN_SIZE_FEATURE])[:, 0]
    methods, families = np.array(table.methods), np.array(table.families)

    def cell(mask: np.ndarray) -> dict[str, Any]:
        return _cell(x[mask], y[mask], size[mask], config, seed)

    return {
        "overall": cell(np.ones(len(x), dtype=bool)),
        "by_method": {m: cell(methods == m) for m in sorted(set(table.methods))},
        "by_family": {f: cell(families == f) for f in sorted(set(table.families))},
    }


def measure(table: TrainingTable, config: SignalConfig) -> dict[str, Any]:
    pairs: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    for objective, outcomes in OBJECTIVE_OUTCOMES.items():
        for outcome, expected in outcomes:
            if outcome not in table.outcomes:
                logger.warning("outcome %s is not in the corpus; skipped", outcome)
                continue
            for estimator in ESTIMATORS:
                feature = estimate_feature(estimator, objective)
                pairs.append({"estimator": estimator, "objective": objective, "feature": feature, "outcome": outcome,
                              "expected_sign": expected, **correlate(table, feature, outcome, config, config.seed)})
            # the cosine is of the *loss* gradient: descent moves against it, so its expected sign flips
            for feature, sign in ((RUN_SIZE_FEATURE, None), (f"align.{objective}.cos", -expected)):
                baselines.append({"feature": feature, "objective": objective, "outcome": outcome,
                                  "expected_sign": sign, **correlate(table, feature, outcome, config, config.seed)})
    return {"pairs": pairs, "baselines": baselines, "headline": headline(pairs)}


def headline(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (objective, outcome): overall rho of each estimator, and the best one by oriented rho."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p in pairs:
        row = rows.setdefault((p["objective"], p["outcome"]), {"objective": p["objective"], "outcome": p["outcome"]})
        overall = p["overall"]
        partial = overall["partial_given_lr_x_steps"] or {}
        row[p["estimator"]] = {"rho": overall["rho"], "ci": [overall["ci_low"], overall["ci_high"]], "n": overall["n"],
                               "sign_agreement": overall["sign_agreement"],
                               "rho_given_lr_x_steps": partial.get("rho"),
                               "ci_given_lr_x_steps": [partial.get("ci_low"), partial.get("ci_high")]}
    for (objective, outcome), row in rows.items():
        expected = dict(OBJECTIVE_OUTCOMES[objective])[outcome]
        scored = [(expected * row[e]["rho"], e) for e in ESTIMATORS if e in row and row[e]["rho"] is not None]
        row["best_estimator"] = max(scored)[1] if scored else None
    return list(rows.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.first_order_signal",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1", help="run-store directory with features/")
    parser.add_argument("--feature-dir", default=None, help="feature directory name (default: the only one)")
    parser.add_argument("--out", default="experiments/results/first_order.json")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples per correlation")
    parser.add_argument("--level", type=float, default=0.9, help="bootstrap interval level")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-pairs", type=int, default=MIN_PAIRS, help="groups smaller than this get rho = null")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = SignalConfig(n_boot=args.n_boot, level=args.level, seed=args.seed, min_pairs=args.min_pairs)
    try:
        table = load_training_table([args.corpus], feature_dir_name=args.feature_dir)
    except ValueError as exc:
        print(f"first_order_signal: error: {exc}", file=sys.stderr)
        return 2
    print(f"{table.n_runs} featurized runs; correlating...", file=sys.stderr)
    result = measure(table, config)
    families, counts = np.unique(np.array(table.families), return_counts=True)
    methods, method_counts = np.unique(np.array(table.methods), return_counts=True)
    report = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.first_order_signal", *(argv if argv is not None else sys.argv[1:])]),
        "corpus": args.corpus,
        "corpus_hash": table.corpus_hash,
        "featurizer_version": table.feature_schema.get("featurizer_version"),
        "n_runs": table.n_runs,
        "runs_per_family": {str(f): int(c) for f, c in zip(families, counts)},
        "runs_per_method": {str(m): int(c) for m, c in zip(methods, method_counts)},
        "config": {"n_boot": config.n_boot, "level": config.level, "seed": config.seed, "min_pairs": config.min_pairs},
        "sign_convention": ("rho > 0 means the estimate ranks the measured delta the right way: each estimate predicts "
                            "the change of its objective, which has the sign of each outcome listed (expected_sign)."),
        "machine": platform.platform(),
        **result,
    }
    write_json_atomic(args.out, report)
    for row in result["headline"]:
        cells = "  ".join(f"{e} {row[e]['rho']:+.2f} [{row[e]['ci'][0]:+.2f},{row[e]['ci'][1]:+.2f}] "
                          f"|size {row[e]['rho_given_lr_x_steps']:+.2f} sign {row[e]['sign_agreement']:.2f}"
                          if row.get(e) and row[e]["rho"] is not None and row[e]["rho_given_lr_x_steps"] is not None
                          else f"{e} n/a" for e in ESTIMATORS)
        print(f"{row['objective']:>28} -> {row['outcome']:<28} {cells}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
