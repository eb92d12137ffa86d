"""Early-run observation features (`obs.*`) from a run record, without torch.

Mirrors `featurizers.features.observations` (which the torch-free surrogate may not
import) so the training table's mid-run inputs carry the same names and values a
served mid-run forecast computes; tests pin the two together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from surrogate.runs.outcomes import CORE_OUTCOMES
from surrogate.runs.record import LossPoint, RunRecord

OBSERVATION_PREFIX: Final[str] = "obs."
LOSS_OBS: Final[tuple[str, ...]] = (
    "obs.step", "obs.fraction", "obs.loss_first", "obs.loss_last", "obs.loss_min", "obs.loss_drop",
    "obs.loss_drop_rel", "obs.loss_slope",
)
MIN_POINTS_FOR_SLOPE: Final[int] = 2
OBSERVATION_FEATURES: Final[tuple[str, ...]] = (
    *LOSS_OBS,
    *(f"obs.delta.{o}" for o in CORE_OUTCOMES),
    *(f"obs.delta_extrapolated.{o}" for o in CORE_OUTCOMES),
)


def observation_values(step: int, total_steps: int, loss_curve: Sequence[LossPoint],
                       probe_deltas: Mapping[str, float]) -> dict[str, float]:
    """All `obs.*` values for what was seen after `step` of `total_steps`; NaN where nothing was."""
    if not 1 <= step <= total_steps:
        raise ValueError(f"observation step {step} must lie in [1, recipe.steps={total_steps}]")
    values = {name: float("nan") for name in OBSERVATION_FEATURES}
    fraction = step / total_steps
    values["obs.step"] = float(step)
    values["obs.fraction"] = fraction
    if loss_curve:
        losses = np.array([p.loss for p in loss_curve], dtype=np.float64)
        steps = np.array([p.step for p in loss_curve], dtype=np.float64)
        values["obs.loss_first"] = float(losses[0])
        values["obs.loss_last"] = float(losses[-1])
        values["obs.loss_min"] = float(losses.min())
        values["obs.loss_drop"] = float(losses[0] - losses[-1])
        values["obs.loss_drop_rel"] = float((losses[0] - losses[-1]) / losses[0]) if losses[0] else float("nan")
        if len(loss_curve) >= MIN_POINTS_FOR_SLOPE:
            values["obs.loss_slope"] = float(np.polyfit(steps, losses, 1)[0])
    for outcome, delta in probe_deltas.items():
        if outcome not in CORE_OUTCOMES:
            continue  # breakdowns (e.g. bias.stereotype_pref.male) are not observation features
        values[f"obs.delta.{outcome}"] = float(delta)
        values[f"obs.delta_extrapolated.{outcome}"] = float(delta) / fraction
    return values


def record_observations(record: RunRecord, step: int) -> dict[str, float]:
    """What a platform would have sent after `step` of this run: the loss curve so far and the
    probe deltas of the checkpoint at that step (which must exist)."""
    checkpoint = next((c for c in record.checkpoints if c.step == step), None)
    if checkpoint is None or step == 0:
        measured = [c.step for c in record.checkpoints[1:]]
        raise ValueError(f"run {record.run_id}: no checkpoint at step {step}; measured steps are {measured}")
    curve = [p for p in record.loss_curve if p.step <= step]
    return observation_values(step, record.recipe.steps, curve, checkpoint.deltas)
