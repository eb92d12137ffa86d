"""Trajectory shapes: how each outcome moved between step 0 and the end of a run.

A forecast of the end state alone misses harm that appears late (bias drift that
only shows after half the run) or that comes and goes; these classes say how
often each happens per family.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from experiments.corpus_analysis.runs import RunRow, families_of

Shape = Literal["monotone", "late-onset", "non-monotone", "flat", "undetermined"]
SHAPES: Final[tuple[Shape, ...]] = ("monotone", "late-onset", "non-monotone", "flat", "undetermined")
MIN_POINTS: Final[int] = 3
"""Step 0, at least one interior checkpoint and the end: fewer cannot show a shape."""


@dataclass(frozen=True)
class ShapeRule:
    """Thresholds of the classifier, all relative to the run's final change except `flat_tol`.

    late_fraction/late_share: late-onset when less than `late_share` of the final change
    is reached by `late_fraction` of the run. slack: the largest move against the final
    direction (peak-to-trough, as a share of the final change) still called monotone.
    flat_tol: a trajectory that never leaves [-flat_tol, flat_tol] did not move.
    """

    late_fraction: float = 0.5
    late_share: float = 0.25
    slack: float = 0.1
    flat_tol: float = 1e-9


def progress_at(fractions: Sequence[float], values: Sequence[float], at: float) -> float:
    """The trajectory's value at run fraction `at`, linearly interpolated between checkpoints."""
    return float(np.interp(at, np.asarray(fractions, dtype=np.float64), np.asarray(values, dtype=np.float64)))


def classify_trajectory(fractions: Sequence[float], values: Sequence[float], rule: ShapeRule = ShapeRule()) -> Shape:
    """monotone, late-onset or non-monotone (plus flat: never moved; undetermined: too few checkpoints)."""
    if len(fractions) != len(values):
        raise ValueError(f"{len(fractions)} fractions but {len(values)} values")
    if len(values) < MIN_POINTS:
        return "undetermined"
    v = np.asarray(values, dtype=np.float64) - float(values[0])
    if float(np.max(np.abs(v))) <= rule.flat_tol:
        return "flat"
    final = float(v[-1])
    if abs(final) <= rule.flat_tol:
        return "non-monotone"  # moved, then came back to where it started
    signed = v * np.sign(final)
    drawdown = float(np.max(np.maximum.accumulate(signed) - signed))
    if drawdown > rule.slack * abs(final):
        return "non-monotone"
    if progress_at(fractions, signed, rule.late_fraction) < rule.late_share * abs(final):
        return "late-onset"
    return "monotone"


def run_shapes(rows: Sequence[RunRow], outcomes: Sequence[str], rule: ShapeRule) -> dict[str, dict[str, Shape]]:
    """run_id -> outcome -> shape, for the outcomes each run measured."""
    return {row.run_id: {name: classify_trajectory(row.fractions, row.trajectory[name], rule)
                         for name in outcomes if name in row.trajectory} for row in rows}


def shape_counts(rows: Sequence[RunRow], outcomes: Sequence[str],
                 rule: ShapeRule) -> dict[str, dict[str, dict[str, int]]]:
    """outcome -> family -> shape -> number of runs (every shape listed, zeros included)."""
    shapes = run_shapes(rows, outcomes, rule)
    table: dict[str, dict[str, dict[str, int]]] = {}
    for name in outcomes:
        table[name] = {}
        for family in families_of(rows):
            counted = Counter(shapes[r.run_id][name] for r in rows if r.family == family and name in shapes[r.run_id])
            if counted:
                table[name][family] = {shape: counted.get(shape, 0) for shape in SHAPES}
    return table


def median_curves(rows: Sequence[RunRow], outcomes: Sequence[str],
                  grid: Sequence[float]) -> dict[str, dict[str, list[float]]]:
    """outcome -> family -> median delta at each grid fraction (each run interpolated onto the grid)."""
    curves: dict[str, dict[str, list[float]]] = {}
    for name in outcomes:
        curves[name] = {}
        for family in families_of(rows):
            runs = [r for r in rows if r.family == family and name in r.trajectory]
            if runs:
                stacked = np.asarray([[progress_at(r.fractions, r.trajectory[name], f) for f in grid] for r in runs])
                curves[name][family] = [float(x) for x in np.median(stacked, axis=0)]
    return curves
