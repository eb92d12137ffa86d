"""``tunecast train`` and ``tunecast evaluate-model``: parsers and command functions.

Importing this module costs only argparse; LightGBM, the corpus and the model load
inside the commands. Neither command imports torch.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surrogate.model import ForecastModelConfig

logger = logging.getLogger(__name__)

TABLE_METRICS = ("spearman", "r2", "mae", "coverage_90", "width_90")


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="fit the meta-model on run corpora and save a model artifact")
    p.add_argument("--corpus", action="append", required=True, type=Path, metavar="DIR",
                   help="featurized run-corpus directory (repeatable)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="new model artifact directory")
    p.add_argument("--config", type=Path, metavar="FILE", help="ForecastModelConfig as JSON or YAML")
    p.add_argument("--version", help="model version name (default: timestamp + content hash)")
    p.add_argument("--features", metavar="NAME", help="feature directory under CORPUS/features (if several)")
    p.add_argument("--evaluate", action="store_true",
                   help="cross-validate the configuration first and store the metrics in the artifact")
    p.add_argument("--folds", type=int, default=5, help="random K-fold folds for --evaluate")
    p.add_argument("--evaluation-out", type=Path, metavar="FILE.json",
                   help="with --evaluate: also write the full evaluation, per-run predictions included "
                        "(the input of `python -m surrogate.evaluation.report`)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=train_command)
    return p


def add_evaluate_model_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate-model",
        help="cross-validate the meta-model and its baselines on a corpus, or score it on held-out runs",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, metavar="DIR",
                        help="model artifact whose configuration is evaluated (default: the embedded default model)")
    source.add_argument("--config", type=Path, metavar="FILE",
                        help="evaluate this ForecastModelConfig (JSON or YAML) instead of a model's")
    p.add_argument("--corpus", action="append", required=True, type=Path, metavar="DIR",
                   help="featurized run-corpus directory (repeatable)")
    p.add_argument("--folds", type=int, default=5, help="random K-fold folds")
    p.add_argument("--seed", type=int, default=0, help="seed of the random folds")
    p.add_argument("--heldout", action="append", type=Path, metavar="DIR",
                   help="score the trained --model as it is on these runs instead of cross-validating")
    p.add_argument("--features", metavar="NAME", help="feature directory under CORPUS/features (if several)")
    p.add_argument("--json", action="store_true", help="print the full result as one JSON object")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the result to this JSON file")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=evaluate_model_command)
    return p


def read_model_config(path: Path | None) -> ForecastModelConfig:
    """A ForecastModelConfig from a JSON or YAML file (the default config when None)."""
    from surrogate.model import ForecastModelConfig

    if path is None:
        return ForecastModelConfig()
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--config {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    return ForecastModelConfig.model_validate(data or {})


def without_predictions(result: dict[str, Any]) -> dict[str, Any]:
    """The evaluation without its per-run predictions (what a model artifact keeps)."""
    return {
        key: ({k: v for k, v in value.items() if k != "predictions"} if isinstance(value, dict) else value)
        for key, value in result.items()
    }


def training_provenance(table: Any, corpora: list[Path]) -> Any:
    """What ``training.json`` records of the corpus a model is fitted on."""
    from surrogate.model.artifact_files import BaseModelUsed, TrainingProvenance

    return TrainingProvenance(
        corpora=tuple(Path(c).as_posix() for c in corpora),
        n_runs=table.n_runs,
        families=tuple(sorted(set(table.families))),
        methods=tuple(sorted(set(table.methods))),
        base_models=tuple(BaseModelUsed(name=n, weights_hash=h) for n, h in table.base_models),
        featurizer_config=dict(table.featurizer_config),
    )


def train_command(args: argparse.Namespace) -> int:
    from surrogate.evaluation import EvaluationConfig, evaluate
    from surrogate.runs.training_table import load_training_table
    from surrogate.training import train_model

    if args.out.exists():
        raise ValueError(f"--out {args.out} already exists: model artifacts are immutable, pick a new directory")
    if args.evaluation_out is not None and not args.evaluate:
        raise ValueError("--evaluation-out needs --evaluate")
    config = read_model_config(args.config)
    table = load_training_table(args.corpus, feature_dir_name=args.features)
    metrics = None
    if args.evaluate:
        result = evaluate(table, config, EvaluationConfig(folds=args.folds), progress=args.progress)
        metrics = without_predictions(result)
        print(format_evaluation(result))
        if args.evaluation_out is not None:
            from surrogate.evaluation.files import write_json_atomic

            write_json_atomic(args.evaluation_out, result)
    model = train_model(table, config, progress=args.progress)
    path = model.save(args.out, corpus_hash=table.corpus_hash, model_version=args.version, metrics=metrics,
                      provenance=training_provenance(table, args.corpus))
    from surrogate.model import read_meta

    meta = read_meta(path)
    print(f"trained model {meta.model_version} on {table.n_runs} runs ({len(model.targets_)} targets, "
          f"{model.schema_.n_features} features, featurizer {model.schema_.featurizer_version}) -> {path}")
    return 0


def evaluate_model_command(args: argparse.Namespace) -> int:
    from surrogate.default_model import resolve_model_dir
    from surrogate.evaluation import EvaluationConfig, evaluate, evaluate_heldout
    from surrogate.evaluation.files import write_json_atomic
    from surrogate.model import ForecastModel, verify_artifact
    from surrogate.runs.training_table import load_training_table

    if args.heldout and args.config is not None:
        raise ValueError("--heldout scores a trained model: give --model DIR (or none, for the default), not --config")
    evaluation = EvaluationConfig(folds=args.folds, seed=args.seed)
    # the model first: a missing default model fails before any corpus is read
    model_dir = resolve_model_dir(args.model) if args.config is None else None
    meta = verify_artifact(model_dir) if model_dir is not None else None
    table = load_training_table(args.corpus, feature_dir_name=args.features)
    if args.heldout:
        assert model_dir is not None and meta is not None  # --config was refused above
        if meta.corpus_hash != table.corpus_hash:
            logger.warning("--corpus (hash %s) is not the corpus the model was trained on (%s); baselines are "
                           "fitted on --corpus", table.corpus_hash[:12], meta.corpus_hash[:12])
        heldout = load_training_table(args.heldout, feature_dir_name=args.features)
        result = evaluate_heldout(ForecastModel.load(model_dir), heldout, table, evaluation,
                                  model_corpus_hash=meta.corpus_hash)
    else:
        config = read_model_config(args.config) if meta is None else meta.config
        result = evaluate(table, config, evaluation, progress=args.progress)
    if args.out:
        write_json_atomic(args.out, result)
    print(json.dumps(result, indent=1) if args.json else format_evaluation(result))
    return 0


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_evaluation(result: dict[str, Any]) -> str:
    """A compact table per split: each outcome, the model and each baseline."""
    lines = [f"{result['n_runs']} runs, corpus {str(result['corpus_hash'])[:12]}"]
    width = max((len(o) for o in result.get("outcomes", [])), default=8)
    for split in ("random", "leave_family_out", "heldout"):
        block = result.get(split)
        if not block:
            continue
        lines.append(f"\n[{split}]")
        methods = {"model": block["model"], **block["baselines"]}
        lines.append(f"  {'outcome':<{width}}  {'method':<26}" + "".join(f"{m:>12}" for m in TABLE_METRICS))
        for outcome in block["model"]:
            for name, metrics in methods.items():
                row = metrics.get(outcome)
                cells = "".join(f"{_cell(row.get(m) if row else None):>12}" for m in TABLE_METRICS)
                lines.append(f"  {outcome:<{width}}  {name:<26}{cells}")
    early = result.get("early_run", {})
    for split in ("random", "leave_family_out"):
        block = early.get(split)
        if block:
            lines.append(f"\n[early run, {split}] {block['n_runs_with_observations']} runs: MAE without -> with")
            for outcome, with_obs in block["with_observations"].items():
                without = block["without"][outcome]
                if with_obs and without:
                    lines.append(f"  {outcome:<{width}}  {_cell(without['mae'])} -> {_cell(with_obs['mae'])}")
    return "\n".join(lines)
