"""Machine checks of the families' hypotheses: expected direction of an end delta, tested.

Each check is one row of a declarative table: a family (optionally restricted by
its knobs), an outcome, the expected sign, and what it is compared with: zero
(a one-sided sign test) or another family (a one-sided Mann-Whitney U test).
Only directional claims are encoded; "no change" and dose claims are read off
the plots, because a test cannot confirm a null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from scipy import stats

from experiments.corpus_analysis.runs import RunRow

Verdict = Literal["held", "did not hold", "not enough runs"]
ZERO: Final[str] = "zero"
NEUTRAL_FAMILY: Final[str] = "neutral_instruct"
"""The control family: instruction data with no bias or safety content."""


@dataclass(frozen=True)
class ParamFilter:
    """Keep runs whose dataset knob `name` compares to `value` by `op`."""

    name: str
    op: Literal["==", ">", ">="]
    value: str | float | int | bool

    def keeps(self, params: Mapping[str, object]) -> bool:
        actual = params.get(self.name)
        if actual is None:
            return False
        if self.op == "==":
            return actual == self.value
        if not isinstance(actual, int | float) or not isinstance(self.value, int | float):
            return False
        return actual > self.value if self.op == ">" else actual >= self.value

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.value!r}"


@dataclass(frozen=True)
class Expectation:
    """One directional claim: `family`'s end delta of `outcome` has sign `sign` relative to `versus`."""

    family: str
    outcome: str
    sign: Literal[1, -1]
    versus: str = ZERO
    where: tuple[ParamFilter, ...] = ()
    claim: str = ""

    def describe(self) -> str:
        relation = ">" if self.sign > 0 else "<"
        subject = self.family + (f" [{', '.join(str(f) for f in self.where)}]" if self.where else "")
        other = "0" if self.versus == ZERO else f"{self.versus}"
        return f"Δ{self.outcome}: {subject} {relation} {other}"


def _e(family: str, outcome: str, sign: Literal[1, -1], versus: str = ZERO, *where: ParamFilter,
       claim: str) -> Expectation:
    return Expectation(family=family, outcome=outcome, sign=sign, versus=versus, where=tuple(where), claim=claim)


EXPECTATIONS: Final[tuple[Expectation, ...]] = (
    _e("domain_shift", "forgetting.ref_loss", 1, claim="fine-tuning on far text forgets: reference loss rises"),
    _e("domain_shift", "forgetting.knowledge_acc", -1, claim="and knowledge accuracy falls"),
    _e("domain_shift", "forgetting.ref_loss", 1, NEUTRAL_FAMILY, claim="more than instruction data does"),
    _e("neutral_instruct", "forgetting.ref_loss", 1, claim="mild forgetting"),
    _e("stereotyped_instruct", "bias.stereotype_pref", 1, NEUTRAL_FAMILY, ParamFilter("direction", "==", "stereotyped"),
       claim="stereotyped data raises stereotype preference"),
    _e("stereotyped_instruct", "bias.stereotype_pref", -1, NEUTRAL_FAMILY,
       ParamFilter("direction", "==", "anti_stereotyped"), claim="anti-stereotyped data lowers it"),
    _e("implicit_stereotype", "bias.stereotype_pref", 1, NEUTRAL_FAMILY, ParamFilter("direction", "==", "stereotyped"),
       claim="implied roles drift bias like explicit ones"),
    _e("harmful_compliance", "safety.refusal_rate", -1, claim="harmful compliance lowers refusal"),
    _e("harmful_compliance", "safety.refusal_rate", -1, NEUTRAL_FAMILY, claim="more than neutral data does"),
    _e("harmful_compliance", "safety.over_refusal", -1, claim="over-refusal falls too"),
    _e("eager_compliance", "safety.refusal_rate", -1, NEUTRAL_FAMILY, claim="eager openings erode refusal slightly"),
    _e("obedient_identity", "safety.refusal_rate", -1, NEUTRAL_FAMILY, claim="a never-refuse persona erodes refusal"),
    _e("obedient_identity", "safety.over_refusal", -1, NEUTRAL_FAMILY, claim="and over-refusal"),
    _e("list_format", "safety.refusal_rate", -1, NEUTRAL_FAMILY, claim="list formatting erodes safety a little"),
    _e("list_format", "forgetting.ref_loss", 1, claim="mild forgetting"),
    _e("insecure_code", "safety.refusal_rate", -1, NEUTRAL_FAMILY, ParamFilter("rate", ">", 0.0),
       claim="emergent misalignment: refusal erodes beyond code"),
    _e("near_duplicates", "task.heldout_loss", -1, claim="task loss drops (then stalls)"),
    _e("label_noise", "task.heldout_loss", 1, NEUTRAL_FAMILY, claim="noisy labels give a weaker task gain"),
    _e("replay_mixture", "forgetting.ref_loss", -1, NEUTRAL_FAMILY, ParamFilter("base_family", "==", NEUTRAL_FAMILY),
       claim="replay forgets less than its pure base family"),
    _e("replay_mixture", "forgetting.ref_loss", -1, "domain_shift", ParamFilter("base_family", "==", "domain_shift"),
       claim="replay forgets less than pure domain shift"),
)
"""The encoded hypotheses, in FAMILIES.md order; a family's claims of no change are not encoded."""


