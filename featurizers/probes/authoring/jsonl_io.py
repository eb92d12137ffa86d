"""Deterministic, atomic writers for the built files."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

_FILE_MODE = 0o644  # mkstemp makes 0600 files; data files are meant to be world-readable


def dump_line(item: BaseModel) -> str:
    """One JSON object per line, keys in schema order, UTF-8 kept readable."""
    return json.dumps(item.model_dump(mode="json"), ensure_ascii=False)


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> int:
    """Write items as JSONL; returns how many were written."""
    lines = [dump_line(item) for item in items]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)
