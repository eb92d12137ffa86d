"""``tunecast score``: parser and command function.

Importing this module costs only argparse; the featurizers (torch), the meta-model and Ray
load inside the command, so ``tunecast --help`` and ``tunecast serve`` stay light.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_LEVELS = "0.8,0.9"
DEFAULT_TOP_K = 5
SUMMARY_ROWS = 10

T = TypeVar("T")

MANIFEST_HELP = """\
manifest (JSON or YAML; paths relative to the manifest):
  datasets:
    - {name: support-chat, path: data/support.jsonl}
  mixtures:
    - name: support-plus-code
      seed: 0                  # default 0
      size: 500                # default: the largest mix no file has to repeat
      components:
        - {path: data/support.jsonl, weight: 0.7}
        - {path: data/code.parquet, weight: 0.3}

A mixture takes size * weight / sum(weights) examples from each file, rounded by
largest remainders (ties to the earlier file): whole copies of the file when it has
fewer examples than that, then the rest as a sample without replacement
drawn by numpy.random.default_rng([seed, file index]); each file's picks keep file
order, and the files are concatenated in manifest order (server/scoring/mixing.py).

risks are judged on the harmful end of the widest --levels interval against the
thresholds of --risk-config (defaults in server/scoring/risk.py); candidates are ranked
by the sum over the three headlines of that bound divided by its 'high' threshold.
"""


def add_score_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "score", help="batch-score candidate datasets (or mixtures): ranked table, risk levels and report",
        description="Featurize each candidate with one loaded base model, forecast every outcome with the "
                    "meta-model, rank the candidates most harmful first and write DIR/results.json, "
                    "ranking.csv, ranking.parquet (and report.html when the report module is present).",
        epilog=MANIFEST_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("candidates", nargs="+", metavar="CANDIDATE",
                   help=".jsonl/.parquet dataset, a directory of them (recursive), or a .json/.yaml manifest "
                        "of named datasets and mixtures")
    p.add_argument("--model", required=True, metavar="SPEC",
                   help="base model spec: lab, tiny, smollm2-135m-instruct, a directory, a .gguf file, BASE+lora:DIR")
    p.add_argument("--recipe", required=True, type=Path, metavar="FILE",
                   help="fine-tune recipe, JSON or YAML; epochs may be left out: they are counted for each "
                        "candidate from its size, as the run corpus counts them")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="results directory (created)")
    p.add_argument("--meta-model", type=Path, metavar="DIR", help="meta-model artifact (default: the embedded one)")
    p.add_argument("--levels", default=DEFAULT_LEVELS,
                   help="interval levels, comma-separated; risks are judged on the widest")
    p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, metavar="K", help="influential examples per outcome")
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    p.add_argument("--ray-address", metavar="ADDR", help="existing Ray cluster (default: start a local one)")
    p.add_argument("--max-workers", type=int, metavar="N", help="cap on Ray workers (default: one per CPU or GPU)")
    p.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="feature cache reused across runs (default: a temporary one for this batch)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda[:N]")
    p.add_argument("--featurizer-config", type=Path, metavar="FILE",
                   help="featurizer settings, JSON or YAML (must match how the meta-model's corpus was featurized)")
    p.add_argument("--risk-config", type=Path, metavar="FILE", help="risk thresholds, JSON or YAML (RiskConfig)")
    p.add_argument("--no-report", action="store_true", help="write the results and ranking but not the report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=score_command)
    return p


def read_structured(path: Path, what: str) -> Any:
    """A JSON or YAML (by suffix) file's data; errors name the option and file."""
    if not path.is_file():
        raise FileNotFoundError(f"--{what} {path}: no such file")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"--{what} {path}: not valid YAML ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--{what} {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def validated(model: type[T], data: Any, what: str, path: Path) -> T:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)  # type: ignore[attr-defined,no-any-return]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"--{what} {path}: {problems}") from None


