from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TargetForecast(_message.Message):
    __slots__ = ("outcome", "checkpoint", "point", "lower", "upper")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    checkpoint: float
    point: float
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, outcome: _Optional[str] = ..., checkpoint: _Optional[float] = ..., point: _Optional[float] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class OutOfDistribution(_message.Message):
    __slots__ = ("flagged", "out_of_range", "unexpectedly_missing", "distance", "distance_flagged")
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_RANGE_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTEDLY_MISSING_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FLAGGED_FIELD_NUMBER: _ClassVar[int]
    flagged: bool
    out_of_range: _containers.RepeatedScalarFieldContainer[str]
    unexpectedly_missing: _containers.RepeatedScalarFieldContainer[str]
    distance: float
    distance_flagged: bool
    def __init__(self, flagged: _Optional[bool] = ..., out_of_range: _Optional[_Iterable[str]] = ..., unexpectedly_missing: _Optional[_Iterable[str]] = ..., distance: _Optional[float] = ..., distance_flagged: _Optional[bool] = ...) -> None: ...

class CandidateForecast(_message.Message):
    __slots__ = ("candidate_id", "index", "targets", "ood", "observed", "featurized", "cache_hit")
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    OOD_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    FEATURIZED_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_FIELD_NUMBER: _ClassVar[int]
    candidate_id: str
    index: int
    targets: _containers.RepeatedCompositeFieldContainer[TargetForecast]
    ood: OutOfDistribution
    observed: bool
    featurized: bool
    cache_hit: bool
    def __init__(self, candidate_id: _Optional[str] = ..., index: _Optional[int] = ..., targets: _Optional[_Iterable[_Union[TargetForecast, _Mapping]]] = ..., ood: _Optional[_Union[OutOfDistribution, _Mapping]] = ..., observed: _Optional[bool] = ..., featurized: _Optional[bool] = ..., cache_hit: _Optional[bool] = ...) -> None: ...

class ForecastMatrix(_message.Message):
    __slots__ = ("target_outcomes", "target_checkpoints", "row_offset", "rows", "point", "lower", "upper", "observed", "ood_flagged", "ood_distance", "ood_rows", "ood", "candidate_ids")
    TARGET_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    TARGET_CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    ROW_OFFSET_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    OOD_FLAGGED_FIELD_NUMBER: _ClassVar[int]
    OOD_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    OOD_ROWS_FIELD_NUMBER: _ClassVar[int]
    OOD_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_IDS_FIELD_NUMBER: _ClassVar[int]
    target_outcomes: _containers.RepeatedScalarFieldContainer[str]
    target_checkpoints: _containers.RepeatedScalarFieldContainer[float]
    row_offset: int
    rows: int
    point: _containers.RepeatedScalarFieldContainer[float]
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    observed: _containers.RepeatedScalarFieldContainer[bool]
    ood_flagged: _containers.RepeatedScalarFieldContainer[bool]
    ood_distance: _containers.RepeatedScalarFieldContainer[float]
    ood_rows: _containers.RepeatedScalarFieldContainer[int]
    ood: _containers.RepeatedCompositeFieldContainer[OutOfDistribution]
    candidate_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target_outcomes: _Optional[_Iterable[str]] = ..., target_checkpoints: _Optional[_Iterable[float]] = ..., row_offset: _Optional[int] = ..., rows: _Optional[int] = ..., point: _Optional[_Iterable[float]] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ..., observed: _Optional[_Iterable[bool]] = ..., ood_flagged: _Optional[_Iterable[bool]] = ..., ood_distance: _Optional[_Iterable[float]] = ..., ood_rows: _Optional[_Iterable[int]] = ..., ood: _Optional[_Iterable[_Union[OutOfDistribution, _Mapping]]] = ..., candidate_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelStamp(_message.Message):
    __slots__ = ("model_version", "featurizer_version")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURIZER_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    featurizer_version: str
    def __init__(self, model_version: _Optional[str] = ..., featurizer_version: _Optional[str] = ...) -> None: ...
