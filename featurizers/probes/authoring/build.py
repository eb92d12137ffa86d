"""Regenerate every probe data file from the authoring tables, validated and split.

Usage: `python -m featurizers.probes.authoring.build [OUT_DIR]` (default: the package data
folder). The output is byte-identical for the same tables and config.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel

from .checks import check_disjoint_text, check_unique_ids
from .config import BuildConfig
from .jsonl_io import write_jsonl, write_text_atomic
from .knowledge import build_knowledge
from .reference_text import build_reference
from .roles import build_roles
from .safety import build_openings, build_safety
from .stereotypes import build_stereotypes

logger = logging.getLogger(__name__)

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "data"
MANIFEST_NAME = "build_manifest.json"
OPENINGS_NAME = "safety_openings.yaml"


def suite_builders() -> dict[str, Callable[[BuildConfig], Sequence[BaseModel]]]:
    """File name -> builder, in the order the files are written."""
    builders: dict[str, Callable[[BuildConfig], Sequence[BaseModel]]] = {
        "knowledge.jsonl": build_knowledge,
        "safety_prompts.jsonl": build_safety,
        "reference.jsonl": build_reference,
        "stereotype_pairs.jsonl": build_stereotypes,
        "role_prompts.jsonl": build_roles,
    }
    return builders


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_all(out_dir: Path = DEFAULT_OUT_DIR, config: BuildConfig | None = None) -> dict[str, int]:
    """Build, check and write every file into `out_dir`; returns item counts per file."""
    config = config or BuildConfig()
    counts: dict[str, int] = {}
    for name, builder in suite_builders().items():
        items = builder(config)
        check_unique_ids(name, items)
        check_disjoint_text(name, items)
        counts[name] = write_jsonl(out_dir / name, items)
        logger.info("wrote %d items to %s", counts[name], out_dir / name)
    openings = build_openings()
    write_text_atomic(out_dir / OPENINGS_NAME,
                      yaml.safe_dump(openings.model_dump(), sort_keys=False, allow_unicode=True, width=1000))
    counts[OPENINGS_NAME] = len(openings.refusal) + len(openings.compliance)
    manifest = {
        "config": config.model_dump(),
        "files": {name: {"items": counts[name], "sha256": _sha256(out_dir / name)} for name in counts},
    }
    write_text_atomic(out_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: parse the output folder, build, print counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR,
                        help="folder to write the data files into (default: the package data folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    counts = build_all(args.out_dir)
    for name, count in counts.items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
