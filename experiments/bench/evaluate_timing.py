"""How long the full probe evaluation takes, per suite, on several models in one run.

    python -m experiments.bench.evaluate_timing --models tiny lab smollm2-135m-instruct \
        --out experiments/results/evaluate_timing.json

With --compare-sharing, each model is also evaluated with every (context, continuation)
pair scored on its own, and the speed-up of key/value-cache reuse is reported (same run).

Timings are wall seconds on this machine in one process, so ratios between models are
meaningful; absolute figures move with machine load.
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Sequence

import torch

from featurizers.io import write_json_atomic
from featurizers.loading import load_causal_lm
from featurizers.probes.evaluate import EvaluationConfig, evaluate_model, headline


def time_model(spec: str, batch_size: int, compare_sharing: bool = False) -> dict:
    started = time.perf_counter()
    loaded = load_causal_lm(spec)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    results = evaluate_model(loaded, EvaluationConfig(batch_size=batch_size), progress=True)
    eval_s = time.perf_counter() - started
    extra: dict = {}
    if compare_sharing:
        started = time.perf_counter()
        plain = evaluate_model(loaded, EvaluationConfig(batch_size=batch_size), share_contexts=False)
        plain_s = time.perf_counter() - started
        diffs = [abs(plain[k] - v) for k, v in results.items() if not k.startswith("seconds.")]
        extra = {"unshared_evaluate_s": plain_s, "sharing_speedup": plain_s / eval_s,
                 "unshared_suite_s": {k.removeprefix("seconds."): v for k, v in plain.items() if k.startswith("seconds.")},
                 "max_abs_outcome_difference": max(diffs)}
    return {
        "model": spec,
        "parameters": sum(p.numel() for p in loaded.model.parameters()),
        "load_s": load_s,
        "evaluate_s": eval_s,
        "suite_s": {k.removeprefix("seconds."): v for k, v in results.items() if k.startswith("seconds.")},
        "items": {k.removeprefix("n_items."): v for k, v in results.items() if k.startswith("n_items.")},
        "headline": headline(results),
        **extra,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny", "lab", "smollm2-135m-instruct"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", default="experiments/results/evaluate_timing.json")
    parser.add_argument("--compare-sharing", action="store_true", help="also time scoring without cache reuse")
    args = parser.parse_args(argv)
    rows = [time_model(spec, args.batch_size, args.compare_sharing) for spec in args.models]
    write_json_atomic(args.out, {
        "machine": {"cpu_count": torch.get_num_threads(), "platform": platform.platform(),
                    "device": "cuda" if torch.cuda.is_available() else "cpu"},
        "batch_size": args.batch_size, "rows": rows,
    })
    for row in rows:
        print(f"{row['model']}: load {row['load_s']:.1f} s, all suites {row['evaluate_s']:.1f} s"
              + (f", unshared {row['unshared_evaluate_s']:.1f} s" if "unshared_evaluate_s" in row else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
