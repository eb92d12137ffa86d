"""What the Python client hands back: plain frozen dataclasses built from reply protos.

Callers of ``ForecastClient`` never touch protobuf types, and ``to_dict``
gives the JSON the ``tunecast forecast --json`` command prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from server.generated.tunecast.v1 import forecast_pb2, forecaster_pb2


@dataclass(frozen=True)
class IntervalResult:
    level: float
    lower: float
    upper: float


@dataclass(frozen=True)
class TargetResult:
    """Forecast change of one outcome at one checkpoint (fraction of the run)."""

    outcome: str
    checkpoint: float
    point: float
    intervals: tuple[IntervalResult, ...]

    def interval(self, level: float) -> IntervalResult:
        for interval in self.intervals:
            if abs(interval.level - level) < 1e-12:
                return interval
        raise KeyError(f"level {level} was not requested; got {[i.level for i in self.intervals]}")


@dataclass(frozen=True)
class OODResult:
    flagged: bool
    out_of_range: tuple[str, ...]
    unexpectedly_missing: tuple[str, ...]
    distance: float
    distance_flagged: bool


@dataclass(frozen=True)
class CandidateResult:
    candidate_id: str
    index: int
    targets: tuple[TargetResult, ...]
    ood: OODResult
    observed: bool
    featurized: bool
    cache_hit: bool
    model_version: str
    featurizer_version: str

    def target(self, outcome: str, checkpoint: float) -> TargetResult:
        for target in self.targets:
            if target.outcome == outcome and abs(target.checkpoint - checkpoint) < 1e-12:
                return target
        raise KeyError(f"no forecast of {outcome!r} at checkpoint {checkpoint}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidate_result(
    pb: forecast_pb2.CandidateForecast, stamp: forecast_pb2.ModelStamp, levels: Sequence[float]
) -> CandidateResult:
    """Pair each target's lower/upper lists with the reply's levels."""
    return CandidateResult(
        candidate_id=pb.candidate_id,
        index=pb.index,
        targets=tuple(
            TargetResult(
                outcome=t.outcome, checkpoint=t.checkpoint, point=t.point,
                intervals=tuple(IntervalResult(lv, lo, hi) for lv, lo, hi in zip(levels, t.lower, t.upper)),
            )
            for t in pb.targets
        ),
        ood=OODResult(
            flagged=pb.ood.flagged, out_of_range=tuple(pb.ood.out_of_range),
            unexpectedly_missing=tuple(pb.ood.unexpectedly_missing), distance=pb.ood.distance,
            distance_flagged=pb.ood.distance_flagged,
        ),
        observed=pb.observed,
        featurized=pb.featurized,
        cache_hit=pb.cache_hit,
        model_version=stamp.model_version,
        featurizer_version=stamp.featurizer_version,
    )


def batch_results(reply: forecaster_pb2.ForecastBatchResponse) -> list[CandidateResult]:
    levels = list(reply.levels)
    return [candidate_result(pb, reply.model, levels) for pb in reply.forecasts]


@dataclass(frozen=True)
class MatrixResult:
    """Dense forecasts of a FeatureMatrix, rows in request order (arrays, for batch scoring).

    ``point`` is (rows, targets); ``lower``/``upper`` are (levels, rows, targets); column t
    is ``targets[t]`` = (outcome, checkpoint). ``ood`` holds the details of flagged rows.
    """

    model_version: str
    featurizer_version: str
    levels: tuple[float, ...]
    targets: tuple[tuple[str, float], ...]
    candidate_ids: tuple[str, ...]
    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    observed: np.ndarray
    ood_flagged: np.ndarray
    ood_distance: np.ndarray
    ood: dict[int, OODResult]

    def column(self, outcome: str, checkpoint: float) -> int:
        for t, (name, at) in enumerate(self.targets):
            if name == outcome and abs(at - checkpoint) < 1e-12:
                return t
        raise KeyError(f"no forecast of {outcome!r} at checkpoint {checkpoint}")

    def level(self, level: float) -> int:
        for i, served in enumerate(self.levels):
            if abs(served - level) < 1e-12:
                return i
        raise KeyError(f"level {level} was not served; got {list(self.levels)}")


def matrix_result(replies: Sequence[forecaster_pb2.ForecastBatchResponse]) -> MatrixResult:
    """One MatrixResult from a ForecastBatch reply or the chunks of a ForecastStream, in order."""
    if not replies:
        raise ValueError("no replies to assemble")
    first = replies[0]
    head = first.matrix
    targets = tuple(zip(head.target_outcomes, head.target_checkpoints))
    n_targets, n_levels = len(targets), len(first.levels)
    points, lowers, uppers, observed, flagged, distance, ids = [], [], [], [], [], [], []
    ood: dict[int, OODResult] = {}
    expected_offset = 0
    for reply in replies:
        m = reply.matrix
        if reply.model.model_version != first.model.model_version:
            raise ValueError("chunks answered by different model versions")
        if m.row_offset != expected_offset:
            raise ValueError(f"chunk starts at row {m.row_offset}, expected {expected_offset}")
        rows = m.rows
        points.append(np.asarray(m.point, dtype=np.float64).reshape(rows, n_targets))
        lowers.append(np.asarray(m.lower, dtype=np.float64).reshape(n_levels, rows, n_targets))
        uppers.append(np.asarray(m.upper, dtype=np.float64).reshape(n_levels, rows, n_targets))
        observed.append(np.asarray(m.observed, dtype=bool))
        flagged.append(np.asarray(m.ood_flagged, dtype=bool))
        distance.append(np.asarray(m.ood_distance, dtype=np.float64))
        ids.extend(m.candidate_ids)
        for row, pb in zip(m.ood_rows, m.ood):
            ood[int(row)] = OODResult(
                flagged=pb.flagged, out_of_range=tuple(pb.out_of_range),
                unexpectedly_missing=tuple(pb.unexpectedly_missing), distance=pb.distance,
                distance_flagged=pb.distance_flagged,
            )
        expected_offset += rows
    return MatrixResult(
        model_version=first.model.model_version,
        featurizer_version=first.model.featurizer_version,
        levels=tuple(first.levels),
        targets=targets,
        candidate_ids=tuple(ids),
        point=np.concatenate(points),
        lower=np.concatenate(lowers, axis=1),
        upper=np.concatenate(uppers, axis=1),
        observed=np.concatenate(observed),
        ood_flagged=np.concatenate(flagged),
        ood_distance=np.concatenate(distance),
        ood=ood,
    )
