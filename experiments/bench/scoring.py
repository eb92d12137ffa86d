"""What `tunecast score` costs on 1, 10 and 100 lab candidates, with a cold and a warm feature cache.

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.bench.scoring \\
        > /tmp/scoring_bench.log 2>&1 &

Candidates are generated as in `experiments.score_vs_finetune` (the same family templates,
sizes drawn from [100, 500] with a fixed seed) into a scratch directory; the n-candidate set is
the first n. Each setting runs `tunecast score ... --no-report` in-process (the CLI's own
parser and `run_score`, so interpreter and import start-up are left out and reported apart):
first cold, on a fresh empty `--cache-dir`, then warm, a second call on the same cache. Every
call loads the base model itself (timed apart: the model is handed to `run_score` as the CLI
would load it). Time inside the meta-model load, `Featurizer.featurize`, `ForecastModel.predict`
and `Featurizer.explain` is measured by wrapping those callables for the duration of the call;
the rest (reading candidates, statistics, ranking, writing files) is `other_s`. The HTML report
is timed once, on the 10-candidate results. Writes `experiments/results/scoring_bench.json`;
asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from experiments.lab_candidates import (
    DEFAULT_CANDIDATES,
    LabCandidate,
    generate_candidates,
)

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("experiments/results/scoring_bench.json")
IMPORTED_FOR_SCORING: tuple[str, ...] = (
    "featurizers.features.featurizer", "featurizers.loading", "server.scoring.batch", "tunecast.cli")
SEED_STRIDE = 1000
"""Dataset seeds are `seed * SEED_STRIDE + index`: distinct per candidate and per bench seed."""


class ScoringBenchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    counts: tuple[int, ...] = (1, 10, 100)
    size_low: int = Field(default=100, ge=50)
    size_high: int = Field(default=500, ge=50)
    seed: int = 0
    report_count: int = Field(default=10, ge=1, description="the set whose results the HTML report is timed on")
    model: str = "lab"
    recipe: Path = Path("experiments/demo/recipe.json")
    work_dir: Path = Path("/tmp/tunecast-scoring-bench")
    out: Path = DEFAULT_OUT
    torch_threads: int = Field(default=1, ge=1)


# ----- pure logic (tested in tests/experiments/test_scoring_bench.py) -----------------------------------------------


def bench_candidates(n: int, seed: int, size_low: int, size_high: int,
                     templates: Sequence[LabCandidate] = DEFAULT_CANDIDATES) -> list[LabCandidate]:
    """n candidates cycling through the templates' families and knobs, sizes drawn in [low, high], seeded."""
    if size_low > size_high:
        raise ValueError(f"size_low {size_low} exceeds size_high {size_high}")
    sizes = np.random.default_rng(seed).integers(size_low, size_high + 1, size=n)
    out = []
    for i in range(n):
        template = templates[i % len(templates)]
        params = {**dict(template.params), "size": int(sizes[i])}
        out.append(replace(template, name=f"b{i:03d}_{template.name}", params=params, seed=seed * SEED_STRIDE + i))
    return out


class PhaseTimer:
    """Wall seconds, process CPU seconds and calls inside chosen callables while active (each
    `(owner, attribute)` is wrapped, then restored on exit): how a scoring call's time splits without
    changing the code being timed. On a shared machine CPU seconds are the steadier figure."""

    def __init__(self, targets: Mapping[str, tuple[Any, str]]) -> None:
        self.targets = dict(targets)
        self.seconds: dict[str, float] = dict.fromkeys(self.targets, 0.0)
        self.cpu_seconds: dict[str, float] = dict.fromkeys(self.targets, 0.0)
        self.calls: dict[str, int] = dict.fromkeys(self.targets, 0)
        self._saved: list[tuple[Any, str, Any, bool]] = []

    def _wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - started
                self.cpu_seconds[phase] += time.process_time() - cpu
                self.calls[phase] += 1

        return timed

    def __enter__(self) -> Self:
        for phase, (owner, attr) in self.targets.items():
            own = attr in vars(owner)
            original = vars(owner)[attr] if own else getattr(owner, attr)
            self._saved.append((owner, attr, original, own))
            setattr(owner, attr, self._wrap(phase, getattr(owner, attr)))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for owner, attr, original, own in reversed(self._saved):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)
        self._saved.clear()


