from google.protobuf import struct_pb2 as _struct_pb2
from server.generated.tunecast.v1 import candidate_pb2 as _candidate_pb2
from server.generated.tunecast.v1 import forecast_pb2 as _forecast_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ForecastRequest(_message.Message):
    __slots__ = ("candidate", "levels", "outcomes")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    candidate: _candidate_pb2.Candidate
    levels: _containers.RepeatedScalarFieldContainer[float]
    outcomes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, candidate: _Optional[_Union[_candidate_pb2.Candidate, _Mapping]] = ..., levels: _Optional[_Iterable[float]] = ..., outcomes: _Optional[_Iterable[str]] = ...) -> None: ...

class ForecastResponse(_message.Message):
    __slots__ = ("forecast", "model", "server_latency_ms", "levels")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVER_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    forecast: _forecast_pb2.CandidateForecast
    model: _forecast_pb2.ModelStamp
    server_latency_ms: float
    levels: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, forecast: _Optional[_Union[_forecast_pb2.CandidateForecast, _Mapping]] = ..., model: _Optional[_Union[_forecast_pb2.ModelStamp, _Mapping]] = ..., server_latency_ms: _Optional[float] = ..., levels: _Optional[_Iterable[float]] = ...) -> None: ...

class ForecastBatchRequest(_message.Message):
    __slots__ = ("candidates", "levels", "outcomes", "matrix")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[_candidate_pb2.Candidate]
    levels: _containers.RepeatedScalarFieldContainer[float]
    outcomes: _containers.RepeatedScalarFieldContainer[str]
    matrix: _candidate_pb2.FeatureMatrix
    def __init__(self, candidates: _Optional[_Iterable[_Union[_candidate_pb2.Candidate, _Mapping]]] = ..., levels: _Optional[_Iterable[float]] = ..., outcomes: _Optional[_Iterable[str]] = ..., matrix: _Optional[_Union[_candidate_pb2.FeatureMatrix, _Mapping]] = ...) -> None: ...

