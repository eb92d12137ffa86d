"""The run corpus: run records and the append-only Parquet store that holds them.

No torch here or below: the serving and fitting paths import this package.
"""

from surrogate.runs.lock import StoreLockTimeout
from surrogate.runs.outcomes import CORE_OUTCOMES, delta_column
from surrogate.runs.record import (
    RUN_RECORD_SCHEMA_VERSION,
    BaseModelRef,
    Checkpoint,
    DatasetRef,
    LossPoint,
    Recipe,
    RunRecord,
    Timing,
    make_checkpoints,
)
from surrogate.runs.stats import corpus_stats
from surrogate.runs.store import DuplicateRunError, RunStore, RunStoreConfig, RunStoreError
from surrogate.runs.table import disk_schema, flat_schema

__all__ = [
    "CORE_OUTCOMES",
    "RUN_RECORD_SCHEMA_VERSION",
    "BaseModelRef",
    "Checkpoint",
    "DatasetRef",
    "DuplicateRunError",
    "LossPoint",
    "Recipe",
    "RunRecord",
    "RunStore",
    "RunStoreConfig",
    "RunStoreError",
    "StoreLockTimeout",
    "Timing",
    "corpus_stats",
    "delta_column",
    "disk_schema",
    "flat_schema",
    "make_checkpoints",
]
