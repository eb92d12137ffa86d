"""Deterministic mixtures of several dataset files by weight.

The rule, exactly (so anyone can rebuild the same mixture elsewhere):

1. Weights are normalised: ``w_i = weight_i / sum(weights)`` (as exact fractions of the floats).
2. The mixture size ``N`` is ``size`` when given; otherwise the largest mixture every file can
   supply without repeating an example, ``N = min_i floor(n_i / w_i)`` (``n_i`` = examples in
   file ``i``).
3. File ``i`` contributes ``c_i`` examples: ``floor(N * w_i)``, then the ``N - sum floor``
   examples left over go one each to the files with the largest fractional parts of
   ``N * w_i`` (ties to the earlier file).
4. From file ``i``, ``c_i = q * n_i + r`` examples are taken as ``q`` copies of every example
   plus ``r`` examples drawn without replacement by ``numpy.random.default_rng([seed, i])``
   (``rng.choice(n_i, size=r, replace=False)``); the chosen indices are sorted, so examples
   keep their file order (repeats side by side).
5. The mixture is the files' selections concatenated in manifest order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Mixed:
    """The mixture's records and, per component, its normalised weight and example count."""

    records: list[dict[str, Any]]
    weights: tuple[float, ...]
    counts: tuple[int, ...]


def normalised_weights(weights: Sequence[float]) -> list[Fraction]:
    if not weights or any(not (math.isfinite(w) and w > 0) for w in weights):
        raise ValueError(f"mixture weights must be positive finite numbers, got {list(weights)}")
    exact = [Fraction(w) for w in weights]
    total = sum(exact)
    return [w / total for w in exact]


def mixture_size(sizes: Sequence[int], weights: Sequence[Fraction]) -> int:
    """The largest N every component can supply without repeats (rule 2)."""
    return min(math.floor(n / w) for n, w in zip(sizes, weights))


def component_counts(total: int, weights: Sequence[Fraction]) -> list[int]:
    """Largest-remainder apportionment of ``total`` examples by weight (rule 3)."""
    shares = [total * w for w in weights]
    counts = [math.floor(s) for s in shares]
    left = total - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def take(n: int, count: int, rng: np.random.Generator) -> list[int]:
    """``count`` indices of ``range(n)``: whole copies, then a seeded sample (rule 4), sorted."""
    copies, rest = divmod(count, n)
    picked = list(range(n)) * copies
    if rest:
        picked.extend(int(i) for i in rng.choice(n, size=rest, replace=False))
    return sorted(picked)


def mix(components: Sequence[Sequence[dict[str, Any]]], weights: Sequence[float], size: int | None,
        seed: int) -> Mixed:
    """The mixture of ``components`` (lists of records) by ``weights``; see the module docstring."""
    if len(components) != len(weights):
        raise ValueError(f"{len(components)} components but {len(weights)} weights")
    if any(not records for records in components):
        raise ValueError("every mixture component needs at least one example")
    fractions = normalised_weights(weights)
    sizes = [len(records) for records in components]
    total = size if size is not None else mixture_size(sizes, fractions)
    counts = component_counts(total, fractions)
    records: list[dict[str, Any]] = []
    for i, (component, count) in enumerate(zip(components, counts)):
        rng = np.random.default_rng([seed, i])
        records.extend(component[j] for j in take(len(component), count, rng))
    return Mixed(records=records, weights=tuple(float(w) for w in fractions), counts=tuple(counts))
