"""Quotations and jokes from the Debian `fortunes` package (the inoffensive set only).

Attribution lines ("-- Author") are dropped, ASCII art and files of mostly non-prose are skipped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources import SourceMissingError

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "fortunes"
SKIPPED_FILES = frozenset({"art", "ascii-art", "translate-me"})
_ATTRIBUTION = re.compile(r"^\s*--\s")
_DIALOGUE_TAG = re.compile(r"^\s*[A-Z][\w .'-]{0,20}:\s")


def split_fortunes(text: str) -> Iterator[str]:
    """Fortunes of one strfile source (separated by lines holding only '%'), attributions removed."""
    for raw in re.split(r"^%\s*$", text, flags=re.MULTILINE):
        lines: list[str] = []
        for line in raw.split("\n"):
            if _ATTRIBUTION.match(line):
                break  # the attribution and anything after it (often its continuation)
            lines.append(line.strip())
        fortune = " ".join(line for line in lines if line)
        if fortune:
            yield fortune


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Every fortune of every prose file, in file-name order."""
    folder = cfg.fortunes_dir
    if not folder.is_dir():
        raise SourceMissingError(f"{folder} not found: install the Debian package {PACKAGE} (apt-get install {PACKAGE})")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.suffix and p.name not in SKIPPED_FILES
    )
    if not files:
        raise SourceMissingError(f"no fortune files in {folder}: install the Debian package {PACKAGE}")
    for path in files:
        yield from split_fortunes(path.read_text(encoding="utf-8", errors="replace"))
