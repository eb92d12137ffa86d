"""From out-of-fold forecasts to the evaluation's JSON blocks: metrics per method and
outcome, the model-vs-ablation gap, the best baseline, the coverage curve and the
out-of-fold predictions the report plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from surrogate.evaluation.baselines import ABLATION, BASELINES, MODEL
from surrogate.evaluation.config import INTERVAL_LEVEL
from surrogate.evaluation.cross_validation import OutOfFold, SplitForecasts
from surrogate.evaluation.methods import MethodSpec
from surrogate.evaluation.metrics import coverage, score

Metrics = dict[str, float]


def level_key(level: float) -> str:
    """JSON key of a nominal level, e.g. '0.9'."""
    return repr(float(level))


def method_metrics(
    oof: OutOfFold | None, Y: np.ndarray, outcomes: Sequence[str], supports: frozenset[str], rows: np.ndarray
) -> dict[str, Metrics | None]:
    """Metrics per outcome over ``rows``; None for an outcome the method cannot forecast."""
    out: dict[str, Metrics | None] = {}
    for j, outcome in enumerate(outcomes):
        if oof is None or outcome not in supports:
            out[outcome] = None
            continue
        out[outcome] = score(
            Y[rows, j], oof.point[rows, j], oof.lower[INTERVAL_LEVEL][rows, j], oof.upper[INTERVAL_LEVEL][rows, j]
        )
    return out


def coverage_curve(
    oof: OutOfFold, Y: np.ndarray, outcomes: Sequence[str], supports: frozenset[str], rows: np.ndarray
) -> dict[str, dict[str, float] | None]:
    """Measured coverage at each nominal level per outcome (NaN where a level was unreachable)."""
    out: dict[str, dict[str, float] | None] = {}
    for j, outcome in enumerate(outcomes):
        if outcome not in supports:
            out[outcome] = None
            continue
        y = Y[rows, j]
        keep = ~np.isnan(y) & ~np.isnan(oof.point[rows, j])
        out[outcome] = {
            level_key(level): coverage(y[keep], oof.lower[level][rows, j][keep], oof.upper[level][rows, j][keep])
            for level in sorted(oof.lower)
        }
    return out


def mae_gap(model: Metrics | None, ablation: Metrics | None) -> dict[str, float] | None:
    """How much lower the full model's MAE is than the ablation's (what model-side features add)."""
    if model is None or ablation is None:
        return None
    m, a = model["mae"], ablation["mae"]
    return {
        "model_mae": m,
        "ablation_mae": a,
        "mae_reduction": a - m,
        "mae_reduction_share": (a - m) / a if a > 0 else math.nan,
    }


def best_baseline(model: Metrics | None, baselines: Mapping[str, Metrics | None]) -> dict[str, Any] | None:
    """The baseline with the lowest MAE and the model's MAE reduction relative to it."""
    scored = {n: m for n, m in baselines.items() if m is not None and not math.isnan(m["mae"])}
    if model is None or not scored:
        return None
    name = min(scored, key=lambda n: scored[n]["mae"])
    best = scored[name]["mae"]
    return {
        "baseline": name,
        "baseline_mae": best,
        "model_mae": model["mae"],
        "mae_reduction_share": (best - model["mae"]) / best if best > 0 else math.nan,
    }


def _metrics_block(
    forecasts: SplitForecasts,
    specs: Mapping[str, MethodSpec],
    Y: np.ndarray,
    outcomes: Sequence[str],
    rows: np.ndarray,
) -> tuple[dict[str, Metrics | None], dict[str, dict[str, Metrics | None]]]:
    model = method_metrics(forecasts.methods.get(MODEL), Y, outcomes, specs[MODEL].supports, rows)
    baselines = {
        name: method_metrics(forecasts.methods.get(name), Y, outcomes, specs[name].supports, rows)
        for name in BASELINES
    }
    return model, baselines


def split_summary(
    forecasts: SplitForecasts,
    specs: Mapping[str, MethodSpec],
    Y: np.ndarray,
    outcomes: Sequence[str],
    run_ids: Sequence[str],
    families: Sequence[str],
    *,
    per_family: bool,
) -> dict[str, Any]:
    """The JSON block of one split: ``model`` and ``baselines`` (the issue's shape), then the
    gap to the ablation, the best baseline, coverage curves, folds and predictions; with
    ``per_family``, the model's metrics and gap on each held-out family's fold."""
    everything = np.arange(Y.shape[0])
    model, baselines = _metrics_block(forecasts, specs, Y, outcomes, everything)
    block: dict[str, Any] = {
        "model": model,
        "baselines": baselines,
        "gap": {o: mae_gap(model[o], baselines[ABLATION][o]) for o in outcomes},
        "best_baseline": {o: best_baseline(model[o], {n: b[o] for n, b in baselines.items()}) for o in outcomes},
        "coverage_curve": {
            name: coverage_curve(oof, Y, outcomes, specs[name].supports, everything)
            for name, oof in forecasts.methods.items()
        },
        "folds": [{"name": f.name, "n_train": int(f.train.size), "n_test": int(f.test.size)} for f in forecasts.folds],
    }
    if per_family:
        block["per_family"] = {}
        block["per_family_gap"] = {}
        for fold in forecasts.folds:
            fam_model, fam_baselines = _metrics_block(forecasts, specs, Y, outcomes, np.asarray(fold.test))
            block["per_family"][fold.name] = fam_model
            block["per_family_gap"][fold.name] = {
                o: mae_gap(fam_model[o], fam_baselines[ABLATION][o]) for o in outcomes
            }
    block["predictions"] = predictions(forecasts, Y, outcomes, run_ids, families)
    return block


def predictions(
    forecasts: SplitForecasts,
    Y: np.ndarray,
    outcomes: Sequence[str],
    run_ids: Sequence[str],
    families: Sequence[str],
) -> dict[str, Any]:
    """The model's out-of-fold forecasts, run by run, beside what was measured."""
    oof = forecasts.methods.get(MODEL)
    block: dict[str, Any] = {
        "run_ids": list(run_ids),
        "families": list(families),
        "folds": forecasts.fold_of_row,
        "actual": {o: Y[:, j].tolist() for j, o in enumerate(outcomes)},
        "model": {},
    }
    if oof is not None:
        block["model"] = {
            o: {
                "point": oof.point[:, j].tolist(),
                "lower_90": oof.lower[INTERVAL_LEVEL][:, j].tolist(),
                "upper_90": oof.upper[INTERVAL_LEVEL][:, j].tolist(),
            }
            for j, o in enumerate(outcomes)
        }
    return block


def early_summary(
    forecasts: SplitForecasts,
    specs: Mapping[str, MethodSpec],
    Y: np.ndarray,
    outcomes: Sequence[str],
    observed: np.ndarray,
) -> dict[str, Any]:
    """Mid-run (observations filled in) vs pre-run forecasts of the same fold models, scored
    on the same runs: those whose early observations were measured."""
    rows = np.flatnonzero(observed)
    supports = specs[MODEL].supports
    with_obs = method_metrics(forecasts.early.get(MODEL), Y, outcomes, supports, rows)
    without = method_metrics(forecasts.methods.get(MODEL), Y, outcomes, supports, rows)
    return {
        "n_runs_with_observations": int(rows.size),
        "with_observations": with_obs,
        "without": without,
        "mae_reduction_share": {
            o: (
                (without[o]["mae"] - with_obs[o]["mae"]) / without[o]["mae"]
                if with_obs[o] is not None and without[o] is not None and without[o]["mae"] > 0
                else math.nan
            )
            for o in outcomes
        },
    }


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars become Python ones."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
