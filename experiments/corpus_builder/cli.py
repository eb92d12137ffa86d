"""`tunecast corpus build`, `stats` and `featurize`: parser and command functions.

Importing this module is cheap (no torch): the builder is imported inside the
command, so `tunecast serve` and `tunecast corpus stats` stay light.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


def add_corpus_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `corpus build`, `stats` and `featurize` on the top-level subparsers."""
    corpus = subparsers.add_parser("corpus", help="build or summarise a run corpus of real fine-tunes")
    sub = corpus.add_subparsers(dest="corpus_command", required=True)

    build = sub.add_parser("build", help="sample run configs and run the ones the store does not hold yet")
    build.add_argument("--base", required=True, help="base model spec: lab, tiny, smollm2-135m-instruct, a directory")
    build.add_argument("--runs", type=int, required=True, help="number of sampled configs (a prefix of one sequence)")
    build.add_argument("--seed", type=int, default=0, help="sampling seed")
    build.add_argument("--out", required=True, help="run-store directory (created; resumed if it holds runs)")
    build.add_argument("--engine", choices=["local", "ray"], default="local")
    build.add_argument("--ray-address", default=None, help="existing Ray cluster (default: start a local one)")
    build.add_argument("--max-workers", type=int, default=None, help="cap on parallel Ray workers")
    build.add_argument("--space", default=None, help="JSON/YAML file overriding the sampling space")
    build.add_argument("--harness-config", default=None, help="JSON/YAML file overriding the harness config")
    build.add_argument("--sources", default=None, help="directory of text-source caches (default: the lab build)")
    build.add_argument("--device", default=None, help="override the harness device (auto, cpu, cuda)")
    build.add_argument("--torch-threads", type=int, default=None,
                       help="override the harness's torch CPU threads (1 is often fastest on a busy small machine)")
    build.add_argument("--retry-failed", action="store_true", help="rerun configs listed in failed_runs.jsonl")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.set_defaults(func=corpus_build_command)

    stats = sub.add_parser("stats", help="counts and end-of-run delta statistics of a run store")
    stats.add_argument("dir", help="run-store directory")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=corpus_stats_command)

    feat = sub.add_parser("featurize", help="compute pre-run features of every run not featurized yet, stored beside the runs")
    feat.add_argument("dir", help="run-store directory (features go to DIR/features/<version>-<fingerprint>/)")
    feat.add_argument("--model", required=True, help="the base model spec the corpus was built from (weights hash checked)")
    feat.add_argument("--sources", default=None, help="directory of text-source caches the datasets regenerate from")
    feat.add_argument("--limit", type=int, default=None, help="featurize at most N runs this call")
    feat.add_argument("--config", default=None, help="JSON/YAML file of featurizer settings (default: the defaults)")
    feat.add_argument("--device", default=None, help="override the featurizer config's device (auto, cpu, cuda)")
    feat.add_argument("--cache-dir", default=None, help="feature cache directory (reused across calls)")
    feat.add_argument("--retry-failed", action="store_true", help="retry runs listed in the feature dir's failed.jsonl")
    feat.add_argument("--no-progress", action="store_true", help="no progress bar")
    feat.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    feat.set_defaults(func=corpus_featurize_command)
    return corpus


def load_model_file(path: str | None, model: type[ModelT], what: str) -> ModelT:
    """A pydantic model from a JSON or YAML file (defaults when no file); errors name file and field."""
    if path is None:
        return model()
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"--{what}: file {path} does not exist")
    import yaml

    text = file.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {} if file.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"--{what}: {path} is not valid JSON/YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"--{what}: {path} does not validate: {exc}") from exc


def corpus_build_command(args: argparse.Namespace) -> int:
    from experiments.corpus_builder.builder import build_corpus
    from experiments.corpus_builder.space import SamplingSpace
    from experiments.harness import HarnessConfig

    if args.runs < 0:
        raise ValueError(f"--runs must be >= 0, got {args.runs}")
    harness = load_model_file(args.harness_config, HarnessConfig, "harness-config")
    overrides = {k: v for k, v in (("device", args.device), ("torch_threads", args.torch_threads)) if v is not None}
    if overrides:
        harness = HarnessConfig.model_validate({**harness.model_dump(), **overrides})
    summary = build_corpus(
        args.base,
        args.runs,
        args.seed,
        args.out,
        engine=args.engine,
        ray_address=args.ray_address,
        space=load_model_file(args.space, SamplingSpace, "space"),
        harness=harness,
        sources_dir=args.sources,
        retry_failed=args.retry_failed,
        max_workers=args.max_workers,
        progress=not args.no_progress,
    )
    print(json.dumps(summary.model_dump(), indent=2))
    return 0


def corpus_stats_command(args: argparse.Namespace) -> int:
    from surrogate.runs import corpus_stats

    if not Path(args.dir).is_dir():
        raise ValueError(f"{args.dir} is not a directory; give the run-store directory a build wrote to")
    stats = corpus_stats(args.dir)
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"{stats['runs']} runs; families: {', '.join(stats['families']) or '-'}; "
          f"methods: {', '.join(stats['methods']) or '-'}; base models: {', '.join(stats['base_models']) or '-'}")
    if stats["outcomes"]:
        width = max(len(name) for name in stats["outcomes"])
        print(f"  {'outcome (end-of-run delta)':<{width}}  {'mean':>10} {'std':>10} {'min':>10} {'max':>10}")
        for name, s in stats["outcomes"].items():
            print(f"  {name:<{width}}  {s['mean']:10.4f} {s['std']:10.4f} {s['min']:10.4f} {s['max']:10.4f}")
    return 0


def corpus_featurize_command(args: argparse.Namespace) -> int:
    from experiments.corpus_builder.featurize_corpus import featurize_corpus
    from featurizers.features.config import FeaturizerConfig

    if not Path(args.dir).is_dir():
        raise ValueError(f"{args.dir} is not a directory; give the run-store directory a build wrote to")
    if args.limit is not None and args.limit < 0:
        raise ValueError(f"--limit must be >= 0, got {args.limit}")
    config = load_model_file(args.config, FeaturizerConfig, "config")
    if args.device is not None:
        config = config.model_copy(update={"device": args.device})
    summary = featurize_corpus(args.dir, args.model, sources_dir=args.sources, limit=args.limit,
                               progress=not args.no_progress, featurizer_config=config,
                               retry_failed=args.retry_failed, cache_dir=args.cache_dir)
    if args.json:
        print(json.dumps(summary.model_dump(), indent=2))
        return 0
    per_run = "- s/run" if summary.seconds_per_run is None else (
        f"{summary.seconds_per_run:.2f} s/run ({summary.cpu_seconds_per_run:.2f} CPU s/run)")
    print(f"featurized {summary.featurized}, skipped {summary.already_featurized} already featurized "
          f"and {summary.known_failures} known failures, failed {summary.failed}; {per_run} "
          f"(model load {summary.load_s:.1f} s)\nfeatures: {summary.feature_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m experiments.corpus_builder ...`: the same commands without the tunecast entry point."""
    import logging

    parser = argparse.ArgumentParser(prog="python -m experiments.corpus_builder")
    add_corpus_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["corpus", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"corpus {args.corpus_command}: error: {exc}", file=sys.stderr)
        return 2
