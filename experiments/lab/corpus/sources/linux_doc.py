"""Linux kernel documentation (Debian linux-doc-6.1), prose paragraphs only: the held-out domain.

reStructuredText headings, directives, literal blocks, tables and lists of symbols are dropped;
inline roles and markup are reduced to their text.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources import SourceMissingError

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "linux-doc-6.1"
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+_.:])\1{2,}\s*$")
_DIRECTIVE = re.compile(r"^\s*\.\.\s")
_TABLE = re.compile(r"^\s*[+|].*[+|]\s*$")
_ROLE = re.compile(r":[a-z:]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``([^`]*)``")
_LINK = re.compile(r"`([^`<]*?)\s*<[^>]*>`_+")
_EMPH = re.compile(r"\*\*?([^*]+)\*\*?")
_REFERENCE = re.compile(r"`([^`]+)`_*")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#\.)\s+")


def _paragraph_blocks(text: str) -> Iterator[str]:
    """Prose blocks: unindented, not headings/directives/tables, literal blocks after '::' skipped."""
    lines = text.split("\n")
    block: list[str] = []
    skip_indented = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        is_indented = bool(line) and line[0] in " \t"
        if not stripped:
            if block:
                yield " ".join(block)
                block = []
            continue
        if skip_indented and is_indented:
            continue
        skip_indented = False
        if _DIRECTIVE.match(line):
            skip_indented = True
            continue
        next_line = lines[i + 1] if i + 1 < len(lines) else ""
        if _UNDERLINE.match(stripped) or _UNDERLINE.match(next_line.strip()) or _TABLE.match(line):
            block = []
            continue
        if is_indented and not block:
            continue  # definition bodies, quoted code, indented lists
        block.append(_BULLET.sub("", stripped))
        if stripped.endswith("::"):
            yield " ".join(block)
            block = []
            skip_indented = True
    if block:
        yield " ".join(block)


def rst_to_paragraphs(text: str) -> Iterator[str]:
    """Plain prose paragraphs of one reStructuredText or text document."""
    for block in _paragraph_blocks(text):
        plain = _ROLE.sub(r"\1", block)
        plain = _LINK.sub(r"\1", plain)
        plain = _LITERAL.sub(r"\1", plain)
        plain = _REFERENCE.sub(r"\1", plain)
        plain = _EMPH.sub(r"\1", plain)
        plain = re.sub(r"::$", ":", plain).strip()
        if plain:
            yield plain


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Every .rst/.txt document under Documentation/, sorted by path."""
    root: Path = cfg.linux_doc_dir
    if not root.is_dir():
        raise SourceMissingError(f"{root} not found: install the Debian package {PACKAGE} (apt-get install {PACKAGE})")
    paths = sorted(p for p in root.rglob("*") if p.name.endswith((".rst.gz", ".txt.gz", ".rst", ".txt")))
    if not paths:
        raise SourceMissingError(f"no documents under {root}: install the Debian package {PACKAGE}")
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            yield from rst_to_paragraphs(handle.read())
