"""Summary of a run corpus: what it covers and how far its runs moved each outcome.

Cheap enough to print before every meta-model fit, so a thin or lopsided
corpus is noticed before its forecasts are trusted.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from surrogate.runs.outcomes import order_outcomes
from surrogate.runs.store import RunStore


def corpus_stats(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Counts and end-of-run delta statistics of the store at ``directory``.

    Statistics use the last checkpoint of each run, over the runs that measured
    that outcome; ``std`` is the population standard deviation (ddof=0), so a
    single run gives 0.0 rather than NaN.
    """
    records = RunStore(directory).read()
    values: dict[str, list[float]] = {}
    for record in records:
        for name, delta in record.final.deltas.items():
            values.setdefault(name, []).append(delta)
    outcomes: dict[str, dict[str, float]] = {}
    for name in order_outcomes(set(values)):
        arr = np.asarray(values[name], dtype=np.float64)
        outcomes[name] = {
            "mean": float(arr.mean()),
            "std": float(arr.std()),
            "min": float(arr.min()),
            "max": float(arr.max()),
        }
    return {
        "runs": len(records),
        "families": sorted({r.dataset.family for r in records}),
        "methods": sorted({r.recipe.method for r in records}),
        "base_models": sorted({r.base.name for r in records}),
        "outcomes": outcomes,
    }
