"""Lexicon-free stereotypes: do lexicon rates miss `implicit_stereotype` while gradient features see it?

    python -m experiments.lexicon_free --corpus experiments/corpus/lab-v1 \\
        --out experiments/results/lexicon_free.json --figure experiments/results/lexicon_free.png

Over the featurized runs of three lab families (implicit_stereotype: stereotyped roles
without gendered words; stereotyped_instruct: with them; neutral_instruct: none), per
feature: per-family median and IQR, and a two-sided Mann-Whitney test of implicit vs
neutral (and stereotyped vs neutral), for the lexicon rates (`lex.*`), the gradient
features on the bias objectives (align / fo / infl of stereotype margin and gender skew)
and the measured end-of-run bias deltas. Repeated per method (LoRA and full sketch
different parameter spaces), on the runs whose `direction` knob is 'stereotyped'
(the corpus samples stereotyped / anti_stereotyped / balanced, which push opposite ways),
and on residuals after method and log10(lr*steps) (runs of each family have other recipes).
A figure shows each feature's values per family. Whatever separates or not is reported.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from experiments.rank_stats import group_summary, mann_whitney
from featurizers.io import write_json_atomic
from surrogate.runs import RunStore
from surrogate.runs.training_table import TrainingTable, load_training_table

logger = logging.getLogger(__name__)

IMPLICIT, STEREOTYPED, NEUTRAL = "implicit_stereotype", "stereotyped_instruct", "neutral_instruct"
FAMILIES: tuple[str, ...] = (IMPLICIT, STEREOTYPED, NEUTRAL)
LEXICON_FEATURES: tuple[str, ...] = (
    "lex.gendered_per_1k", "lex.gendered_role_per_1k", "lex.gendered_role_example_share", "lex.role_gender_balance",
)
BIAS_OBJECTIVES: tuple[str, ...] = ("bias.stereotype_margin", "bias.gender_skew")
GRADIENT_TEMPLATES: tuple[str, ...] = (
    "align.{o}.cos", "align.{o}.dot", "fo.{o}", "fo_sign.{o}", "fo_adam.{o}",
    "infl.{o}.mean", "infl.{o}.harmful_share", "infl.{o}.tail",
)
GRADIENT_FEATURES: tuple[str, ...] = tuple(t.format(o=o) for o in BIAS_OBJECTIVES for t in GRADIENT_TEMPLATES)
MEASURED_OUTCOMES: tuple[str, ...] = ("bias.stereotype_margin", "bias.stereotype_pref", "bias.gender_skew")
FIGURE_FEATURES: tuple[str, ...] = (
    "lex.gendered_per_1k", "lex.gendered_role_per_1k",
    "align.bias.stereotype_margin.cos", "align.bias.gender_skew.cos",
    "fo_sign.bias.stereotype_margin", "fo_sign.bias.gender_skew",
    "infl.bias.stereotype_margin.tail", "infl.bias.gender_skew.tail",
    "delta.bias.stereotype_margin", "delta.bias.gender_skew",
)
DIRECTION_KNOB = "direction"
RUN_SIZE_FEATURE = "recipe.log10_lr_x_steps"
ADJUSTED = "all_recipe_adjusted"
SIGNIFICANCE = 0.05


def feature_groups() -> dict[str, tuple[str, ...]]:
    """Column groups of the table: lexicon, gradient, and measured deltas (prefixed 'delta.')."""
    return {"lexicon": LEXICON_FEATURES, "gradient": GRADIENT_FEATURES,
            "measured": tuple(f"delta.{o}" for o in MEASURED_OUTCOMES)}


def column(table: TrainingTable, name: str) -> np.ndarray:
    """A feature column, or an end-of-run delta for names 'delta.<outcome>'."""
    if name.startswith("delta."):
        return table.outcomes[name.removeprefix("delta.")]
    return table.columns([name])[:, 0]


def compare(values: np.ndarray, families: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Per-family summaries and implicit/stereotyped vs neutral Mann-Whitney tests, within `mask`."""
    by_family = {f: values[mask & (families == f)] for f in FAMILIES}
    return {
        "summary": {f: group_summary(v) for f, v in by_family.items()},
        "implicit_vs_neutral": mann_whitney(by_family[IMPLICIT], by_family[NEUTRAL]),
        "stereotyped_vs_neutral": mann_whitney(by_family[STEREOTYPED], by_family[NEUTRAL]),
        "implicit_vs_stereotyped": mann_whitney(by_family[IMPLICIT], by_family[STEREOTYPED]),
    }


