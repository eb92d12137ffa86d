"""Real-text sources: one module per installed package, each yielding raw paragraphs.

Extractors only strip the source's own markup; shared normalization and filtering
happen afterwards in `text_cleaning`, so every source is judged by the same rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

SOURCE_NAMES: tuple[str, ...] = ("gcide", "wordnet", "bible", "shakespeare", "fortunes", "linux_doc")


class SourceMissingError(RuntimeError):
    """A source's files are not on this machine; the message names what to install."""


def get_extractor(name: str) -> Callable[["CorpusConfig"], Iterator[str]]:
    """The raw-paragraph generator of a source, imported lazily so a missing one costs nothing."""
    if name == "gcide":
        from experiments.lab.corpus.sources.gcide import extract
    elif name == "wordnet":
        from experiments.lab.corpus.sources.wordnet import extract
    elif name == "bible":
        from experiments.lab.corpus.sources.bible import extract
    elif name == "shakespeare":
        from experiments.lab.corpus.sources.shakespeare import extract
    elif name == "fortunes":
        from experiments.lab.corpus.sources.fortunes import extract
    elif name == "linux_doc":
        from experiments.lab.corpus.sources.linux_doc import extract
    else:
        raise ValueError(f"unknown source {name!r}; known: {SOURCE_NAMES}")
    return extract
