"""Deterministic, atomic writers for the built files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from featurizers.io import write_text_atomic



def dump_line(item: BaseModel) -> str:
    """One JSON object per line, keys in schema order, UTF-8 kept readable."""
    return json.dumps(item.model_dump(mode="json"), ensure_ascii=False)


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> int:
    """Write items as JSONL; returns how many were written."""
    lines = [dump_line(item) for item in items]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)
