"""Seeded, stratified feature/eval split assignment shared by every suite."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def derived_rng(seed: int, *parts: object) -> random.Random:
    """A generator seeded from the build seed and a label, so no stream depends on another's order."""
    label = ":".join([str(seed), *(str(p) for p in parts)])
    return random.Random(label)


def assign_splits(
    items: Sequence[T],
    stratum_of: Callable[[T], Hashable],
    *,
    seed: int,
    eval_fraction: float,
    min_stratum_size: int,
    suite: str,
    pinned_eval: Callable[[T], bool] | None = None,
) -> list[str]:
    """Return a split per item, stratified so every stratum has items in both splits.

    Within a stratum the items are shuffled with a seed derived from the suite and stratum
    name, and the first round(n * eval_fraction) (at least one, at most n - 1) go to eval.
    Items for which `pinned_eval` is true go to eval first (headline probes must be measured).
    """
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[stratum_of(item)].append(index)
    splits = [""] * len(items)
    for stratum in sorted(groups, key=str):
        members = groups[stratum]
        if len(members) < min_stratum_size:
            raise ValueError(
                f"suite {suite!r}: stratum {stratum!r} has {len(members)} items; "
                f"need at least {min_stratum_size} so both splits cover it (add rows to its table)"
            )
        order = list(members)
        derived_rng(seed, suite, stratum).shuffle(order)
        if pinned_eval is not None:
            order.sort(key=lambda index: not pinned_eval(items[index]))
        n_eval = min(len(order) - 1, max(1, math.floor(len(order) * eval_fraction + 0.5)))
        n_pinned = 0 if pinned_eval is None else sum(1 for index in order if pinned_eval(items[index]))
        if n_pinned > n_eval:
            raise ValueError(
                f"suite {suite!r}: stratum {stratum!r} pins {n_pinned} items to eval but eval holds only {n_eval}"
            )
        for rank, index in enumerate(order):
            splits[index] = "eval" if rank < n_eval else "feature"
    return splits
