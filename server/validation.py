"""Checks of forecast requests against the served model; each failure names its field.

Cheap on the happy path (one dict lookup per feature, one vectorised
finiteness test); the helpful parts (near-name suggestions) run only on error.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import numpy as np

from server.config import RequestLimits
from server.errors import failed_precondition, invalid
from server.generated.tunecast.v1 import candidate_pb2
from server.model_holder import ServingModel


def suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _quoted(name: str, limit: int) -> str:
    shown = name if len(name) <= limit else name[:limit] + "..."
    return '"' + shown.replace('"', '\\"') + '"'


def check_levels(levels: Sequence[float], snapshot: ServingModel, limits: RequestLimits, field: str = "levels") -> tuple[float, ...]:
    """Requested interval levels, or the model's defaults when none are given."""
    if len(levels) == 0:
        return snapshot.default_levels
    if len(levels) > limits.max_levels:
        raise invalid(field, f"asks for {len(levels)} levels; the limit is {limits.max_levels}")
    out = []
    for i, level in enumerate(levels):
        if not (math.isfinite(level) and 0.0 < level < 1.0):
            raise invalid(f"{field}[{i}]", f"is {level}; each level must lie strictly between 0 and 1 (e.g. 0.9)")
        if level in out:
            raise invalid(f"{field}[{i}]", f"{level} is requested twice")
        out.append(float(level))
    return tuple(out)


def check_outcomes(outcomes: Sequence[str], snapshot: ServingModel, field: str = "outcomes") -> np.ndarray:
    """Model target columns to return: all, or those of the requested outcomes."""
    if len(outcomes) == 0:
        return np.arange(len(snapshot.targets))
    wanted = set()
    for i, name in enumerate(outcomes):
        if name not in snapshot.outcomes:
            raise invalid(
                f"{field}[{i}]",
                f"{name[:80]!r} is not forecast by model {snapshot.version}{suggest(name, snapshot.outcomes)}",
            )
        wanted.add(name)
    return np.array([j for j, (o, _) in enumerate(snapshot.targets) if o in wanted], dtype=np.intp)


def check_candidate_id(candidate_id: str, field: str, limits: RequestLimits) -> str:
    if len(candidate_id) > limits.max_id_chars:
        raise invalid(field, f"is {len(candidate_id)} characters; the limit is {limits.max_id_chars}")
    return candidate_id


def unknown_feature(name: str, snapshot: ServingModel) -> str:
    """The detail of an unknown-feature error, with the nearest known name when there is one."""
    return (f"unknown feature for model {snapshot.version} (featurizer {snapshot.featurizer_version})"
            f"{suggest(name, snapshot.schema.feature_names)}")


def _unknown(name: str, field: str, snapshot: ServingModel, limits: RequestLimits) -> Exception:
    return invalid(f"{field}[{_quoted(name, limits.max_name_chars)}]", unknown_feature(name, snapshot))


def _not_finite(name: str, value: float, field: str, limits: RequestLimits) -> Exception:
    return invalid(
        f"{field}[{_quoted(name, limits.max_name_chars)}]",
        f"is {value}; values must be finite (leave a feature out to mark it missing)",
    )


def check_featurizer_version(version: str, snapshot: ServingModel, field: str) -> None:
    """Features stamped with another featurizer version would be silently misread: refuse them."""
    if version and version != snapshot.featurizer_version:
        raise invalid(
            field,
            f"features come from {version[:80]!r}, model {snapshot.version} was fitted on "
            f"{snapshot.featurizer_version!r}; recompute them or ask for a matching model",
        )


def feature_row(
    vector: candidate_pb2.FeatureVector, snapshot: ServingModel, field: str, limits: RequestLimits
) -> np.ndarray:
    """One model row from named or parallel features; absent features are NaN (missing)."""
    check_featurizer_version(vector.featurizer_version, snapshot, f"{field}.featurizer_version")
    index = snapshot.feature_index
    row = np.full(len(index), np.nan, dtype=np.float64)
    named = vector.named
    if len(named):
        if len(vector.names) or len(vector.values):
            raise invalid(field, "set either named or names/values, not both")
        for name, value in named.items():
            col = index.get(name)
            if col is None:
                raise _unknown(name, f"{field}.named", snapshot, limits)
            if not math.isfinite(value):
                raise _not_finite(name, value, f"{field}.named", limits)
            row[col] = value
        return row
    names, values = vector.names, vector.values
    if len(names) != len(values):
        raise invalid(f"{field}.values", f"holds {len(values)} values for {len(names)} names; they must pair up")
    if len(names) == 0:
        raise invalid(field, "is empty: send named features, or names with values")
    try:
        cols = [index[name] for name in names]
    except KeyError as exc:
        raise _unknown(str(exc.args[0]), f"{field}.names", snapshot, limits) from None
    vals = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(vals)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise _not_finite(names[bad], float(vals[bad]), f"{field}.values", limits)
    if len(set(cols)) != len(cols):
        seen: set[int] = set()
        for name, col in zip(names, cols):
            if col in seen:
                raise invalid(f"{field}.names", f"{name!r} appears twice")
            seen.add(col)
    row[cols] = vals
    return row


def row_from_features(features: Mapping[str, float], snapshot: ServingModel, field: str) -> np.ndarray:
    """Row from a featurizer's output. The featurizer version was already matched, so
    features the model does not use are dropped (it may have been fitted on a subset);
    features it needs but did not get stay NaN and show up as out-of-distribution."""
    index = snapshot.feature_index
    row = np.full(len(index), np.nan, dtype=np.float64)
    used = 0
    for name, value in features.items():
        col = index.get(name)
        if col is None:
            continue
        value = float(value)
        row[col] = value if math.isfinite(value) else np.nan
        used += 1
    if used == 0:
        raise failed_precondition(
            f"none of the {len(features)} features the featurizer produced is known to model {snapshot.version}; "
            "load a model fitted on this featurizer's output",
            field,
        )
    return row
