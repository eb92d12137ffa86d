"""Reading one candidate dataset file (JSONL or Parquet) into featurizer records.

A bad file must not stop a batch, so every problem is raised as ``SourceError`` with the
file and the 1-based line (JSONL) or row (Parquet) at fault, for the batch to report and
skip. Records are checked with the featurizer's own format rules
(``featurizers.features.records.record_format``, imported lazily: it is torch-free, but
``server`` reaches into ``featurizers`` only when a command needs it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

JSONL_SUFFIX: Final[str] = ".jsonl"
PARQUET_SUFFIX: Final[str] = ".parquet"
DATA_SUFFIXES: Final[tuple[str, ...]] = (JSONL_SUFFIX, PARQUET_SUFFIX)


class SourceError(ValueError):
    """A dataset file that cannot be scored; ``line`` is 1-based (a JSONL line or a Parquet row)."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class SourceRecords:
    """The validated records of one file."""

    path: Path
    records: list[dict[str, Any]]


def is_data_file(path: Path) -> bool:
    return path.suffix.lower() in DATA_SUFFIXES


def _check(record: Any, path: Path, line: int) -> dict[str, Any]:
    from featurizers.features.records import DatasetFormatError, record_format

    try:
        record_format(record, where=f"line {line}")
    except DatasetFormatError as exc:
        raise SourceError(path, str(exc), line) from None
    return record


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line must be one record; the first bad line is reported."""
    records: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"line {number}: not UTF-8 (byte {exc.start})", number) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = f"line {number}: not valid JSON ({exc.msg}, column {exc.colno})"
                raise SourceError(path, reason, number) from None
            records.append(_check(record, path, number))
    return records


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """One record per row; null cells are dropped, so one file may mix the three formats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(path, f"not a readable Parquet file ({exc})") from None
    records = []
    for number, row in enumerate(table.to_pylist(), start=1):
        record = {key: value for key, value in row.items() if value is not None}
        records.append(_check(record, path, number))
    return records


def read_source(path: Path) -> SourceRecords:
    """The records of a ``.jsonl`` or ``.parquet`` file; ``SourceError`` when it has none or a bad one."""
    if not path.is_file():
        raise SourceError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == JSONL_SUFFIX:
        records = read_jsonl(path)
    elif suffix == PARQUET_SUFFIX:
        records = read_parquet(path)
    else:
        raise SourceError(path, f"unknown dataset type {suffix!r}; use {' or '.join(DATA_SUFFIXES)}")
    if not records:
        raise SourceError(path, "no examples (the file is empty)")
    return SourceRecords(path, records)
