"""`--engine ray`: one fine-tune per Ray task, a GPU per task when the cluster has GPUs.

Each worker actor loads the base model once and then runs one config per call
(an actor task); the driver appends every record to the store as it arrives,
so a lost driver costs at most the runs in flight. Configs and records cross
the wire as JSON text, validated on both sides.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from experiments.corpus_builder.execute import RunExecutor, make_gen_context
from experiments.corpus_builder.sampler import RunConfig
from experiments.harness import HarnessConfig, RunFailedError
from featurizers.loading import load_causal_lm
from surrogate.runs import RunRecord

if TYPE_CHECKING:
    from experiments.corpus_builder.builder import BuildConfig, PlannedRun

logger = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
CPUS_PER_CPU_WORKER = 1
GPUS_PER_GPU_WORKER = 1


class RayUnavailableError(ValueError):
    """engine 'ray' was asked for but ray is not installed (a ValueError: the CLI reports it as a usage error)."""


class RunWorker:
    """Runs inside a Ray worker process; wrapped with ray.remote by the driver at run time."""

    def __init__(self, base_spec: str, base_weights_hash: str, harness_json: str, sources_dir: str | None,
                 niceness: int | None = None) -> None:
        if niceness is not None:
            match_niceness(niceness)
        harness = HarnessConfig.model_validate_json(harness_json)
        base = load_causal_lm(base_spec, device=harness.device)
        if base.weights_hash() != base_weights_hash:
            raise ValueError(
                f"base {base_spec!r} on this Ray node has weights hash {base.weights_hash()[:12]}, the driver's has "
                f"{base_weights_hash[:12]}; every node must see the same base model files"
            )
        self._executor = RunExecutor(base=base, harness=harness, gen_context=make_gen_context(sources_dir))

    def run(self, run_id: str, config_json: str) -> str:
        config = RunConfig.model_validate_json(config_json)
        try:
            record = self._executor.run(config, run_id)
        except RunFailedError as exc:
            return json.dumps({"run_id": run_id, "status": STATUS_FAILED, "error": str(exc)})
        return json.dumps({"run_id": run_id, "status": STATUS_OK, "record": record.model_dump_json()})


def match_niceness(niceness: int) -> None:
    """Run at the driver's priority: Ray starts workers at nice 15 so its own daemons stay
    responsive, but here the workers *are* the job, and on a shared machine a nice-15
    fine-tune gets a sliver of a core. Raising priority needs privileges; without them
    the worker keeps Ray's niceness."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except OSError as exc:
        logger.info("worker stays at nice %d (could not set %d: %s)", os.getpriority(os.PRIO_PROCESS, 0), niceness, exc)


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError("engine 'ray' needs the ray package: `pip install ray`, or use --engine local") from exc
    return ray


def run_on_ray(
    build: "BuildConfig",
    pending: list["PlannedRun"],
    on_record: Callable[[RunRecord], None],
    on_failure: Callable[["PlannedRun", str], None],
    *,
    ray_address: str | None = None,
    max_workers: int | None = None,
) -> None:
    """Run `pending` on Ray (an existing cluster at `ray_address`, else a local one started here)."""
    if not pending:
        return
    ray = _import_ray()
    from ray.util import ActorPool

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=ray_address, include_dashboard=False, logging_level=logging.WARNING)
    try:
        options, slots = _worker_options(ray.cluster_resources())
        n_workers = max(1, min(slots, len(pending), max_workers or slots))
        logger.info("running %d runs on %d Ray workers (%s each)", len(pending), n_workers, options)
        worker_cls = ray.remote(RunWorker)
        args = (build.base_spec, build.base_weights_hash, build.harness.model_dump_json(), build.sources_dir,
                os.getpriority(os.PRIO_PROCESS, 0) if ray_address is None else None)
        pool = ActorPool([worker_cls.options(**options).remote(*args) for _ in range(n_workers)])
        by_id = {run.run_id: run for run in pending}
        for run in pending:
            pool.submit(lambda actor, r: actor.run.remote(r.run_id, r.config.model_dump_json()), run)
        while pool.has_next():
            reply = json.loads(pool.get_next_unordered())
            run = by_id[reply["run_id"]]
            if reply["status"] == STATUS_OK:
                on_record(RunRecord.model_validate_json(reply["record"]))
            else:
                logger.warning("run %s failed: %s", run.run_id, reply["error"])
                on_failure(run, reply["error"])
    finally:
        if started_here:
            ray.shutdown()


def _worker_options(resources: dict[str, float]) -> tuple[dict[str, float], int]:
    """One GPU per worker when the cluster has GPUs, else one CPU; and how many fit."""
    gpus = int(resources.get("GPU", 0))
    if gpus >= GPUS_PER_GPU_WORKER:
        return {"num_gpus": GPUS_PER_GPU_WORKER, "num_cpus": CPUS_PER_CPU_WORKER}, gpus // GPUS_PER_GPU_WORKER
    cpus = int(resources.get("CPU", CPUS_PER_CPU_WORKER))
    return {"num_cpus": CPUS_PER_CPU_WORKER}, max(1, cpus // CPUS_PER_CPU_WORKER)
