"""The meta-model: LightGBM point and quantile boosters with conformal intervals,
its on-disk artifact and the model registry. No torch here or below."""

from surrogate.model.artifact import (
    ARTIFACT_FORMAT_VERSION,
    ArtifactMeta,
    read_meta,
    read_training_provenance,
    verify_artifact,
)
from surrogate.model.config import BoosterParams, ForecastModelConfig, OODConfig
from surrogate.model.errors import (
    ArtifactError,
    CalibrationTooSmallError,
    NotFittedError,
    SchemaMismatchError,
)
from surrogate.model.estimator import ForecastModel
from surrogate.model.forecast import Forecast
from surrogate.model.ood import OODReport
from surrogate.model.registry import ModelRegistry, RegistryError
from surrogate.model.schema import (
    OBSERVATION_PREFIX,
    FeatureSchema,
    parse_target,
    target_name,
)

__all__ = [
    "ARTIFACT_FORMAT_VERSION",
    "OBSERVATION_PREFIX",
    "ArtifactError",
    "ArtifactMeta",
    "BoosterParams",
    "CalibrationTooSmallError",
    "FeatureSchema",
    "Forecast",
    "ForecastModel",
    "ForecastModelConfig",
    "ModelRegistry",
    "NotFittedError",
    "OODConfig",
    "OODReport",
    "RegistryError",
    "SchemaMismatchError",
    "parse_target",
    "read_meta",
    "read_training_provenance",
    "target_name",
    "verify_artifact",
]
