"""The `tunecast` command: a thin dispatcher; each subcommand imports its package lazily.

Lazy imports keep `tunecast serve` free of torch and every command's start fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Callable, Sequence


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from featurizers.loading import load_causal_lm
    from featurizers.probes.evaluate import EvaluationConfig, evaluate_model, headline, user_file_arg

    config = EvaluationConfig(
        suites=[s for chunk in args.suites for s in chunk.split(",") if s],
        split=args.split,
        batch_size=args.batch_size,
        user_files=user_file_arg(args.data),
    )
    loaded = load_causal_lm(args.model, device=args.device)
    results = evaluate_model(loaded, config, progress=not args.json)
    results = {"model": loaded.spec.name, "weights_hash": loaded.weights_hash(), "split": config.split, **results}
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=False))
    else:
        _print_table(headline({k: v for k, v in results.items() if isinstance(v, float)}), title=f"{loaded.spec.name} ({config.split} split)")
    if args.out:
        from featurizers.io import write_json_atomic

        write_json_atomic(args.out, {"config": config.model_dump(), "model": args.model, "results": results})
    return 0


def _print_table(rows: dict[str, float], title: str) -> None:
    width = max(len(k) for k in rows) if rows else 10
    print(title)
    for key, value in rows.items():
        print(f"  {key:<{width}}  {value:10.4f}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunecast", description="Forecast what a fine-tune will do to a language model.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="score a model on the probe suites (forgetting, bias, safety)")
    ev.add_argument("--model", default="lab", help="model spec: lab, smollm2-135m-instruct, tiny, a directory, a .gguf file, BASE+lora:DIR")
    ev.add_argument("--suites", action="append", default=[], help="suite names or families (comma-separated, repeatable); default all")
    ev.add_argument("--split", choices=["eval", "feature"], default="eval")
    ev.add_argument("--data", action="append", default=[], metavar="SUITE=FILE",
                    help="score a suite on your own file: CrowS-Pairs CSV for bias.stereotype, JSONL of prompts for safety.*")
    ev.add_argument("--batch-size", type=int, default=16)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--out", help="also write the results (with the config) to this JSON file")
    ev.set_defaults(func=_cmd_evaluate)

    # Each package registers its own subcommands; importing these modules costs only argparse.
    from experiments.corpus_builder.cli import add_corpus_parser
    from featurizers.features.cli import add_featurize_parsers
    from server.cli import add_forecast_parser, add_serve_parser
    from server.scoring.cli import add_score_parser
    from server.report.cli import add_report_parser
    from surrogate.cli import add_evaluate_model_parser, add_train_parser

    add_corpus_parser(sub)
    add_featurize_parsers(sub)
    add_train_parser(sub)
    add_evaluate_model_parser(sub)

    add_serve_parser(sub)
    add_forecast_parser(sub)
    add_score_parser(sub)
    add_report_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"tunecast {args.command}: error: {exc}", file=sys.stderr)
        return 2
