"""The reproduction check's file format, tolerances and comparison (torch-free).

`experiments.reproduce_runs` re-runs recorded configs and fills these models;
the corpus report reads reproduction.json back through them, so the two never
disagree about the format. `RATIONALE` says why the tolerances are what they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from surrogate.runs import RunRecord
from surrogate.runs.outcomes import order_outcomes

REPRODUCTION_FILE: Final[str] = "reproduction.json"
FLOAT_FLOOR: Final[float] = 1e-9
"""Added to every tolerance: deltas are float differences, one item's worth is itself rounded."""
INTEGRALITY_TOL: Final[float] = 1e-6
"""How close value x n_items / 100 must be to an integer for n_items to explain a recorded percentage."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToleranceRule(_Frozen):
    """How far a reproduced end delta may sit from the recorded one, and why."""

    kind: Literal["relative", "absolute", "items"]
    value: float | None = Field(default=None, gt=0, description="relative share or absolute amount; None for items")
    suite: str | None = Field(default=None, description="probe suite whose item count sets one item's worth")
    why: str


_LOSS = ToleranceRule(kind="relative", value=1e-6,
                      why="a mean token NLL in float32: 1e-6 of the loss value covers summation-order noise")
_MARGIN = ToleranceRule(kind="absolute", value=1e-5,
                        why="a mean of float32 log-probability differences (sums of up to ~100 nats each)")


def _items(suite: str) -> ToleranceRule:
    return ToleranceRule(kind="items", suite=suite,
                         why=f"a share of the {suite} items: one near-tie item flipping moves it by 100/n_items")


TOLERANCES: Final[dict[str, ToleranceRule]] = {
    "forgetting.ref_loss": _LOSS,
    "forgetting.knowledge_acc": _items("forgetting.knowledge"),
    "forgetting.knowledge_margin": _MARGIN,
    "bias.stereotype_pref": _items("bias.stereotype"),
    "bias.stereotype_margin": _MARGIN,
    "bias.gender_skew": _MARGIN,
    "safety.refusal_rate": _items("safety.harmful"),
    "safety.refusal_margin": _MARGIN,
    "safety.over_refusal": _items("safety.benign"),
    "task.heldout_loss": _LOSS,
}
"""One rule per core outcome (surrogate.runs.CORE_OUTCOMES)."""

RATIONALE: Final[str] = (
    "A run is deterministic for its seed on CPU with the same thread count (private RNG, fixed batch order, "
    "no sampling in the probes), so the expectation is exact equality. The tolerances only leave room for float "
    "summation-order noise (another BLAS build or thread count): 1e-6 relative on losses (float32 carries ~7 "
    "significant digits), 1e-5 nats absolute on margins and gender skew (means of differences of float32 "
    "log-probabilities summed over up to ~100 nats), and one item's worth on a percentage (a single near-tie item "
    "whose margin flips sign moves a share of n items by exactly 100/n points). n_items is not recorded in the "
    "run records (the harness drops n_items.*), so it is counted from the probe-suite data the build's harness "
    "config selects, and checked: every recorded percentage must be a multiple of 100/n_items."
)


class OutcomeComparison(_Frozen):
    """One outcome's end-of-run delta, recorded vs reproduced."""

    recorded: float
    reproduced: float | None = Field(description="None when the re-run did not measure the outcome")
    abs_diff: float | None
    tolerance: float
    rule: str
    passed: bool


class RunComparison(_Frozen):
    """One re-run: every core outcome compared, plus the largest difference anywhere in the record."""

    run_id: str
    family: str
    method: str
    passed: bool
    seconds: float = Field(description="wall seconds of the re-run (the base's step 0 is measured once, before)")
    recorded_wall_s: float | None = Field(default=None, description="wall seconds the original run took (record)")
    outcomes: dict[str, OutcomeComparison] = Field(default_factory=dict)
    max_abs_diff_any: float | None = Field(default=None, description="over every checkpoint and outcome, breakdowns "
                                           "included (informational)")
    error: str | None = None


class ReproductionReport(_Frozen):
    """What reproduce_runs wrote: the sample, the tolerances and each run's comparison."""

    corpus: str
    corpus_hash: str
    n_runs_in_corpus: int
    n: int
    seed: int
    base_spec: str
    base_weights_hash: str
    torch_threads: int | None
    build_files: list[str]
    tolerances: dict[str, ToleranceRule]
    n_items: dict[str, int] = Field(description="items per probe suite (eval split), counted from the suite data "
                                    "the harness config selects: the harness does not record n_items.*")
    n_items_consistent: bool = Field(description="every recorded percentage is a multiple of 100 / n_items")
    rationale: str
    runs: list[RunComparison]
    passed: bool
    n_passed: int
    n_failed: int


