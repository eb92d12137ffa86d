"""Exact mixing arithmetic: rates become counts, counts become a shuffled order.

Counts are exact (not Bernoulli draws) so a dataset with rate r holds
round(r * n) examples of the mixed-in kind, whatever the seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence


def exact_count(rate: float, n: int) -> int:
    """round(rate * n), rounding halves up, so 0.5 of 51 is 26 on every platform."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must lie in [0, 1], got {rate}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return min(n, math.floor(rate * n + 0.5))


def allocate(n: int, weights: Sequence[float]) -> list[int]:
    """Split n into integer parts proportional to `weights` (largest remainder)."""
    if not weights:
        raise ValueError("weights must not be empty")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
    total = float(sum(weights))
    raw = [n * w / total for w in weights]
    parts = [math.floor(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in by_remainder[: n - sum(parts)]:
        parts[i] += 1
    return parts


def shuffled_kinds(rng: random.Random, counts: Mapping[str, int]) -> list[str]:
    """A list holding each kind `counts[kind]` times, in a seeded random order."""
    order = [kind for kind in sorted(counts) for _ in range(counts[kind])]
    rng.shuffle(order)
    return order
