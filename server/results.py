"""What the Python client hands back: plain frozen dataclasses built from reply protos.

Callers of ``ForecastClient`` never touch protobuf types, and ``to_dict``
gives the JSON the ``tunecast forecast --json`` command prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from collections.abc import Sequence
from typing import Any

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
