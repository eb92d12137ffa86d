"""Generate one dataset family to a JSONL file: `python -m experiments.lab.datasets.generate`.

Beside the JSONL it writes `<out>.meta.json`: family, params, seed, content hash and the
kind of every line (which examples are harmful, replay, noisy...), so a run record can
name its dataset exactly and influence scores can be checked against ground truth.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .builtin import default_registry
from .exclusions import DEFAULT_EXCLUDED_PROMPT_FILES, load_excluded_prompts
from .records import write_bytes_atomic, write_jsonl
from .registry import FamilyRegistry, GenContext
from .sources import DEFAULT_CACHE_DIR, JsonlCacheSource

logger = logging.getLogger(__name__)

META_SUFFIX = ".meta.json"
META_VERSION = 1


class GenerationReport(BaseModel):
    """What was generated, from what: the sidecar checked when a dataset is reopened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    meta_version: int = META_VERSION
    family: str
    params: dict[str, Any]
    seed: int
    size: int
    sha256: str
    kinds: dict[str, int]
    line_kinds: list[str]


def meta_path(out: Path) -> Path:
    return out.with_name(out.name + META_SUFFIX)


def generate_to_file(
    family: str,
    params: Mapping[str, Any] | None,
    seed: int,
    out: str | Path,
    *,
    ctx: GenContext | None = None,
    registry: FamilyRegistry | None = None,
) -> GenerationReport:
    """Generate `family` with `params` and `seed`, write JSONL + sidecar atomically, return the report."""
    registry = registry if registry is not None else default_registry()
    fam = registry.get(family)
    parsed = fam.parse_params(params)
    examples = registry.generate(family, parsed, seed, ctx)
    out = Path(out)
    digest = write_jsonl(examples, out)
    line_kinds = [e.kind for e in examples]
    report = GenerationReport(
        family=family,
        params=parsed.model_dump(mode="json"),
        seed=seed,
        size=len(examples),
        sha256=digest,
        kinds=dict(sorted(Counter(line_kinds).items())),
        line_kinds=line_kinds,
    )
    write_bytes_atomic((report.model_dump_json(indent=2) + "\n").encode("utf-8"), meta_path(out))
    logger.info("wrote %d examples of %s to %s (sha256 %s)", report.size, family, out, digest[:12])
    return report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m experiments.lab.datasets.generate",
        description="Generate a candidate fine-tune dataset from a lab family.",
    )
    p.add_argument("family", help="family name (see experiments/lab/datasets/FAMILIES.md)")
    p.add_argument("--params", default="{}", help='knobs as a JSON object, e.g. \'{"size": 500, "rate": 0.2}\'')
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    p.add_argument("--out", required=True, type=Path, help="output JSONL path")
    p.add_argument("--sources", type=Path, default=DEFAULT_CACHE_DIR, help="directory of <name>.jsonl text caches")
    p.add_argument("--exclude-prompts", type=Path, nargs="*", default=list(DEFAULT_EXCLUDED_PROMPT_FILES),
                   help="probe JSONL files whose prompts are never generated (absent files are skipped)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        print(f"error: --params is not valid JSON ({err.msg})", file=sys.stderr)
        return 2
    if not isinstance(params, dict):
        print("error: --params must be a JSON object", file=sys.stderr)
        return 2
    ctx = GenContext(source=JsonlCacheSource(args.sources), excluded_prompts=load_excluded_prompts(args.exclude_prompts))
    try:
        report = generate_to_file(args.family, params, args.seed, args.out, ctx=ctx)
    except (ValueError, LookupError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    kinds = ", ".join(f"{k}={v}" for k, v in report.kinds.items())
    print(f"{report.family}: {report.size} examples -> {args.out}\n  sha256 {report.sha256}\n  kinds  {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