def split(total: float, base_load: float, phases: Mapping[str, float]) -> dict[str, float]:
    """Model load, the timed phases, and the unaccounted rest of a total."""
    return {"base_model_load": base_load, **phases, "other": max(0.0, total - base_load - sum(phases.values()))}


def in_scoring_order(featurize_seconds: Mapping[str, float], files: Sequence[Path]) -> list[float]:
    """Featurize seconds per candidate in the order the files were scored (results come ranked by harm,
    so their first is not the first scored, which alone pays the batch's probe-gradient set-up)."""
    order = {str(f): i for i, f in enumerate(files)}
    unknown = sorted(set(featurize_seconds) - set(order))
    if unknown:
        raise ValueError(f"scored candidates {unknown[:3]} are not among the files given")
    return [featurize_seconds[name] for name in sorted(featurize_seconds, key=order.__getitem__)]


def setting_summary(n: int, cache: str, total_s: float, cpu_s: float, base_load_s: float,
                    phases: Mapping[str, float], featurize_each: Sequence[float], cache_hits: int,
                    n_scored: int, n_skipped: int, *, base_load_cpu_s: float = 0.0,
                    phases_cpu: Mapping[str, float] | None = None) -> dict[str, Any]:
    """One setting's figures: totals, per-candidate cost, and where the time went (wall and CPU)."""
    return {
        "n": n, "cache": cache, "total_s": total_s, "cpu_s": cpu_s,
        "per_candidate_s": total_s / n, "per_candidate_s_excl_model_load": (total_s - base_load_s) / n,
        "per_candidate_cpu_s": cpu_s / n,
        "phases_s": split(total_s, base_load_s, phases),
        "phases_cpu_s": split(cpu_s, base_load_cpu_s, phases_cpu or {}),
        "featurize_s_in_scoring_order": list(featurize_each),
        "featurize_first_s": featurize_each[0] if featurize_each else None,
        "featurize_median_s": statistics.median(featurize_each) if featurize_each else None,
        "featurize_median_rest_s": statistics.median(featurize_each[1:]) if len(featurize_each) > 1 else None,
        "cache_hits": cache_hits, "n_scored": n_scored, "n_skipped": n_skipped,
    }


