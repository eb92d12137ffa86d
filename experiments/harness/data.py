"""The dataset a run trains on: its records, where they came from, and the held-out slice.

Records are the three on-disk formats of `experiments.lab.datasets.records`;
the held-out slice depends only on the data and the heldout seed, so every
recipe tried on one dataset is scored on the same slice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.harness.config import HeldoutConfig
from experiments.lab.datasets.records import Example, content_hash, record_format
from experiments.lab.datasets.seeding import derive_seed
from surrogate.runs import DatasetRef

CUSTOM_FAMILY = "custom"
MIXED_FORMAT = "mixed"
PARAM_KEY_SEPARATOR = "."


@dataclass(frozen=True)
class TrainingData:
    """Records plus their provenance (family, params, seed) for the run record."""

    records: tuple[Mapping[str, Any], ...]
    family: str = CUSTOM_FAMILY
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    @classmethod
    def from_examples(cls, examples: Sequence[Example | Mapping[str, Any]], family: str = CUSTOM_FAMILY,
                      params: Mapping[str, Any] | None = None, seed: int = 0) -> "TrainingData":
        """Accept family `Example`s or bare records; validates every record's format."""
        records = tuple(e.record if isinstance(e, Example) else e for e in examples)
        if not records:
            raise ValueError("dataset: no examples; a fine-tune needs at least two (one trained, one held out)")
        for i, record in enumerate(records, start=1):
            record_format(record, where=f"dataset example {i}")
        return cls(records=records, family=family, params=dict(params or {}), seed=seed)

    def content_hash(self) -> str:
        return content_hash(self.records)

    def format(self) -> str:
        formats = {record_format(r) for r in self.records}
        return formats.pop() if len(formats) == 1 else MIXED_FORMAT

    def ref(self) -> DatasetRef:
        return DatasetRef(
            family=self.family,
            params=flatten_params(self.params),
            seed=self.seed,
            content_hash=self.content_hash(),
            n_examples=len(self.records),
            format=self.format(),
        )


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys and tuples lists: the flat JSON a DatasetRef holds."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, prefix=name + PARAM_KEY_SEPARATOR))
        elif isinstance(value, tuple | list):
            flat[name] = list(value)
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class DataSplit:
    """Indices into TrainingData.records: what is trained on and what is held out."""

    train: tuple[int, ...]
    heldout: tuple[int, ...]


def heldout_count(n_examples: int, config: HeldoutConfig) -> int:
    """share * n clamped to [min_count, max_count]; at least one example must remain to train on."""
    wanted = min(max(math.floor(config.share * n_examples + 0.5), config.min_count), config.max_count)
    if n_examples - wanted < 1:
        raise ValueError(
            f"dataset has {n_examples} examples but heldout needs {wanted} "
            f"(heldout.min_count={config.min_count}); give more examples or lower heldout.min_count"
        )
    return wanted


def split_heldout(data: TrainingData, config: HeldoutConfig) -> DataSplit:
    """A seeded shuffle of the indices; the first `heldout_count` are held out."""
    n = len(data.records)
    k = heldout_count(n, config)
    order = list(range(n))
    random.Random(derive_seed(config.seed, "heldout", data.content_hash())).shuffle(order)
    return DataSplit(train=tuple(sorted(order[k:])), heldout=tuple(sorted(order[:k])))
