"""Feature importance read straight from LightGBM text models: the total split gain of each
feature, so no booster (and no lightgbm import) is needed to explain a saved model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from surrogate.model import ForecastModel, parse_target
from surrogate.runs.observations import OBSERVATION_PREFIX
from surrogate.runs.training_table import (
    DATASET_STAT_PREFIXES,
    MODEL_FEATURE_PREFIXES,
    RECIPE_PREFIXES,
)

_FEATURE_NAMES: Final[re.Pattern[str]] = re.compile(r"(?m)^feature_names=(.*)$")
_SPLIT_FEATURE: Final[re.Pattern[str]] = re.compile(r"(?m)^split_feature=(.*)$")
_SPLIT_GAIN: Final[re.Pattern[str]] = re.compile(r"(?m)^split_gain=(.*)$")
_END_OF_TREES: Final[str] = "end of trees"
FEATURE_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "recipe": RECIPE_PREFIXES,
    "dataset statistics": DATASET_STAT_PREFIXES,
    "model-side": MODEL_FEATURE_PREFIXES,
    "early-run observations": (OBSERVATION_PREFIX,),
}


@dataclass(frozen=True)
class Importance:
    """Total split gain per feature of one booster, in its feature order."""

    feature_names: tuple[str, ...]
    gain: np.ndarray


def split_gains(model_text: str) -> Importance:
    """Sum ``split_gain`` by ``split_feature`` over every tree of a LightGBM text model."""
    header = _FEATURE_NAMES.search(model_text)
    if header is None:
        raise ValueError("not a LightGBM text model: no 'feature_names=' header line")
    names = tuple(header.group(1).split(" "))
    trees = model_text.split(_END_OF_TREES, 1)[0]
    gain = np.zeros(len(names))
    for features, gains in zip(_SPLIT_FEATURE.findall(trees), _SPLIT_GAIN.findall(trees), strict=True):
        idx = np.array(features.split(), dtype=np.intp)
        values = np.array(gains.split(), dtype=np.float64)
        if idx.size != values.size or (idx.size and idx.max() >= len(names)):
            raise ValueError("LightGBM text model: split_feature and split_gain disagree")
        np.add.at(gain, idx, values)
    return Importance(feature_names=names, gain=gain)


def feature_group(name: str) -> str:
    for group, prefixes in FEATURE_GROUPS.items():
        if name.startswith(prefixes):
            return group
    return "other"


def model_importance(model: ForecastModel, top: int = 25, fractions: Sequence[float] = (1.0,)) -> dict[str, Any]:
    """Gain shares of the point boosters of the targets at ``fractions`` (end of run by default):
    each booster's gains are normalised to sum to one (targets have different units), then
    averaged over targets; per target, the ``top`` features by share."""
    per_target: dict[str, list[dict[str, Any]]] = {}
    shares: list[np.ndarray] = []
    names: tuple[str, ...] = model.schema_.feature_names
    for spec in model.boosters_:
        if spec.kind != "point" or parse_target(spec.target)[1] not in fractions:
            continue
        importance = split_gains(spec.model_text)
        if importance.feature_names != names:
            raise ValueError(f"{spec.label}: feature names differ from the model schema")
        total = importance.gain.sum()
        share = importance.gain / total if total > 0 else np.zeros_like(importance.gain)
        shares.append(share)
        order = np.argsort(-importance.gain, kind="stable")[:top]
        per_target[spec.target] = [
            {"feature": names[i], "gain": float(importance.gain[i]), "share": float(share[i])}
            for i in order if importance.gain[i] > 0
        ]
    mean_share = np.mean(shares, axis=0) if shares else np.zeros(len(names))
    order = np.argsort(-mean_share, kind="stable")[:top]
    groups: dict[str, float] = {}
    for name, value in zip(names, mean_share):
        groups[feature_group(name)] = groups.get(feature_group(name), 0.0) + float(value)
    return {
        "targets": list(per_target),
        "overall": [{"feature": names[i], "share": float(mean_share[i])} for i in order if mean_share[i] > 0],
        "by_group": groups,
        "per_target": per_target,
    }
