"""Per-example influence: which training examples push each outcome the harmful way.

Score of example i on outcome o: harm_sign(o) * (-<P g_i, P g_o>), with P the random
projection, g_i the example's loss gradient and g_o the outcome's gradient. A gradient
step on example i changes o by about -lr * <g_o, g_i>, so a positive score means the
example moves o in its harmful direction (e.g. lowers the refusal margin).

Explanations rank by `InfluenceConfig.score`. 'dot' (the default) is the score above.
'contrast' replaces g_o by g_o - g_twin for outcomes measured twice, on harmful and on
neutral inputs (the refusal margin on harmful prompts vs the same margin on benign ones):
most of the refusal gradient is the generic "refusal opener vs compliance opener"
direction every assistant-style example pushes (cosine ~0.7 with its benign twin), and
the contrast is the gradient of how *selectively* the model refuses harmful requests. On
the lab datasets it ranked the harmful lines better on average but not on every dataset
(experiments/results/influence_ranking.json), so it is not the default. The influence
*features* always use the plain cosines: feature vectors do not depend on this choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np

from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.probe_objectives import OBJECTIVES
from featurizers.features.records import record_text
from featurizers.features.schema import Explanation, RankedExample

INFLUENCE_STATS = ("mean", "harmful_share", "tail")
INFLUENCE_FEATURES: tuple[str, ...] = tuple(f"infl.{o}.{s}" for o in OBJECTIVES for s in INFLUENCE_STATS)

InfluenceScore = Literal["dot", "contrast"]
INFLUENCE_SCORES: tuple[str, ...] = get_args(InfluenceScore)

CONTRAST_TWIN: dict[str, str] = {
    "safety.refusal_margin": "safety.over_refusal_margin",
    "safety.over_refusal_margin": "safety.refusal_margin",
}
"""Objectives that are one measurement on two input sets (harmful vs benign prompts, same openings and margin);
each one's twin is the other. The bias margins already contrast paired sentences, so they need none."""


def contrasted(probe: np.ndarray, twin: np.ndarray | None) -> np.ndarray:
    """The gradient of (objective - its twin): what moves the outcome on its own inputs but not on neutral ones."""
    return probe if twin is None else probe - twin


def contrast_sketches(probes: ProbeBundle) -> np.ndarray:
    """[n_objectives, k] projected gradients of each objective minus its twin (unchanged where there is none)."""
    sketches = probes.sketches.astype(np.float64)
    index = {o: j for j, o in enumerate(OBJECTIVES)}
    return np.stack([contrasted(sketches[j], sketches[index[CONTRAST_TWIN[o]]] if o in CONTRAST_TWIN else None)
                     for j, o in enumerate(OBJECTIVES)])


def ranking_directions(probes: ProbeBundle, score: InfluenceScore) -> np.ndarray:
    """[n_objectives, k] the projected directions examples are ranked against."""
    if score == "dot":
        return probes.sketches.astype(np.float64)
    if score == "contrast":
        return contrast_sketches(probes)
    raise ValueError(f"influence score must be one of {INFLUENCE_SCORES}, got {score!r}")


def ranking_scores(sketch: DataSketch, probes: ProbeBundle, score: InfluenceScore) -> tuple[np.ndarray, np.ndarray]:
    """[n_examples, n_objectives] harmful-direction scores of the chosen kind, and the same as cosines."""
    directions = ranking_directions(probes, score)
    dots = -(sketch.sketches.astype(np.float64) @ directions.T) * probes.harm_signs[None, :]
    norms = np.linalg.norm(sketch.sketches.astype(np.float64), axis=1)[:, None] * np.linalg.norm(directions, axis=1)[None, :]
    return dots, np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


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
                   excerpt_chars: int, score: InfluenceScore = "dot") -> Explanation:
    """Per outcome, the sampled examples ranked by harmful-direction score of the chosen kind (highest first)."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    scores, cosines = ranking_scores(sketch, probes, score)
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
