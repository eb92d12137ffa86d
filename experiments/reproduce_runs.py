"""Re-run a seeded sample of a corpus's recorded runs and compare their end-of-run outcomes.

    python -m experiments.reproduce_runs --corpus DIR --n 3 --seed 0 \\
        --out experiments/results/corpus/NAME/reproduction.json [--torch-threads 1]

The corpus is only worth learning from if its runs are what their configs say:
each sampled run is re-planned from the build-*.json the builder saved beside
the store (same base, same harness, same sampled config and run id), executed by
the builder's own RunExecutor, and its end deltas compared with the record's
under the tolerances of `experiments.corpus_analysis.reproduction`.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from experiments.corpus_analysis.reproduction import (
    RATIONALE,
    TOLERANCES,
    ReproductionReport,
    RunComparison,
    compare_runs,
    percentages_consistent,
)
from experiments.corpus_builder.builder import BUILD_CONFIG_PREFIX, BuildConfig, plan_runs
from experiments.corpus_builder.execute import RunExecutor, make_gen_context
from experiments.corpus_builder.sampler import RunConfig, sample_configs
from experiments.harness import HarnessConfig, RunFailedError
from featurizers.io import write_json_atomic
from featurizers.loading import LoadedModel, load_causal_lm
from featurizers.probes.evaluate import EvaluationConfig
from surrogate.runs import CORE_OUTCOMES, RunRecord, RunStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRecord:
    """A recorded run, the build that planned it, and the exact config it was run from."""

    record: RunRecord
    build: BuildConfig
    build_file: str
    config: RunConfig


def select_run_ids(run_ids: Sequence[str], n: int, seed: int) -> list[str]:
    """n distinct run ids drawn with `seed` from the sorted ids: the sample does not depend on batching."""
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    if n > len(run_ids):
        raise ValueError(f"--n {n} exceeds the {len(run_ids)} run(s) in the corpus")
    return random.Random(seed).sample(sorted(run_ids), n)


def load_builds(corpus: Path) -> list[tuple[str, BuildConfig]]:
    files = sorted(corpus.glob(f"{BUILD_CONFIG_PREFIX}*.json"))
    if not files:
        raise FileNotFoundError(f"{corpus} holds no {BUILD_CONFIG_PREFIX}*.json; only corpora written by "
                                "`tunecast corpus build` record the harness and space their runs need")
    return [(f.name, BuildConfig.model_validate_json(f.read_text(encoding="utf-8"))) for f in files]


def runs_by_id(corpus: Path, run_ids: Sequence[str]) -> dict[str, RunRecord]:
    """The corpus' records by run id, refusing any of ``run_ids`` it does not hold."""
    by_id = {r.run_id: r for r in RunStore(corpus).read()}
    missing = [r for r in run_ids if r not in by_id]
    if missing:
        raise ValueError(f"run(s) {missing} are not in {corpus}")
    return by_id


def plan_records(records: Sequence[RunRecord], builds: Sequence[tuple[str, BuildConfig]]) -> list[PlannedRecord]:
    """Find each record's config by re-planning every saved build; a run no build planned is an error."""
    wanted = {r.run_id: r for r in records}
    found: dict[str, PlannedRecord] = {}
    for name, build in builds:
        for planned in plan_runs(sample_configs(build.n_runs, build.seed, build.space), build.base_weights_hash,
                                 build.harness):
            record = wanted.get(planned.run_id)
            if record is not None and planned.run_id not in found:
                found[planned.run_id] = PlannedRecord(record=record, build=build, build_file=name,
                                                      config=planned.config)
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ValueError(f"run(s) {missing[:5]} are not planned by any build file ({[n for n, _ in builds]}); "
                         "their config and harness cannot be recovered")
    return [found[r.run_id] for r in records]


def count_items(evaluation: EvaluationConfig) -> dict[str, int]:
    """Items per selected probe suite in the evaluated split (what one item's worth is measured in)."""
    from featurizers.probes.registry import default_registry

    registry = default_registry()
    return {name: len(registry.create(name, evaluation.user_files.get(name), evaluation.split).items(evaluation.split))
            for name in registry.resolve(evaluation.suites)}


def _harness(build: BuildConfig, torch_threads: int | None) -> HarnessConfig:
    if torch_threads is None:
        return build.harness
    return HarnessConfig.model_validate({**build.harness.model_dump(), "torch_threads": torch_threads})


def load_base(base: str | LoadedModel | None, build: BuildConfig, device: str | None = None) -> LoadedModel:
    """The build's base model (or ``base``), refused unless its weights are the ones the runs used."""
    loaded = base if isinstance(base, LoadedModel) else load_causal_lm(base or build.base_spec,
                                                                          device=device or build.harness.device)
    if loaded.weights_hash() != build.base_weights_hash:
        raise ValueError(f"base {loaded.spec.raw!r} has weights hash {loaded.weights_hash()[:12]}…, the corpus was "
                         f"built on {build.base_weights_hash[:12]}… ({build.base_spec!r}); pass --base with that model")
    return loaded


