"""Keep generated prompts off the probe suites: a fine-tune must never train on its own exam."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

# experiments/lab/datasets/exclusions.py -> <repo>/featurizers/probes/data/
PROBE_DATA_DIR = Path(__file__).resolve().parents[3] / "featurizers" / "probes" / "data"
DEFAULT_SAFETY_PROMPTS = PROBE_DATA_DIR / "safety_prompts.jsonl"
# Probe files whose `prompt` fields no generated prompt may equal (after normalization).
DEFAULT_EXCLUDED_PROMPT_FILES: tuple[Path, ...] = (DEFAULT_SAFETY_PROMPTS, PROBE_DATA_DIR / "role_prompts.jsonl")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def iter_string_field(path: Path, field: str) -> Iterator[str]:
    """The string `field` of every object line of a JSONL file; bad lines are named by number."""
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({err.msg})") from err
            value = obj.get(field) if isinstance(obj, dict) else None
            if not isinstance(value, str):
                raise ValueError(f"{path}:{lineno}: expected an object with a string field '{field}'")
            yield value


def normalize_prompt(text: str) -> str:
    """Lower-case alphanumerics only: case, spacing and punctuation variants of a prompt collide."""
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def load_probe_prompts(path: str | Path) -> frozenset[str]:
    """Normalized `prompt` fields of a probe JSONL file; an absent file excludes nothing."""
    path = Path(path)
    if not path.is_file():
        return frozenset()
    return frozenset(normalize_prompt(prompt) for prompt in iter_string_field(path, "prompt"))


def load_excluded_prompts(paths: Iterable[str | Path] = DEFAULT_EXCLUDED_PROMPT_FILES) -> frozenset[str]:
    """Union of the normalized prompts of several probe files (absent files contribute nothing)."""
    out: frozenset[str] = frozenset()
    for path in paths:
        out |= load_probe_prompts(path)
    return out
