"""The run-corpus report: what the runs did, whether the families' hypotheses held, how outcomes moved.

    python -m experiments.corpus_report --corpus DIR --out experiments/results/corpus/NAME/

Writes report.md, summary.json and PNG figures into the out folder. If that
folder holds a reproduction.json (`python -m experiments.reproduce_runs`), its
table is embedded. Torch-free: reads the Parquet store, draws with matplotlib.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from experiments.corpus_analysis.families_md import FAMILIES_MD, read_family_hypotheses
from experiments.corpus_analysis.hypotheses import EXPECTATIONS, ZERO, HypothesisResult, check_hypotheses
from experiments.corpus_analysis.plots import PlotStyle, distribution_grid, dose_response, trajectory_grid
from experiments.corpus_analysis.reproduction import REPRODUCTION_FILE, ReproductionReport, reproduction_markdown
from experiments.corpus_analysis.runs import Distribution, RunRow, distributions, measured_outcomes, rows_from_records
from experiments.corpus_analysis.trajectories import SHAPES, ShapeRule, median_curves, run_shapes, shape_counts
from experiments.lab.datasets.records import write_bytes_atomic
from featurizers.io import FILE_MODE, write_json_atomic, write_text_atomic
from surrogate.runs import CORE_OUTCOMES, RunStore

REPORT_FILE: Final[str] = "report.md"
SUMMARY_FILE: Final[str] = "summary.json"
DISTRIBUTIONS_PNG: Final[str] = "distributions.png"
TRAJECTORIES_PNG: Final[str] = "trajectories.png"
DOSE_PNG: Final[str] = "dose_response.png"
MOVING_SHAPES: Final[tuple[str, ...]] = ("monotone", "late-onset", "non-monotone")


class ReportConfig(BaseModel):
    """Every threshold the report uses; saved in summary.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alpha: float = Field(default=0.05, gt=0, lt=1, description="significance level of the one-sided tests")
    outcomes: tuple[str, ...] = Field(default=CORE_OUTCOMES, description="outcomes analysed (those measured)")
    headline: tuple[str, ...] = Field(default=("forgetting.knowledge_acc", "bias.stereotype_pref",
                                               "safety.refusal_rate"), description="outcomes of the dose plot")
    trajectory_grid: tuple[float, ...] = Field(default=(0.0, 0.1, 0.25, 0.5, 1.0),
                                               description="run fractions of the median-trajectory plot")
    late_fraction: float = Field(default=0.5, gt=0, lt=1)
    late_share: float = Field(default=0.25, gt=0, lt=1, description="late-onset: less than this share of the "
                              "final change reached by late_fraction of the run")
    monotone_slack: float = Field(default=0.1, ge=0, description="largest move against the final direction, as a "
                                  "share of the final change, still called monotone")
    flat_tol: float = Field(default=1e-9, ge=0, description="a trajectory within +-flat_tol never moved")
    dpi: int = Field(default=110, ge=30)
    families_md: str = Field(default=str(FAMILIES_MD), description="catalogue the hypotheses are quoted from")

    @field_validator("trajectory_grid")
    @classmethod
    def _grid_ordered(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or list(value) != sorted(set(value)) or value[0] < 0 or value[-1] > 1:
            raise ValueError(f"trajectory_grid must be strictly increasing within [0, 1], got {list(value)}")
        return value

    def shape_rule(self) -> ShapeRule:
        return ShapeRule(late_fraction=self.late_fraction, late_share=self.late_share, slack=self.monotone_slack,
                         flat_tol=self.flat_tol)


def _f(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def _counts(values: Sequence[str]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in sorted(Counter(values).items()))


def load_reproduction(out: Path) -> ReproductionReport | None:
    path = out / REPRODUCTION_FILE
    if not path.is_file():
        return None
    try:
        return ReproductionReport.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ValueError(f"{path} does not validate as a reproduction report ({exc}); rerun "
                         "`python -m experiments.reproduce_runs`") from exc


def _header(corpus: Path, out: Path, store_hash: str, rows: Sequence[RunRow], outcomes: Sequence[str],
            base_models: list[str], reproduction: ReproductionReport | None) -> list[str]:
    repro_path = out / REPRODUCTION_FILE
    if reproduction is None:
        repro = (f"not run yet: `python -m experiments.reproduce_runs --corpus {corpus} --n 3 --seed 0 "
                 f"--out {repro_path}` writes it, and rerunning this report embeds it")
    else:
        same = "same corpus" if reproduction.corpus_hash == store_hash else \
            f"**a different corpus state** (hash {reproduction.corpus_hash[:12]}…)"
        repro = f"`{repro_path}` ({reproduction.n_passed}/{len(reproduction.runs)} passed; {same}); table below"
    return [
        f"# Run-corpus report: {out.name}", "",
        f"- corpus: `{corpus}`",
        f"- corpus hash (`RunStore.store_hash()`): `{store_hash}`",
        f"- runs: {len(rows)}",
        f"- families: {_counts([r.family for r in rows])}",
        f"- methods: {_counts([r.method for r in rows])}",
        f"- base models: {', '.join(base_models)}",
        f"- outcomes measured: {', '.join(f'`{o}`' for o in outcomes)}",
        f"- reproduction check: {repro}",
        "",
    ]


def _distribution_section(dists: dict[str, dict[str, Distribution]]) -> list[str]:
    lines = ["## End-of-run deltas", "",
             f"![distributions]({DISTRIBUTIONS_PNG})", "",
             "Delta = fine-tuned minus base at the last checkpoint; p10/p90 are the 10th/90th percentiles.", ""]
    for name, per_family in dists.items():
        lines += [f"### Δ `{name}`", "", "| family | n | mean | median | p10 | p90 |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {fam} | {d.n} | {_f(d.mean)} | {_f(d.median)} | {_f(d.p10)} | {_f(d.p90)} |"
                  for fam, d in per_family.items()]
        lines.append("")
    return lines


def _hypothesis_section(results: Sequence[HypothesisResult], hypotheses: dict[str, str], corpus_families: list[str],
                        alpha: float) -> list[str]:
    verdicts = Counter(r.verdict for r in results)
    method = ("Each family's hypothesis as FAMILIES.md states it, and the directional checks encoded for it "
              "(`experiments/corpus_analysis/hypotheses.py`). Against 0: one-sided sign test, runs with no change "
              "count against the claim. Against a family: one-sided Mann-Whitney U. A check holds when the median "
              f"moves in the expected direction and p < {alpha}; 'not enough runs' when even the most extreme data "
              f"could not reach p < {alpha}. Claims of no change and dose claims are not machine-checked (see the "
              "plots).")
    overall = (f"Overall: {verdicts.get('held', 0)} held, {verdicts.get('did not hold', 0)} did not hold, "
               f"{verdicts.get('not enough runs', 0)} not enough runs.")
    lines = ["## Hypotheses", "", method, "", overall, ""]
    families = list(hypotheses) + [f for f in corpus_families if f not in hypotheses]
    for family in families:
        lines += [f"### `{family}`", "", f"> {hypotheses.get(family, '(not in FAMILIES.md)')}", ""]
        mine = [r for r in results if r.expectation.family == family]
        if not mine:
            lines += ["No directional check encoded for this family.", ""]
            continue
        lines += ["| check | claim | verdict | test | n (vs) | median (vs) | p | note |",
                  "| --- | --- | --- | --- | --- | --- | ---: | --- |"]
        for r in mine:
            n = f"{r.n}" + (f" ({r.n_versus})" if r.n_versus is not None else "")
            med = _f(r.median) + (f" ({_f(r.median_versus)})" if r.expectation.versus != ZERO else "")
            verdict = f"**{r.verdict}**" if r.verdict != "not enough runs" else r.verdict
            lines.append(f"| {r.expectation.describe()} | {r.expectation.claim} | {verdict} | {r.test} | {n} | {med} "
                         f"| {_f(r.p_value, 3)} | {r.note} |")
        lines.append("")
    return lines


def _trajectory_section(counts: dict[str, dict[str, dict[str, int]]], config: ReportConfig) -> list[str]:
    rule = ("Each run's delta trajectory (step 0 and every checkpoint) per outcome: **late-onset** when less than "
            f"{config.late_share:.0%} of the final change is reached by {config.late_fraction:.0%} of the run; "
            f"**non-monotone** when it moves against its final direction by more than {config.monotone_slack:.0%} "
            "of the final change (or ends where it started after moving); **flat** when it never moved; "
            "**monotone** otherwise; **undetermined** with fewer than three checkpoints.")
    lines = ["## Trajectory shapes", "", f"![trajectories]({TRAJECTORIES_PNG})", "", rule, ""]
    overview = ["| outcome | moving runs | monotone | late-onset | non-monotone | flat |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
    details: list[str] = []
    by_group: dict[str, Counter[str]] = {}
    for name, per_family in counts.items():
        totals: Counter[str] = Counter()
        for shapes in per_family.values():
            totals.update(shapes)
        by_group.setdefault(name.split(".")[0], Counter()).update(totals)
        moving = sum(totals[s] for s in MOVING_SHAPES)
        shares = [f"{totals[s] / moving:.0%}" if moving else "–" for s in MOVING_SHAPES]
        overview.append(f"| `{name}` | {moving} | " + " | ".join(shares) + f" | {totals['flat']} |")
        details += [f"### `{name}`", "", "| family | " + " | ".join(SHAPES) + " |", "| --- |" + " ---: |" * len(SHAPES)]
        details += [f"| {fam} | " + " | ".join(str(shapes[s]) for s in SHAPES) + " |"
                    for fam, shapes in per_family.items()]
        details.append("")
    groups = []
    for group, totals in by_group.items():
        moving = sum(totals[s] for s in MOVING_SHAPES)
        groups.append(f"{group} {totals['late-onset'] / moving:.0%} of {moving}" if moving else f"{group} –")
    caveat = ("Percentages move in whole probe items, so runs whose final change is a few items are often "
              "non-monotone by one item; the margins are the smoother read.")
    late = f"Late-onset share of moving (run, outcome) pairs by outcome group: {'; '.join(groups)}."
    return [*lines, *overview, "", late, "", caveat, "", *details]


def build_report(corpus: str | Path, out: str | Path, config: ReportConfig | None = None) -> dict[str, Any]:
    """Analyse the store at `corpus`; write report.md, summary.json and the PNGs into `out`; return the summary."""
    config = config or ReportConfig()
    corpus, out = Path(corpus), Path(out)
    if not corpus.is_dir():
        raise ValueError(f"--corpus {corpus} is not a directory; give the run-store directory a build wrote to")
    store = RunStore(corpus)
    records = store.read()
    if not records:
        raise ValueError(f"{corpus} holds no runs")
    rows = rows_from_records(records, config.outcomes)
    outcomes = measured_outcomes(rows, config.outcomes)
    headline = [o for o in config.headline if o in outcomes]
    store_hash = store.store_hash()
    hypotheses = read_family_hypotheses(config.families_md)
    corpus_families = sorted({r.family for r in rows})
    dists = distributions(rows, outcomes)
    results = check_hypotheses(rows, EXPECTATIONS, config.alpha)
    counts = shape_counts(rows, outcomes, config.shape_rule())
    curves = median_curves(rows, outcomes, config.trajectory_grid)
    reproduction = load_reproduction(out)

    style = PlotStyle(dpi=config.dpi)
    figures = {DISTRIBUTIONS_PNG: distribution_grid(rows, outcomes, style),
               TRAJECTORIES_PNG: trajectory_grid(curves, config.trajectory_grid, style)}
    if headline:
        figures[DOSE_PNG] = dose_response(rows, headline, style)
    else:
        (out / DOSE_PNG).unlink(missing_ok=True)  # a figure from an earlier corpus state would mislead
    for name, png in figures.items():
        write_bytes_atomic(png, out / name)
        (out / name).chmod(FILE_MODE)  # readable like the text outputs (mkstemp makes 0600)

    base_models = sorted({r.base.name for r in records})
    lines = _header(corpus, out, store_hash, rows, outcomes, base_models, reproduction)
    lines += _distribution_section(dists)
    lines += _hypothesis_section(results, hypotheses, corpus_families, config.alpha)
    lines += _trajectory_section(counts, config)
    lines += ["## Dose response", ""]
    dose_note = ("End delta vs learning_rate × steps (log x), colour = family, marker = method. LoRA runs use ~10× "
                 "the learning rate of full fine-tunes, so compare doses within a marker.")
    lines += ([f"![dose response]({DOSE_PNG})", "", dose_note, ""] if headline else
              [f"None of the headline outcomes ({', '.join(config.headline)}) was measured.", ""])
    lines += ["## Reproduction", ""]
    lines += ([reproduction_markdown(reproduction), "", f"Tolerances: {reproduction.rationale}", ""] if reproduction
              else [f"No `{REPRODUCTION_FILE}` in `{out}` yet.", ""])

    summary: dict[str, Any] = {
        "corpus": str(corpus), "corpus_hash": store_hash, "runs": len(rows),
        "families": dict(sorted(Counter(r.family for r in rows).items())),
        "methods": dict(sorted(Counter(r.method for r in rows).items())),
        "base_models": base_models, "outcomes": outcomes, "config": config.model_dump(mode="json"),
        "distributions": {o: {f: d.as_dict() for f, d in per.items()} for o, per in dists.items()},
        "hypotheses": {"families": hypotheses, "checks": [r.as_dict() for r in results]},
        "trajectory_shapes": counts,
        "run_trajectory_shapes": run_shapes(rows, outcomes, config.shape_rule()),
        "median_trajectories": {"grid": list(config.trajectory_grid), "curves": curves},
        "figures": sorted(figures),
        "reproduction": {"path": str(out / REPRODUCTION_FILE), "present": reproduction is not None,
                         "passed": reproduction.passed if reproduction else None,
                         "n_passed": reproduction.n_passed if reproduction else None,
                         "n_runs": len(reproduction.runs) if reproduction else None,
                         "same_corpus": reproduction.corpus_hash == store_hash if reproduction else None},
    }
    write_json_atomic(out / SUMMARY_FILE, summary)
    write_text_atomic(out / REPORT_FILE, "\n".join(lines))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.corpus_report",
                                     description="report.md, summary.json and figures of one run corpus")
    parser.add_argument("--corpus", required=True, help="run-store directory")
    parser.add_argument("--out", required=True, help="output folder, e.g. experiments/results/corpus/NAME/")
    parser.add_argument("--config", default=None, help="JSON file overriding ReportConfig fields")
    args = parser.parse_args(argv)
    try:
        config = ReportConfig.model_validate_json(Path(args.config).read_text(encoding="utf-8")) if args.config \
            else ReportConfig()
        summary = build_report(args.corpus, args.out, config)
    except (ValueError, FileNotFoundError) as exc:
        print(f"corpus_report: error: {exc}", file=sys.stderr)
        return 2
    held = Counter(c["verdict"] for c in summary["hypotheses"]["checks"])
    print(f"{summary['runs']} runs, corpus hash {summary['corpus_hash'][:12]}…; hypotheses: "
          + ", ".join(f"{v} {k}" for k, v in sorted(held.items())))
    print(f"wrote {Path(args.out) / REPORT_FILE}, {SUMMARY_FILE} and {len(summary['figures'])} figure(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
