"""Evaluating the meta-model's configuration on a corpus, and a trained model on runs it
never saw.

``evaluate`` cross-validates (seeded random K-fold, then leave-one-family-out), refitting
the model and every baseline inside each fold; ``evaluate_heldout`` scores a trained
artifact as it is, beside baselines fitted on its training corpus. Both return plain
JSON-ready dicts in the shape ``tunecast evaluate-model --json`` prints.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from surrogate.evaluation.baselines import (
    MODEL,
    build_methods,
    first_order_columns,
    model_columns,
)
from surrogate.evaluation.config import EvaluationConfig
from surrogate.evaluation.cross_validation import (
    EvaluationError,
    Matrices,
    OutOfFold,
    SplitForecasts,
    cross_validate,
)
from surrogate.evaluation.folds import FoldSplitter, LeaveOneFamilyOut, RandomKFold
from surrogate.evaluation.methods import MethodSpec, forecast_outcomes
from surrogate.evaluation.summary import early_summary, jsonable, split_summary
from surrogate.model import ForecastModel, ForecastModelConfig, OODReport, target_name
from surrogate.runs.training_table import TrainingTable
from surrogate.training import (
    END_OF_RUN,
    design_matrix,
    featurizer_version,
    has_observation_columns,
)

logger = logging.getLogger(__name__)


def outcome_matrix(table: TrainingTable) -> tuple[tuple[str, ...], np.ndarray]:
    """End-of-run outcomes (architecture order) and their deltas as a (runs, outcomes) array."""
    outcomes = tuple(table.outcomes)
    if not outcomes:
        raise EvaluationError("the corpus has no measured outcome to evaluate")
    return outcomes, np.column_stack([table.outcomes[o] for o in outcomes])


def observed_runs(table: TrainingTable) -> np.ndarray:
    """Runs whose early-run observations were measured (at the first checkpoint)."""
    if table.early_observations.size == 0:
        return np.zeros(table.n_runs, dtype=bool)
    return (~np.isnan(table.early_observations)).any(axis=1)


def _matrices(table: TrainingTable, specs: dict[str, MethodSpec]) -> dict[str, Matrices]:
    return {
        name: Matrices(
            fit=design_matrix(table, spec.columns, observations=True),
            pre_run=design_matrix(table, spec.columns, observations=False),
        )
        for name, spec in specs.items()
        if spec.supports
    }


def default_splitters(config: EvaluationConfig) -> list[FoldSplitter]:
    splitters: list[FoldSplitter] = [RandomKFold(config.folds, config.seed)]
    if config.leave_family_out:
        splitters.append(LeaveOneFamilyOut())
    return splitters


def _header(table: TrainingTable, outcomes: Sequence[str], model_config: ForecastModelConfig,
            config: EvaluationConfig) -> dict[str, Any]:
    return {
        "n_runs": table.n_runs,
        "corpus_hash": table.corpus_hash,
        "featurizer_version": featurizer_version(table),
        "outcomes": list(outcomes),
        "families": dict(sorted(Counter(table.families).items())),
        "first_order_features": {o: list(first_order_columns(o, table.feature_names)) for o in outcomes},
        "config": {"model": model_config.model_dump(mode="json"), "evaluation": config.model_dump(mode="json")},
    }


def evaluate(
    table: TrainingTable,
    model_config: ForecastModelConfig | None = None,
    config: EvaluationConfig | None = None,
    *,
    splitters: Sequence[FoldSplitter] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Cross-validate the model and every baseline on ``table`` under each splitter."""
    model_config = model_config or ForecastModelConfig()
    config = config or EvaluationConfig()
    outcomes, Y = outcome_matrix(table)
    specs = build_methods(table, outcomes, model_config, config)
    matrices = _matrices(table, specs)
    observed = observed_runs(table)
    result = _header(table, outcomes, model_config, config)
    early: dict[str, Any] = {
        "fraction": table.early_fraction,
        "n_runs_with_observations": int(observed.sum()),
        "note": "mid-run forecasts (observations of the first checkpoint filled in) vs pre-run forecasts "
                "of the same fold models, on the held-out runs that have observations",
    }
    if not specs[MODEL].early_run:
        early["note"] = (
            "not evaluated: the featurizer schema has no obs.* features"
            if not has_observation_columns(model_columns(table)) else "not evaluated (early_run is off)"
        )
    elif not observed.any():
        early["note"] = "not evaluated: no run has early-run observations"
    for splitter in splitters if splitters is not None else default_splitters(config):
        folds = splitter.split(table.n_runs, table.families)
        logger.info("%s split: %d folds", splitter.kind, len(folds))
        forecasts = cross_validate(
            specs, matrices, Y, observed, folds, config.levels, splitter.kind, progress=progress
        )
        result[splitter.kind] = split_summary(
            forecasts, specs, Y, outcomes, table.run_ids, table.families,
            per_family=isinstance(splitter, LeaveOneFamilyOut),
        )
        if specs[MODEL].early_run and observed.any():
            early[splitter.kind] = early_summary(forecasts, specs, Y, outcomes, observed)
    result["early_run"] = early
    return jsonable(result)


