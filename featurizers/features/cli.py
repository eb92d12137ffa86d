"""`tunecast featurize` and `tunecast explain`: parsers and command functions for the main CLI.

Only argparse and json are imported here; torch and the model load inside the command
functions, so registering these parsers keeps `tunecast serve` free of torch.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_TOP_K = 5


def _read_json_file(path: str, what: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{what} {path}: no such file")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def _validated(model_cls, data: Any, what: str, path: str):
    from pydantic import ValidationError

    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{what} {path}: {problems}") from exc


def load_recipe(path: str):
    from surrogate.runs import Recipe

    return _validated(Recipe, _read_json_file(path, "recipe"), "recipe", path)


def load_featurizer_config(path: str | None):
    from featurizers.features.config import FeaturizerConfig

    if path is None:
        return FeaturizerConfig()
    return _validated(FeaturizerConfig, _read_json_file(path, "featurizer config"), "featurizer config", path)


def load_observations(path: str | None):
    from featurizers.features.schema import EarlyObservations

    if path is None:
        return None
    return _validated(EarlyObservations, _read_json_file(path, "observations"), "observations", path)


def _featurizer(args: argparse.Namespace):
    from featurizers.features.featurizer import Featurizer
    from featurizers.features.records import read_dataset_jsonl
    from featurizers.loading import load_causal_lm

    config = load_featurizer_config(args.config)
    if args.device is not None:
        config = config.model_copy(update={"device": args.device})
    records = read_dataset_jsonl(args.dataset)
    recipe = load_recipe(args.recipe)
    loaded = load_causal_lm(args.model, device=config.device)
    featurizer = Featurizer(loaded, config, cache_dir=args.cache_dir, progress=not args.json)
    return featurizer, records, recipe


def cmd_featurize(args: argparse.Namespace) -> int:
    observations = load_observations(args.observations)
    featurizer, records, recipe = _featurizer(args)
    vector = featurizer.featurize(records, recipe, observations)
    if args.json:
        print(json.dumps({"model": featurizer.loaded.spec.name, "dataset": str(args.dataset),
                          "config": featurizer.config.model_dump(mode="json"),
                          "features": json.loads(vector.model_dump_json())}, indent=2))
        return 0
    schema = vector.feature_schema
    print(f"{featurizer.loaded.spec.name}  {len(records)} examples  featurizer {schema.featurizer_version}  "
          f"schema {schema.fingerprint()}  ({len(vector.values)} features)")
    width = max(len(name) for name in vector.names)
    for name, value in zip(vector.names, vector.values):
        print(f"  {name:<{width}}  {value: .6g}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    featurizer, records, recipe = _featurizer(args)
    explanation = featurizer.explain(records, recipe, top_k=args.top)
    if args.json:
        print(explanation.model_dump_json(indent=2))
        return 0
    print(f"{featurizer.loaded.spec.name}: {explanation.n_scored} of {explanation.n_examples} examples scored; "
          "higher score = pushes the outcome further in its harmful direction")
    for outcome, ranked in explanation.outcomes.items():
        print(f"\n{outcome} (harmful: {explanation.harmful_direction[outcome]})")
        for rank, item in enumerate(ranked, start=1):
            print(f"  {rank:>3}. #{item.index + 1:<6} score {item.score: .4g}  cos {item.cosine: .3f}  {item.excerpt}")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="lab", help="model spec: lab, smollm2-135m-instruct, tiny, a directory, a .gguf file")
    parser.add_argument("--dataset", required=True, help="JSONL dataset: {text} | {prompt, response} | {messages} per line")
    parser.add_argument("--recipe", required=True, help="JSON file of the fine-tune recipe (method, learning_rate, steps, ...)")
    parser.add_argument("--config", help="JSON file of featurizer settings (sample_size, projection_dim, seed, ...)")
    parser.add_argument("--device", help="override the config's device: auto, cpu, cuda[:N]")
    parser.add_argument("--cache-dir", help="feature cache directory (repeated questions answer in milliseconds)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_featurize_parsers(subparsers: Any) -> None:
    """Register `featurize` and `explain` on the main CLI's subparsers."""
    fe = subparsers.add_parser("featurize", help="compute the feature vector of a dataset + recipe for a base model")
    _common(fe)
    fe.add_argument("--observations", help="JSON of early-run observations (step, loss_curve, probe_deltas)")
    fe.set_defaults(func=cmd_featurize)
    ex = subparsers.add_parser("explain", help="rank the dataset's examples by how they push each outcome the harmful way")
    _common(ex)
    ex.add_argument("--top", type=int, default=DEFAULT_TOP_K, metavar="K", help="examples shown per outcome")
    ex.set_defaults(func=cmd_explain)
