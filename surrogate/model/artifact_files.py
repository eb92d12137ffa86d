"""The JSON sidecars of a model artifact, as pydantic models validated on load.

Separate from the reading/writing code so that the on-disk contract can be
read (and versioned) in one place.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from surrogate.model.boosters import BoosterKind
from surrogate.model.config import ForecastModelConfig
from surrogate.model.conformal import REGIMES
from surrogate.model.fitting import order_targets
from surrogate.model.schema import FeatureSchema, parse_target

VERSION_PATTERN: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_version(version: str) -> str:
    """Versions name directories: plain characters only, no path separators."""
    if not VERSION_PATTERN.fullmatch(version):
        raise ValueError(
            f"model version {version!r} must be 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return version


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BoosterEntry(_File):
    """Where one booster lives and what role it plays."""

    target: str
    kind: BoosterKind
    base_level: float | None
    alpha: float | None
    num_iteration: int = Field(ge=1)
    file: str


class ArtifactMeta(_File):
    """``meta.json``: identity, provenance and the integrity list of the artifact."""

    artifact_format_version: str
    model_version: str
    created_at: datetime
    corpus_hash: str = Field(min_length=1)
    lightgbm_version: str
    schema_fingerprint: str
    config: ForecastModelConfig
    boosters: tuple[BoosterEntry, ...]
    files: dict[str, str]

    @field_validator("model_version")
    @classmethod
    def _version_is_plain(cls, value: str) -> str:
        return check_version(value)


class BaseModelUsed(_File):
    name: str = Field(min_length=1)
    weights_hash: str = Field(min_length=1)


class TrainingProvenance(_File):
    """``training.json`` (optional): what the model learned from, so a forecast can be
    checked against it: the base models whose fine-tunes the corpus measured (a forecast
    for another base is an extrapolation) and the featurizer settings the features were
    computed with (features computed otherwise, e.g. another projection, do not match)."""

    corpora: tuple[str, ...]
    n_runs: int = Field(ge=1)
    families: tuple[str, ...]
    methods: tuple[str, ...]
    base_models: tuple[BaseModelUsed, ...]
    featurizer_config: dict[str, object]


class SchemaFile(_File):
    """``schema.json``: the feature layout and the targets the model forecasts."""

    features: FeatureSchema
    targets: tuple[str, ...] = Field(min_length=1)
    outcomes: tuple[str, ...]
    checkpoints: tuple[float, ...]

    @model_validator(mode="after")
    def _targets_consistent(self) -> SchemaFile:
        parsed = [parse_target(t) for t in self.targets]
        if tuple(order_targets(self.targets)) != self.targets:
            raise ValueError("targets are not in canonical order (outcome order, then checkpoint)")
        outcomes = tuple(dict.fromkeys(o for o, _ in parsed))
        checkpoints = tuple(sorted({f for _, f in parsed}))
        if outcomes != self.outcomes:
            raise ValueError(
                f"outcomes {list(self.outcomes)} do not match the targets' outcomes {list(outcomes)}"
            )
        if checkpoints != self.checkpoints:
            raise ValueError(
                f"checkpoints {list(self.checkpoints)} do not match the targets' {list(checkpoints)}"
            )
        return self


class ScoreSet(_File):
    base_level: float
    regime: str
    values: tuple[float, ...]

    @field_validator("regime")
    @classmethod
    def _known_regime(cls, value: str) -> str:
        if value not in REGIMES:
            raise ValueError(f"regime {value!r} is not one of {list(REGIMES)}")
        return value

    @field_validator("values")
    @classmethod
    def _sorted(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(b < a for a, b in zip(value, value[1:])):
            raise ValueError("conformity scores must be sorted ascending")
        return value


class TargetScores(_File):
    target: str
    width_floor: float = Field(gt=0.0)
    n_train: int = Field(ge=1)
    scores: tuple[ScoreSet, ...]


class CalibrationFile(_File):
    """``calibration.json``: whole conformity-score lists, so any level can be served."""

    score: str
    targets: tuple[TargetScores, ...]


class OODFile(_File):
    """``ood.json``: training statistics behind the out-of-distribution flags."""

    minimum: tuple[float | None, ...]
    maximum: tuple[float | None, ...]
    median: tuple[float, ...]
    mad: tuple[float, ...]
    seen_missing: tuple[bool, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    distance_columns: tuple[int, ...]
    reference: tuple[tuple[float, ...], ...]
    distance_scale: float = Field(gt=0.0)
