"""Atomic writes for the evaluation's outputs (temp file in the same folder, then rename):
an interrupted run never leaves a half-written JSON, markdown file or plot behind.
``surrogate`` may not import ``featurizers``, so this mirrors ``featurizers.io``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

FILE_MODE: Final[int] = 0o644


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temp_path)``, then rename the temp file over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    temp = Path(tmp)
    try:
        write(temp)
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_atomic(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Strict JSON (NaN refused: convert it to null first, e.g. with ``summary.jsonable``)."""
    return write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
