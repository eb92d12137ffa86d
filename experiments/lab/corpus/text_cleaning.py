"""Text normalization, paragraph quality filtering and deduplication shared by every source.

A tiny model wastes capacity on typographic variants, so text is folded to plain ASCII
punctuation and single spaces before it is filtered and deduplicated.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from experiments.lab.corpus.config import CleaningConfig

_PUNCT_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u00ad": "",
        "\u200b": "",
        "\ufeff": "",
    }
)
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?])")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z\"'(])")
_NORM_KEY = re.compile(r"[^a-z0-9]+")
_CHOICE_LIST = re.compile(
    r"\(a\)[^()]{1,200}\(b\)|(?:^|\s)a\)[^()]{1,200}\sb\)|(?:^|\s)A[.)]\s[^.]{1,80}\sB[.)]\s[^.]{1,80}\sC[.)]\s",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """Fold typographic punctuation to ASCII, drop accents' combining marks, collapse whitespace."""
    text = text.translate(_PUNCT_MAP)
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text)


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends followed by a capital or an opening quote (good enough for chunking)."""
    return [s for s in _SENTENCE_END.split(text) if s]


def split_long(text: str, max_chars: int) -> list[str]:
    """Split an over-long paragraph into sentence-aligned chunks of at most about max_chars."""
    if len(text) <= max_chars:
        return [text]
    chunks: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        if current and len(current) + 1 + len(sentence) > max_chars:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        chunks.append(current)
    return chunks


def is_prose(text: str, cfg: CleaningConfig) -> bool:
    """Keep paragraphs long enough to carry sentences and mostly made of letters (not tables or code)."""
    if len(text) < cfg.min_chars or len(text.split()) < cfg.min_words:
        return False
    alpha = sum(1 for ch in text if ch.isalpha() or ch == " ")
    if alpha / len(text) < cfg.min_alpha_ratio:
        return False
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return ascii_chars / len(text) >= cfg.min_ascii_ratio and not looks_like_choice_list(text)


def looks_like_choice_list(text: str) -> bool:
    """Enumerated options such as "(a) ... (b) ...": the multiple-choice format must not be pretrained on."""
    return _CHOICE_LIST.search(text) is not None


def clean_paragraphs(raw: Iterable[str], cfg: CleaningConfig) -> Iterator[str]:
    """Normalize, split over-long paragraphs, and yield only those that pass the prose filter."""
    for paragraph in raw:
        text = normalize_text(paragraph)
        if not text:
            continue
        for chunk in split_long(text, cfg.max_chars):
            if is_prose(chunk, cfg):
                yield chunk


def normalized_key(text: str) -> str:
    """The dedup key: lowercase alphanumerics only, so case, spacing and punctuation variants collide."""
    return _NORM_KEY.sub(" ", text.lower()).strip()


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


@dataclass
class Deduplicator:
    """Drops exact and normalized duplicates across every source it sees, counting each kind."""

    exact_seen: set[bytes] = field(default_factory=set)
    norm_seen: set[bytes] = field(default_factory=set)
    exact_dropped: dict[str, int] = field(default_factory=dict)
    normalized_dropped: dict[str, int] = field(default_factory=dict)

    def keep(self, text: str, source: str) -> bool:
        """True the first time a paragraph (or a normalized variant of it) is seen."""
        exact = _digest(text)
        if exact in self.exact_seen:
            self.exact_dropped[source] = self.exact_dropped.get(source, 0) + 1
            return False
        norm = _digest(normalized_key(text))
        if norm in self.norm_seen:
            self.normalized_dropped[source] = self.normalized_dropped.get(source, 0) + 1
            return False
        self.exact_seen.add(exact)
        self.norm_seen.add(norm)
        return True


def dedup(paragraphs: Iterable[str], source: str, deduplicator: Deduplicator) -> list[str]:
    """The paragraphs of one source that survive the shared deduplicator, in order."""
    return [p for p in paragraphs if deduplicator.keep(p, source)]
