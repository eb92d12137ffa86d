"""Start-up benchmark: time from spawning the server to its first SERVING answer, and the
cost of one forecast with the numpy tree evaluator against LightGBM.

Against a synthetic model shaped like a real one (or ``--model``), measures

- seconds from spawning ``python -m server serve`` to the first SERVING health answer
  (several runs), with its parts: interpreter start, ``import server.app``, model load;
- raw predictions of all boosters for 1 and 1,000 rows: the numpy evaluator the server
  uses, LightGBM booster by booster, and LightGBM on one fused K-output model (the
  serving path before the numpy evaluator: one C call for small batches);
- one-row ``ForecastModel.predict`` (boosters, conformal intervals and OOD checks).

Wall-clock and CPU times are both recorded: on a shared machine the CPU time is the
steadier figure. Writes ``experiments/results/serving_startup.json``.

    python -m experiments.bench.serving_startup [--model DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from experiments.bench.serving import (
    ServingBenchConfig,
    SyntheticModelConfig,
    build_synthetic_model,
    start_server,
    stop_server,
)
from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "experiments" / "results" / "serving_startup.json"


class StartupBenchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    startup_runs: int = Field(default=5, ge=1)
    import_runs: int = Field(default=5, ge=1)
    one_row_repeats: int = Field(default=300, ge=1)
    batch_rows: int = Field(default=1000, ge=1)
    batch_repeats: int = Field(default=5, ge=1)
    start_timeout_s: float = Field(default=120.0, gt=0)
    health_poll_s: float = Field(default=0.005, gt=0)
    synthetic: SyntheticModelConfig = SyntheticModelConfig()


QUICK = StartupBenchConfig(
    startup_runs=2, import_runs=2, one_row_repeats=50, batch_repeats=2,
    synthetic=SyntheticModelConfig(n_features=24, n_rows=300, n_estimators=40),
)


def fuse_model_texts(texts: Sequence[str], feature_names: Sequence[str]) -> str:
    """One LightGBM model whose k-th output is the raw score of ``texts[k]`` (K trees per
    iteration; shorter boosters padded with one-leaf zero trees): the fused path the
    server used for small batches before the numpy evaluator."""
    zero_tree = (
        "num_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\n"
        "left_child=\nright_child=\nleaf_value=0\nleaf_weight=\nleaf_count=0\ninternal_value=\n"
        "internal_weight=\ninternal_count=\nis_linear=0\nshrinkage=1\n\n\n"
    )
    per_model = []
    for text in texts:
        body = text[: text.index("end of trees")]
        per_model.append([part.split("\n", 1)[1] for part in body.split("\nTree=")[1:]])
    trees: list[str] = []
    for it in range(max(len(bodies) for bodies in per_model)):
        for bodies in per_model:
            trees.append(f"Tree={len(trees)}\n" + (bodies[it] if it < len(bodies) else zero_tree))
    header = [
        "tree", "version=v4", f"num_class={len(texts)}", f"num_tree_per_iteration={len(texts)}",
        "label_index=0", f"max_feature_idx={len(feature_names) - 1}",
        "feature_names=" + " ".join(feature_names),
        "feature_infos=" + " ".join(["none"] * len(feature_names)),
        "tree_sizes=" + " ".join(str(len(t.encode())) for t in trees), "",
    ]
    return "\n".join(header) + "\n" + "".join(trees) + "end of trees\n\npandas_categorical:null\n"


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Median and minimum wall-clock and CPU milliseconds of ``repeats`` calls (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1e3)
        wall.append((time.perf_counter() - w) * 1e3)
    return {
        "wall_median_ms": float(np.median(wall)), "wall_min_ms": float(np.min(wall)),
        "cpu_median_ms": float(np.median(cpu)), "cpu_min_ms": float(np.min(cpu)), "repeats": repeats,
    }


def subprocess_seconds(code: str, runs: int) -> list[float]:
    """Wall seconds of ``python -c code`` from spawn to exit."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
        out.append(time.perf_counter() - start)
    return out


def measure_startup(model: Path, config: StartupBenchConfig) -> dict[str, Any]:
    serving = ServingBenchConfig(
        startup_runs=config.startup_runs, start_timeout_s=config.start_timeout_s,
        health_poll_s=config.health_poll_s,
    )
    runs = []
    for _ in range(config.startup_runs):
        proc, _, seconds = start_server(model, serving)
        runs.append(seconds)
        stop_server(proc)
    heavy = ["torch", "lightgbm", "sklearn", "scipy", "pyarrow"]
    probe = (
        "import sys, server.app, server.cli; "
        f"sys.exit(1 if any(m.split('.')[0] in {heavy!r} for m in sys.modules) else 0)"
    )
    return {
        "start_to_serving_s": {"runs": runs, "median": float(np.median(runs)), "min": float(np.min(runs))},
        "python_start_s": subprocess_seconds("pass", config.import_runs),
        "python_start_and_import_server_app_s": subprocess_seconds("import server.app", config.import_runs),
        "server_imports_heavy_modules": subprocess.run(
            [sys.executable, "-c", probe], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), check=False
        ).returncode != 0,
    }


