"""Pydantic models at the featurizer's boundary: feature vectors, their schema, observations, explanations.

A feature vector carries the schema it was computed under (ordered names, featurizer
version, projection dimension, seed, model weights hash), so a vector can never be
mixed silently with one from another featurizer, projection or base model.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from surrogate.runs import LossPoint
from surrogate.runs.outcomes import CORE_OUTCOMES

FEATURE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@/\-]*$")
"""The same rule the surrogate's schema enforces: names travel verbatim in LightGBM text and JSON."""


class FeatureSchemaMismatchError(ValueError):
    """Two feature vectors (or a vector and a cache entry) come from different featurizations."""


class FeatureSchema(BaseModel):
    """Ordered feature names and what produced them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_names: tuple[str, ...] = Field(min_length=1)
    featurizer_version: str = Field(min_length=1)
    projection_dim: int = Field(ge=1)
    projection_kind: str = Field(min_length=1)
    seed: int
    model_weights_hash: str = Field(min_length=1)

    @field_validator("feature_names")
    @classmethod
    def _names_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for i, name in enumerate(value):
            if not FEATURE_NAME_PATTERN.fullmatch(name):
                raise ValueError(f"feature_names[{i}] = {name!r} has characters outside letters, digits and '_ . @ / -'")
            if name in seen:
                raise ValueError(f"feature_names[{i}] = {name!r} appears twice")
            seen.add(name)
        return value

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def surrogate_fields(self) -> dict[str, Any]:
        """The fields `surrogate.model.FeatureSchema` holds (names and featurizer version)."""
        return {"feature_names": self.feature_names, "featurizer_version": self.featurizer_version}

    def check_same(self, other: "FeatureSchema") -> None:
        if other == self:
            return
        for name in ("featurizer_version", "projection_dim", "projection_kind", "seed", "model_weights_hash"):
            if getattr(self, name) != getattr(other, name):
                raise FeatureSchemaMismatchError(f"schema.{name}: {getattr(other, name)!r} != expected {getattr(self, name)!r}")
        raise FeatureSchemaMismatchError("schema.feature_names differ (order or content)")


class FeatureVector(BaseModel):
    """Named float features; NaN (null in JSON) marks a feature that could not be observed."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="null")

    feature_schema: FeatureSchema
    values: tuple[float, ...]

    @field_validator("values", mode="before")
    @classmethod
    def _null_is_nan(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple(float("nan") if v is None else v for v in value)
        return value

    @model_validator(mode="after")
    def _lengths_match(self) -> "FeatureVector":
        if len(self.values) != len(self.feature_schema.feature_names):
            raise ValueError(f"values has {len(self.values)} entries but the schema names {len(self.feature_schema.feature_names)}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return self.feature_schema.feature_names

    def as_array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.values))

    def __getitem__(self, name: str) -> float:
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            raise KeyError(f"no feature named {name!r}") from None


class EarlyObservations(BaseModel):
    """What a platform saw a few steps into the real run: the loss curve and probe deltas."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    step: int = Field(ge=1, description="optimizer steps completed when these were observed")
    loss_curve: tuple[LossPoint, ...] = ()
    probe_deltas: dict[str, float] = Field(default_factory=dict, description="outcome -> change since step 0")

    @field_validator("probe_deltas")
    @classmethod
    def _known_outcomes(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CORE_OUTCOMES))
        if unknown:
            raise ValueError(f"probe_deltas: unknown outcome(s) {unknown}; known: {', '.join(CORE_OUTCOMES)}")
        return value

    @model_validator(mode="after")
    def _curve_ordered(self) -> "EarlyObservations":
        steps = [p.step for p in self.loss_curve]
        if steps != sorted(set(steps)):
            raise ValueError("loss_curve: steps must be strictly increasing")
        if steps and steps[-1] > self.step:
            raise ValueError(f"loss_curve: last point at step {steps[-1]} is after observations.step {self.step}")
        return self


class RankedExample(BaseModel):
    """One training example and how strongly it pushes an outcome the harmful way."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0, description="0-based position in the dataset")
    excerpt: str
    score: float = Field(description="harmful-direction alignment (projected gradient dot product)")
    cosine: float = Field(description="the same, normalised by both gradient norms")


class Explanation(BaseModel):
    """Per outcome, the most harmful sampled examples first."""

    model_config = ConfigDict(frozen=True)

    outcomes: dict[str, list[RankedExample]]
    harmful_direction: dict[str, str]
    n_scored: int = Field(ge=0, description="examples scored (the gradient sample)")
    n_examples: int = Field(ge=0, description="examples in the dataset")
