"""Where real text comes from: a one-method interface, a cache reader, an in-memory fake.

The caches (`experiments/lab/build/sources/<name>.jsonl`, one `{"text": paragraph}` per
line) are built by `make lab-corpus`; families only read them through `TextSource`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from experiments.lab.datasets.exclusions import iter_string_field

logger = logging.getLogger(__name__)

SourceName = Literal["wordnet", "bible", "fortunes", "gcide", "shakespeare", "linuxdoc"]
SOURCE_NAMES: tuple[str, ...] = get_args(SourceName)

# Cache file stems tried for a source name, in order (the corpus builder spells it `linux_doc`).
CACHE_STEMS: Mapping[str, tuple[str, ...]] = MappingProxyType({"linuxdoc": ("linuxdoc", "linux_doc")})

# experiments/lab/datasets/sources.py -> experiments/lab/build/sources
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "build" / "sources"


class SourceCacheMissingError(FileNotFoundError):
    """A paragraph cache the family needs has not been built yet."""


class TextSource(ABC):
    """Gives the cleaned paragraphs of one named real-text source, in source order."""

    @abstractmethod
    def paragraphs(self, name: str) -> Sequence[str]:
        """All paragraphs of source `name`; raises if the source is unknown or unavailable."""


def _check_name(name: str) -> None:
    if name not in SOURCE_NAMES:
        raise ValueError(f"unknown text source {name!r}; expected one of {list(SOURCE_NAMES)}")


class JsonlCacheSource(TextSource):
    """Reads `<root>/<name>.jsonl` once per instance and keeps the paragraphs."""

    def __init__(self, root: str | Path = DEFAULT_CACHE_DIR) -> None:
        self.root = Path(root)
        self._loaded: dict[str, tuple[str, ...]] = {}

    def path_of(self, name: str) -> Path:
        """The first existing cache file for `name`, else the preferred (first) spelling."""
        paths = [self.root / f"{stem}.jsonl" for stem in CACHE_STEMS.get(name, (name,))]
        return next((p for p in paths if p.is_file()), paths[0])

    def paragraphs(self, name: str) -> Sequence[str]:
        _check_name(name)
        if name not in self._loaded:
            self._loaded[name] = self._read(name)
        return self._loaded[name]

    def _read(self, name: str) -> tuple[str, ...]:
        path = self.path_of(name)
        if not path.is_file():
            raise SourceCacheMissingError(
                f"text source cache {name!r} not found at {path}; run `make lab-corpus` "
                "to build the source caches (or pass --sources DIR pointing at them)"
            )
        out = [text.strip() for text in iter_string_field(path, "text") if text.strip()]
        if not out:
            raise ValueError(f"{path}: cache holds no paragraphs; rebuild it with `make lab-corpus`")
        logger.debug("loaded %d paragraphs from %s", len(out), path)
        return tuple(out)


class InMemoryTextSource(TextSource):
    """Paragraphs given directly: the fake that tests inject instead of the caches."""

    def __init__(self, paragraphs_by_name: Mapping[str, Sequence[str]]) -> None:
        for name in paragraphs_by_name:
            _check_name(name)
        self._data = {name: tuple(paras) for name, paras in paragraphs_by_name.items()}

    def paragraphs(self, name: str) -> Sequence[str]:
        _check_name(name)
        if name not in self._data:
            raise SourceCacheMissingError(f"in-memory source has no paragraphs for {name!r}")
        return self._data[name]
