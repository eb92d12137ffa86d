"""The meta-model report: predicted-vs-actual plots of the out-of-fold forecasts, the coverage
calibration curve, feature importance and a markdown table of every metric.

    python -m surrogate.evaluation.report --evaluation FILE.json [--model DIR] [--corpus DIR] \
        --out experiments/results/meta_model/

``FILE.json`` is what ``tunecast evaluate-model --out`` wrote; ``--model`` defaults to the
embedded default model; ``--corpus``, when given, must be the corpus the evaluation scored.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from surrogate.evaluation.files import (
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)
from surrogate.evaluation.metrics import METRIC_NAMES

logger = logging.getLogger(__name__)

SPLITS: Final[tuple[str, ...]] = ("random", "leave_family_out", "heldout")
IMPORTANCE_FILE: Final[str] = "feature_importance.json"
METRICS_FILE: Final[str] = "metrics.md"
CALIBRATION_PLOT: Final[str] = "coverage_calibration.png"
IMPORTANCE_PLOT: Final[str] = "feature_importance.png"


class ReportConfig(BaseModel):
    """Figure settings, saved beside the report as report_config.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    top_features: int = Field(default=25, ge=1)
    dpi: int = Field(default=120, ge=50)
    panel_inches: float = Field(default=3.2, gt=0.0)
    columns: int = Field(default=4, ge=1)
    max_legend_families: int = Field(default=14, ge=1)


def predicted_plot_name(split: str) -> str:
    return f"predicted_vs_actual_{split}.png"


# --------------------------------------------------------------------- figures
def _save(fig: Any, path: Path, dpi: int) -> None:
    write_atomic(path, lambda temp: fig.savefig(temp, format="png", dpi=dpi, bbox_inches="tight"))


def _grid(n_panels: int, config: ReportConfig) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    cols = min(config.columns, max(n_panels, 1))
    rows = math.ceil(max(n_panels, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(config.panel_inches * cols, config.panel_inches * rows),
                             squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _values(seq: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in seq], dtype=np.float64)


def plot_predicted_vs_actual(block: dict[str, Any], split: str, path: Path, config: ReportConfig) -> None:
    """One panel per outcome: out-of-fold point forecast (with its 90% interval) against the
    measured delta, coloured by dataset family."""
    import matplotlib.pyplot as plt

    preds = block["predictions"]
    outcomes = list(preds["model"])
    families = np.asarray(preds["families"], dtype=object)
    names = sorted(set(preds["families"]))
    cmap = plt.get_cmap("tab20")
    fig, axes = _grid(len(outcomes), config)
    for ax, outcome in zip(axes.flat, outcomes):
        actual = _values(preds["actual"][outcome])
        forecast = preds["model"][outcome]
        point, lo, hi = (_values(forecast[k]) for k in ("point", "lower_90", "upper_90"))
        keep = ~np.isnan(actual) & ~np.isnan(point)
        for i, family in enumerate(names):
            rows = keep & (families == family)
            if not rows.any():
                continue
            colour = cmap(i % cmap.N)
            has_interval = rows & ~np.isnan(lo) & ~np.isnan(hi)
            # intervals are asymmetric around the point: draw each as a segment, not as error bars
            ax.vlines(actual[has_interval], lo[has_interval], hi[has_interval], colors=[colour], alpha=0.15,
                      linewidth=0.6)
            ax.scatter(actual[rows], point[rows], s=9, color=colour, label=family, alpha=0.8, linewidths=0)
        if keep.any():
            low, high = np.nanmin([actual[keep].min(), point[keep].min()]), np.nanmax([actual[keep].max(), point[keep].max()])
            ax.plot([low, high], [low, high], color="black", linewidth=0.8, linestyle="--")
        metrics = (block["model"].get(outcome) or {})
        ax.set_title(f"{outcome}\nSpearman {_fmt(metrics.get('spearman'))}, cov90 {_fmt(metrics.get('coverage_90'))}",
                     fontsize=8)
        ax.set_xlabel("measured delta", fontsize=7)
        ax.set_ylabel("forecast (out of fold)", fontsize=7)
        ax.tick_params(labelsize=6)
    if len(names) <= config.max_legend_families and outcomes:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(names), 5), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"Predicted vs actual, {split} split", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    _save(fig, path, config.dpi)
    plt.close(fig)


