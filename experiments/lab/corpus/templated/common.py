"""Small helpers shared by the templated segments: derived seeds, articles, chat formatting."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from featurizers.chat_format import render_exchange


def derived_rng(seed: int, *names: str) -> random.Random:
    """A generator seeded from the corpus seed and a path of names, so segments never share a stream."""
    key = ":".join([str(seed), *names]).encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def article(phrase: str) -> str:
    """'a' or 'an' for a phrase, by its first letter (with the usual 'hour'/'uni' exceptions)."""
    lower = phrase.lower()
    if lower.startswith(("hour", "honest", "heir")):
        return "an"
    if lower.startswith(("uni", "use", "usu", "euro", "one")):
        return "a"
    return "an" if lower[:1] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def chat_exchange(request: str, answer: str) -> str:
    """One exchange in the lab chat format, exactly `<|user|>\\n{request}<|end|>\\n<|assistant|>\\n{answer}<|end|>\\n`."""
    if not request.strip() or not answer.strip():
        raise ValueError("a chat exchange needs a non-empty request and answer")
    return render_exchange(request, answer)


@dataclass(frozen=True)
class ChatDoc:
    """An exchange kept with its request so the eval-leak check can compare requests exactly."""

    request: str
    answer: str
    kind: str

    @property
    def text(self) -> str:
        return chat_exchange(self.request, self.answer)
