"""User thresholds on forecast changes, and the forecasts that cross them.

A threshold bounds the change (fine-tuned minus base) of one outcome, in that
outcome's own units. Its sign says which way is harmful: a negative limit guards
against a drop (``{"safety.refusal_rate": -10.0}``: trip when the refusal rate
could fall by more than 10 points), a positive one against a rise
(``{"forgetting.ref_loss": 0.5}``). The value compared is the *harm-side bound*
of the interval at the requested level (the lower bound for a drop, the upper
bound for a rise), so a threshold trips as soon as the harm is plausible, not
only when it is expected. Outcomes where both ways can harm (``bias.gender_skew``)
take one threshold per direction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from server.results import CandidateResult, TargetResult
from surrogate.runs.outcomes import check_outcome_name

Direction = Literal["up", "down"]
DIRECTIONS: Final[tuple[str, ...]] = ("up", "down")
CHECKPOINT_TOLERANCE: Final[float] = 1e-9


class UnforecastOutcomeError(ValueError):
    """A threshold names an outcome (or checkpoint) the served model does not forecast."""


@dataclass(frozen=True)
class Threshold:
    """Trip when the harm-side bound of ``outcome`` passes ``limit`` in ``direction``.

    ``checkpoint`` (a fraction of the run, e.g. 1.0) restricts the check to one
    point of the forecast trajectory; None checks every checkpoint served.
    """

    outcome: str
    limit: float
    direction: Direction
    checkpoint: float | None = None

    def __post_init__(self) -> None:
        check_outcome_name(self.outcome)
        if not math.isfinite(self.limit):
            raise ValueError(f"threshold {self.outcome!r}: limit {self.limit} must be finite")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"threshold {self.outcome!r}: direction {self.direction!r} must be 'up' or 'down'")
        if self.checkpoint is not None and not 0.0 < self.checkpoint <= 1.0:
            raise ValueError(f"threshold {self.outcome!r}: checkpoint {self.checkpoint} must lie in (0, 1]")

    @classmethod
    def from_limit(cls, outcome: str, limit: float, checkpoint: float | None = None) -> Threshold:
        """The shorthand: a negative limit guards a drop, a positive one a rise."""
        limit = float(limit)
        if limit == 0.0:
            raise ValueError(
                f"threshold {outcome!r}: a limit of 0 has no sign to tell the harmful direction; "
                "use Threshold(outcome, 0.0, direction='up' or 'down')"
            )
        return cls(outcome, limit, "down" if limit < 0 else "up", checkpoint)

    def harm_bound(self, lower: float, upper: float) -> float:
        return lower if self.direction == "down" else upper

    def crossed_by(self, bound: float) -> bool:
        return bound < self.limit if self.direction == "down" else bound > self.limit

    def covers(self, target: TargetResult) -> bool:
        if target.outcome != self.outcome:
            return False
        return self.checkpoint is None or abs(target.checkpoint - self.checkpoint) < CHECKPOINT_TOLERANCE


@dataclass(frozen=True)
class Crossing:
    """One forecast target whose harm-side bound passed a threshold."""

    outcome: str
    checkpoint: float
    level: float
    point: float
    bound: float
    limit: float
    direction: Direction

    def describe(self) -> str:
        side, beyond = ("lower", "below") if self.direction == "down" else ("upper", "above")
        return (
            f"{self.outcome} at {self.checkpoint:g} of the run: {side} bound {self.bound:+.4g} "
            f"({self.level:g} interval, point {self.point:+.4g}) is {beyond} the limit {self.limit:+.4g}"
        )


ThresholdInput = Mapping[str, float] | Iterable[Threshold]


def parse_thresholds(spec: ThresholdInput | None) -> tuple[Threshold, ...]:
    """Thresholds from the mapping shorthand (outcome -> signed limit) or Threshold objects."""
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        return tuple(Threshold.from_limit(outcome, limit) for outcome, limit in spec.items())
    out = []
    for i, item in enumerate(spec):
        if not isinstance(item, Threshold):
            raise TypeError(f"thresholds[{i}] is a {type(item).__name__}; pass Threshold objects or a mapping")
        out.append(item)
    return tuple(out)


def find_crossings(result: CandidateResult, thresholds: Sequence[Threshold], level: float) -> tuple[Crossing, ...]:
    """Every (threshold, target) pair whose harm-side bound at ``level`` passes the limit."""
    crossings: list[Crossing] = []
    for threshold in thresholds:
        targets = [t for t in result.targets if threshold.covers(t)]
        if not targets:
            where = "" if threshold.checkpoint is None else f" at checkpoint {threshold.checkpoint:g}"
            served = sorted({f"{t.outcome}@{t.checkpoint:g}" for t in result.targets})
            raise UnforecastOutcomeError(
                f"threshold on {threshold.outcome!r}{where}: model {result.model_version} does not forecast it; "
                f"it forecasts {served}"
            )
        for target in targets:
            interval = target.interval(level)
            bound = threshold.harm_bound(interval.lower, interval.upper)
            if threshold.crossed_by(bound):
                crossings.append(Crossing(
                    outcome=target.outcome, checkpoint=target.checkpoint, level=level, point=target.point,
                    bound=bound, limit=threshold.limit, direction=threshold.direction,
                ))
    return tuple(crossings)