def plot_coverage(result: dict[str, Any], path: Path, config: ReportConfig) -> None:
    """Nominal vs measured coverage of the model's intervals, one line per outcome, per split."""
    import matplotlib.pyplot as plt

    splits = [s for s in SPLITS if s in result]
    fig, axes = _grid(len(splits), config)
    for ax, split in zip(axes.flat, splits):
        curves = result[split]["coverage_curve"].get("model", {})
        for outcome, curve in curves.items():
            if not curve:
                continue
            levels = np.array([float(k) for k in curve])
            measured = _values(list(curve.values()))
            ax.plot(levels, measured, marker="o", markersize=3, linewidth=1, label=outcome)
        ax.plot([0.45, 1.0], [0.45, 1.0], color="black", linestyle="--", linewidth=0.8)
        ax.set_xlabel("nominal coverage", fontsize=7)
        ax.set_ylabel("measured coverage", fontsize=7)
        ax.set_title(split, fontsize=9)
        ax.tick_params(labelsize=6)
    if splits:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.08))
    fig.suptitle("Coverage calibration of the model's conformal intervals", fontsize=10)
    fig.tight_layout()
    _save(fig, path, config.dpi)
    plt.close(fig)


def plot_importance(importance: dict[str, Any], path: Path, config: ReportConfig) -> None:
    import matplotlib.pyplot as plt

    rows = importance["overall"][: config.top_features]
    fig, ax = plt.subplots(figsize=(7, 0.25 * max(len(rows), 4) + 1))
    ax.barh([r["feature"] for r in rows][::-1], [r["share"] for r in rows][::-1], color="#4c72b0")
    ax.set_xlabel("mean share of split gain (point boosters, end of run)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"Top {len(rows)} features", fontsize=10)
    fig.tight_layout()
    _save(fig, path, config.dpi)
    plt.close(fig)


# -------------------------------------------------------------------- markdown
def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def metrics_markdown(result: dict[str, Any], importance: dict[str, Any] | None, model_version: str | None) -> str:
    lines = ["# Meta-model evaluation", ""]
    lines.append(f"- runs: {result['n_runs']}, corpus hash `{result['corpus_hash']}`")
    if model_version:
        lines.append(f"- model: `{model_version}`")
    if "families" in result:
        lines.append("- families: " + ", ".join(f"{k} ({v})" for k, v in result["families"].items()))
    lines.append("- metrics pooled over out-of-fold forecasts; `–` = not computable or baseline absent")
    lines.append("")
    for split in SPLITS:
        block = result.get(split)
        if not block:
            continue
        lines += [f"## {split}", ""]
        rows = []
        methods = {"model": block["model"], **block["baselines"]}
        for outcome in block["model"]:
            for name, per_outcome in methods.items():
                metrics = per_outcome.get(outcome)
                rows.append([outcome, name, *(_fmt(metrics.get(m)) if metrics else "absent" for m in METRIC_NAMES)])
        lines += _table(["outcome", "method", *METRIC_NAMES], rows)
        lines += [f"### {split}: gap to the ablation (recipe + dataset statistics) and best baseline", ""]
        rows = []
        for outcome, gap in block["gap"].items():
            best = block["best_baseline"].get(outcome) or {}
            rows.append([outcome, *(_fmt(gap.get(k)) if gap else "–" for k in ("model_mae", "ablation_mae", "mae_reduction_share")),
                         best.get("baseline", "–"), _fmt(best.get("mae_reduction_share"))])
        lines += _table(["outcome", "model MAE", "ablation MAE", "MAE reduction", "best baseline", "reduction vs best"], rows)
        highlighted = [f for f in _highlighted(result) if f in block.get("per_family_gap", {})]
        for family in highlighted:
            lines += [f"### {split}: the lexicon-free family `{family}` left out (model vs ablation)", ""]
            rows = [[o, *(_fmt(gap.get(k)) if gap else "–" for k in ("model_mae", "ablation_mae", "mae_reduction_share")),
                     _fmt((block["per_family"][family].get(o) or {}).get("spearman"))]
                    for o, gap in block["per_family_gap"][family].items()]
            lines += _table(["outcome", "model MAE", "ablation MAE", "MAE reduction", "model Spearman"], rows)
        if "per_family" in block:
            lines += [f"### {split}: per held-out family (model; gap = MAE reduction vs the ablation)", ""]
            rows = []
            for family, per_outcome in block["per_family"].items():
                for outcome, metrics in per_outcome.items():
                    gap = block["per_family_gap"][family].get(outcome) or {}
                    rows.append([family, outcome, *(_fmt(metrics.get(m)) if metrics else "–" for m in METRIC_NAMES),
                                 _fmt(gap.get("mae_reduction_share"))])
            lines += _table(["family", "outcome", *METRIC_NAMES, "gap"], rows)
        curves = block["coverage_curve"].get("model", {})
        levels = next((list(c) for c in curves.values() if c), [])
        if levels:
            lines += [f"### {split}: measured coverage of the model's intervals by nominal level", ""]
            rows = [[o, *(_fmt(c.get(level)) for level in levels)] for o, c in curves.items() if c]
            lines += _table(["outcome", *levels], rows)
    early_blocks = _early_blocks(result)
    if early_blocks:
        note = (result.get("early_run") or {}).get("note", "")
        lines += ["## early run (observations at the first checkpoint)", "", note, ""]
        for name, block in early_blocks:
            rows = []
            for outcome, with_obs in block["with_observations"].items():
                without = block["without"].get(outcome) or {}
                with_obs = with_obs or {}
                rows.append([outcome, _fmt(without.get("mae")), _fmt(with_obs.get("mae")),
                             _fmt(without.get("spearman")), _fmt(with_obs.get("spearman")),
                             _fmt(with_obs.get("coverage_90"))])
            lines += [f"### {name} ({block['n_runs_with_observations']} runs with observations)", ""]
            lines += _table(["outcome", "MAE pre-run", "MAE mid-run", "Spearman pre-run", "Spearman mid-run",
                             "coverage_90 mid-run"], rows)
    if importance:
        lines += ["## feature importance (mean share of split gain, end-of-run point boosters)", ""]
        lines += _table(["feature", "share"], [[r["feature"], _fmt(r["share"])] for r in importance["overall"]])
        lines += _table(["feature group", "share"], [[g, _fmt(v)] for g, v in importance["by_group"].items()])
    return "\n".join(lines)


def _highlighted(result: dict[str, Any]) -> list[str]:
    return list(((result.get("config") or {}).get("evaluation") or {}).get("highlight_families", []))


def _early_blocks(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(split, block) of every early-run comparison in a CV or held-out result."""
    early = result.get("early_run") or {}
    blocks = [(split, early[split]) for split in ("random", "leave_family_out") if early.get(split)]
    heldout = (result.get("heldout") or {}).get("early_run")
    if heldout:
        blocks.append(("heldout", heldout))
    return blocks


# ------------------------------------------------------------------------ main
def write_report(
    result: dict[str, Any],
    out: Path,
    *,
    model_dir: Path | None = None,
    config: ReportConfig | None = None,
) -> list[Path]:
    """Write every figure and table of ``result`` (and the importance of ``model_dir``) to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    config = config or ReportConfig()
    written: list[Path] = []
    for split in SPLITS:
        if split in result and result[split].get("predictions"):
            path = out / predicted_plot_name(split)
            plot_predicted_vs_actual(result[split], split, path, config)
            written.append(path)
    if any(split in result for split in SPLITS):
        plot_coverage(result, out / CALIBRATION_PLOT, config)
        written.append(out / CALIBRATION_PLOT)
    importance, version = None, None
    if model_dir is not None:
        from surrogate.evaluation.importance import model_importance
        from surrogate.model import ForecastModel

        model = ForecastModel.load(model_dir)
        version = model.model_version_
        importance = model_importance(model, top=config.top_features)
        written.append(write_json_atomic(out / IMPORTANCE_FILE, importance))
        plot_importance(importance, out / IMPORTANCE_PLOT, config)
        written.append(out / IMPORTANCE_PLOT)
    written.append(write_text_atomic(out / METRICS_FILE, metrics_markdown(result, importance, version)))
    written.append(write_json_atomic(out / "report_config.json", config.model_dump(mode="json")))
    return written


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m surrogate.evaluation.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--evaluation", required=True, type=Path, metavar="FILE.json",
                   help="what `tunecast evaluate-model --out FILE.json` wrote")
    p.add_argument("--model", type=Path, metavar="DIR", help="model artifact (default: the embedded default model)")
    p.add_argument("--corpus", action="append", type=Path, metavar="DIR",
                   help="the corpus the evaluation scored (checked against its hash)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from surrogate.default_model import resolve_model_dir

        result = json.loads(args.evaluation.read_text(encoding="utf-8"))
        if not isinstance(result, dict) or "corpus_hash" not in result:
            raise ValueError(f"--evaluation {args.evaluation}: not an evaluate-model result (no corpus_hash)")
        if args.corpus:
            from surrogate.runs.training_table import load_training_table

            table = load_training_table(args.corpus)
            if table.corpus_hash != result["corpus_hash"]:
                raise ValueError(f"--corpus has hash {table.corpus_hash[:12]}, the evaluation scored "
                                 f"{str(result['corpus_hash'])[:12]}: pass the corpus it was computed on")
        written = write_report(result, args.out, model_dir=resolve_model_dir(args.model))
    except (ValueError, KeyError, FileNotFoundError, json.JSONDecodeError) as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
