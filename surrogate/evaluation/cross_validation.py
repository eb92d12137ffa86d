"""Out-of-fold forecasts: every method refitted inside every fold, scored only on runs
the fold held out.

The fold's training rows are the only rows a method's ``fit`` receives; its test rows
reach ``predict`` only, so a forecast can never have seen its own run. Pre-run forecasts
leave the early-run observations empty; methods marked ``early_run`` are also asked
mid-run, with the observations of the held-out runs that have them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from surrogate.evaluation.folds import Fold, check_folds
from surrogate.evaluation.methods import MethodPrediction, MethodSpec

logger = logging.getLogger(__name__)


class EvaluationError(ValueError):
    """A fold could not be fitted or forecast; the message names the split, fold and method."""


@dataclass
class OutOfFold:
    """Forecasts of every run by the fold that held it out: (runs, outcomes) arrays, NaN
    where a run was not forecast (no observations, or an unsupported outcome)."""

    point: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]

    @classmethod
    def empty(cls, n_rows: int, n_outcomes: int, levels: Sequence[float]) -> OutOfFold:
        shape = (n_rows, n_outcomes)
        return cls(
            point=np.full(shape, np.nan),
            lower={level: np.full(shape, np.nan) for level in levels},
            upper={level: np.full(shape, np.nan) for level in levels},
        )


@dataclass
class SplitForecasts:
    """All out-of-fold forecasts of one split: per method, and mid-run per early-run method."""

    folds: list[Fold]
    fold_of_row: list[str]
    methods: dict[str, OutOfFold] = field(default_factory=dict)
    early: dict[str, OutOfFold] = field(default_factory=dict)


@dataclass(frozen=True)
class Matrices:
    """One method's columns for every run: as fitted (observations filled in where the
    run has them) and as a pre-run request (observations empty)."""

    fit: np.ndarray
    pre_run: np.ndarray


def cross_validate(
    specs: Mapping[str, MethodSpec],
    matrices: Mapping[str, Matrices],
    Y: np.ndarray,
    observed: np.ndarray,
    folds: Sequence[Fold],
    levels: Sequence[float],
    split_name: str,
    progress: bool = False,
) -> SplitForecasts:
    """Fit each supported method on each fold's training rows; forecast its test rows."""
    from tqdm.auto import tqdm

    n_rows, n_outcomes = Y.shape
    check_folds(folds, n_rows)
    fold_of_row = [""] * n_rows
    for fold in folds:
        for row in fold.test:
            fold_of_row[int(row)] = fold.name
    active = {name: spec for name, spec in specs.items() if spec.supports}
    out = SplitForecasts(folds=list(folds), fold_of_row=fold_of_row)
    out.methods = {name: OutOfFold.empty(n_rows, n_outcomes, levels) for name in active}
    out.early = {name: OutOfFold.empty(n_rows, n_outcomes, levels) for name, s in active.items() if s.early_run}
    steps = [(fold, name) for fold in folds for name in active]
    for fold, name in tqdm(steps, desc=f"{split_name} folds x methods", disable=not progress):
        spec, data = active[name], matrices[name]
        train, test = np.asarray(fold.train), np.asarray(fold.test)
        try:
            method = spec.factory().fit(data.fit[train], Y[train])
            _store(out.methods[name], test, method.predict(data.pre_run[test], levels))
            if spec.early_run:
                mid = test[observed[test]]
                if mid.size:
                    _store(out.early[name], mid, method.predict(data.fit[mid], levels))
        except ValueError as exc:
            raise EvaluationError(
                f"{split_name} split, fold {fold.name!r} ({train.size} training runs), method {name!r}: {exc}"
            ) from exc
        logger.debug("%s fold %s: %s fitted on %d runs, scored %d", split_name, fold.name, name, train.size, test.size)
    return out


def _store(target: OutOfFold, rows: np.ndarray, prediction: MethodPrediction) -> None:
    target.point[rows] = prediction.point
    for level in target.lower:
        target.lower[level][rows] = prediction.lower[level]
        target.upper[level][rows] = prediction.upper[level]