def measure_predict(model_dir: Path, config: StartupBenchConfig) -> dict[str, Any]:
    import lightgbm as lgb

    from server.model_holder import load_serving_model
    from surrogate.model import ForecastModel

    load = timed(lambda: load_serving_model(model_dir), 3)
    model = ForecastModel.load(model_dir)
    texts = [s.model_text for s in model.boosters_]
    rng = np.random.default_rng(0)
    median = np.asarray(model.feature_stats_.median)
    X = median + 0.1 * rng.normal(size=(config.batch_rows, median.size))
    one = X[:1]
    boosters = [lgb.Booster(model_str=t) for t in texts]
    fused = lgb.Booster(model_str=fuse_model_texts(texts, model.schema_.feature_names))

    def per_booster(rows: np.ndarray) -> np.ndarray:
        return np.stack([b.predict(rows, raw_score=True, num_threads=1) for b in boosters], axis=1)

    def fused_call(rows: np.ndarray) -> np.ndarray:
        return np.asarray(fused.predict(rows, raw_score=True, num_threads=1)).reshape(rows.shape[0], -1)

    expected = per_booster(X)
    max_rel = float(np.max(np.abs(model.forest_.predict(X) - expected) / np.maximum(np.abs(expected), 1e-12)))
    reps, batch_reps = config.one_row_repeats, config.batch_repeats
    one_row = {
        "numpy_evaluator": timed(lambda: model.forest_.predict(one), reps),
        "lightgbm_fused": timed(lambda: fused_call(one), reps),
        "lightgbm_per_booster": timed(lambda: per_booster(one), reps),
    }
    batch = {
        "numpy_evaluator": timed(lambda: model.forest_.predict(X), batch_reps),
        "lightgbm_fused": timed(lambda: fused_call(X), batch_reps),
        "lightgbm_per_booster": timed(lambda: per_booster(X), batch_reps),
    }

    def ratio(table: dict[str, dict[str, float]], key: str) -> dict[str, float]:
        return {
            name: table["numpy_evaluator"][key] / table[name][key]
            for name in ("lightgbm_fused", "lightgbm_per_booster")
        }

    return {
        "model": {
            "boosters": len(texts), "trees": model.forest_.n_trees, "features": median.size,
            "tree_levels": len(model.forest_.active), "model_text_mb": sum(map(len, texts)) / 1e6,
        },
        "load_serving_model_ms": load,
        "numpy_vs_lightgbm_max_relative_difference": max_rel,
        "predict_one_row_ms": one_row,
        "predict_one_row_ratio_numpy_over_lightgbm_cpu_median": ratio(one_row, "cpu_median_ms"),
        f"predict_{config.batch_rows}_rows_ms": batch,
        f"predict_{config.batch_rows}_rows_ratio_numpy_over_lightgbm_cpu_median": ratio(batch, "cpu_median_ms"),
        "forecast_model_predict_one_row_ms": timed(lambda: model.predict(one), reps),
        "lightgbm_version": lgb.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="artifact or registry to serve (default: fit a synthetic one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="fewer runs and a small model: a smoke run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = QUICK if args.quick else StartupBenchConfig()
    load_before = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="tunecast-startup-") as scratch:
        model = args.model if args.model is not None else build_synthetic_model(config.synthetic, Path(scratch))
        startup = measure_startup(model, config)
        predict = measure_predict(model, config)
    payload = {
        "config": config.model_dump(mode="json"),
        "quick": args.quick,
        "model": str(args.model) if args.model is not None else "synthetic",
        "machine": {
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
            "niceness": os.nice(0),
        },
        **startup,
        **predict,
    }
    write_json_atomic(args.out, payload, sort_keys=False)
    logger.info("wrote %s", args.out)
    batch_key = f"predict_{config.batch_rows}_rows_ms"
    summary = {
        "start_to_serving_s": startup["start_to_serving_s"],
        "predict_one_row_cpu_median_ms": {
            k: round(v["cpu_median_ms"], 3) for k, v in predict["predict_one_row_ms"].items()
        },
        f"{batch_key}_cpu_median": {k: round(v["cpu_median_ms"], 1) for k, v in predict[batch_key].items()},
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
