"""Reader of dictd databases (`.index` + `.dict.dz`), shared by the WordNet and GCIDE sources."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Iterator

from experiments.lab.corpus.sources import SourceMissingError

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {ch: i for i, ch in enumerate(_B64)}


def decode_b64_number(text: str) -> int:
    """dictd stores offsets and lengths as base-64 numbers, most significant digit first."""
    value = 0
    for ch in text:
        if ch not in _B64_VALUE:
            raise ValueError(f"invalid dictd base-64 digit {ch!r} in {text!r}")
        value = value * 64 + _B64_VALUE[ch]
    return value


def iter_entries(dictd_dir: Path, name: str, package: str) -> Iterator[tuple[str, str]]:
    """(headword, entry text) in index order, each distinct entry once; the 00-database entries are skipped."""
    index_path = dictd_dir / f"{name}.index"
    dict_path = dictd_dir / f"{name}.dict.dz"
    if not index_path.is_file() or not dict_path.is_file():
        raise SourceMissingError(
            f"dictd database {name!r} not found in {dictd_dir}: install the Debian package {package} "
            f"(apt-get install {package})"
        )
    with gzip.open(dict_path, "rb") as handle:
        data = handle.read()
    seen: set[int] = set()
    with index_path.open(encoding="utf-8", errors="replace") as index:
        for line_no, line in enumerate(index, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                raise ValueError(f"{index_path}:{line_no}: expected 'word<TAB>offset<TAB>length', got {line!r}")
            headword, offset_b64, length_b64 = parts[0], parts[1], parts[2]
            if headword.startswith("00-database") or headword.startswith("00database"):
                continue
            offset = decode_b64_number(offset_b64)
            if offset in seen:
                continue
            seen.add(offset)
            length = decode_b64_number(length_b64)
            yield headword, data[offset : offset + length].decode("utf-8", errors="replace")
