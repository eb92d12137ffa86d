"""In-process speed of ``ForecastModel.predict``: one candidate and 1,000 candidates.

The issue's targets are <= 1 ms for one candidate and <= 20 ms for 1,000. This script
only measures and writes; it asserts nothing. The model is fitted on a synthetic table
as wide as the lab featurizer's schema (every pre-run feature plus the ``obs.*``
columns), with every core outcome at every lab checkpoint, default model config.
Medians of many repetitions, wall-clock and CPU time (on a shared machine CPU time is
the steadier figure). Writes ``experiments/results/predict_speed.json``.

    python -m experiments.bench.predict_speed [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "experiments" / "results" / "predict_speed.json"


class PredictSpeedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    n_rows: int = Field(default=500, ge=50, description="training runs (lab-v1 has 500)")
    checkpoints: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
    observed_share: float = Field(default=0.5, ge=0.0, le=1.0, description="training runs with obs.* values")
    missing_share: float = Field(default=0.02, ge=0.0, lt=1.0, description="pre-run feature values left NaN")
    n_estimators: int | None = Field(default=None, ge=1, description="None: the default model config")
    one_row_reps: int = Field(default=1000, ge=1)
    batch_rows: int = Field(default=1000, ge=1)
    batch_reps: int = Field(default=30, ge=1)
    warmup_reps: int = Field(default=20, ge=0)
    levels: tuple[float, ...] = (0.8, 0.9)
    seed: int = 0


def lab_feature_names() -> tuple[str, ...]:
    """The lab featurizer's schema under its default config (imports the featurizers, so torch)."""
    from featurizers.features.config import FeaturizerConfig
    from featurizers.features.featurizer import feature_names

    return feature_names(FeaturizerConfig())


def synthetic_model(config: PredictSpeedConfig, names: tuple[str, ...]) -> tuple[Any, np.ndarray]:
    """A meta-model fitted on random runs with smooth targets, and fresh pre-run rows to predict."""
    from surrogate.model import (
        BoosterParams,
        FeatureSchema,
        ForecastModel,
        ForecastModelConfig,
        target_name,
    )
    from surrogate.runs import CORE_OUTCOMES

    rng = np.random.default_rng(config.seed)
    obs = np.array([n.startswith("obs.") for n in names])

    def draw(n: int, observed_share: float) -> np.ndarray:
        X = rng.normal(size=(n, len(names)))
        X[rng.random(X.shape) < config.missing_share] = np.nan
        X[np.ix_(rng.random(n) >= observed_share, obs)] = np.nan
        return X

    X = draw(config.n_rows, config.observed_share)
    signal = np.nan_to_num(X[:, ~obs][:, :8])
    Y = {}
    for k, outcome in enumerate(CORE_OUTCOMES):
        w = rng.normal(size=signal.shape[1])
        base = signal @ w + np.sin(signal[:, k % signal.shape[1]])
        for fraction in config.checkpoints:
            Y[target_name(outcome, fraction)] = fraction * base + 0.1 * rng.normal(size=config.n_rows)
    model_config = ForecastModelConfig(levels=config.levels)
    if config.n_estimators is not None:
        model_config = ForecastModelConfig(levels=config.levels, booster=BoosterParams(n_estimators=config.n_estimators))
    model = ForecastModel(model_config).fit(X, Y, FeatureSchema(feature_names=names, featurizer_version="bench"))
    return model, draw(max(config.batch_rows, 1), 0.0)


def timed(call: Callable[[], object], reps: int, warmup: int) -> dict[str, float]:
    """Median and 90th percentile of wall-clock and CPU milliseconds per call."""
    for _ in range(warmup):
        call()
    wall, cpu = np.empty(reps), np.empty(reps)
    for i in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        call()
        wall[i], cpu[i] = time.perf_counter() - w0, time.process_time() - c0
    return {
        "wall_ms_median": float(np.median(wall) * 1e3),
        "wall_ms_p90": float(np.quantile(wall, 0.9) * 1e3),
        "cpu_ms_median": float(np.median(cpu) * 1e3),
        "reps": reps,
    }


def measure(config: PredictSpeedConfig) -> dict[str, Any]:
    import lightgbm

    names = lab_feature_names()
    start = time.perf_counter()
    model, rows = synthetic_model(config, names)
    fit_s = time.perf_counter() - start
    one, batch = rows[:1], rows[: config.batch_rows]
    numpy_one = timed(lambda: model.predict(one, levels=config.levels), config.one_row_reps, config.warmup_reps)
    numpy_batch = timed(lambda: model.predict(batch, levels=config.levels), config.batch_reps, config.warmup_reps)
    # the same model again on the compiled tree kernels the server installs (numba; equal results)
    compiled = model.accelerate()
    compiled_one = compiled_batch = None
    if compiled:
        compiled_one = timed(lambda: model.predict(one, levels=config.levels), config.one_row_reps, config.warmup_reps)
        compiled_batch = timed(lambda: model.predict(batch, levels=config.levels), config.batch_reps,
                               config.warmup_reps)
    return {
        "config": config.model_dump(mode="json"),
        "model": {
            "n_features": len(names),
            "n_targets": len(model.targets_),
            "n_boosters": len(model.boosters_),
            "n_trees": int(sum(spec.num_iteration for spec in model.boosters_)),
            "fit_s": fit_s,
        },
        "predict_one_row": numpy_one,
        f"predict_{config.batch_rows}_rows": numpy_batch,
        "compiled_available": compiled,
        "compiled": None if not compiled else {
            "predict_one_row": compiled_one,
            f"predict_{config.batch_rows}_rows": compiled_batch,
            "cpu_ratio_numpy_over_compiled": {
                "one_row": numpy_one["cpu_ms_median"] / max(compiled_one["cpu_ms_median"], 1e-9),
                f"{config.batch_rows}_rows": numpy_batch["cpu_ms_median"] / max(compiled_batch["cpu_ms_median"], 1e-9),
            },
        },
        "targets_ms": {"one_row": 1.0, "1000_rows": 20.0},
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "lightgbm": lightgbm.__version__,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="fewer trees and repetitions (a smoke run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = PredictSpeedConfig()
    if args.quick:
        config = PredictSpeedConfig(n_rows=120, n_estimators=20, one_row_reps=50, batch_reps=5, warmup_reps=2)
    result = measure(config)
    write_json_atomic(args.out, result)
    one, many = result["predict_one_row"], result[f"predict_{config.batch_rows}_rows"]
    print(f"predict 1 row: {one['wall_ms_median']:.3f} ms wall ({one['cpu_ms_median']:.3f} ms CPU); "
          f"{config.batch_rows} rows: {many['wall_ms_median']:.2f} ms wall ({many['cpu_ms_median']:.2f} ms CPU) "
          f"-> {args.out}")
    if result["compiled"]:
        one, many = result["compiled"]["predict_one_row"], result["compiled"][f"predict_{config.batch_rows}_rows"]
        print(f"compiled: 1 row {one['cpu_ms_median']:.3f} ms CPU; {config.batch_rows} rows "
              f"{many['cpu_ms_median']:.2f} ms CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
