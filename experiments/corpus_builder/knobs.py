"""Sampling a family's knobs from its pydantic params model, without a per-family table.

Families are being added as the lab grows; reading the knob types (rates in
[0, 1], Literal choices, booleans, small bounded ints) keeps the sampler in step
with them. Anything else keeps its default unless the space overrides it.
"""

from __future__ import annotations

import random
import typing
from collections.abc import Mapping
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo

from experiments.corpus_builder.space import FloatRange, IntRange, KnobSpec
from experiments.lab.datasets.registry import Family
from experiments.lab.datasets.seeding import make_rng

SIZE_FIELD = "size"
MAX_INT_CHOICES = 10
"""Bounded int knobs with at most this many values are sampled; wider ones (lengths) keep defaults."""


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, bool]:
    """(lower, upper, lower_is_strict) from the field's ge/gt/le/lt metadata."""
    low: float | None = None
    high: float | None = None
    strict = False
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            low, strict = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            high = float(item.lt)  # type: ignore[arg-type]
    return low, high, strict


def generic_knob(info: FieldInfo) -> KnobSpec | None:
    """How to sample a knob from its type alone, or None to keep its default."""
    annotation = info.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return KnobSpec(choices=list(typing.get_args(annotation)))
    if annotation is bool:
        return KnobSpec(choices=[False, True])
    low, high, strict = _bounds(info)
    if annotation is float and low is not None and high is not None and 0.0 <= low and high <= 1.0:
        step = 10.0 ** -3
        return KnobSpec(range=FloatRange(low=low + step if strict else low, high=high))
    if annotation is int and low is not None and high is not None and high - low < MAX_INT_CHOICES:
        return KnobSpec(choices=list(range(int(low) + int(strict), int(high) + 1)))
    return None


def size_range_for(family: Family, wanted: IntRange) -> IntRange:
    """The space's size range clipped to what the family accepts."""
    low, high, _ = _bounds(family.params_model.model_fields[SIZE_FIELD])
    lo = max(wanted.low, int(low)) if low is not None else wanted.low
    hi = min(wanted.high, int(high)) if high is not None else wanted.high
    if lo > hi:
        raise ValueError(f"family {family.name!r}: dataset_size {wanted.low}..{wanted.high} is outside its size bounds")
    return IntRange(low=lo, high=hi, log=wanted.log)


def sample_knobs(family: Family, size: int, seed: int, overrides: Mapping[str, KnobSpec]) -> dict[str, Any]:
    """Validated params (JSON form) for `family`; each knob draws from its own derived stream."""
    fields = family.params_model.model_fields
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"space.knobs[{family.name!r}] names {unknown}, which family {family.name!r} does not have; "
                         f"its knobs are {sorted(fields)}")
    raw: dict[str, Any] = {SIZE_FIELD: size}
    for name, info in fields.items():
        if name == SIZE_FIELD:
            continue
        spec = overrides.get(name) or generic_knob(info)
        if spec is not None:
            raw[name] = spec.sample(_knob_rng(seed, family.name, name))
    return family.parse_params(raw).model_dump(mode="json")


def _knob_rng(seed: int, family: str, knob: str) -> random.Random:
    return make_rng(seed, "knob", family, knob)
