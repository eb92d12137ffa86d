"""`build_corpus`: sample run configs, run the ones not yet stored, append each as it finishes.

Crash-safe by construction: every finished run is its own Parquet batch (written
temp + rename by the RunStore), and a restart skips the run ids already stored,
so `kill -9` loses at most the runs in flight.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from experiments.corpus_builder.execute import RunExecutor, make_gen_context
from experiments.corpus_builder.failures import FailureLog
from experiments.corpus_builder.sampler import RunConfig, sample_configs
from experiments.corpus_builder.space import SamplingSpace
from experiments.harness import HarnessConfig, RunFailedError
from featurizers.io import write_json_atomic
from featurizers.loading import LoadedModel, load_causal_lm
from surrogate.runs import RunRecord, RunStore

logger = logging.getLogger(__name__)

Engine = Literal["local", "ray"]
BUILD_CONFIG_PREFIX = "build-"
BUILD_KEY_CHARS = 12


class BuildConfig(BaseModel):
    """Everything a build was asked to do; saved beside the store it filled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_spec: str
    base_name: str
    base_weights_hash: str
    n_runs: int = Field(ge=0)
    seed: int
    space: SamplingSpace
    harness: HarnessConfig
    sources_dir: str | None = None

    def key(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:BUILD_KEY_CHARS]


class BuildSummary(BaseModel):
    """What one call of build_corpus did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned: int
    already_stored: int
    known_failures: int
    completed: int
    failed: int
    out_dir: str


class PlannedRun(BaseModel):
    """A sampled config and the run id it will be stored under."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    config: RunConfig


def plan_runs(configs: list[RunConfig], base_hash: str, harness: HarnessConfig) -> list[PlannedRun]:
    key = harness.measurement_key()
    planned = [PlannedRun(run_id=c.run_id(base_hash, key), config=c) for c in configs]
    seen: set[str] = set()
    unique = []
    for run in planned:
        if run.run_id in seen:
            logger.warning("sampled config for run %s repeats an earlier one; running it once", run.run_id)
            continue
        seen.add(run.run_id)
        unique.append(run)
    return unique


def build_corpus(
    base_spec: str | LoadedModel,
    n_runs: int,
    seed: int,
    out_dir: str | Path,
    engine: Engine = "local",
    ray_address: str | None = None,
    *,
    space: SamplingSpace | None = None,
    harness: HarnessConfig | None = None,
    sources_dir: str | Path | None = None,
    retry_failed: bool = False,
    max_workers: int | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Run the first `n_runs` sampled configs that `out_dir` does not hold yet.

    `base_spec` may be an already loaded model (reused, never modified). Runs that fail
    (diverged) are logged in failed_runs.jsonl and skipped on resume unless `retry_failed`.
    """
    if engine not in ("local", "ray"):
        raise ValueError(f"engine {engine!r} is unknown; use 'local' or 'ray'")
    space = space or SamplingSpace()
    harness = harness or HarnessConfig()
    out = Path(out_dir)
    if isinstance(base_spec, LoadedModel):
        base, spec_text = base_spec, base_spec.spec.raw
    else:
        base, spec_text = load_causal_lm(base_spec, device=_driver_device(engine, harness)), str(base_spec)
    build = BuildConfig(base_spec=spec_text, base_name=base.spec.name, base_weights_hash=base.weights_hash(),
                        n_runs=n_runs, seed=seed, space=space, harness=harness,
                        sources_dir=str(sources_dir) if sources_dir is not None else None)
    planned = plan_runs(sample_configs(n_runs, seed, space), build.base_weights_hash, harness)
    store = RunStore(out)
    stored = set(store.run_ids())
    failures = FailureLog(out)
    failed_before = set() if retry_failed else failures.run_ids()
    pending = [p for p in planned if p.run_id not in stored and p.run_id not in failed_before]
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / f"{BUILD_CONFIG_PREFIX}{build.key()}.json", build.model_dump(mode="json"))
    logger.info("%d planned, %d already stored, %d known failures, %d to run", len(planned),
                len(stored & {p.run_id for p in planned}), len(failed_before & {p.run_id for p in planned}), len(pending))

    counts = {"completed": 0, "failed": 0}
    with tqdm(total=len(pending), desc="corpus runs", unit="run", disable=not progress) as bar:
        def on_record(record: RunRecord) -> None:
            store.append([record])
            counts["completed"] += 1
            bar.update(1)

        def on_failure(run: PlannedRun, message: str) -> None:
            failures.add(run.run_id, message, run.config)
            counts["failed"] += 1
            bar.update(1)
            bar.set_postfix(failed=counts["failed"])

        if engine == "local":
            _run_local(base, harness, sources_dir, pending, on_record, on_failure)
        else:
            from experiments.corpus_builder.ray_engine import run_on_ray

            run_on_ray(build, pending, on_record, on_failure, ray_address=ray_address, max_workers=max_workers)
    return BuildSummary(
        planned=len(planned),
        already_stored=len(stored & {p.run_id for p in planned}),
        known_failures=len(failed_before & {p.run_id for p in planned}),
        completed=counts["completed"],
        failed=counts["failed"],
        out_dir=str(out),
    )


def _driver_device(engine: Engine, harness: HarnessConfig) -> str:
    """With Ray the driver only needs the base's hash and name: keep it off the GPU."""
    return "cpu" if engine == "ray" else harness.device


def _run_local(base: LoadedModel, harness: HarnessConfig, sources_dir: str | Path | None, pending: list[PlannedRun],
               on_record: Callable[[RunRecord], None], on_failure: Callable[[PlannedRun, str], None]) -> None:
    if not pending:
        return
    executor = RunExecutor(base=base, harness=harness, gen_context=make_gen_context(sources_dir))
    for run in pending:
        try:
            record = executor.run(run.config, run.run_id)
        except RunFailedError as exc:
            logger.warning("run %s failed: %s", run.run_id, exc)
            on_failure(run, str(exc))
            continue
        on_record(record)
