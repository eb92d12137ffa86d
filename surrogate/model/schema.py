"""The feature schema and the naming of forecast targets.

A fitted model is only valid for feature vectors laid out exactly as it was
trained on, so the schema travels with the model and every request is checked
against it by name, position and featurizer version.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from surrogate.model.errors import SchemaMismatchError
from surrogate.runs.outcomes import check_outcome_name

OBSERVATION_PREFIX: Final[str] = "obs."
"""Features named ``obs.*`` are early-run observations: NaN before a run starts."""

TARGET_SEPARATOR: Final[str] = "@"

FEATURE_NAME_PATTERN: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@/\-]*$")
"""No spaces, quotes, commas, colons or brackets: LightGBM's text format and
JSON keys both carry these names verbatim."""


def target_name(outcome: str, fraction: float) -> str:
    """Name of the target 'delta of ``outcome`` at checkpoint ``fraction``', e.g. ``x.y@1.0``."""
    check_outcome_name(outcome)
    if not (math.isfinite(fraction) and 0.0 < fraction <= 1.0):
        raise ValueError(f"checkpoint fraction {fraction!r} of outcome {outcome!r} must be in (0, 1]")
    return f"{outcome}{TARGET_SEPARATOR}{float(fraction)!r}"


def parse_target(name: str) -> tuple[str, float]:
    """Split a target name into (outcome, checkpoint fraction); refuse non-canonical spellings."""
    outcome, sep, fraction_text = name.rpartition(TARGET_SEPARATOR)
    if not sep:
        raise ValueError(
            f"target {name!r} has no '{TARGET_SEPARATOR}<fraction>' suffix; "
            "name targets like 'forgetting.ref_loss@1.0'"
        )
    try:
        fraction = float(fraction_text)
    except ValueError as exc:
        raise ValueError(f"target {name!r}: checkpoint {fraction_text!r} is not a number") from exc
    canonical = target_name(outcome, fraction)
    if canonical != name:
        raise ValueError(f"target {name!r} is not in canonical form; write it as {canonical!r}")
    return outcome, fraction


class FeatureSchema(BaseModel):
    """Ordered feature names and the featurizer version that produced them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_names: tuple[str, ...] = Field(min_length=1)
    featurizer_version: str = Field(min_length=1)

    @field_validator("feature_names")
    @classmethod
    def _names_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for i, name in enumerate(value):
            if not FEATURE_NAME_PATTERN.fullmatch(name):
                raise ValueError(
                    f"feature_names[{i}] = {name!r}: use letters, digits and '_ . @ / -' only, "
                    "starting with a letter, digit or '_'"
                )
            if name in seen:
                raise ValueError(f"feature_names[{i}] = {name!r} appears twice")
            seen.add(name)
        return value

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def observation_indices(self) -> np.ndarray:
        """Column indices of the early-run observation features (``obs.*``)."""
        return np.array(
            [i for i, n in enumerate(self.feature_names) if n.startswith(OBSERVATION_PREFIX)],
            dtype=np.intp,
        )

    def fingerprint(self) -> str:
        """Short content hash: equal fingerprints mean interchangeable feature vectors."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def check_names(self, names: Sequence[str]) -> None:
        """Raise :class:`SchemaMismatchError` unless ``names`` equals the schema order exactly."""
        names = tuple(names)
        if names == self.feature_names:
            return
        known = set(self.feature_names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SchemaMismatchError(
                f"feature_names: {len(unknown)} unknown to the model (featurizer "
                f"{self.featurizer_version}), e.g. {unknown[:5]}"
            )
        missing = [n for n in self.feature_names if n not in set(names)]
        if missing:
            raise SchemaMismatchError(f"feature_names: {len(missing)} missing, e.g. {missing[:5]}")
        if len(names) != len(self.feature_names):
            raise SchemaMismatchError(
                f"feature_names: {len(names)} given, the model expects {len(self.feature_names)}"
                " (a name repeats)"
            )
        pos = next(i for i, (a, b) in enumerate(zip(names, self.feature_names)) if a != b)
        raise SchemaMismatchError(
            f"feature_names[{pos}] is {names[pos]!r} but the model expects "
            f"{self.feature_names[pos]!r} there: send features in the schema order"
        )

    def check_featurizer_version(self, version: str | None) -> None:
        """Refuse features computed by another featurizer version (None skips the check)."""
        if version is not None and version != self.featurizer_version:
            raise SchemaMismatchError(
                f"featurizer_version: features come from {version!r}, the model was "
                f"fitted on {self.featurizer_version!r}; recompute the features or load a matching model"
            )

    def matrix_from_rows(self, rows: Sequence[Mapping[str, float | None]]) -> np.ndarray:
        """Lay out named feature values as the model's matrix; absent or None values become NaN.

        Unknown names are refused rather than ignored, since they usually mean a
        featurizer/model version skew.
        """
        index = {n: i for i, n in enumerate(self.feature_names)}
        out = np.full((len(rows), len(self.feature_names)), np.nan, dtype=np.float64)
        for r, row in enumerate(rows):
            for name, value in row.items():
                col = index.get(name)
                if col is None:
                    raise SchemaMismatchError(
                        f"rows[{r}]: feature {name!r} is unknown to the model "
                        f"(featurizer {self.featurizer_version})"
                    )
                if value is not None:
                    out[r, col] = float(value)
        return out