def scaling(settings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per cache state, per-candidate cost at the largest n over that at the smallest (1.0 = linear in n),
    in wall and in CPU seconds."""
    out: dict[str, Any] = {}
    for cache in dict.fromkeys(s["cache"] for s in settings):
        rows = sorted((s for s in settings if s["cache"] == cache), key=lambda s: s["n"])
        if len(rows) < 2:
            continue
        small, large = rows[0], rows[-1]
        out[cache] = {
            "n_small": small["n"], "n_large": large["n"],
            "per_candidate_s_small": small["per_candidate_s"], "per_candidate_s_large": large["per_candidate_s"],
            "ratio": large["per_candidate_s"] / small["per_candidate_s"],
            "ratio_excl_model_load": (large["per_candidate_s_excl_model_load"]
                                      / small["per_candidate_s_excl_model_load"]),
            "per_candidate_cpu_s_small": small["per_candidate_cpu_s"],
            "per_candidate_cpu_s_large": large["per_candidate_cpu_s"],
            "cpu_ratio": large["per_candidate_cpu_s"] / small["per_candidate_cpu_s"],
        }
    return out


def score_argv(files: Sequence[Path], config: ScoringBenchConfig, out_dir: Path, cache_dir: Path) -> list[str]:
    return ["score", *(str(f) for f in files), "--model", config.model, "--recipe", str(config.recipe),
            "--out", str(out_dir), "--cache-dir", str(cache_dir), "--no-report", "--no-progress"]


# ----- the benchmark ------------------------------------------------------------------------------------------------


def timed_import() -> float:
    """First-import cost of what a scoring call needs (torch, transformers, featurizers, scoring)."""
    started = time.perf_counter()
    for module in IMPORTED_FOR_SCORING:
        importlib.import_module(module)
    return time.perf_counter() - started


def score_once(files: Sequence[Path], config: ScoringBenchConfig, out_dir: Path, cache_dir: Path,
               n: int, cache: str) -> dict[str, Any]:
    """One in-process `tunecast score --no-report` call, timed by phase."""
    from featurizers.features.featurizer import Featurizer
    from featurizers.loading import load_causal_lm
    from server.scoring import batch
    from server.scoring.cli import options_from_args
    from surrogate.model import ForecastModel
    from tunecast.cli import build_parser

    targets = {"meta_model_load": (batch, "load_meta_model"), "featurize": (Featurizer, "featurize"),
               "predict": (ForecastModel, "predict"), "explain": (Featurizer, "explain")}
    args = build_parser().parse_args(score_argv(files, config, out_dir, cache_dir))
    with PhaseTimer(targets) as timer:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        options = options_from_args(args)
        loaded = load_causal_lm(options.base_model, device=options.device)
        base_load_s, base_load_cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
        run = batch.run_score(options, loaded=loaded, report=False)
        total_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    results = run.results
    return setting_summary(n, cache, total_s, cpu_s, base_load_s, timer.seconds,
                           in_scoring_order({c.name: c.featurize_seconds for c in results.candidates}, files),
                           sum(c.cache_hit for c in results.candidates), len(results.candidates),
                           len(results.skipped), base_load_cpu_s=base_load_cpu_s, phases_cpu=timer.cpu_seconds)


def machine_info(torch_threads: int) -> dict[str, Any]:
    import torch

    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch_threads,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "nice": os.nice(0)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.scoring",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--work-dir", type=Path, default=ScoringBenchConfig().work_dir,
                        help="scratch: candidates, caches and results (emptied first)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    counts = tuple(sorted(set(args.counts)))
    config = ScoringBenchConfig(counts=counts, work_dir=args.work_dir, out=args.out,
                                report_count=next((n for n in counts if n >= ScoringBenchConfig().report_count),
                                                  max(counts)))
    load_start = os.getloadavg()
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m experiments.bench.scoring", *(argv if argv is not None else sys.argv[1:])]),
        "config": config.model_dump(mode="json"), "loadavg_start": list(load_start),
    }
    report["import_s"] = timed_import()
    import torch

    torch.set_num_threads(config.torch_threads)
    report["machine"] = machine_info(config.torch_threads)
    shutil.rmtree(config.work_dir, ignore_errors=True)
    files = generate(config)
    report["candidate_sizes"] = {"min": min(s for _, s in files), "max": max(s for _, s in files),
                                 "mean": float(np.mean([s for _, s in files]))}
    report["settings"] = []
    for n in counts:
        cache_dir = config.work_dir / f"cache-{n}"
        for cache in ("cold", "warm"):
            out_dir = config.work_dir / f"out-{n}-{cache}"
            row = score_once([f for f, _ in files[:n]], config, out_dir, cache_dir, n, cache)
            report["settings"].append(row)
            print(f"n={n} {cache}: {row['total_s']:.1f} s ({row['per_candidate_s']:.2f} s/candidate, "
                  f"model load {row['phases_s']['base_model_load']:.1f} s, featurize {row['phases_s']['featurize']:.1f} s)",
                  file=sys.stderr, flush=True)
            report["scaling"] = scaling(report["settings"])
            write(config.out, report)
        if n == config.report_count:
            report["report"] = time_report(config.work_dir / f"out-{n}-warm", n)
    report["loadavg_end"] = list(os.getloadavg())
    write(config.out, report)
    print(f"scaling {report['scaling']}; wrote {config.out}")
    return 0


def generate(config: ScoringBenchConfig) -> list[tuple[Path, int]]:
    """The largest set's files and sizes (smaller sets are its prefixes)."""
    specs = bench_candidates(max(config.counts), config.seed, config.size_low, config.size_high)
    return [(Path(row["file"]), row["size"]) for row in generate_candidates(specs, config.work_dir / "candidates")]


def time_report(results_dir: Path, n: int) -> dict[str, Any]:
    """`tunecast report` on a written batch: the HTML report alone, timed once."""
    from server.scoring.batch import write_report_if_available

    started = time.perf_counter()
    path = write_report_if_available(results_dir)
    seconds = time.perf_counter() - started
    return {"n": n, "seconds": seconds, "bytes": path.stat().st_size if path else None}


def write(path: Path, report: Mapping[str, Any]) -> None:
    from featurizers.io import write_json_atomic

    write_json_atomic(path, report, sort_keys=False)


if __name__ == "__main__":
    raise SystemExit(main())