class ForecastBatchResponse(_message.Message):
    __slots__ = ("forecasts", "model", "server_latency_ms", "levels", "matrix")
    FORECASTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVER_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    forecasts: _containers.RepeatedCompositeFieldContainer[_forecast_pb2.CandidateForecast]
    model: _forecast_pb2.ModelStamp
    server_latency_ms: float
    levels: _containers.RepeatedScalarFieldContainer[float]
    matrix: _forecast_pb2.ForecastMatrix
    def __init__(self, forecasts: _Optional[_Iterable[_Union[_forecast_pb2.CandidateForecast, _Mapping]]] = ..., model: _Optional[_Union[_forecast_pb2.ModelStamp, _Mapping]] = ..., server_latency_ms: _Optional[float] = ..., levels: _Optional[_Iterable[float]] = ..., matrix: _Optional[_Union[_forecast_pb2.ForecastMatrix, _Mapping]] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("spec", "outcomes", "top_k")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    spec: _candidate_pb2.FineTuneSpec
    outcomes: _containers.RepeatedScalarFieldContainer[str]
    top_k: int
    def __init__(self, spec: _Optional[_Union[_candidate_pb2.FineTuneSpec, _Mapping]] = ..., outcomes: _Optional[_Iterable[str]] = ..., top_k: _Optional[int] = ...) -> None: ...

class InfluentialExample(_message.Message):
    __slots__ = ("index", "score", "cosine", "excerpt")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COSINE_FIELD_NUMBER: _ClassVar[int]
    EXCERPT_FIELD_NUMBER: _ClassVar[int]
    index: int
    score: float
    cosine: float
    excerpt: str
    def __init__(self, index: _Optional[int] = ..., score: _Optional[float] = ..., cosine: _Optional[float] = ..., excerpt: _Optional[str] = ...) -> None: ...

class OutcomeInfluence(_message.Message):
    __slots__ = ("outcome", "harmful_direction", "examples")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    HARMFUL_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    harmful_direction: str
    examples: _containers.RepeatedCompositeFieldContainer[InfluentialExample]
    def __init__(self, outcome: _Optional[str] = ..., harmful_direction: _Optional[str] = ..., examples: _Optional[_Iterable[_Union[InfluentialExample, _Mapping]]] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("outcomes", "n_scored", "n_examples", "model", "server_latency_ms")
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    N_SCORED_FIELD_NUMBER: _ClassVar[int]
    N_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVER_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[OutcomeInfluence]
    n_scored: int
    n_examples: int
    model: _forecast_pb2.ModelStamp
    server_latency_ms: float
    def __init__(self, outcomes: _Optional[_Iterable[_Union[OutcomeInfluence, _Mapping]]] = ..., n_scored: _Optional[int] = ..., n_examples: _Optional[int] = ..., model: _Optional[_Union[_forecast_pb2.ModelStamp, _Mapping]] = ..., server_latency_ms: _Optional[float] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TargetRows(_message.Message):
    __slots__ = ("outcome", "checkpoint", "train_rows", "calibration_rows")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ROWS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_ROWS_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    checkpoint: float
    train_rows: int
    calibration_rows: int
    def __init__(self, outcome: _Optional[str] = ..., checkpoint: _Optional[float] = ..., train_rows: _Optional[int] = ..., calibration_rows: _Optional[int] = ...) -> None: ...

class CorpusSummary(_message.Message):
    __slots__ = ("corpus_hash", "targets")
    CORPUS_HASH_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    corpus_hash: str
    targets: _containers.RepeatedCompositeFieldContainer[TargetRows]
    def __init__(self, corpus_hash: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[TargetRows, _Mapping]]] = ...) -> None: ...

class Metric(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("model", "schema_fingerprint", "feature_names", "observation_features", "outcomes", "checkpoints", "default_levels", "corpus", "metrics", "coverage", "created_at", "loaded_at")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LEVELS_FIELD_NUMBER: _ClassVar[int]
    CORPUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LOADED_AT_FIELD_NUMBER: _ClassVar[int]
    model: _forecast_pb2.ModelStamp
    schema_fingerprint: str
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    observation_features: _containers.RepeatedScalarFieldContainer[str]
    outcomes: _containers.RepeatedScalarFieldContainer[str]
    checkpoints: _containers.RepeatedScalarFieldContainer[float]
    default_levels: _containers.RepeatedScalarFieldContainer[float]
    corpus: CorpusSummary
    metrics: _struct_pb2.Struct
    coverage: _containers.RepeatedCompositeFieldContainer[Metric]
    created_at: str
    loaded_at: str
    def __init__(self, model: _Optional[_Union[_forecast_pb2.ModelStamp, _Mapping]] = ..., schema_fingerprint: _Optional[str] = ..., feature_names: _Optional[_Iterable[str]] = ..., observation_features: _Optional[_Iterable[str]] = ..., outcomes: _Optional[_Iterable[str]] = ..., checkpoints: _Optional[_Iterable[float]] = ..., default_levels: _Optional[_Iterable[float]] = ..., corpus: _Optional[_Union[CorpusSummary, _Mapping]] = ..., metrics: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., coverage: _Optional[_Iterable[_Union[Metric, _Mapping]]] = ..., created_at: _Optional[str] = ..., loaded_at: _Optional[str] = ...) -> None: ...

class ReloadModelRequest(_message.Message):
    __slots__ = ("version", "path")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    version: str
    path: str
    def __init__(self, version: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class ReloadModelResponse(_message.Message):
    __slots__ = ("previous_version", "model_version", "load_ms")
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    previous_version: str
    model_version: str
    load_ms: float
    def __init__(self, previous_version: _Optional[str] = ..., model_version: _Optional[str] = ..., load_ms: _Optional[float] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MethodStats(_message.Message):
    __slots__ = ("method", "count", "codes", "bucket_upper_ms", "bucket_counts", "latency_sum_ms", "p50_ms", "p99_ms")
    class CodesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    METHOD_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    BUCKET_UPPER_MS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_COUNTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_SUM_MS_FIELD_NUMBER: _ClassVar[int]
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    method: str
    count: int
    codes: _containers.ScalarMap[str, int]
    bucket_upper_ms: _containers.RepeatedScalarFieldContainer[float]
    bucket_counts: _containers.RepeatedScalarFieldContainer[int]
    latency_sum_ms: float
    p50_ms: float
    p99_ms: float
    def __init__(self, method: _Optional[str] = ..., count: _Optional[int] = ..., codes: _Optional[_Mapping[str, int]] = ..., bucket_upper_ms: _Optional[_Iterable[float]] = ..., bucket_counts: _Optional[_Iterable[int]] = ..., latency_sum_ms: _Optional[float] = ..., p50_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ...) -> None: ...

class ServerStats(_message.Message):
    __slots__ = ("uptime_s", "model", "reloads", "methods", "feature_cache_entries", "feature_cache_hits", "feature_cache_misses", "prometheus_text")
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RELOADS_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_CACHE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_CACHE_HITS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_CACHE_MISSES_FIELD_NUMBER: _ClassVar[int]
    PROMETHEUS_TEXT_FIELD_NUMBER: _ClassVar[int]
    uptime_s: float
    model: _forecast_pb2.ModelStamp
    reloads: int
    methods: _containers.RepeatedCompositeFieldContainer[MethodStats]
    feature_cache_entries: int
    feature_cache_hits: int
    feature_cache_misses: int
    prometheus_text: str
    def __init__(self, uptime_s: _Optional[float] = ..., model: _Optional[_Union[_forecast_pb2.ModelStamp, _Mapping]] = ..., reloads: _Optional[int] = ..., methods: _Optional[_Iterable[_Union[MethodStats, _Mapping]]] = ..., feature_cache_entries: _Optional[int] = ..., feature_cache_hits: _Optional[int] = ..., feature_cache_misses: _Optional[int] = ..., prometheus_text: _Optional[str] = ...) -> None: ...
