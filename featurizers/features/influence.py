"""Per-example influence: which training examples push each outcome the harmful way.

Score of example i on outcome o: harm_sign(o) * (-<P g_i, P g_o>), with P the random
projection, g_i the example's loss gradient and g_o the outcome's gradient. A gradient
step on example i changes o by about -lr * <g_o, g_i>, so a positive score means the
example moves o in its harmful direction (e.g. lowers the refusal margin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.probe_objectives import OBJECTIVES
from featurizers.features.records import record_text
from featurizers.features.schema import Explanation, RankedExample

INFLUENCE_STATS = ("mean", "harmful_share", "tail")
INFLUENCE_FEATURES: tuple[str, ...] = tuple(f"infl.{o}.{s}" for o in OBJECTIVES for s in INFLUENCE_STATS)


def harmful_scores(sketch: DataSketch, probes: ProbeBundle) -> np.ndarray:
    """[n_examples, n_objectives] harmful-direction alignment (projected dot products)."""
    dots = sketch.sketches.astype(np.float64) @ probes.sketches.astype(np.float64).T
    return -dots * probes.harm_signs[None, :]


def harmful_cosines(sketch: DataSketch, probes: ProbeBundle) -> np.ndarray:
    """The same scores divided by both sketch norms: comparable across outcomes and models."""
    norms = np.linalg.norm(sketch.sketches, axis=1)[:, None] * np.linalg.norm(probes.sketches, axis=1)[None, :]
    scores = harmful_scores(sketch, probes)
    return np.divide(scores, norms, out=np.zeros_like(scores), where=norms > 0)


def influence_features(sketch: DataSketch, probes: ProbeBundle, tail_quantile: float) -> dict[str, float]:
    """Summaries of the per-example cosines: a few harmful examples show in the tail, not the mean."""
    cosines = harmful_cosines(sketch, probes)
    values: dict[str, float] = {}
    for j, objective in enumerate(OBJECTIVES):
        column = cosines[:, j]
        values[f"infl.{objective}.mean"] = float(column.mean())
        values[f"infl.{objective}.harmful_share"] = float((column > 0).mean())
        values[f"infl.{objective}.tail"] = float(np.quantile(column, tail_quantile))
    return {name: values[name] for name in INFLUENCE_FEATURES}


def excerpt(record: Mapping[str, Any], chars: int) -> str:
    text = " ".join(record_text(record).full.split())
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


def explain_sketch(sketch: DataSketch, probes: ProbeBundle, records: Sequence[Mapping[str, Any]], top_k: int,
                   excerpt_chars: int) -> Explanation:
    """Per outcome, the sampled examples ranked by harmful-direction score (highest first)."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    scores = harmful_scores(sketch, probes)
    cosines = harmful_cosines(sketch, probes)
    ranked: dict[str, list[RankedExample]] = {}
    for j, objective in enumerate(OBJECTIVES):
        order = np.argsort(-scores[:, j], kind="stable")[:top_k]
        ranked[objective] = [
            RankedExample(index=int(sketch.sample_indices[r]), excerpt=excerpt(records[int(sketch.sample_indices[r])], excerpt_chars),
                          score=float(scores[r, j]), cosine=float(cosines[r, j]))
            for r in order
        ]
    harmful_direction = {o: ("up" if s > 0 else "down") for o, s in zip(OBJECTIVES, probes.harm_signs)}
    return Explanation(outcomes=ranked, harmful_direction=harmful_direction, n_scored=int(sketch.sample_indices.size),
                       n_examples=len(records))
