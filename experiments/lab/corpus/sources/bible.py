"""World English Bible (Debian sword-text-web) read with pysword; paragraphs follow the module's own breaks.

Verse numbers never appear (verses are joined), titles and footnotes are dropped, and the
OSIS paragraph and line-group markers decide where one paragraph ends.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources import SourceMissingError

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "sword-text-web"
MODULE = "engWEB2015eb"
_DROP_WITH_CONTENT = re.compile(r"<(title|note)\b[^>]*>.*?</\1>", re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r'<div\b[^>]*type="x-p"[^>]*/>|<lg\b[^>]*/>|<chapter\b[^>]*/>')
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def osis_to_paragraphs(raw: str) -> list[str]:
    """Plain paragraphs from an OSIS fragment: notes and titles removed, tags stripped, breaks kept."""
    text = _DROP_WITH_CONTENT.sub(" ", raw)
    parts = _PARAGRAPH_BREAK.split(text)
    out = []
    for part in parts:
        plain = _SPACES.sub(" ", _TAG.sub("", part)).strip()
        plain = re.sub(r" ([,.;:!?])", r"\1", plain)
        if plain:
            out.append(plain)
    return out


def _open_bible(cfg: "CorpusConfig"):  # type: ignore[no-untyped-def]
    try:
        from pysword.modules import SwordModules
    except ImportError as exc:
        raise SourceMissingError("the bible source needs pysword: pip install pysword") from exc
    conf = cfg.sword_dir / "mods.d" / f"{MODULE}.conf"
    if not conf.is_file():
        raise SourceMissingError(
            f"SWORD module {MODULE} not found under {cfg.sword_dir}: install the Debian package {PACKAGE} "
            f"(apt-get install {PACKAGE})"
        )
    modules = SwordModules(str(cfg.sword_dir))
    modules.parse_modules()
    return modules.get_bible_from_module(MODULE)


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Every book, chapter by chapter, as paragraphs in canonical order."""
    bible = _open_bible(cfg)
    books = bible.get_structure().get_books()
    for testament in ("ot", "nt"):
        for book in books.get(testament, []):
            for chapter in range(1, book.num_chapters + 1):
                raw = bible.get(books=[book.osis_name], chapters=[chapter], clean=False, join=" ")
                yield from osis_to_paragraphs(raw)
