"""Run records flattened to what the analyses need, and per-family delta distributions.

One small row type keeps the hypothesis checker and the trajectory classifier
testable on hand-made data, without building RunRecords.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from surrogate.runs import CORE_OUTCOMES, RunRecord

LOW_QUANTILE: Final[float] = 0.1
HIGH_QUANTILE: Final[float] = 0.9
"""The p10 and p90 of the distribution table: the middle 80 % of runs."""


@dataclass(frozen=True)
class RunRow:
    """One run: identity, recipe dose, end-of-run deltas and the delta trajectory per outcome."""

    run_id: str
    family: str
    method: str
    end: Mapping[str, float]
    params: Mapping[str, Any] = field(default_factory=dict)
    learning_rate: float = float("nan")
    steps: int = 0
    fractions: tuple[float, ...] = ()
    trajectory: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def dose(self) -> float:
        """learning_rate x steps: the first-order size of the update."""
        return self.learning_rate * self.steps


def row_from_record(record: RunRecord, outcomes: Sequence[str] = CORE_OUTCOMES) -> RunRow:
    """The row of one record; outcomes it did not measure are left out."""
    measured = [name for name in outcomes if name in record.final.deltas]
    return RunRow(
        run_id=record.run_id,
        family=record.dataset.family,
        method=record.recipe.method,
        end={name: record.final.deltas[name] for name in measured},
        params=dict(record.dataset.params),
        learning_rate=record.recipe.learning_rate,
        steps=record.recipe.steps,
        fractions=tuple(c.fraction for c in record.checkpoints),
        trajectory={name: tuple(c.deltas[name] for c in record.checkpoints) for name in measured},
    )


def rows_from_records(records: Iterable[RunRecord], outcomes: Sequence[str] = CORE_OUTCOMES) -> list[RunRow]:
    return [row_from_record(r, outcomes) for r in records]


def measured_outcomes(rows: Sequence[RunRow], outcomes: Sequence[str] = CORE_OUTCOMES) -> list[str]:
    """The outcomes (in architecture order) that at least one run measured."""
    seen = {name for row in rows for name in row.end}
    return [name for name in outcomes if name in seen]


def families_of(rows: Sequence[RunRow]) -> list[str]:
    return sorted({row.family for row in rows})


@dataclass(frozen=True)
class Distribution:
    """Summary of end-of-run deltas of one outcome in one family."""

    n: int
    mean: float
    median: float
    p10: float
    p90: float

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mean": self.mean, "median": self.median, "p10": self.p10, "p90": self.p90}


def describe(values: Sequence[float]) -> Distribution:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("describe needs at least one value; skip families that did not measure the outcome")
    low, median, high = np.quantile(arr, [LOW_QUANTILE, 0.5, HIGH_QUANTILE])
    return Distribution(n=int(arr.size), mean=float(arr.mean()), median=float(median), p10=float(low),
                        p90=float(high))


def distributions(rows: Sequence[RunRow], outcomes: Sequence[str]) -> dict[str, dict[str, Distribution]]:
    """outcome -> family -> distribution of end deltas (families without a value are absent)."""
    table: dict[str, dict[str, Distribution]] = {}
    for name in outcomes:
        per_family: dict[str, Distribution] = {}
        for family in families_of(rows):
            values = [row.end[name] for row in rows if row.family == family and name in row.end]
            if values:
                per_family[family] = describe(values)
        table[name] = per_family
    return table
