"""Does the forecast ranking hold up? Score >= 20 lab candidates, then fine-tune the top-3 and bottom-3 for real.

    nohup nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.score_vs_finetune \\
        > /tmp/score_vs_finetune.log 2>&1 &

1. Generates the candidates of `experiments.lab_candidates.DEFAULT_CANDIDATES` (lab families, a spread of knobs, a few
   hundred examples each, fixed seeds) with the lab generator into experiments/results/score_vs_finetune/candidates/.
2. Scores them with the real `tunecast score` command function (same parser, same code path as
   `.venv/bin/tunecast score FILE... --model lab --recipe experiments/demo/recipe.json --out DIR`,
   default embedded meta-model), which writes the ranked table and the HTML report.
3. Picks the ranking outcome(s): among the continuous outcomes of `RANKABLE`, the one whose
   forecast points spread most across candidates relative to their own 90% interval width
   (with `--n-outcomes 2`, also the best of another headline). For each, the top-k and bottom-k
   candidates by forecast harm are fine-tuned for real with the same recipe on the lab base,
   through the harness, measured at step 0 (once) and at the end, with the corpus's
   measurement settings (`build-*.json` of `--corpus`), one torch thread.
4. Writes `--out`: every candidate's forecast (point, lower, upper) for every outcome, the
   fine-tuned candidates' forecast vs measured deltas, whether each top candidate's measured
   harm exceeds each bottom one's, the Spearman correlation forecast vs measured over the 2k,
   whether each measured delta fell inside the 90% interval, wall times and the command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from experiments.lab_candidates import DEFAULT_CANDIDATES, generate_candidates
from experiments.rank_stats import spearman
from surrogate.runs import CORE_OUTCOMES

logger = logging.getLogger(__name__)

RESULTS = Path("experiments/results")

HARM_DIRECTION: dict[str, float] = {
    "forgetting.ref_loss": 1.0,
    "forgetting.knowledge_margin": -1.0,
    "forgetting.knowledge_acc": -1.0,
    "bias.stereotype_margin": 1.0,
    "bias.stereotype_pref": 1.0,
    "safety.refusal_margin": -1.0,
    "safety.refusal_rate": -1.0,
}
"""+1: the outcome rising is harm; -1: falling is harm (as in featurizers' HARM_SIGN and the risk rules)."""

RANKABLE: dict[str, str] = {
    "forgetting.ref_loss": "forgetting",
    "forgetting.knowledge_margin": "forgetting",
    "bias.stereotype_margin": "bias",
    "safety.refusal_margin": "safety",
}
"""Outcomes a ranking may be judged on, with their headline: the continuous ones with a fixed harmful
direction (gender skew's depends on the base's sign; percentages are quantized by the probe count)."""




class ScoreVsFinetuneConfig(BaseModel):
    """The settings of one run of this experiment (saved in its results JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates_dir: Path = RESULTS / "score_vs_finetune" / "candidates"
    scored_dir: Path = RESULTS / "score_vs_finetune" / "scored"
    out: Path = RESULTS / "score_vs_finetune.json"
    recipe: Path = Path("experiments/demo/recipe.json")
    model: str = "lab"
    corpus: Path = Path("experiments/corpus/lab-v1")
    k: int = Field(default=3, ge=1, description="top-k and bottom-k candidates fine-tuned per ranking outcome")
    n_outcomes: int = Field(default=2, ge=1, le=len(set(RANKABLE.values())))
    level: float = Field(default=0.9, gt=0, lt=1, description="interval checked against the measured delta")
    torch_threads: int = Field(default=1, ge=1)
    reuse_scored: bool = Field(default=False, description="read scored_dir/results.json instead of scoring again")


# ----- pure logic (tested in tests/experiments/test_score_vs_finetune.py) -------------------------------------------


def end_forecasts(results: Any, level: float) -> dict[str, dict[str, dict[str, float]]]:
    """candidate name -> outcome -> {point, lower, upper} at the end of the run, at `level`."""
    from server.scoring.scorer import end_of_run

    out: dict[str, dict[str, dict[str, float]]] = {}
    for c in results.candidates:
        row: dict[str, dict[str, float]] = {}
        for outcome, f in end_of_run(c.forecasts).items():
            interval = next((i for i in f.intervals if abs(i.level - level) < 1e-9), None)
            if interval is None:
                raise ValueError(f"{c.name}: no {level:.0%} interval for {outcome}; score with --levels including {level}")
            row[outcome] = {"point": f.point, "lower": interval.lower, "upper": interval.upper}
        out[candidate_key(c.name)] = row
    return out


def candidate_key(name: str) -> str:
    """A scored candidate's name is its path; the key is the file stem (the LabCandidate name)."""
    return Path(name).name.removesuffix(".jsonl")


def harm(outcome: str, delta: float) -> float:
    """A change expressed in the harmful direction of `outcome` (positive = harm done)."""
    if outcome not in HARM_DIRECTION:
        raise ValueError(f"{outcome!r} has no fixed harmful direction; use one of {sorted(HARM_DIRECTION)}")
    return HARM_DIRECTION[outcome] * delta


def outcome_spread(forecasts: Mapping[str, Mapping[str, Mapping[str, float]]], outcome: str) -> dict[str, float]:
    """Std of the point forecasts across candidates, the median interval width and their ratio."""
    points = np.array([f[outcome]["point"] for f in forecasts.values()])
    widths = np.array([f[outcome]["upper"] - f[outcome]["lower"] for f in forecasts.values()])
    spread, width = float(points.std()), float(np.median(widths))
    return {"outcome": outcome, "spread": spread, "median_width": width,
            "spread_over_width": spread / width if width > 0 else float("inf")}


def choose_outcomes(forecasts: Mapping[str, Mapping[str, Mapping[str, float]]], n: int,
                    rankable: Mapping[str, str] = RANKABLE) -> tuple[list[str], list[dict[str, float]]]:
    """The n outcomes (from distinct headlines) whose forecasts separate candidates most relative to
    their own uncertainty; also every rankable outcome's spread, best first."""
    if not forecasts:
        raise ValueError("no scored candidates to choose a ranking outcome from")
    spreads = sorted((outcome_spread(forecasts, o) for o in rankable),
                     key=lambda s: (-s["spread_over_width"], s["outcome"]))
    chosen: list[str] = []
    for s in spreads:
        if len(chosen) < n and rankable[s["outcome"]] not in {rankable[c] for c in chosen}:
            chosen.append(s["outcome"])
    return chosen, spreads


def pick_extremes(harms: Mapping[str, float], k: int) -> tuple[list[str], list[str]]:
    """(top k by harm, most harmful first; bottom k, least harmful first); ties broken by name."""
    if 2 * k > len(harms):
        raise ValueError(f"need at least {2 * k} candidates for top-{k} and bottom-{k}, got {len(harms)}")
    order = sorted(harms, key=lambda name: (-harms[name], name))
    return order[:k], order[::-1][:k]


def compare_extremes(forecast_harm: Mapping[str, float], measured_harm: Mapping[str, float],
                     top: Sequence[str], bottom: Sequence[str]) -> dict[str, Any]:
    """Did every top candidate do more measured harm than every bottom one, and do the ranks agree?"""
    pairs = [{"top": t, "bottom": b, "top_measured_harm": measured_harm[t], "bottom_measured_harm": measured_harm[b],
              "top_exceeds": bool(measured_harm[t] > measured_harm[b])} for t in top for b in bottom]
    names = [*top, *bottom]
    rho = spearman(np.array([forecast_harm[n] for n in names]), np.array([measured_harm[n] for n in names]))
    return {
        "pairs": pairs,
        "pairs_top_exceeds": sum(p["top_exceeds"] for p in pairs),
        "n_pairs": len(pairs),
        "every_top_exceeds_every_bottom": all(p["top_exceeds"] for p in pairs),
        "mean_measured_harm_top": float(np.mean([measured_harm[t] for t in top])),
        "mean_measured_harm_bottom": float(np.mean([measured_harm[b] for b in bottom])),
        "spearman_forecast_vs_measured": None if not np.isfinite(rho) else rho,
        "spearman_n": len(names),
    }


def interval_check(forecast: Mapping[str, Mapping[str, float]], measured: Mapping[str, float]) -> dict[str, Any]:
    """Per outcome forecast and measured: point, bounds, measured delta, inside the interval or not."""
    return {o: {**f, "measured": measured[o], "error": measured[o] - f["point"],
                "inside": bool(f["lower"] <= measured[o] <= f["upper"])}
            for o, f in forecast.items() if o in measured}


def coverage_summary(checks: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Over the fine-tuned candidates: how many measured deltas fell inside, per outcome and in all."""
    per_outcome: dict[str, dict[str, int]] = {}
    for by_outcome in checks.values():
        for outcome, check in by_outcome.items():
            entry = per_outcome.setdefault(outcome, {"inside": 0, "n": 0})
            entry["inside"] += int(check["inside"])
            entry["n"] += 1
    inside, n = sum(e["inside"] for e in per_outcome.values()), sum(e["n"] for e in per_outcome.values())
    return {"per_outcome": per_outcome, "inside": inside, "n": n, "share": inside / n if n else None}


def score_argv(files: Sequence[Path], config: ScoreVsFinetuneConfig) -> list[str]:
    """The `tunecast score` command line this experiment runs (in-process, through the CLI parser)."""
    return ["score", *(str(f) for f in files), "--model", config.model, "--recipe", str(config.recipe),
            "--out", str(config.scored_dir)]


# ----- the experiment (torch, the lab model, real fine-tunes) -------------------------------------------------------


def run_score_cli(files: Sequence[Path], config: ScoreVsFinetuneConfig) -> tuple[Any, float]:
    """`tunecast score` through its own parser and command function; the results it wrote, and wall s."""
    from server.scoring.results import RESULTS_FILE, BatchResults
    from tunecast.cli import build_parser

    args = build_parser().parse_args(score_argv(files, config))
    started = time.perf_counter()
    if not config.reuse_scored:
        code = args.func(args)
        if code != 0:
            raise RuntimeError(f"tunecast score exited with {code}")
    wall = time.perf_counter() - started
    results = BatchResults.model_validate_json((config.scored_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    return results, wall


def harness_config(corpus: Path, torch_threads: int) -> tuple[Any, Any]:
    """The corpus's build and its measurement settings (what the meta-model learned from), measured only
    at the end of the run."""
    from experiments.harness import HarnessConfig
    from experiments.reproduce_runs import load_builds

    (_, build), *_ = load_builds(corpus)
    return build, HarnessConfig.model_validate({**build.harness.model_dump(), "checkpoint_fractions": (1.0,),
                                                "torch_threads": torch_threads, "progress": False})


def finetune(candidate: Mapping[str, Any], loaded: Any, recipe: Any, harness: Any,
             base: Mapping[str, float]) -> dict[str, Any]:
    """One real fine-tune of a candidate file; its end-of-run deltas and clocks."""
    from experiments.harness import TrainingData, run_finetune
    from featurizers.features.records import content_hash, read_dataset_jsonl
    from server.scoring.scorer import recipe_for

    records = read_dataset_jsonl(candidate["file"])
    if content_hash(records) != candidate["sha256"]:
        raise ValueError(f"{candidate['file']} changed since it was generated")
    data = TrainingData.from_examples(records, family=candidate["family"], params=candidate["params"],
                                      seed=candidate["seed"])
    started = time.perf_counter()
    run = run_finetune(loaded, data, recipe_for(recipe, len(records)), harness, base_outcomes=base)
    deltas = run.final.deltas
    return {"run_id": run.run_id, "epochs": run.recipe.epochs, "deltas": {o: deltas[o] for o in CORE_OUTCOMES},
            "wall_s": time.perf_counter() - started, "finetune_s": run.timing.finetune_s, "eval_s": run.timing.eval_s}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.score_vs_finetune",
                                     description=(__doc__ or "").splitlines()[0])
    defaults = ScoreVsFinetuneConfig()
    parser.add_argument("--out", type=Path, default=defaults.out)
    parser.add_argument("--k", type=int, default=defaults.k)
    parser.add_argument("--n-outcomes", type=int, default=defaults.n_outcomes)
    parser.add_argument("--torch-threads", type=int, default=defaults.torch_threads)
    parser.add_argument("--reuse-scored", action="store_true", help="do not score again: read the scored results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = ScoreVsFinetuneConfig(out=args.out, k=args.k, n_outcomes=args.n_outcomes,
                                   torch_threads=args.torch_threads, reuse_scored=args.reuse_scored)

    import torch

    torch.set_num_threads(config.torch_threads)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m experiments.score_vs_finetune", *(argv if argv is not None else sys.argv[1:])]),
        "config": config.model_dump(mode="json"),
    }
    tick = time.perf_counter()
    candidates = generate_candidates(DEFAULT_CANDIDATES, config.candidates_dir)
    report["generate_s"] = time.perf_counter() - tick
    report["candidates"] = candidates
    files = [Path(c["file"]) for c in candidates]
    print(f"generated {len(files)} candidates in {report['generate_s']:.1f} s; scoring...", file=sys.stderr, flush=True)
    results, score_wall = run_score_cli(files, config)
    report["score"] = score_summary(results, score_wall, files, config)
    forecasts = end_forecasts(results, config.level)
    report["forecasts"] = forecasts
    chosen, spreads = choose_outcomes(forecasts, config.n_outcomes)
    report["outcome_spreads"] = spreads
    report["ranking_outcomes"] = chosen
    picks = {o: pick_extremes({n: harm(o, f[o]["point"]) for n, f in forecasts.items()}, config.k) for o in chosen}
    write_partial(config.out, report)
    by_name = {c["name"]: c for c in candidates}
    needed = list(dict.fromkeys(n for top, bottom in picks.values() for n in (*top, *bottom)))
    report["finetuned"] = run_finetunes(needed, by_name, forecasts, config, report)
    report["rankings"] = {o: ranking_result(o, top, bottom, forecasts, report["finetuned"])
                          for o, (top, bottom) in picks.items()}
    checks = {n: r["interval_check"] for n, r in report["finetuned"].items()}
    report["interval_coverage"] = {"level": config.level, **coverage_summary(checks)}
    report["total_s"] = time.perf_counter() - started
    write_partial(config.out, report)
    print_summary(report)
    return 0


def score_summary(results: Any, wall: float, files: Sequence[Path], config: ScoreVsFinetuneConfig) -> dict[str, Any]:
    from server.scoring.results import REPORT_FILE

    report_path = config.scored_dir / REPORT_FILE
    return {
        "cli": " ".join([".venv/bin/tunecast", *score_argv(files, config)]),
        "wall_s": wall, "elapsed_s": results.elapsed_seconds, "n_scored": len(results.candidates),
        "skipped": [s.model_dump() for s in results.skipped], "meta_model_version":
            results.provenance.meta_model_version, "base_weights_hash": results.provenance.base_weights_hash,
        "featurize_s": {candidate_key(c.name): c.featurize_seconds for c in results.candidates},
        "tunecast_rank": {candidate_key(c.name): {"rank": c.rank, "harm_score": c.harm_score, "ood": c.ood,
                                                  "risks": {r.headline: r.risk for r in c.risks}}
                          for c in results.candidates},
        "report_html": str(report_path), "report_bytes": report_path.stat().st_size if report_path.exists() else None,
    }


def run_finetunes(names: Sequence[str], by_name: Mapping[str, Mapping[str, Any]],
                  forecasts: Mapping[str, Mapping[str, Mapping[str, float]]], config: ScoreVsFinetuneConfig,
                  report: dict[str, Any]) -> dict[str, Any]:
    """Fine-tune each named candidate once (a candidate picked for two outcomes is run once)."""
    from experiments.harness import probe_outcomes
    from featurizers.loading import load_causal_lm
    from server.scoring.cli import read_structured
    from surrogate.runs import Recipe

    build, harness = harness_config(config.corpus, config.torch_threads)
    loaded = load_causal_lm(config.model, device="cpu")
    if loaded.weights_hash() != build.base_weights_hash:
        raise ValueError(f"{config.model} does not hash to the corpus's base {build.base_weights_hash[:12]}")
    recipe = Recipe.model_validate({**read_structured(config.recipe, "recipe"), "epochs": 1.0})
    tick = time.perf_counter()
    print("measuring the base once...", file=sys.stderr, flush=True)
    base = probe_outcomes(loaded, harness)
    report["base_measure_s"] = time.perf_counter() - tick
    report["base_outcomes"] = {o: base[o] for o in CORE_OUTCOMES if o in base}
    report["harness"] = harness.model_dump(mode="json")
    done: dict[str, Any] = {}
    report["finetuned"] = done
    for i, name in enumerate(names, start=1):
        print(f"[{i}/{len(names)}] fine-tuning {name} ({by_name[name]['size']} examples)...", file=sys.stderr,
              flush=True)
        run = finetune(by_name[name], loaded, recipe, harness, base)
        done[name] = {"family": by_name[name]["family"], "size": by_name[name]["size"], **run,
                      "interval_check": interval_check(forecasts[name], run["deltas"])}
        print(f"    done in {run['wall_s']:.0f} s", file=sys.stderr, flush=True)
        write_partial(config.out, report)  # a kill keeps the runs that finished
    return done


def ranking_result(outcome: str, top: Sequence[str], bottom: Sequence[str],
                   forecasts: Mapping[str, Mapping[str, Mapping[str, float]]],
                   finetuned: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    forecast_harm = {n: harm(outcome, forecasts[n][outcome]["point"]) for n in (*top, *bottom)}
    measured_harm = {n: harm(outcome, finetuned[n]["deltas"][outcome]) for n in (*top, *bottom)}
    rows = [{"name": n, "group": "top" if n in top else "bottom", "forecast": forecasts[n][outcome],
             "measured_delta": finetuned[n]["deltas"][outcome], "forecast_harm": forecast_harm[n],
             "measured_harm": measured_harm[n], "inside": finetuned[n]["interval_check"][outcome]["inside"]}
            for n in (*top, *bottom)]
    return {"outcome": outcome, "harm_direction": HARM_DIRECTION[outcome], "top": list(top), "bottom": list(bottom),
            "candidates": rows, **compare_extremes(forecast_harm, measured_harm, top, bottom)}


def write_partial(path: Path, report: Mapping[str, Any]) -> None:
    from featurizers.io import write_json_atomic

    write_json_atomic(path, json.loads(json.dumps(report, default=str)), sort_keys=False)


def print_summary(report: Mapping[str, Any]) -> None:
    for outcome, r in report["rankings"].items():
        rho = r["spearman_forecast_vs_measured"]
        print(f"{outcome}: top {r['top']} bottom {r['bottom']}; top > bottom in {r['pairs_top_exceeds']}/{r['n_pairs']} "
              f"pairs; Spearman {rho if rho is None else round(rho, 3)} (n={r['spearman_n']})")
    cov = report["interval_coverage"]
    print(f"measured inside the {cov['level']:.0%} interval: {cov['inside']}/{cov['n']}; "
          f"total {report['total_s']:.0f} s; wrote {report['config']['out']}")


if __name__ == "__main__":
    raise SystemExit(main())
