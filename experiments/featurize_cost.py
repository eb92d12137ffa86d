"""Cost: featurization wall time / fine-tune wall time, same recipe, same script, same machine.

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.featurize_cost \\
        --corpus experiments/corpus/lab-v1 --out experiments/results/featurize_cost.json \\
        > /tmp/featurize_cost.log 2>&1 &

Lab model: neutral_instruct datasets of 50..2000 examples, each featurized cold (no disk
cache; the per-model probe-gradient bundle is computed once per parameter space first and
reported apart as a one-off) and fine-tuned with the lab corpus' median recipe (median
steps, batch size and learning rate, both methods), then on one dataset with the corpus'
shortest and longest step counts, to show how the ratio moves with run length. SmolLM2
(`smollm2-135m-instruct`): short LoRA recipes as a small SmolLM2 corpus would sample
(steps 10-30, batch 8, datasets 50-300), time-boxed by --smollm2-budget-s; what was not
measured in time is listed as skipped. The fine-tune is the harness's own training loop
with probe evaluation switched off, timed over its optimizer steps (`Timing.finetune_s`);
process CPU seconds are reported beside every wall time because the machine is shared.
The lab part is written first, so a timeout in the SmolLM2 part still leaves results.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

LAB_SIZES: tuple[int, ...] = (50, 150, 500, 1000, 2000)
SMOLLM2_SIZES: tuple[int, ...] = (50, 100, 150, 220, 300)
"""The smollm2-v1 corpus' range of sizes (neutral_instruct needs at least 50 examples)."""
FAMILY = "neutral_instruct"
DATASET_SEED = 0


@dataclass(frozen=True)
class Clock:
    """Wall and process-CPU seconds of one measured block."""

    wall_s: float
    cpu_s: float


