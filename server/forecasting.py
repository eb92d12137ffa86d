"""The plain functions behind the Forecast RPCs: candidates -> rows -> forecasts.

All of a request runs on one ``ServingModel`` snapshot handed in by the
caller, which is what makes a concurrent reload invisible to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server import feature_decode
from server.config import RequestLimits
from server.deadline import Deadline
from server.errors import ServiceError, failed_precondition, invalid, unimplemented
from server.featurize import (
    Explanation,
    FeatureCache,
    FeaturizationJob,
    Featurizer,
    FeaturizerUnavailable,
    OutcomeExplanation,
    with_observations,
)
from server.generated.tunecast.v1 import candidate_pb2
from server.model_holder import ServingModel
from server.spec import featurization_job
from server.validation import check_candidate_id, feature_row, row_from_features
from surrogate.model import Forecast

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForecastEnv:
    """What the forecast functions need besides the model: limits, roots, featurizer, cache."""

    limits: RequestLimits
    data_roots: tuple[Path, ...]
    featurizer: Featurizer | None
    cache: FeatureCache


@dataclass
class CandidateRows:
    """Validated candidates: a row per candidate; spec candidates are filled in by ``featurize_rows``."""

    ids: list[str]
    rows: np.ndarray
    jobs: dict[int, FeaturizationJob]
    featurized: np.ndarray
    cache_hit: np.ndarray


def _builtin_models(env: ForecastEnv) -> frozenset[str]:
    return env.featurizer.builtin_models if env.featurizer is not None else frozenset()


def spec_job(spec: candidate_pb2.FineTuneSpec, field: str, env: ForecastEnv) -> FeaturizationJob:
    return featurization_job(
        spec, field, builtin_models=_builtin_models(env), data_roots=env.data_roots, limits=env.limits
    )


def single_field(i: int) -> str:
    """Field name of the candidate of a Forecast request."""
    return "candidate"


def batch_field(i: int) -> str:
    """Field name of candidate ``i`` of a batch or stream request."""
    return f"candidates[{i}]"


def candidate_rows(
    candidates: Sequence[candidate_pb2.Candidate], snapshot: ServingModel, env: ForecastEnv,
    field_of: Callable[[int], str],
) -> CandidateRows:
    """Validate every candidate up front, so a bad one fails the call before any work is done;
    the first bad one, in request order, names the error."""
    n = len(candidates)
    rows = np.empty((n, len(snapshot.feature_index)), dtype=np.float64)
    ids: list[str] = []
    jobs: dict[int, FeaturizationJob] = {}
    limits = env.limits
    kinds = [candidate.WhichOneof("input") for candidate in candidates]
    decoded = _decoded_rows(candidates, kinds, snapshot)
    for i, candidate in enumerate(candidates):
        where = field_of(i)
        ids.append(check_candidate_id(candidate.id, f"{where}.id", limits))
        kind = kinds[i]
        if kind == "features":
            if decoded is not None and decoded[i] is not None:
                rows[i] = decoded[i]
            else:
                rows[i] = feature_row(candidate.features, snapshot, f"{where}.features", limits)
        elif kind == "spec":
            jobs[i] = spec_job(candidate.spec, f"{where}.spec", env)
            rows[i] = np.nan
        else:
            raise invalid(f"{where}.input", "set one of features (a feature vector) or spec (a fine-tune to featurize)")
    featurized = np.zeros(n, dtype=bool)
    featurized[list(jobs)] = True
    return CandidateRows(ids, rows, jobs, featurized, np.zeros(n, dtype=bool))


def _decoded_rows(
    candidates: Sequence[candidate_pb2.Candidate], kinds: Sequence[str | None], snapshot: ServingModel
) -> list[np.ndarray | None] | None:
    """Rows of the feature-vector candidates the compiled decoder accepts (None for the
    others: they go through ``feature_row``), or None when it is not loaded."""
    if not feature_decode.ready():
        return None
    version = snapshot.featurizer_version
    picked = [
        i for i, (candidate, kind) in enumerate(zip(candidates, kinds))
        if kind == "features" and candidate.features.featurizer_version in ("", version)
    ]
    if not picked:
        return None
    result = feature_decode.decode(
        [candidates[i].features.SerializeToString() for i in picked], snapshot.schema.feature_names
    )
    if result is None:
        return None
    rows, accepted = result
    out: list[np.ndarray | None] = [None] * len(candidates)
    for j in np.flatnonzero(accepted).tolist():
        out[picked[j]] = rows[j]
    return out


def job_features(
    job: FeaturizationJob, snapshot: ServingModel, env: ForecastEnv, deadline: Deadline, field: str
) -> tuple[Mapping[str, float], bool]:
    """(features, cache hit) for a job; featurizes on a miss.

    The vector is featurized and cached without the job's observations, which are filled in
    afterwards (torch-free): a platform re-forecasting mid-run sends new observations every
    few steps for the same dataset, and should not pay for a featurization each time.
    Concurrent misses on one key featurize once (``FeatureCache.get_or_compute``).
    """
    featurizer = env.featurizer
    if featurizer is None:
        raise unimplemented("this server runs without a featurizer; send a feature vector (candidate.features)")
    try:
        version = featurizer.version
        if version != snapshot.featurizer_version:
            raise failed_precondition(
                f"the server's featurizer is {version!r} but model {snapshot.version} was fitted on "
                f"{snapshot.featurizer_version!r}; load a matching model",
                field,
            )
        base = job.without_observations()
        before = f"featurizing {field}"

        def compute() -> Mapping[str, float]:
            deadline.check(before)
            return featurizer.featurize(base, deadline)

        features, hit = env.cache.get_or_compute(base.cache_key(version), compute, deadline, before)
        return with_observations(features, job.observations, job.recipe), hit
    except FeaturizerUnavailable as exc:
        raise unimplemented(str(exc)) from exc
    except ServiceError:
        raise
    except ValueError as exc:
        raise invalid(field, f"cannot be featurized: {exc}") from exc


def featurize_rows(
    batch: CandidateRows, indices: range, snapshot: ServingModel, env: ForecastEnv, deadline: Deadline,
    field_of: Callable[[int], str],
) -> None:
    """Fill the rows of the spec candidates among ``indices`` (cached by content, observations apart)."""
    for i in indices:
        job = batch.jobs.get(i)
        if job is None:
            continue
        where = f"{field_of(i)}.spec"
        features, hit = job_features(job, snapshot, env, deadline, where)
        batch.rows[i] = row_from_features(features, snapshot, where)
        batch.cache_hit[i] = hit


def predict(snapshot: ServingModel, rows: np.ndarray, levels: Sequence[float]) -> Forecast:
    """One model call for all rows; model-side refusals become INVALID_ARGUMENT."""
    try:
        return snapshot.model.predict(rows, levels)
    except ValueError as exc:
        raise invalid("levels", str(exc)) from exc


def explain(
    job: FeaturizationJob, outcomes: Sequence[str], top_k: int, env: ForecastEnv, deadline: Deadline
) -> Explanation:
    """The featurizer's ranking, restricted to ``outcomes`` (all when empty) and ``top_k``."""
    featurizer = env.featurizer
    if featurizer is None:
        raise unimplemented("this server runs without a featurizer, so it cannot explain")
    try:
        deadline.check("explaining")
        result = featurizer.explain(job, top_k, deadline)
    except FeaturizerUnavailable as exc:
        raise unimplemented(str(exc)) from exc
    except ServiceError:
        raise
    except ValueError as exc:
        raise invalid("spec", f"cannot be explained: {exc}") from exc
    by_name = {o.outcome: o for o in result.outcomes}
    for i, name in enumerate(outcomes):
        if name not in by_name:
            raise invalid(f"outcomes[{i}]", f"{name[:80]!r} is not explained by the featurizer; known: {sorted(by_name)}")
    chosen = [by_name[name] for name in dict.fromkeys(outcomes)] if outcomes else list(result.outcomes)
    return Explanation(
        outcomes=tuple(
            OutcomeExplanation(o.outcome, o.harmful_direction, tuple(sorted(o.examples, key=lambda e: -e.score)[:top_k]))
            for o in chosen
        ),
        n_scored=result.n_scored,
        n_examples=result.n_examples,
    )