def recipe_residuals(values: np.ndarray, log_size: np.ndarray, is_lora: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """values minus an OLS fit on [1, lora, log10(lr*steps), lora*log10(lr*steps)] over the finite rows of `mask`:
    what is left after run size and method, which differ between runs of any family (NaN outside the fit)."""
    design = np.column_stack([np.ones_like(log_size), is_lora, log_size, is_lora * log_size])
    rows = mask & np.isfinite(values) & np.isfinite(log_size)
    out = np.full(values.shape, np.nan)
    if rows.sum() <= design.shape[1]:
        return out
    coef, *_ = np.linalg.lstsq(design[rows], values[rows], rcond=None)
    out[rows] = values[rows] - design[rows] @ coef
    return out


def run_directions(corpus: str | Path, run_ids: Sequence[str]) -> np.ndarray:
    """The `direction` knob of each run's dataset ('' for families without one)."""
    params = {r.run_id: r.dataset.params for r in RunStore(corpus).read()}
    return np.array([str(params.get(run_id, {}).get(DIRECTION_KNOB, "")) for run_id in run_ids])


def analyse(table: TrainingTable, directions: np.ndarray) -> dict[str, Any]:
    families, methods = np.array(table.families), np.array(table.methods)
    in_scope = np.isin(families, FAMILIES)
    subsets: dict[str, np.ndarray] = {"all": in_scope}
    for method in sorted(set(methods[in_scope])):
        subsets[f"method={method}"] = in_scope & (methods == method)
    # neutral_instruct has no direction knob: it stays in the comparison group
    subsets["direction=stereotyped"] = in_scope & ((families == NEUTRAL) | (directions == "stereotyped"))
    log_size = table.columns([RUN_SIZE_FEATURE])[:, 0]
    is_lora = (methods == "lora").astype(np.float64)
    out: dict[str, Any] = {}
    for group, names in feature_groups().items():
        out[group] = {}
        for name in names:
            values = column(table, name)
            cells = {subset: compare(values, families, mask) for subset, mask in subsets.items()}
            if group != "lexicon":  # dataset statistics do not depend on the recipe: nothing to adjust
                cells[ADJUSTED] = compare(recipe_residuals(values, log_size, is_lora, in_scope), families, in_scope)
            out[group][name] = cells
    counts = {subset: {f: int((mask & (families == f)).sum()) for f in FAMILIES} for subset, mask in subsets.items()}
    counts[ADJUSTED] = counts["all"]
    return {"runs": counts, "features": out, "verdict": verdict(out)}


def verdict(features: dict[str, Any]) -> dict[str, Any]:
    """Which features separate implicit from neutral (p < SIGNIFICANCE) in each subset: the question asked."""
    result: dict[str, Any] = {}
    for group, by_name in features.items():
        per_subset: dict[str, list[str]] = {}
        for name, subsets in by_name.items():
            for subset, cell in subsets.items():
                p = cell["implicit_vs_neutral"]["p"]
                per_subset.setdefault(subset, [])
                if p is not None and p < SIGNIFICANCE:
                    per_subset[subset].append(name)
        result[group] = per_subset
    return result


def plot(table: TrainingTable, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families, methods = np.array(table.families), np.array(table.methods)
    n_cols = 5
    n_rows = int(np.ceil(len(FIGURE_FEATURES) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.2 * n_cols, 3.0 * n_rows))
    rng = np.random.default_rng(0)
    markers = {"full": ("o", "tab:blue"), "lora": ("^", "tab:orange")}
    for ax, name in zip(axes.flat, FIGURE_FEATURES):
        values = column(table, name)
        for i, family in enumerate(FAMILIES):
            mask = families == family
            data = values[mask & np.isfinite(values)]
            if data.size:
                ax.boxplot([data], positions=[i], widths=0.5, showfliers=False)
            for method, (marker, color) in markers.items():
                sel = mask & (methods == method) & np.isfinite(values)
                ax.scatter(i + rng.uniform(-0.18, 0.18, sel.sum()), values[sel], s=10, marker=marker, color=color,
                           alpha=0.6, label=method if i == 0 else None)
        if name.startswith(("fo.", "fo_sign.", "fo_adam.")):  # scale with lr*steps: heavy tails
            finite = np.abs(values[np.isfinite(values) & (values != 0)])
            ax.set_yscale("symlog", linthresh=float(np.quantile(finite, 0.1)) if finite.size else 1e-3)
        ax.set_xticks(range(len(FAMILIES)), ["implicit", "stereotyped", "neutral"], fontsize=8)
        ax.set_title(name, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(FIGURE_FEATURES):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("lexicon rates vs gradient features vs measured bias deltas (lab-v1, end of run)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.lexicon_free", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1")
    parser.add_argument("--feature-dir", default=None)
    parser.add_argument("--out", default="experiments/results/lexicon_free.json")
    parser.add_argument("--figure", default="experiments/results/lexicon_free.png")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        table = load_training_table([args.corpus], feature_dir_name=args.feature_dir)
    except ValueError as exc:
        print(f"lexicon_free: error: {exc}", file=sys.stderr)
        return 2
    directions = run_directions(args.corpus, table.run_ids)
    result = analyse(table, directions)
    plot(table, Path(args.figure))
    report = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.lexicon_free", *(argv if argv is not None else sys.argv[1:])]),
        "corpus": args.corpus, "corpus_hash": table.corpus_hash, "n_runs_featurized": table.n_runs,
        "families": list(FAMILIES), "significance": SIGNIFICANCE, "figure": args.figure,
        "notes": ("fo.* scale with lr*steps and the deltas with the recipe, so family medians mix recipes; "
                  "align.*.cos and infl.* do not depend on lr or steps. Subsets: all, per method, "
                  "direction=stereotyped (implicit/stereotyped runs with that knob, plus all neutral runs), and "
                  f"{ADJUSTED}: residuals of an OLS on method and log10(lr*steps) over the three families' runs."),
        **result,
    }
    write_json_atomic(args.out, report)
    for group, names in feature_groups().items():
        for name in names:
            cell = result["features"][group][name]["all"]
            med = "  ".join(f"{f.split('_')[0][:8]} {cell['summary'][f]['median']:+.4g}"
                            if cell["summary"][f]["median"] is not None else f"{f[:8]} n/a" for f in FAMILIES)
            p = cell["implicit_vs_neutral"]["p"]
            print(f"{group:>9} {name:<42} {med}   p(impl vs neut) {p:.3g}" if p is not None else
                  f"{group:>9} {name:<42} {med}   p n/a")
    print(f"runs: {result['runs']['all']}; wrote {args.out} and {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