class _Timer:
    def __enter__(self) -> "_Timer":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.clock = Clock(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def nearest(value: float, choices: Sequence[float]) -> float:
    """The choice closest to value (ties: the smaller), so a median lands on a value the corpus uses."""
    return min(sorted(choices), key=lambda c: abs(c - value))


def median_recipe(recipes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Median steps, batch size (snapped to a used value) and per-method median lr and LoRA rank of a corpus."""
    if not recipes:
        raise ValueError("no recipes to take a median of")
    batches = [float(r["batch_size"]) for r in recipes]
    ranks = [float(r["lora_rank"]) for r in recipes if r["method"] == "lora" and r.get("lora_rank")]
    by_method = {m: [float(r["learning_rate"]) for r in recipes if r["method"] == m] for m in ("full", "lora")}
    return {
        "steps": int(round(statistics.median(float(r["steps"]) for r in recipes))),
        "batch_size": int(nearest(statistics.median(batches), batches)),
        "learning_rate": {m: statistics.median(v) for m, v in by_method.items() if v},
        "lora_rank": int(nearest(statistics.median(ranks), ranks)) if ranks else 8,
        "method_share": {m: len(v) / len(recipes) for m, v in by_method.items()},
        "min_steps": int(min(r["steps"] for r in recipes)), "max_steps": int(max(r["steps"] for r in recipes)),
        "n_runs": len(recipes),
    }


def ratio(featurize_s: float, finetune_s: float) -> float | None:
    return featurize_s / finetune_s if finetune_s > 0 else None


def median_or_none(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(kept) if kept else None


# ----- torch side ---------------------------------------------------------------------------------------------------

def make_recipe(method: str, steps: int, batch_size: int, learning_rate: float, lora_rank: int) -> Any:
    from experiments.harness import make_recipe as harness_recipe

    return harness_recipe(method, learning_rate, steps=steps, batch_size=batch_size,  # type: ignore[arg-type]
                          lora_rank=lora_rank if method == "lora" else None)


def dataset(size: int) -> list[Mapping[str, Any]]:
    from experiments.corpus_builder.execute import make_gen_context
    from experiments.lab.datasets import default_registry

    return [e.record for e in default_registry().generate(FAMILY, {"size": size}, DATASET_SEED, make_gen_context(None))]


def finetune_only(loaded: Any, records: Sequence[Mapping[str, Any]], recipe: Any, harness: Any) -> tuple[float, Clock]:
    """The harness's training loop with measurement switched off: (seconds over optimizer steps, whole call)."""
    from experiments.harness.data import TrainingData, split_heldout
    from experiments.harness.hardware import torch_threads
    from experiments.harness.runner import _Run
    from featurizers.features.encoding import TrainingEncoder

    class _TrainOnly(_Run):
        def measure(self, model: Any) -> dict[str, float]:  # no probe evaluation: fine-tune compute only
            return {}

    # measure() is overridden, so no probe evaluator is needed (newer harnesses take one)
    extra = {"evaluator": None} if "evaluator" in inspect.signature(_Run.__init__).parameters else {}

    with _Timer() as timer:
        data = TrainingData.from_examples(records)
        split = split_heldout(data, harness.heldout)
        encoder = TrainingEncoder(loaded.tokenizer, recipe.max_seq_len)
        train_set = [encoder.encode(data.records[i]) for i in split.train]
        run = _TrainOnly(loaded, recipe, harness, train_set, [], **extra)
        with torch_threads(harness.torch_threads):
            run.train({})
    return run.finetune_s, timer.clock


class ModelBench:
    """One loaded model, one Featurizer per parameter space (the probe bundle is the one-off cost)."""

    def __init__(self, spec: str, torch_threads: int) -> None:
        from experiments.harness import HarnessConfig
        from featurizers.loading import load_causal_lm

        with _Timer() as timer:
            self.loaded = load_causal_lm(spec, device="cpu")
        self.spec, self.load = spec, timer.clock
        self.harness = HarnessConfig(checkpoint_fractions=(1.0,), torch_threads=torch_threads)
        self.featurizers: dict[str, Any] = {}
        self.one_off: dict[str, dict[str, Any]] = {}

    def featurizer(self, recipe: Any) -> Any:
        """The method's Featurizer, its probe bundle computed (and timed) on first use."""
        from featurizers.features.featurizer import Featurizer
        from featurizers.features.param_space import param_space_key

        key = str(sorted(param_space_key(recipe, _default_config()).items()))
        if key not in self.featurizers:
            featurizer = Featurizer(self.loaded, _default_config())
            print(f"  {self.spec}: probe-gradient bundle for {recipe.method} (one-off)...", file=sys.stderr, flush=True)
            self.one_off[recipe.method] = {"probe_bundle_s": None, "incomplete": True, "started": time.perf_counter()}
            with _Timer() as timer:
                featurizer._probe_bundle(recipe)  # noqa: SLF001 (timed apart: a per-model one-off, then in memory)
            self.featurizers[key] = featurizer
            self.one_off[recipe.method] = {"probe_bundle_s": timer.clock.wall_s, "probe_bundle_cpu_s": timer.clock.cpu_s}
        return self.featurizers[key]

    def featurize(self, records: Sequence[Mapping[str, Any]], recipe: Any) -> Clock:
        featurizer = self.featurizer(recipe)
        with _Timer() as timer:
            featurizer.featurize(records, recipe)
        return timer.clock

    def row(self, size: int, records: Sequence[Mapping[str, Any]], recipe: Any, featurized: Clock | None,
            role: str) -> tuple[dict[str, Any], Clock]:
        print(f"  {self.spec} {size} examples {recipe.method} {recipe.steps} steps x {recipe.batch_size}: featurize...",
              file=sys.stderr, flush=True)
        clock = featurized or self.featurize(records, recipe)
        print(f"    featurize {clock.wall_s:.1f} s; fine-tune...", file=sys.stderr, flush=True)
        finetune_s, whole = finetune_only(self.loaded, records, recipe, self.harness)
        print(f"    fine-tune {finetune_s:.1f} s (ratio {clock.wall_s / finetune_s:.3f})", file=sys.stderr, flush=True)
        return {
            "model": self.spec, "dataset": f"{FAMILY}(size={size}, seed={DATASET_SEED})", "examples": size,
            "role": role, "method": recipe.method, "steps": recipe.steps, "batch_size": recipe.batch_size,
            "learning_rate": recipe.learning_rate, "lora_rank": recipe.lora_rank,
            "featurize_s": clock.wall_s, "featurize_cpu_s": clock.cpu_s, "featurize_reused": featurized is not None,
            "finetune_s": finetune_s, "finetune_call_s": whole.wall_s, "finetune_cpu_s": whole.cpu_s,
            "ratio": ratio(clock.wall_s, finetune_s), "cpu_ratio": ratio(clock.cpu_s, whole.cpu_s),
        }, clock


def _default_config() -> Any:
    from featurizers.features.config import FeaturizerConfig

    return FeaturizerConfig()


# ----- the two parts ------------------------------------------------------------------------------------------------

def lab_part(corpus: Path, torch_threads: int, sizes: Sequence[int], sweep_size: int) -> dict[str, Any]:
    from surrogate.runs import RunStore

    median = median_recipe([r.recipe.model_dump() for r in RunStore(corpus).read()])
    bench = ModelBench("lab", torch_threads)
    rows: list[dict[str, Any]] = []
    featurized: dict[tuple[int, str], Clock] = {}
    for size in sizes:
        records = dataset(size)
        for method in ("full", "lora"):
            recipe = make_recipe(method, median["steps"], median["batch_size"], median["learning_rate"][method],
                                 median["lora_rank"])
            row, clock = bench.row(size, records, recipe, None, "median_recipe")
            rows.append(row)
            featurized[(size, method)] = clock
    records = dataset(sweep_size)
    for steps in (median["min_steps"], median["max_steps"]):
        for method in ("full", "lora"):
            recipe = make_recipe(method, steps, median["batch_size"], median["learning_rate"][method], median["lora_rank"])
            row, _ = bench.row(sweep_size, records, recipe, featurized.get((sweep_size, method)), "steps_sweep")
            rows.append(row)
    medians = [r["ratio"] for r in rows if r["role"] == "median_recipe"]
    return {"median_recipe": median, "rows": rows, "median_ratio": median_or_none(medians),
            "one_off": bench.one_off, "load_s": bench.load.wall_s,
            "by_steps": by_steps(rows), "by_examples": by_examples(rows)}


def previous_lab_part(path: Path) -> dict[str, Any]:
    """The lab part of an earlier run of this script (rows and summary), to add SmolLM2 to it."""
    import json

    try:
        earlier = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"--skip-lab needs an earlier result at {path}") from None
    rows = [r for r in earlier.get("rows", []) if r.get("model") == "lab"]
    if not rows or "lab" not in earlier:
        raise SystemExit(f"{path} holds no lab part to keep")
    return {**earlier["lab"], "rows": rows, "median_ratio": earlier["median_ratio_lab"],
            "created_at": earlier.get("lab_measured_at", earlier.get("created_at"))}


class TimeBoxExpired(Exception):
    """Raised by SIGALRM when the SmolLM2 time box runs out, wherever the work is."""


def _expire(signum: int, frame: object) -> None:
    raise TimeBoxExpired


def smollm2_part(corpus: Path, torch_threads: int, sizes: Sequence[int], budget_s: float,
                 on_row: Any) -> dict[str, Any]:
    """The smollm2-v1 corpus' median LoRA recipe on each size, then its shortest and longest
    runs, until the time box expires (SIGALRM interrupts even the probe bundle)."""
    import signal

    from surrogate.runs import RunStore

    median = median_recipe([r.recipe.model_dump() for r in RunStore(corpus).read()])
    lr = median["learning_rate"]["lora"]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    featurized: dict[int, Clock] = {}
    plan = [(size, median["steps"], "median_recipe") for size in sizes]
    sweep_size = sorted(sizes)[len(sizes) // 2]
    plan += [(sweep_size, steps, "steps_sweep") for steps in (median["min_steps"], median["max_steps"])]
    state: dict[str, Any] = {"stage": "loading the model", "bench": None}
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, budget_s)
    try:
        state["bench"] = ModelBench("smollm2-135m-instruct", torch_threads)
        for size, steps, role in plan:
            state["stage"] = f"{size} examples, {steps} steps ({role})"
            recipe = make_recipe("lora", steps, median["batch_size"], lr, median["lora_rank"])
            row, clock = state["bench"].row(size, dataset(size), recipe, featurized.get(size), role)
            featurized.setdefault(size, clock)
            rows.append(row)
            on_row({"rows": rows, "one_off": state["bench"].one_off, "skipped": skipped, "median_recipe": median})
    except TimeBoxExpired:
        bench = state["bench"]
        for entry in (bench.one_off.values() if bench else ()):
            if entry.get("incomplete"):
                entry["unfinished_after_s"] = time.perf_counter() - entry.pop("started")
        done = {(r["examples"], r["steps"]) for r in rows}
        pending = [f"{size} examples, {steps} steps ({role})" for size, steps, role in plan if (size, steps) not in done]
        skipped.extend(f"{p}: time box of {budget_s:.0f} s ran out" for p in pending)
        skipped.insert(0, f"interrupted while: {state['stage']}")
        print(f"  SmolLM2 time box of {budget_s:.0f} s ran out during {state['stage']}", file=sys.stderr, flush=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    bench = state["bench"]
    return {"median_recipe": median, "rows": rows, "one_off": bench.one_off if bench else {},
            "load_s": bench.load.wall_s if bench else None, "skipped": skipped,
            "median_ratio": median_or_none([r["ratio"] for r in rows if r["role"] == "median_recipe"]),
            "by_steps": by_steps(rows), "by_examples": by_examples(rows), "budget_s": budget_s,
            "elapsed_s": time.perf_counter() - started}


def by_steps(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Median ratio per (method, steps): the ratio falls as runs get longer (featurization does not grow with steps)."""
    keys = sorted({(r["method"], r["steps"]) for r in rows})
    return [{"method": m, "steps": s, "n": len(sel), "median_ratio": median_or_none([r["ratio"] for r in sel])}
            for m, s in keys for sel in [[r for r in rows if r["method"] == m and r["steps"] == s]]]


def by_examples(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Median featurization seconds per (method, dataset size): growth stops once the gradient sample is full."""
    keys = sorted({(r["method"], r["examples"]) for r in rows if not r["featurize_reused"]})
    return [{"method": m, "examples": e, "featurize_s": median_or_none([r["featurize_s"] for r in sel])}
            for m, e in keys for sel in [[r for r in rows if r["method"] == m and r["examples"] == e
                                          and not r["featurize_reused"]]]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.featurize_cost", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1", help="corpus whose median recipe is used")
    parser.add_argument("--out", default="experiments/results/featurize_cost.json")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--lab-sizes", type=int, nargs="+", default=list(LAB_SIZES))
    parser.add_argument("--sweep-size", type=int, default=500, help="lab dataset size of the steps sweep")
    parser.add_argument("--smollm2-corpus", default="experiments/corpus/smollm2-v1",
                        help="corpus whose median SmolLM2 recipe is used")
    parser.add_argument("--smollm2-sizes", type=int, nargs="+", default=list(SMOLLM2_SIZES))
    parser.add_argument("--smollm2-budget-s", type=float, default=3600.0, help="time box of the SmolLM2 part")
    parser.add_argument("--skip-smollm2", action="store_true")
    parser.add_argument("--skip-lab", action="store_true",
                        help="keep the lab part of an existing --out file and measure SmolLM2 only")
    args = parser.parse_args(argv)
    if args.sweep_size not in args.lab_sizes:
        parser.error(f"--sweep-size {args.sweep_size} must be one of --lab-sizes {args.lab_sizes}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    import torch

    torch.set_num_threads(args.torch_threads)
    from experiments.harness.hardware import cpu_model
    from featurizers import FEATURIZER_VERSION

    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.featurize_cost", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"platform": platform.platform(), "cpu": cpu_model(), "torch_threads": args.torch_threads},
        "featurizer_version": FEATURIZER_VERSION, "featurizer_config": _default_config().result_material(),
        "definitions": {
            "featurize_s": "wall seconds of Featurizer.featurize on a cold cache, after the model's probe bundle "
                           "for that parameter space (one_off.*.probe_bundle_s) was computed once",
            "finetune_s": "wall seconds over the harness's optimizer steps (Timing.finetune_s), no probe evaluation",
            "ratio": "featurize_s / finetune_s", "cpu_ratio": "the same in process CPU seconds (shared machine)",
            "featurize_reused": "steps-sweep rows reuse the featurization of the same dataset and method "
                                "(features do not depend on steps beyond arithmetic)",
        },
        "median_ratio_lab": None, "median_ratio_smollm2": None, "rows": [],
    }
    if args.skip_lab:
        lab = previous_lab_part(Path(args.out))
        report["lab_measured_at"] = lab["created_at"]
    else:
        lab = lab_part(Path(args.corpus), args.torch_threads, args.lab_sizes, args.sweep_size)
    report.update(median_ratio_lab=lab["median_ratio"], rows=list(lab["rows"]),
                  lab={k: v for k, v in lab.items() if k not in ("rows", "created_at")})
    write_json_atomic(args.out, report)
    print(f"lab median ratio {lab['median_ratio']:.4f}; wrote {args.out}", file=sys.stderr, flush=True)
    if not args.skip_smollm2:
        def on_row(partial: dict[str, Any]) -> None:
            report.update(rows=[*lab["rows"], *partial["rows"]], smollm2={**partial, "complete": False})
            write_json_atomic(args.out, report)

        smol = smollm2_part(Path(args.smollm2_corpus), args.torch_threads, args.smollm2_sizes, args.smollm2_budget_s,
                            on_row)
        report.update(median_ratio_smollm2=smol["median_ratio"], rows=[*lab["rows"], *smol["rows"]],
                      smollm2={**{k: v for k, v in smol.items() if k != "rows"}, "complete": True})
        write_json_atomic(args.out, report)
    for r in report["rows"]:
        print(f"{r['model']:>22} {r['examples']:>5} ex {r['method']:>4} {r['steps']:>3}x{r['batch_size']:<2} "
              f"featurize {r['featurize_s']:7.2f} s  fine-tune {r['finetune_s']:7.2f} s  ratio {r['ratio']:.3f}")
    print(f"median ratio lab {report['median_ratio_lab']}, smollm2 {report['median_ratio_smollm2']}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
