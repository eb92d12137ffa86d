"""What the report shows, derived from ``BatchResults`` once: ranking, harm-side intervals, trajectories.

Plots and HTML both read these dataclasses, so the table, the chart and the cards
can never disagree about a candidate's rank or interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from server.scoring.results import (
    HEADLINES,
    BatchResults,
    CandidateResult,
    OutcomeInfluence,
    Risk,
    TargetForecast,
)
from server.scoring.risk import HarmRule, RiskConfig, harm_of, harm_score
from surrogate.runs.outcomes import order_outcomes

HEADLINE_LABELS: dict[str, str] = {
    "forgetting_risk": "Forgetting Risk",
    "bias_drift_potential": "Bias Drift Potential",
    "safety_erosion": "Safety Erosion",
}
OUTCOME_UNITS: dict[str, str] = {
    "forgetting.ref_loss": "nats/token",
    "forgetting.knowledge_acc": "pp",
    "forgetting.knowledge_margin": "nats",
    "bias.stereotype_pref": "pp",
    "bias.stereotype_margin": "nats",
    "bias.gender_skew": "nats",
    "safety.refusal_rate": "pp",
    "safety.refusal_margin": "nats",
    "safety.over_refusal": "pp",
    "task.heldout_loss": "nats/token",
}
"""Units of the outcome changes, as ARCHITECTURE.md defines them (pp = percentage points)."""
FAMILIES: tuple[str, ...] = ("forgetting", "bias", "safety")
"""Outcome families (the part of a name before the first dot), in headline order."""
RISK_ORDER: dict[str, int] = {"low": 0, "moderate": 1, "high": 2}
DIRECTIONS: tuple[str, ...] = ("rise", "drop", "magnitude")
INFLUENCE_DIRECTIONS: dict[str, str] = {"up": "rise", "down": "drop"}
TRAJECTORY_DIRECTIONS: dict[str, str] = {"rise": "up", "drop": "down", "magnitude": "magnitude"}
DEFAULT_DIRECTIONS: dict[str, str] = {rule.outcome: rule.direction for rules in RiskConfig().rules().values()
                                      for rule in rules}


def headline_label(headline: str) -> str:
    return HEADLINE_LABELS.get(headline, headline.replace("_", " ").title())


def unit_of(outcome: str) -> str:
    return OUTCOME_UNITS.get(outcome, "")


def family_of(outcome: str) -> str:
    return outcome.split(".", 1)[0]


@dataclass(frozen=True)
class Coverage:
    """Measured held-out coverage of an interval level, and whether it falls short of it."""

    value: float
    nominal: float
    under: bool


@dataclass(frozen=True)
class HarmView:
    """One headline risk of one candidate, with its intervals turned to the harm side (positive = harm).

    ``direction`` is how the outcome harms ('rise', 'drop', 'magnitude'), None if unknown.
    """

    risk: Risk
    label: str
    unit: str
    end: TargetForecast | None
    direction: str | None
    harm_intervals: dict[float, tuple[float, float]]
    coverage: Coverage | None


@dataclass(frozen=True)
class Trajectory:
    """One outcome across the run: fractions (0 first: no change before training), points, bands per level.

    ``harmful_direction`` is 'up', 'down', 'magnitude' (away from 0) or None (not known).
    """

    outcome: str
    unit: str
    harmful_direction: str | None
    fractions: tuple[float, ...]
    points: tuple[float, ...]
    bands: dict[float, tuple[tuple[float, ...], tuple[float, ...]]]


@dataclass(frozen=True)
class CandidateView:
    result: CandidateResult
    rank: int
    harm_score: float
    worst: str
    headlines: tuple[HarmView, ...]
    trajectories: tuple[Trajectory, ...]
    influence: tuple[OutcomeInfluence, ...] = field(default=())


@dataclass(frozen=True)
class ReportView:
    results: BatchResults
    levels: tuple[float, ...]
    candidates: tuple[CandidateView, ...]


def ranked(candidates: Sequence[CandidateResult]) -> list[tuple[int, float, CandidateResult]]:
    """(rank, harm score, result), most harmful first, exactly as ``tunecast score`` ranked them.

    Results carry ``rank``/``harm_score`` from the scorer; a file without them (older or
    hand-made) is ranked here with the scorer's own ``harm_score`` and tie-break.
    """
    if candidates and all(c.rank is not None and c.harm_score is not None for c in candidates):
        order = sorted(candidates, key=lambda c: (c.rank, c.candidate_id))
        return [(int(c.rank or 0), float(c.harm_score or 0.0), c) for c in order]
    scored = sorted(((harm_score(c.risks), c) for c in candidates), key=lambda item: (-item[0], item[1].candidate_id))
    return [(i, score, c) for i, (score, c) in enumerate(scored, start=1)]


def end_forecast(candidate: CandidateResult, outcome: str) -> TargetForecast | None:
    """The forecast at the latest fraction of the run (1.0 when the run's end was forecast)."""
    found = [f for f in candidate.forecasts if f.outcome == outcome]
    return max(found, key=lambda f: f.fraction) if found else None


def _interval(forecast: TargetForecast, level: float) -> tuple[float, float] | None:
    for interval in forecast.intervals:
        if math.isclose(interval.level, level, abs_tol=1e-9):
            return interval.lower, interval.upper
    return None


def _harm_pair(direction: str, point: float, lower: float, upper: float) -> tuple[float, float]:
    return harm_of(HarmRule.model_construct(direction=direction), point, lower, upper)


def harm_direction(risk: Risk, end: TargetForecast | None, influence: Sequence[OutcomeInfluence]) -> str | None:
    """'rise', 'drop' or 'magnitude': the one under which the end-of-run forecast gives ``harm``/``harm_upper``.

    ``Risk`` does not carry its rule's direction, so it is read back through the scorer's
    own ``harm_of``. Among directions that fit equally, the scorer's default rule for the
    outcome wins, then rise/drop over magnitude (their intervals then nearly coincide);
    the influence section's direction decides when the forecast cannot.
    """
    if end is not None:
        bounds = _interval(end, risk.level)
        errors = {}
        for direction in DIRECTIONS:
            harm, upper = _harm_pair(direction, end.point, *(bounds or (end.point, end.point)))
            errors[direction] = abs(harm - risk.harm) + (abs(upper - risk.harm_upper) if bounds else 0.0)
        best = min(errors.values())
        matches = [d for d in DIRECTIONS if math.isclose(errors[d], best, rel_tol=1e-9, abs_tol=1e-12)]
        if DEFAULT_DIRECTIONS.get(risk.outcome) in matches:  # the scorer's default rule, confirmed by the numbers
            return DEFAULT_DIRECTIONS[risk.outcome]
        if not {"rise", "drop"} <= set(matches):  # rise and drop both fitting: the forecast cannot tell
            return matches[0]
    for item in influence:
        if item.outcome == risk.outcome and item.harmful_direction in INFLUENCE_DIRECTIONS:
            return INFLUENCE_DIRECTIONS[item.harmful_direction]
    return None


def harm_interval(direction: str, lower: float, upper: float) -> tuple[float, float]:
    """The harm-side image of [lower, upper]: flipped for 'drop', folded at 0 for 'magnitude'."""
    if direction == "rise":
        return lower, upper
    if direction == "drop":
        return -upper, -lower
    low = 0.0 if lower <= 0.0 <= upper else min(abs(lower), abs(upper))
    return low, max(abs(lower), abs(upper))


def _coverage(risk: Risk, results: BatchResults, tolerance: float) -> Coverage | None:
    if risk.heldout_coverage is not None:
        value, nominal = risk.heldout_coverage, risk.level
    elif risk.outcome in results.heldout_coverage and results.levels:
        value, nominal = results.heldout_coverage[risk.outcome], max(results.levels)
    else:
        return None
    return Coverage(value=value, nominal=nominal, under=value < nominal - tolerance)


def _harm_view(candidate: CandidateResult, risk: Risk, results: BatchResults, tolerance: float) -> HarmView:
    end = end_forecast(candidate, risk.outcome)
    direction = harm_direction(risk, end, candidate.influence)
    intervals: dict[float, tuple[float, float]] = {}
    if end is not None and direction is not None:
        intervals = {i.level: harm_interval(direction, i.lower, i.upper) for i in sorted(end.intervals, key=lambda i: i.level)}
    return HarmView(risk=risk, label=headline_label(risk.headline), unit=unit_of(risk.outcome), end=end,
                    direction=direction, harm_intervals=intervals, coverage=_coverage(risk, results, tolerance))


def _directions(candidate: CandidateResult, harms: Iterable[HarmView]) -> dict[str, str]:
    """Outcome -> 'up' / 'down' / 'magnitude' for the trajectory panels: the risks' reading first, then the
    influence section, then the scorer's default rules (which also name outcomes that drove no headline)."""
    directions = {h.risk.outcome: TRAJECTORY_DIRECTIONS[h.direction] for h in harms if h.direction is not None}
    for item in candidate.influence:
        if item.harmful_direction in INFLUENCE_DIRECTIONS:
            directions.setdefault(item.outcome, item.harmful_direction)
    for outcome, direction in DEFAULT_DIRECTIONS.items():
        directions.setdefault(outcome, TRAJECTORY_DIRECTIONS[direction])
    return directions


def trajectories(candidate: CandidateResult, first: Sequence[str], directions: dict[str, str]) -> tuple[Trajectory, ...]:
    """One trajectory per forecast outcome, the ``first`` outcomes leading; duplicate fractions are an error."""
    by_outcome: dict[str, list[TargetForecast]] = defaultdict(list)
    for forecast in candidate.forecasts:
        by_outcome[forecast.outcome].append(forecast)
    rest = [o for o in order_outcomes(set(by_outcome)) if o not in first]
    out = []
    for outcome in [o for o in first if o in by_outcome] + rest:
        steps = sorted(by_outcome[outcome], key=lambda f: f.fraction)
        fractions = [f.fraction for f in steps]
        if len(set(fractions)) != len(fractions):
            raise ValueError(f"candidate {candidate.candidate_id!r}: outcome {outcome!r} has two forecasts at one "
                             f"fraction of the run ({fractions}); results.json is malformed, re-run tunecast score")
        levels = sorted({i.level for f in steps for i in f.intervals})
        bands = {}
        for level in levels:
            pairs = [_interval(f, level) or (math.nan, math.nan) for f in steps]
            bands[level] = ((0.0, *(p[0] for p in pairs)), (0.0, *(p[1] for p in pairs)))
        out.append(Trajectory(outcome=outcome, unit=unit_of(outcome), harmful_direction=directions.get(outcome),
                              fractions=(0.0, *fractions), points=(0.0, *(f.point for f in steps)), bands=bands))
    return tuple(out)


def _position(order: Sequence[str], name: str) -> int:
    return order.index(name) if name in order else len(order)


def _headline_order(risks: Sequence[Risk]) -> list[Risk]:
    known = {h: i for i, h in enumerate(HEADLINES)}
    return sorted(risks, key=lambda r: (known.get(r.headline, len(known)), r.headline))


def build_view(results: BatchResults, coverage_tolerance: float) -> ReportView:
    """Rank the candidates (most harmful first) and derive everything the plots and cards show."""
    ids = [c.candidate_id for c in results.candidates]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"results.json lists candidate id(s) {twice} more than once; each candidate needs its own id")
    views = []
    for rank, score, candidate in ranked(results.candidates):
        risks = _headline_order(candidate.risks)
        harms = tuple(_harm_view(candidate, r, results, coverage_tolerance) for r in risks)
        worst = max((r.risk for r in risks), key=RISK_ORDER.__getitem__, default="low")
        first = list(dict.fromkeys(r.outcome for r in risks))
        views.append(CandidateView(
            result=candidate, rank=rank, harm_score=score, worst=worst, headlines=harms,
            trajectories=trajectories(candidate, first, _directions(candidate, harms)),
            influence=tuple(sorted(candidate.influence, key=lambda o: (_position(FAMILIES, family_of(o.outcome)), o.outcome))),
        ))
    levels = tuple(sorted(set(results.levels)))
    return ReportView(results=results, levels=levels, candidates=tuple(views))
