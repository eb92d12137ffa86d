"""Turn a source's paragraphs into training passages of bounded length, and sample them.

Consecutive paragraphs are packed together (up to `max_chars`) so short units such
as verses or quotations still make passages of useful length, and local order is kept.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence

logger = logging.getLogger(__name__)

PARAGRAPH_JOINER = "\n\n"
SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s")
# A sentence end is used as the cut only if it keeps at least this share of max_chars.
MIN_SENTENCE_CUT_SHARE = 0.5


def _cut_point(text: str, max_chars: int) -> int:
    """Last sentence end within max_chars if it is not too early, else last space, else max_chars."""
    window = text[: max_chars + 1]
    ends = [m.end() - 1 for m in SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= MIN_SENTENCE_CUT_SHARE * max_chars:
        return ends[-1]
    space = window.rfind(" ")
    return space if space > 0 else max_chars


def split_long(text: str, max_chars: int) -> list[str]:
    """Cut `text` into pieces of at most `max_chars`, at sentence ends or whitespace where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        cut = _cut_point(rest, max_chars)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def pack_paragraphs(paragraphs: Sequence[str], max_chars: int, min_chars: int) -> list[str]:
    """Greedy in-order packing; passages shorter than `min_chars` are dropped."""
    if min_chars > max_chars:
        raise ValueError(f"min_chars ({min_chars}) must not exceed max_chars ({max_chars})")
    passages: list[str] = []
    buf: list[str] = []
    length = 0
    for para in paragraphs:
        for piece in split_long(para, max_chars):
            extra = len(piece) + (len(PARAGRAPH_JOINER) if buf else 0)
            if buf and length + extra > max_chars:
                passages.append(PARAGRAPH_JOINER.join(buf))
                buf, length = [], 0
                extra = len(piece)
            buf.append(piece)
            length += extra
    if buf:
        passages.append(PARAGRAPH_JOINER.join(buf))
    return [p for p in passages if len(p) >= min_chars]


def sample_passages(
    passages: Sequence[str], n: int, rng: random.Random, *, allow_repeats: bool, label: str
) -> list[str]:
    """n passages without replacement; with `allow_repeats`, extra shuffled passes when short."""
    if n <= 0:
        return []
    if not passages:
        raise ValueError(f"{label}: no passages left after packing; lower min_chars or check the source")
    if n <= len(passages):
        return rng.sample(list(passages), n)
    if not allow_repeats:
        raise ValueError(
            f"{label}: asked for {n} passages but the source packs into only {len(passages)}; "
            "lower size, lower max_chars, or set allow_repeats=true"
        )
    logger.warning("%s: only %d distinct passages for %d examples; repeating", label, len(passages), n)
    out: list[str] = []
    while len(out) < n:
        order = list(passages)
        rng.shuffle(order)
        out.extend(order[: n - len(out)])
    return out