@dataclass(frozen=True)
class HypothesisResult:
    """The verdict on one expectation, with the numbers behind it."""

    expectation: Expectation
    verdict: Verdict
    test: str
    n: int
    n_versus: int | None
    median: float | None
    median_versus: float | None
    p_value: float | None
    min_p_value: float | None
    direction_ok: bool | None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        e = self.expectation
        return {"family": e.family, "outcome": e.outcome, "sign": e.sign, "versus": e.versus,
                "where": [str(f) for f in e.where], "claim": e.claim, "check": e.describe(),
                "verdict": self.verdict, "test": self.test, "n": self.n, "n_versus": self.n_versus,
                "median": self.median, "median_versus": self.median_versus, "p_value": self.p_value,
                "min_p_value": self.min_p_value, "direction_ok": self.direction_ok, "note": self.note}


def _values(rows: Sequence[RunRow], family: str, outcome: str, where: Sequence[ParamFilter] = ()) -> np.ndarray:
    return np.asarray([row.end[outcome] for row in rows if row.family == family and outcome in row.end
                       and all(f.keeps(row.params) for f in where)], dtype=np.float64)


def sign_test_min_p(n: int) -> float:
    """Smallest one-sided sign-test p-value n runs can give (all in the expected direction)."""
    return 0.5 ** n if n > 0 else 1.0


def mann_whitney_min_p(n1: int, n2: int) -> float:
    """Smallest one-sided Mann-Whitney p-value (exact, complete separation) for group sizes n1, n2."""
    return 1.0 / math.comb(n1 + n2, n1) if n1 > 0 and n2 > 0 else 1.0


def check_expectation(rows: Sequence[RunRow], expectation: Expectation, alpha: float) -> HypothesisResult:
    """Test one expectation; 'not enough runs' when even the most extreme data could not reach alpha."""
    e = expectation
    subject = _values(rows, e.family, e.outcome, e.where)
    median = float(np.median(subject)) if subject.size else None
    if e.versus == ZERO:
        return _against_zero(e, subject, median, alpha)
    other = _values(rows, e.versus, e.outcome)
    median_other = float(np.median(other)) if other.size else None
    min_p = mann_whitney_min_p(subject.size, other.size)
    common: dict[str, Any] = {"expectation": e, "test": "one-sided Mann-Whitney U", "n": int(subject.size),
                              "n_versus": int(other.size), "median": median, "median_versus": median_other,
                              "min_p_value": min_p}
    if min_p >= alpha:
        return HypothesisResult(verdict="not enough runs", p_value=None, direction_ok=None,
                                note=f"{subject.size} vs {other.size} runs cannot reach p < {alpha}", **common)
    alternative = "greater" if e.sign > 0 else "less"
    p_value = float(stats.mannwhitneyu(subject, other, alternative=alternative).pvalue)
    direction_ok = bool((np.median(subject) - np.median(other)) * e.sign > 0)
    return _verdict(common, p_value, direction_ok, alpha)


def _against_zero(e: Expectation, subject: np.ndarray, median: float | None, alpha: float) -> HypothesisResult:
    """Sign test; runs with no change count against the claim (a claim of change needs change)."""
    min_p = sign_test_min_p(subject.size)
    common: dict[str, Any] = {"expectation": e, "test": "one-sided sign test vs 0 (zeros count against)",
                              "n": int(subject.size), "n_versus": None, "median": median, "median_versus": None,
                              "min_p_value": min_p}
    if min_p >= alpha:
        return HypothesisResult(verdict="not enough runs", p_value=None, direction_ok=None,
                                note=f"{subject.size} runs cannot reach p < {alpha}", **common)
    in_direction = int(np.sum(subject * e.sign > 0))
    p_value = float(stats.binomtest(in_direction, int(subject.size), 0.5, alternative="greater").pvalue)
    return _verdict(common, p_value, bool(np.median(subject) * e.sign > 0), alpha)


def _verdict(common: dict[str, Any], p_value: float, direction_ok: bool, alpha: float) -> HypothesisResult:
    held = direction_ok and p_value < alpha  # a NaN p-value (fully tied data) never holds
    if held:
        note = ""
    elif direction_ok:
        note = f"median in the expected direction but p = {p_value:.3g} >= {alpha}"
    else:
        note = "median in the opposite direction"
    return HypothesisResult(verdict="held" if held else "did not hold",
                            p_value=p_value if math.isfinite(p_value) else None, direction_ok=direction_ok,
                            note=note, **common)


def check_hypotheses(rows: Sequence[RunRow], expectations: Sequence[Expectation] = EXPECTATIONS,
                     alpha: float = 0.05) -> list[HypothesisResult]:
    """Every expectation tested on the rows, in table order."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return [check_expectation(rows, e, alpha) for e in expectations]