def ood_summary(report: OODReport, top: int = 10) -> dict[str, Any]:
    """How often the model warned it was extrapolating on held-out runs, and the features
    most often at fault: a forecast far outside its corpus should say so, not just miss."""
    faults = Counter(name for row in range(report.flagged.shape[0]) for name in report.features_at_fault(row))
    return {
        "n": int(report.flagged.shape[0]),
        "flagged": int(report.flagged.sum()),
        "distance_flagged": int(report.distance_flagged.sum()),
        "median_distance": float(np.median(report.distance)) if report.distance.size else None,
        "features_most_at_fault": [{"feature": name, "runs": count} for name, count in faults.most_common(top)],
    }


def evaluate_heldout(
    model: ForecastModel,
    heldout: TrainingTable,
    training: TrainingTable,
    config: EvaluationConfig | None = None,
    *,
    model_corpus_hash: str | None = None,
) -> dict[str, Any]:
    """Score ``model`` as it is on ``heldout`` runs, beside baselines fitted on ``training``
    (the corpus the model was trained on); refuse runs the model may have seen."""
    config = config or EvaluationConfig()
    shared = sorted(set(heldout.run_ids) & set(training.run_ids))
    if shared:
        raise EvaluationError(
            f"{len(shared)} held-out run(s) are also in the training corpus (e.g. {shared[0]}); "
            "held-out runs must be runs the model never saw"
        )
    if model_corpus_hash is not None and model_corpus_hash == heldout.corpus_hash:
        raise EvaluationError("the model was trained on the held-out corpus itself (same corpus hash)")
    model.schema_.check_featurizer_version(featurizer_version(heldout))
    outcomes, Y = outcome_matrix(heldout)
    levels = config.levels
    n = heldout.n_runs
    names = model.schema_.feature_names
    model_supports = frozenset(o for o in outcomes if target_name(o, END_OF_RUN) in model.targets_)
    prediction = forecast_outcomes(model, design_matrix(heldout, names, observations=False), outcomes, levels)
    forecasts = SplitForecasts(folds=[], fold_of_row=["heldout"] * n)
    forecasts.methods[MODEL] = OutOfFold(prediction.point, prediction.lower, prediction.upper)

    trained = frozenset(o for o in outcomes if o in training.outcomes and not np.isnan(training.outcomes[o]).all())
    Y_train = np.column_stack([training.outcomes.get(o, np.full(training.n_runs, np.nan)) for o in outcomes])
    specs = build_methods(training, outcomes, model.config_, config)
    specs = {name: _restrict(spec, trained) for name, spec in specs.items()}
    specs[MODEL] = _restrict(specs[MODEL], model_supports)
    for name, spec in specs.items():
        if name == MODEL or not spec.supports:
            continue
        try:
            method = spec.factory().fit(design_matrix(training, spec.columns, observations=True), Y_train)
            p = method.predict(design_matrix(heldout, spec.columns, observations=False), levels)
        except (KeyError, ValueError) as exc:
            raise EvaluationError(f"held-out baseline {name!r}: {exc}") from exc
        forecasts.methods[name] = OutOfFold(p.point, p.lower, p.upper)

    block = split_summary(forecasts, specs, Y, outcomes, heldout.run_ids, heldout.families, per_family=False)
    block["ood"] = ood_summary(model.check_ood(design_matrix(heldout, names, observations=False)))
    observed = observed_runs(heldout)
    if has_observation_columns(names) and observed.any():
        rows = np.flatnonzero(observed)
        mid = forecast_outcomes(model, design_matrix(heldout, names, observations=True)[rows], outcomes, levels)
        early = OutOfFold.empty(n, len(outcomes), levels)
        early.point[rows] = mid.point
        for level in levels:
            early.lower[level][rows] = mid.lower[level]
            early.upper[level][rows] = mid.upper[level]
        forecasts.early[MODEL] = early
        block["early_run"] = {"fraction": heldout.early_fraction,
                              **early_summary(forecasts, specs, Y, outcomes, observed)}
    return jsonable({
        "heldout": block,
        "n_runs": n,
        "corpus_hash": heldout.corpus_hash,
        "featurizer_version": featurizer_version(heldout),
        "outcomes": list(outcomes),
        "families": dict(sorted(Counter(heldout.families).items())),
        "model_version": model.model_version_,
        "model_corpus_hash": model_corpus_hash,
        "training_corpus_hash": training.corpus_hash,
        "training_n_runs": training.n_runs,
        "config": {"model": model.config_.model_dump(mode="json"), "evaluation": config.model_dump(mode="json")},
    })


def _restrict(spec: MethodSpec, outcomes: frozenset[str]) -> MethodSpec:
    return MethodSpec(spec.name, spec.factory, spec.columns, spec.supports & outcomes, spec.early_run)
