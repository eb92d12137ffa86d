from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Candidate(_message.Message):
    __slots__ = ("id", "features", "spec")
    ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    id: str
    features: FeatureVector
    spec: FineTuneSpec
    def __init__(self, id: _Optional[str] = ..., features: _Optional[_Union[FeatureVector, _Mapping]] = ..., spec: _Optional[_Union[FineTuneSpec, _Mapping]] = ...) -> None: ...

class FeatureVector(_message.Message):
    __slots__ = ("named", "names", "values", "featurizer_version")
    class NamedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAMED_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    FEATURIZER_VERSION_FIELD_NUMBER: _ClassVar[int]
    named: _containers.ScalarMap[str, float]
    names: _containers.RepeatedScalarFieldContainer[str]
    values: _containers.RepeatedScalarFieldContainer[float]
    featurizer_version: str
    def __init__(self, named: _Optional[_Mapping[str, float]] = ..., names: _Optional[_Iterable[str]] = ..., values: _Optional[_Iterable[float]] = ..., featurizer_version: _Optional[str] = ...) -> None: ...

class FeatureMatrix(_message.Message):
    __slots__ = ("names", "values", "missing", "candidate_ids", "featurizer_version")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_IDS_FIELD_NUMBER: _ClassVar[int]
    FEATURIZER_VERSION_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    values: _containers.RepeatedScalarFieldContainer[float]
    missing: _containers.RepeatedScalarFieldContainer[int]
    candidate_ids: _containers.RepeatedScalarFieldContainer[str]
    featurizer_version: str
    def __init__(self, names: _Optional[_Iterable[str]] = ..., values: _Optional[_Iterable[float]] = ..., missing: _Optional[_Iterable[int]] = ..., candidate_ids: _Optional[_Iterable[str]] = ..., featurizer_version: _Optional[str] = ...) -> None: ...

class FineTuneSpec(_message.Message):
    __slots__ = ("base_model", "recipe", "dataset", "observations")
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    RECIPE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    base_model: str
    recipe: Recipe
    dataset: Dataset
    observations: EarlyObservations
    def __init__(self, base_model: _Optional[str] = ..., recipe: _Optional[_Union[Recipe, _Mapping]] = ..., dataset: _Optional[_Union[Dataset, _Mapping]] = ..., observations: _Optional[_Union[EarlyObservations, _Mapping]] = ...) -> None: ...

class Recipe(_message.Message):
    __slots__ = ("method", "lora_rank", "lora_alpha", "lora_dropout", "target_modules", "learning_rate", "lr_schedule", "warmup_steps", "batch_size", "steps", "epochs", "max_seq_len", "seed", "optimizer")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LORA_RANK_FIELD_NUMBER: _ClassVar[int]
    LORA_ALPHA_FIELD_NUMBER: _ClassVar[int]
    LORA_DROPOUT_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LR_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEQ_LEN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    method: str
    lora_rank: int
    lora_alpha: float
    lora_dropout: float
    target_modules: _containers.RepeatedScalarFieldContainer[str]
    learning_rate: float
    lr_schedule: str
    warmup_steps: int
    batch_size: int
    steps: int
    epochs: float
    max_seq_len: int
    seed: int
    optimizer: str
    def __init__(self, method: _Optional[str] = ..., lora_rank: _Optional[int] = ..., lora_alpha: _Optional[float] = ..., lora_dropout: _Optional[float] = ..., target_modules: _Optional[_Iterable[str]] = ..., learning_rate: _Optional[float] = ..., lr_schedule: _Optional[str] = ..., warmup_steps: _Optional[int] = ..., batch_size: _Optional[int] = ..., steps: _Optional[int] = ..., epochs: _Optional[float] = ..., max_seq_len: _Optional[int] = ..., seed: _Optional[int] = ..., optimizer: _Optional[str] = ...) -> None: ...

class LossPoint(_message.Message):
    __slots__ = ("step", "loss")
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    step: int
    loss: float
    def __init__(self, step: _Optional[int] = ..., loss: _Optional[float] = ...) -> None: ...

class EarlyObservations(_message.Message):
    __slots__ = ("step", "loss_curve", "probe_deltas")
    class ProbeDeltasEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_CURVE_FIELD_NUMBER: _ClassVar[int]
    PROBE_DELTAS_FIELD_NUMBER: _ClassVar[int]
    step: int
    loss_curve: _containers.RepeatedCompositeFieldContainer[LossPoint]
    probe_deltas: _containers.ScalarMap[str, float]
    def __init__(self, step: _Optional[int] = ..., loss_curve: _Optional[_Iterable[_Union[LossPoint, _Mapping]]] = ..., probe_deltas: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("path", "inline")
    PATH_FIELD_NUMBER: _ClassVar[int]
    INLINE_FIELD_NUMBER: _ClassVar[int]
    path: str
    inline: InlineDataset
    def __init__(self, path: _Optional[str] = ..., inline: _Optional[_Union[InlineDataset, _Mapping]] = ...) -> None: ...

class InlineDataset(_message.Message):
    __slots__ = ("examples",)
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    examples: _containers.RepeatedCompositeFieldContainer[Example]
    def __init__(self, examples: _Optional[_Iterable[_Union[Example, _Mapping]]] = ...) -> None: ...

class Example(_message.Message):
    __slots__ = ("text", "prompt", "response", "messages")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    text: str
    prompt: str
    response: str
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, text: _Optional[str] = ..., prompt: _Optional[str] = ..., response: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...
