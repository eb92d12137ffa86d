"""Build ReferenceItems from the hand-written paragraphs in `reference_paragraphs.txt`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from ..schema import ReferenceItem
from .config import BuildConfig
from .splits import assign_splits

SUITE = "reference"
SOURCE = Path(__file__).resolve().parent / "reference_paragraphs.txt"
_TOPIC = re.compile(r"^\[(\w+)\]$")
_WORDS = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Paragraph:
    """One source paragraph with its topic tag and the line it started on (for error messages)."""

    topic: str
    text: str
    line: int


def parse_paragraphs(source_text: str, source_name: str = "reference_paragraphs.txt") -> list[Paragraph]:
    """Split the source into [topic] blocks; comments start with '#'."""
    paragraphs: list[Paragraph] = []
    topic: str | None = None
    body: list[str] = []
    start = 0

    def flush() -> None:
        if topic is None and body:
            raise ValueError(f"{source_name}:{start}: paragraph has no [topic] line above it")
        if topic is not None:
            if not body:
                raise ValueError(f"{source_name}:{start}: [{topic}] has no text under it")
            paragraphs.append(Paragraph(topic=topic, text=" ".join(body), line=start))

    for number, raw in enumerate(source_text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            flush()
            topic, body = None, []
            continue
        match = _TOPIC.match(line)
        if match:
            if topic is not None or body:
                raise ValueError(f"{source_name}:{number}: a [topic] line must follow a blank line")
            topic, start = match.group(1), number
        else:
            if topic is None and not body:
                start = number
            body.append(line)
    flush()
    return paragraphs


def shingles(text: str, size: int) -> set[tuple[str, ...]]:
    """Word n-grams of a text, lower-cased: the unit of the near-duplicate check."""
    words = _WORDS.findall(text.lower())
    return {tuple(words[i:i + size]) for i in range(max(0, len(words) - size + 1))}


def max_overlap(texts: list[str], size: int) -> tuple[float, int, int]:
    """Largest Jaccard overlap of word n-grams between any two texts, and which two."""
    sets = [shingles(t, size) for t in texts]
    best = (0.0, -1, -1)
    for i, j in combinations(range(len(sets)), 2):
        union = len(sets[i] | sets[j])
        score = len(sets[i] & sets[j]) / union if union else 0.0
        if score > best[0]:
            best = (score, i, j)
    return best


def build_reference(config: BuildConfig) -> list[ReferenceItem]:
    """Validated reference paragraphs, split within each topic."""
    paragraphs = parse_paragraphs(SOURCE.read_text(encoding="utf-8"))
    for p in paragraphs:
        n_words = len(p.text.split())
        if not config.reference_min_words <= n_words <= config.reference_max_words:
            raise ValueError(f"{SOURCE.name}:{p.line}: [{p.topic}] paragraph has {n_words} words; "
                             f"keep it within {config.reference_min_words}-{config.reference_max_words}")
    score, i, j = max_overlap([p.text for p in paragraphs], config.reference_shingle_words)
    if score > config.reference_max_shingle_overlap:
        raise ValueError(f"{SOURCE.name}: paragraphs at lines {paragraphs[i].line} and {paragraphs[j].line} "
                         f"share {score:.0%} of their word {config.reference_shingle_words}-grams; rewrite one")
    counters: dict[str, int] = {}
    drafts: list[dict] = []
    for p in paragraphs:
        counters[p.topic] = counters.get(p.topic, 0) + 1
        drafts.append(dict(id=f"ref-{p.topic}-{counters[p.topic]:03d}", text=p.text, topic=p.topic))
    splits = assign_splits(drafts, lambda d: d["topic"], seed=config.seed, eval_fraction=config.eval_fraction,
                           min_stratum_size=config.min_stratum_size, suite=SUITE)
    return [ReferenceItem(id=d["id"], split=s, text=d["text"]) for d, s in zip(drafts, splits)]
