"""Derived random streams: every sub-task gets its own seed from (seed, labels).

Deriving by hash rather than drawing from a shared generator keeps one part of a
dataset stable when another part changes (e.g. the replay share of a mixture).
"""

from __future__ import annotations

import hashlib
import random

_SEED_BYTES = 8


def derive_seed(seed: int, *labels: str) -> int:
    """A 64-bit seed that depends only on `seed` and the ordered `labels`."""
    material = repr((int(seed), *labels)).encode("utf-8")
    return int.from_bytes(hashlib.sha256(material).digest()[:_SEED_BYTES], "big")


def make_rng(seed: int, *labels: str) -> random.Random:
    """A private `random.Random` for one labelled sub-task (never the global one)."""
    return random.Random(derive_seed(seed, *labels))
