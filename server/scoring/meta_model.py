"""The meta-model a batch is scored with: located, loaded, checked against the featurizer,
and asked how honest its intervals were on runs it never saw.

Only ``surrogate`` is imported here (no torch): the feature names and version the featurizer
will produce are passed in by the caller.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surrogate.default_model import resolve_model_dir
from surrogate.model import ArtifactMeta, ForecastModel, SchemaMismatchError, read_meta
from surrogate.model.artifact import METRICS_FILE

logger = logging.getLogger(__name__)

COVERAGE_BLOCKS: tuple[str, ...] = ("heldout", "random")
"""Where metrics.json keeps measured coverage, preferred first: a true held-out evaluation
(``evaluate-model --heldout``), else the cross-validated one of ``train --evaluate``."""
COVERAGE_90_LEVEL = 0.9


@dataclass(frozen=True)
class LoadedMetaModel:
    model: ForecastModel
    meta: ArtifactMeta
    directory: Path
    metrics: Mapping[str, Any] | None


def load_meta_model(directory: str | Path | None) -> LoadedMetaModel:
    """``directory``, or the embedded default (a clear error naming how to get one when absent)."""
    path = resolve_model_dir(directory)
    if not path.is_dir():
        raise FileNotFoundError(f"--meta-model {path}: no such directory (give a model artifact from `tunecast train`)")
    model = ForecastModel.load(path)  # verifies every file's SHA-256, metrics.json included
    meta = read_meta(path)
    metrics = None
    if METRICS_FILE in meta.files:
        loaded = json.loads((path / METRICS_FILE).read_text(encoding="utf-8"))
        metrics = loaded if isinstance(loaded, dict) else None
    return LoadedMetaModel(model=model, meta=meta, directory=path, metrics=metrics)


def check_featurizer_match(model: ForecastModel, feature_names: Sequence[str], featurizer_version: str) -> None:
    """Refuse before any featurization when the featurizer cannot produce what the model reads."""
    schema = model.schema_
    if featurizer_version != schema.featurizer_version:
        raise SchemaMismatchError(
            f"the meta-model was fitted on features of featurizer {schema.featurizer_version!r}, this tunecast "
            f"computes {featurizer_version!r}; use a meta-model trained on re-featurized runs"
        )
    schema.check_names(feature_names)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def heldout_coverage(metrics: Mapping[str, Any] | None, outcomes: Iterable[str], level: float) -> dict[str, float]:
    """Measured coverage of the ``level`` interval per outcome on runs the model did not train on.

    Read from the coverage curve of the first evaluation block present (see COVERAGE_BLOCKS);
    at level 0.9 the headline ``coverage_90`` metric is used when the curve lacks the level.
    Outcomes without a measurement are left out, never filled in.
    """
    if not metrics:
        return {}
    block = next((metrics[k] for k in COVERAGE_BLOCKS if isinstance(metrics.get(k), dict)), None)
    if block is None:
        return {}
    curves = (block.get("coverage_curve") or {}).get("model") or {}
    scores = block.get("model") or {}
    out: dict[str, float] = {}
    for outcome in outcomes:
        curve = curves.get(outcome) if isinstance(curves, dict) else None
        value = _number(curve.get(repr(float(level)))) if isinstance(curve, dict) else None
        if value is None and math.isclose(level, COVERAGE_90_LEVEL):
            row = scores.get(outcome) if isinstance(scores, dict) else None
            value = _number(row.get("coverage_90")) if isinstance(row, dict) else None
        if value is not None:
            out[outcome] = value
    return out
