"""Early-run observation features (`obs.*`): NaN before a run starts, filled in mid-run.

A platform that has run k steps knows how the loss fell and how the probes moved; the
linear extrapolation delta / (k / steps) is included because trees cannot divide.
"""

from __future__ import annotations

import numpy as np

from featurizers.features.schema import EarlyObservations
from surrogate.runs import Recipe
from surrogate.runs.outcomes import CORE_OUTCOMES

LOSS_OBS: tuple[str, ...] = (
    "obs.step", "obs.fraction", "obs.loss_first", "obs.loss_last", "obs.loss_min", "obs.loss_drop",
    "obs.loss_drop_rel", "obs.loss_slope",
)
MIN_POINTS_FOR_SLOPE = 2
OBSERVATION_FEATURES: tuple[str, ...] = (
    *LOSS_OBS,
    *(f"obs.delta.{o}" for o in CORE_OUTCOMES),
    *(f"obs.delta_extrapolated.{o}" for o in CORE_OUTCOMES),
)


def observation_features(observations: EarlyObservations | None, recipe: Recipe) -> dict[str, float]:
    """All `obs.*` features; NaN wherever nothing was observed."""
    values = {name: float("nan") for name in OBSERVATION_FEATURES}
    if observations is None:
        return values
    if observations.step > recipe.steps:
        raise ValueError(f"observations.step {observations.step} exceeds recipe.steps {recipe.steps}")
    fraction = observations.step / recipe.steps
    values["obs.step"] = float(observations.step)
    values["obs.fraction"] = fraction
    curve = observations.loss_curve
    if curve:
        losses = np.array([p.loss for p in curve], dtype=np.float64)
        steps = np.array([p.step for p in curve], dtype=np.float64)
        values["obs.loss_first"] = float(losses[0])
        values["obs.loss_last"] = float(losses[-1])
        values["obs.loss_min"] = float(losses.min())
        values["obs.loss_drop"] = float(losses[0] - losses[-1])
        values["obs.loss_drop_rel"] = float((losses[0] - losses[-1]) / losses[0]) if losses[0] else float("nan")
        if len(curve) >= MIN_POINTS_FOR_SLOPE:
            values["obs.loss_slope"] = float(np.polyfit(steps, losses, 1)[0])
    for outcome, delta in observations.probe_deltas.items():
        values[f"obs.delta.{outcome}"] = float(delta)
        values[f"obs.delta_extrapolated.{outcome}"] = float(delta) / fraction
    return values
