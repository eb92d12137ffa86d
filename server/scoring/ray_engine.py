"""``--engine ray``: candidates spread over Ray actors, each loading the base model once.

The driver reads each candidate's files (so workers need not see them) and keeps at most
``IN_FLIGHT_PER_WORKER`` candidates per worker queued, so memory stays bounded on large
batches. Workers load the meta-model from its directory and share the feature cache
directory, so both must be visible on every node (true on a local cluster). Candidates and
results cross the wire as JSON validated on both sides; a worker's ``CandidateResult`` is
the one the local engine would produce for the same candidate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from server.scoring.candidates import (
    Candidate,
    CandidateSpec,
    load_candidate,
    skipped_for,
)
from server.scoring.local_engine import (
    EngineOutput,
    SkipReporter,
    log_skip,
    progress_bar,
    scoring_failed,
)
from server.scoring.results import CandidateResult, SkippedCandidate
from server.scoring.scorer import ScoreSettings, build_scorer
from server.scoring.sources import SourceError

logger = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER: Final[int] = 2
STATUS_OK: Final[str] = "ok"
STATUS_FAILED: Final[str] = "failed"


class RayUnavailableError(ValueError):
    """``--engine ray`` without the ray package (a ValueError: the CLI reports it as a usage error)."""


class WorkerSetup(BaseModel):
    """Everything a worker needs to build the same scorer as the local engine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_model: str
    device: str
    featurizer_config: dict[str, Any]
    meta_model_dir: str
    recipe: dict[str, Any]
    settings: ScoreSettings
    coverage: dict[str, float]
    cache_dir: str


class ScoringWorker:
    """Runs inside a Ray worker process; wrapped with ``ray.remote`` by the driver at run time."""

    def __init__(self, setup_json: str) -> None:
        from featurizers.loading import load_causal_lm
        from surrogate.model import ForecastModel
        from surrogate.runs import Recipe

        setup = WorkerSetup.model_validate_json(setup_json)
        loaded = load_causal_lm(setup.base_model, device=setup.device)
        self._scorer = build_scorer(loaded, setup.featurizer_config, setup.device, setup.cache_dir,
                                    ForecastModel.load(setup.meta_model_dir), Recipe.model_validate(setup.recipe),
                                    setup.settings, setup.coverage)

    def weights_hash(self) -> str:
        return self._scorer.featurizer.loaded.weights_hash()

    def score(self, candidate_json: str) -> str:
        candidate = Candidate.model_validate_json(candidate_json)
        try:
            result = self._scorer.score(candidate)
        except ValueError as exc:
            return json.dumps({"candidate_id": candidate.candidate_id, "status": STATUS_FAILED, "error": str(exc)})
        return json.dumps({"candidate_id": candidate.candidate_id, "status": STATUS_OK,
                           "result": result.model_dump_json()})


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(
            "--engine ray needs the ray package: `pip install ray`, or use --engine local") from exc
    return ray


def worker_options(resources: dict[str, float]) -> tuple[dict[str, float], int]:
    """One GPU per worker when the cluster has GPUs, else one CPU; and how many workers fit."""
    gpus = int(resources.get("GPU", 0))
    if gpus >= 1:
        return {"num_gpus": 1, "num_cpus": 1}, gpus
    return {"num_cpus": 1}, max(1, int(resources.get("CPU", 1)))


def run_on_ray(specs: Sequence[CandidateSpec], setup: WorkerSetup, *, ray_address: str | None,
               max_workers: int | None, progress: bool, on_skip: SkipReporter = log_skip) -> EngineOutput:
    """Score ``specs`` on an existing Ray session, the cluster at ``ray_address``, or a local one started here."""
    out = EngineOutput()
    if not specs:
        return out
    ray = import_ray()
    from ray.util import ActorPool

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=ray_address, include_dashboard=False, logging_level=logging.WARNING)
    actors: list[Any] = []
    try:
        options, slots = worker_options(ray.cluster_resources())
        n_workers = max(1, min(slots, len(specs), max_workers or slots))
        logger.info("scoring %d candidates on %d Ray workers (%s each)", len(specs), n_workers, options)
        worker_cls = ray.remote(ScoringWorker)
        actors = [worker_cls.options(**options).remote(setup.model_dump_json()) for _ in range(n_workers)]
        hashes = set(ray.get([a.weights_hash.remote() for a in actors]))
        if len(hashes) != 1:
            raise ValueError(f"Ray workers loaded {setup.base_model!r} with different weights ({sorted(hashes)}); "
                             "every node must see the same base model files")
        out.weights_hash = hashes.pop()
        _drive(ActorPool(actors), specs, n_workers, out, progress, on_skip)
    finally:
        for actor in actors:  # free the workers (and their base models) on a cluster that outlives the batch
            ray.kill(actor)
        if started_here:
            ray.shutdown()
    return out


def _drive(pool: Any, specs: Sequence[CandidateSpec], n_workers: int, out: EngineOutput, progress: bool,
           on_skip: SkipReporter) -> None:
    by_id = {spec.candidate_id: spec for spec in specs}
    pending = iter(specs)
    with progress_bar(len(specs), progress) as bar:

        def skip(skipped: SkippedCandidate) -> None:
            out.skipped.append(skipped)
            on_skip(skipped)
            bar.update(1)

        def submit_next() -> bool:
            for spec in pending:
                try:
                    candidate = load_candidate(spec)
                except SourceError as exc:
                    skip(skipped_for(spec, exc))
                    continue
                pool.submit(lambda actor, text: actor.score.remote(text), candidate.model_dump_json())
                return True
            return False

        for _ in range(IN_FLIGHT_PER_WORKER * n_workers):
            if not submit_next():
                break
        while pool.has_next():
            reply = json.loads(pool.get_next_unordered())
            spec = by_id[reply["candidate_id"]]
            if reply["status"] == STATUS_OK:
                out.results.append(CandidateResult.model_validate_json(reply["result"]))
                bar.update(1)
            else:
                skip(scoring_failed(spec, reply["error"]))
            submit_next()