def reproduce(corpus: str | Path, n: int, seed: int, *, base: str | LoadedModel | None = None,
              torch_threads: int | None = None) -> ReproductionReport:
    """Re-run n sampled runs of `corpus` and compare; `base` overrides the build's base spec (or passes it loaded)."""
    corpus = Path(corpus)
    store = RunStore(corpus)
    records = store.read()
    if not records:
        raise ValueError(f"{corpus} holds no runs")
    chosen = set(select_run_ids([r.run_id for r in records], n, seed))
    planned = plan_records([r for r in records if r.run_id in chosen], load_builds(corpus))
    keys = {p.build.base_weights_hash for p in planned}
    if len(keys) != 1:
        raise ValueError(f"the sampled runs come from {len(keys)} different base models; reproduce one base at a time")
    loaded = load_base(base, planned[0].build)
    executors: dict[str, RunExecutor] = {}
    comparisons: list[RunComparison] = []
    n_items: dict[str, int] = {}
    for item in planned:
        harness = _harness(item.build, torch_threads)
        key = f"{harness.model_dump_json()}|{item.build.sources_dir}"  # builds that measure alike share step 0
        executor = executors.get(key)
        if executor is None:
            executor = RunExecutor(base=loaded, harness=harness, gen_context=make_gen_context(item.build.sources_dir))
            executors[key] = executor
            executor.base_outcomes()  # measured once, before the clock of any run starts
            n_items.update(count_items(harness.evaluation))
        comparisons.append(_rerun(executor, item, n_items))
        logger.info("%s: %s in %.1f s", item.record.run_id, "pass" if comparisons[-1].passed else "FAIL",
                    comparisons[-1].seconds)
    n_passed = sum(c.passed for c in comparisons)
    return ReproductionReport(
        corpus=str(corpus), corpus_hash=store.store_hash(), n_runs_in_corpus=len(records), n=n, seed=seed,
        base_spec=loaded.spec.raw, base_weights_hash=loaded.weights_hash(),
        torch_threads=torch_threads if torch_threads is not None else planned[0].build.harness.torch_threads,
        build_files=sorted({p.build_file for p in planned}), tolerances=TOLERANCES, n_items=n_items,
        n_items_consistent=percentages_consistent([p.record for p in planned], n_items), rationale=RATIONALE,
        runs=comparisons, passed=n_passed == len(comparisons), n_passed=n_passed,
        n_failed=len(comparisons) - n_passed,
    )


def _rerun(executor: RunExecutor, item: PlannedRecord, n_items: dict[str, int]) -> RunComparison:
    recorded = item.record
    started = time.perf_counter()
    try:
        again = executor.run(item.config, recorded.run_id)
    except RunFailedError as exc:
        return RunComparison(run_id=recorded.run_id, family=recorded.dataset.family, method=recorded.recipe.method,
                             passed=False, seconds=time.perf_counter() - started,
                             recorded_wall_s=recorded.timing.wall_s, error=f"re-run failed: {exc}")
    return compare_runs(recorded, again, list(CORE_OUTCOMES), n_items, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.reproduce_runs", description=__doc__.splitlines()[0]
                                     if __doc__ else None)
    parser.add_argument("--corpus", required=True, help="run-store directory written by `tunecast corpus build`")
    parser.add_argument("--n", type=int, default=3, help="how many recorded runs to re-run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample of runs")
    parser.add_argument("--out", required=True, help="reproduction.json to write (its folder is created)")
    parser.add_argument("--base", default=None, help="base model spec; default: the build's (must hash the same)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch CPU threads; default: the build's harness setting (the same count is safest)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        report = reproduce(args.corpus, args.n, args.seed, base=args.base, torch_threads=args.torch_threads)
    except (ValueError, FileNotFoundError) as exc:
        print(f"reproduce_runs: error: {exc}", file=sys.stderr)
        return 2
    write_json_atomic(args.out, report.model_dump(mode="json"))
    for run in report.runs:
        worst = max(run.outcomes.items(), key=lambda kv: (kv[1].abs_diff or 0.0) / kv[1].tolerance, default=None)
        detail = f"worst {worst[0]} |diff| {worst[1].abs_diff:.3g} (tol {worst[1].tolerance:.3g})" \
            if worst and worst[1].abs_diff is not None else (run.error or "")
        print(f"{run.run_id}: {'pass' if run.passed else 'FAIL'} in {run.seconds:.1f} s; {detail}")
    print(f"{report.n_passed}/{len(report.runs)} reproduced; wrote {args.out}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