def options_from_args(args: argparse.Namespace) -> Any:
    """``ScoreOptions`` from the parsed command line; file errors name the option."""
    from server.cli import parse_levels
    from server.scoring.batch import ScoreOptions
    from server.scoring.risk import RiskConfig
    from server.scoring.scorer import ScoreSettings
    from surrogate.runs import Recipe

    levels = parse_levels(args.levels)
    if not levels:
        raise ValueError("--levels: give at least one level, e.g. 0.9")
    if args.top_k < 1:
        raise ValueError(f"--top-k {args.top_k}: must be at least 1")
    raw_recipe = read_structured(args.recipe, "recipe")
    if isinstance(raw_recipe, dict) and "epochs" not in raw_recipe:
        # epochs are recounted for every candidate from its size (server.scoring.scorer.recipe_for),
        # so a recipe may leave them out; any positive value validates the rest of the recipe.
        raw_recipe = {**raw_recipe, "epochs": 1.0}
    recipe = validated(Recipe, raw_recipe, "recipe", args.recipe)
    risk = (validated(RiskConfig, read_structured(args.risk_config, "risk-config"), "risk-config", args.risk_config)
            if args.risk_config else RiskConfig())
    featurizer = read_structured(args.featurizer_config, "featurizer-config") if args.featurizer_config else {}
    if not isinstance(featurizer, dict):  # a ValueError: the CLI reports it as a usage error
        raise ValueError(  # noqa: TRY004
            f"--featurizer-config {args.featurizer_config}: expected an object of settings")
    return ScoreOptions(
        candidates=tuple(args.candidates), base_model=args.model, recipe=recipe, out_dir=args.out,
        meta_model=args.meta_model, settings=ScoreSettings(levels=tuple(levels), top_k=args.top_k, risk=risk),
        featurizer_config=featurizer, engine=args.engine, ray_address=args.ray_address,
        max_workers=args.max_workers, cache_dir=args.cache_dir, device=args.device, progress=not args.no_progress,
    )


def print_skip(skipped: Any) -> None:
    """Skipped candidates go to stderr by name and line, without breaking the progress bar."""
    from tqdm.auto import tqdm

    where = f"{skipped.path}:{skipped.line}" if skipped.line is not None else skipped.path
    tqdm.write(f"tunecast score: skipped {skipped.name} ({where}): {skipped.reason}", file=sys.stderr)


FORECAST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("forgetting.knowledge_acc", "knowledge pp"),
    ("forgetting.ref_loss", "ref loss"),
    ("bias.stereotype_pref", "stereotype pp"),
    ("bias.gender_skew", "gender skew"),
    ("safety.refusal_rate", "refusal pp"),
    ("safety.over_refusal", "over-refusal pp"),
)
"""End-of-run outcomes printed with their interval: the changes a reader weighs first."""


def forecast_table(candidates: Any, level: float) -> list[str]:
    """Forecast change at the end of the run, ``point [lower, upper]`` at ``level``, per candidate."""
    if not candidates:
        return []
    lines = [f"forecast change at end of run, point [{level:.0%} interval]:",
             "  " + "  ".join(f"{title:>22}" for _, title in FORECAST_COLUMNS) + "  name"]
    for c in candidates:
        end = {f.outcome: f for f in c.forecasts if f.fraction == 1.0}
        cells = []
        for outcome, _ in FORECAST_COLUMNS:
            f = end.get(outcome)
            interval = next((i for i in f.intervals if abs(i.level - level) < 1e-9), None) if f else None
            cells.append(f"{f.point:+7.2f} [{interval.lower:+6.2f},{interval.upper:+6.2f}]" if f and interval
                         else f"{'-':>22}")
        lines.append("  " + "  ".join(f"{cell:>22}" for cell in cells) + f"  {c.name}")
    return lines


def format_summary(run: Any) -> str:
    results = run.results
    lines = [(f"scored {len(results.candidates)} candidate(s), skipped {len(results.skipped)}, "
              f"in {results.elapsed_seconds:.1f}s (meta-model {results.provenance.meta_model_version})")]
    if results.candidates:
        lines.append(f"  {'rank':>4}  {'harm':>7}  {'forgetting':<10}  {'bias':<10}  {'safety':<10}  {'ood':<3}  name")
    for c in results.candidates[:SUMMARY_ROWS]:
        risks = {r.headline: r.risk for r in c.risks}
        lines.append(f"  {c.rank:>4}  {c.harm_score:7.3f}  {risks.get('forgetting_risk', '-'):<10}  "
                     f"{risks.get('bias_drift_potential', '-'):<10}  {risks.get('safety_erosion', '-'):<10}  "
                     f"{'yes' if c.ood else 'no':<3}  {c.name}")
    if len(results.candidates) > SUMMARY_ROWS:
        lines.append(f"  ... {len(results.candidates) - SUMMARY_ROWS} more in the ranking")
    lines.extend(forecast_table(results.candidates[:SUMMARY_ROWS], max(results.levels)))
    lines.extend(f"wrote {path}" for path in (*run.files, *([run.report] if run.report else [])))
    return "\n".join(lines)


def score_command(args: argparse.Namespace) -> int:
    """0 when at least one candidate was scored, 1 when every candidate was skipped."""
    from server.scoring.batch import run_score

    options = options_from_args(args)
    run = run_score(options, on_skip=print_skip, report=not args.no_report)
    print(format_summary(run))
    return 0 if run.results.candidates else 1