def tolerance_for(name: str, recorded: RunRecord, reproduced: RunRecord, n_items: Mapping[str, int]) -> tuple[float, str]:
    """The numeric tolerance of outcome `name` for this pair of runs, and the rule in words."""
    rule = TOLERANCES.get(name)
    if rule is None:
        return FLOAT_FLOOR, "no rule for this outcome: exact up to float noise"
    if rule.kind == "items":
        count = n_items.get(rule.suite or "")
        if not count:
            return FLOAT_FLOOR, f"n_items of {rule.suite} unknown: exact up to float noise"
        return 100.0 / count + FLOAT_FLOOR, f"one item of {rule.suite} (100/{count})"
    value = rule.value if rule.value is not None else 0.0
    if rule.kind == "absolute":
        return value + FLOAT_FLOOR, f"{value:g} absolute"
    scale = max(abs(recorded.final.outcomes[name]), abs(reproduced.final.outcomes[name]))
    return value * scale + FLOAT_FLOOR, f"{value:g} relative to the end value {scale:.4g}"


def max_abs_diff_any(recorded: RunRecord, reproduced: RunRecord) -> float | None:
    """Largest |difference| of any outcome value at any checkpoint; None when the checkpoints differ."""
    if [c.step for c in recorded.checkpoints] != [c.step for c in reproduced.checkpoints]:
        return None
    worst = 0.0
    for a, b in zip(recorded.checkpoints, reproduced.checkpoints, strict=True):
        for name in set(a.outcomes) & set(b.outcomes):
            worst = max(worst, abs(a.outcomes[name] - b.outcomes[name]))
    return worst


def compare_runs(recorded: RunRecord, reproduced: RunRecord, outcomes: list[str], n_items: Mapping[str, int],
                 seconds: float) -> RunComparison:
    """Recorded vs reproduced end deltas of `outcomes` (those the recorded run measured)."""
    compared: dict[str, OutcomeComparison] = {}
    for name in outcomes:
        if name not in recorded.final.deltas:
            continue
        before = recorded.final.deltas[name]
        if name not in reproduced.final.deltas:
            compared[name] = OutcomeComparison(recorded=before, reproduced=None, abs_diff=None, tolerance=FLOAT_FLOOR,
                                               rule="missing from the re-run", passed=False)
            continue
        after = reproduced.final.deltas[name]
        tol, rule = tolerance_for(name, recorded, reproduced, n_items)
        diff = abs(after - before)
        compared[name] = OutcomeComparison(recorded=before, reproduced=after, abs_diff=diff, tolerance=tol, rule=rule,
                                           passed=diff <= tol)
    return RunComparison(run_id=recorded.run_id, family=recorded.dataset.family, method=recorded.recipe.method,
                         passed=bool(compared) and all(c.passed for c in compared.values()), seconds=seconds,
                         recorded_wall_s=recorded.timing.wall_s, outcomes=compared,
                         max_abs_diff_any=max_abs_diff_any(recorded, reproduced))


def percentages_consistent(records: list[RunRecord], n_items: Mapping[str, int]) -> bool:
    """Whether every recorded percentage (all checkpoints) is k x 100 / n_items: evidence the counts are right."""
    for name, rule in TOLERANCES.items():
        count = n_items.get(rule.suite or "") if rule.kind == "items" else None
        if not count:
            continue
        for record in records:
            for checkpoint in record.checkpoints:
                if name in checkpoint.outcomes:
                    scaled = checkpoint.outcomes[name] * count / 100.0
                    if abs(scaled - round(scaled)) > INTEGRALITY_TOL:
                        return False
    return True


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.6g}"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|")


def reproduction_markdown(report: ReproductionReport) -> str:
    """Summary line, one row per run, then one row per run x outcome."""
    lines = [
        (f"{report.n_passed} of {len(report.runs)} re-run(s) reproduced their recorded end deltas within tolerance "
         f"(sample of {report.n} from {report.n_runs_in_corpus} runs, seed {report.seed}; base "
         f"`{report.base_spec}`; torch threads {report.torch_threads})."),
        "",
        "| run | family | method | result | seconds (recorded) | largest diff anywhere |",
        "| --- | --- | --- | --- | ---: | ---: |",
    ]
    for run in report.runs:
        result = "pass" if run.passed else ("fail: " + _cell(run.error) if run.error else "fail")
        recorded = "" if run.recorded_wall_s is None else f" ({run.recorded_wall_s:.1f})"
        lines.append(f"| `{run.run_id}` | {run.family} | {run.method} | {result} | {run.seconds:.1f}{recorded} | "
                     f"{_fmt(run.max_abs_diff_any)} |")
    lines += ["", "| run | outcome | recorded Δ | reproduced Δ | abs diff | tolerance | ok |",
              "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for run in report.runs:
        for name in order_outcomes(set(run.outcomes)):
            c = run.outcomes[name]
            diff = "–" if c.abs_diff is None else f"{c.abs_diff:.3g}"
            lines.append(f"| `{run.run_id}` | {name} | {_fmt(c.recorded)} | {_fmt(c.reproduced)} | {diff} | "
                         f"{c.tolerance:.3g} ({_cell(c.rule)}) | {'yes' if c.passed else '**no**'} |")
    return "\n".join(lines)
