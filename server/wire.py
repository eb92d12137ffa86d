"""Forecast replies encoded straight to protobuf wire bytes, then parsed once by upb.

Building a reply through the message API costs a Python call per target of every
candidate (40,000 for a batch of 1,000, about 150 ms); here the targets part of every
CandidateForecast has a fixed layout per (targets, number of levels), so it is one
numpy byte template per call with the doubles scattered in, and only the few
per-candidate fields (id, index, OOD findings, flags) are assembled in Python. The
bytes are the ``forecast``/``forecasts`` field (number 1) of ``ForecastResponse`` and
``ForecastBatchResponse`` alike; ``FromString`` turns them into the reply message, so
the servicer still returns ordinary messages. Field numbers and types are read from
the generated descriptors and checked, so a changed .proto fails loudly here rather
than producing wrong bytes; ``tests/server/test_server_wire.py`` checks that the parsed
replies equal those built with the message API (``convert.candidate_forecasts``).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from server.generated.tunecast.v1 import forecast_pb2, forecaster_pb2
from surrogate.model import Forecast, OODReport

_VARINT, _I64, LEN = 0, 1, 2
_SMALL_VARINTS: Final[tuple[bytes, ...]] = tuple(bytes([n]) for n in range(0x80))
LITTLE_F8: Final[np.dtype] = np.dtype("<f8")


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    if n < 0x80:
        return _SMALL_VARINTS[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_number(message: Descriptor, name: str, kind: int, repeated: bool = False) -> int:
    """The field's number, after checking it still has the type this encoder writes."""
    field = message.fields_by_name[name]
    if field.type != kind or field.is_repeated != repeated:
        raise TypeError(f"{message.full_name}.{name} changed type in the .proto; update server/wire.py")
    return field.number


def _key(message: Descriptor, name: str, kind: int, wire_type: int, repeated: bool = False) -> bytes:
    return varint(field_number(message, name, kind, repeated) << 3 | wire_type)


@dataclass(frozen=True)
class _Keys:
    """Field keys (number << 3 | wire type) of every field written, from the descriptors."""

    reply_forecast: bytes
    outcome: bytes
    checkpoint: bytes
    point: bytes
    lower: bytes
    upper: bytes
    candidate_id: bytes
    index: bytes
    targets: bytes
    ood: bytes
    observed: bytes
    featurized: bytes
    cache_hit: bytes
    flagged: bytes
    out_of_range: bytes
    unexpectedly_missing: bytes
    distance: bytes
    distance_flagged: bytes


@functools.cache
def _keys() -> _Keys:
    F = FieldDescriptor
    target = forecast_pb2.TargetForecast.DESCRIPTOR
    candidate = forecast_pb2.CandidateForecast.DESCRIPTOR
    ood = forecast_pb2.OutOfDistribution.DESCRIPTOR
    single = field_number(forecaster_pb2.ForecastResponse.DESCRIPTOR, "forecast", F.TYPE_MESSAGE)
    batch = field_number(forecaster_pb2.ForecastBatchResponse.DESCRIPTOR, "forecasts", F.TYPE_MESSAGE, repeated=True)
    if single != batch:
        raise TypeError("ForecastResponse.forecast and ForecastBatchResponse.forecasts must share a number")
    return _Keys(
        reply_forecast=varint(single << 3 | LEN),
        outcome=_key(target, "outcome", F.TYPE_STRING, LEN),
        checkpoint=_key(target, "checkpoint", F.TYPE_DOUBLE, _I64),
        point=_key(target, "point", F.TYPE_DOUBLE, _I64),
        lower=_key(target, "lower", F.TYPE_DOUBLE, LEN, repeated=True),
        upper=_key(target, "upper", F.TYPE_DOUBLE, LEN, repeated=True),
        candidate_id=_key(candidate, "candidate_id", F.TYPE_STRING, LEN),
        index=_key(candidate, "index", F.TYPE_INT32, _VARINT),
        targets=_key(candidate, "targets", F.TYPE_MESSAGE, LEN, repeated=True),
        ood=_key(candidate, "ood", F.TYPE_MESSAGE, LEN),
        observed=_key(candidate, "observed", F.TYPE_BOOL, _VARINT),
        featurized=_key(candidate, "featurized", F.TYPE_BOOL, _VARINT),
        cache_hit=_key(candidate, "cache_hit", F.TYPE_BOOL, _VARINT),
        flagged=_key(ood, "flagged", F.TYPE_BOOL, _VARINT),
        out_of_range=_key(ood, "out_of_range", F.TYPE_STRING, LEN, repeated=True),
        unexpectedly_missing=_key(ood, "unexpectedly_missing", F.TYPE_STRING, LEN, repeated=True),
        distance=_key(ood, "distance", F.TYPE_DOUBLE, _I64),
        distance_flagged=_key(ood, "distance_flagged", F.TYPE_BOOL, _VARINT),
    )


@dataclass(frozen=True)
class TargetTemplate:
    """The ``targets`` entries of one CandidateForecast with every double zero, and the
    byte positions of the doubles: per target its point, then lower and upper per level."""

    template: np.ndarray
    positions: np.ndarray

    @property
    def width(self) -> int:
        return int(self.template.size)


@functools.lru_cache(maxsize=32)
def target_template(targets: tuple[tuple[str, float], ...], n_levels: int) -> TargetTemplate:
    """Template for these (outcome, checkpoint) targets and this many levels (cached: a
    model serves a handful of target subsets)."""
    k = _keys()
    parts: list[bytes] = []
    positions: list[int] = []
    at = 0
    packed = varint(8 * n_levels)
    for outcome, checkpoint in targets:
        name = outcome.encode()
        head = k.outcome + varint(len(name)) + name + k.checkpoint + struct.pack("<d", checkpoint)
        body_doubles = [k.point, b"\0" * 8]
        if n_levels:
            body_doubles += [k.lower, packed, b"\0" * (8 * n_levels), k.upper, packed, b"\0" * (8 * n_levels)]
        body = head + b"".join(body_doubles)
        entry = k.targets + varint(len(body)) + body
        start = at + len(entry) - len(body) + len(head)
        point_at = start + len(k.point)
        slots = [point_at]
        if n_levels:
            lower_at = point_at + 8 + len(k.lower) + len(packed)
            upper_at = lower_at + 8 * n_levels + len(k.upper) + len(packed)
            slots += [lower_at + 8 * i for i in range(n_levels)] + [upper_at + 8 * i for i in range(n_levels)]
        positions += [s + b for s in slots for b in range(8)]
        parts.append(entry)
        at += len(entry)
    template = np.frombuffer(b"".join(parts), dtype=np.uint8).copy()
    template.setflags(write=False)
    index = np.asarray(positions, dtype=np.intp)
    index.setflags(write=False)
    return TargetTemplate(template=template, positions=index)


@functools.cache
def _flag_tails() -> tuple[bytes, ...]:
    """The (observed, featurized, cache_hit) tail of a CandidateForecast, by 3-bit code."""
    k = _keys()
    return tuple(
        (k.observed + b"\x01" if code & 1 else b"")
        + (k.featurized + b"\x01" if code & 2 else b"")
        + (k.cache_hit + b"\x01" if code & 4 else b"")
        for code in range(8)
    )


@functools.lru_cache(maxsize=8)
def _name_entries(feature_names: tuple[str, ...]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Each feature name as an ``out_of_range`` and as an ``unexpectedly_missing`` entry."""
    k = _keys()
    encoded = [name.encode() for name in feature_names]
    return (
        tuple(k.out_of_range + varint(len(e)) + e for e in encoded),
        tuple(k.unexpectedly_missing + varint(len(e)) + e for e in encoded),
    )


def _names_by_row(flags: np.ndarray, entries: tuple[bytes, ...]) -> list[bytes]:
    """Per row, the entries of the features flagged in it, in feature order."""
    rows, cols = np.nonzero(flags)
    ends = np.searchsorted(rows, np.arange(1, flags.shape[0] + 1)).tolist()
    cols_list = cols.tolist()
    pick = entries.__getitem__
    out, start = [], 0
    for end in ends:
        out.append(b"".join(map(pick, cols_list[start:end])) if end > start else b"")
        start = end
    return out


def ood_bodies(ood: OODReport, rows: Sequence[int] | None = None) -> list[bytes]:
    """Serialized OutOfDistribution of each row (all, or ``rows``): the flag and the names
    at fault only when flagged, the distance when finite and non-zero (proto3 drops zeros)."""
    k = _keys()
    picked = slice(None) if rows is None else np.asarray(rows, dtype=np.intp)  # all rows: views, no copies
    distance = ood.distance[picked]
    finite = np.isfinite(distance)
    distance_bytes = memoryview(np.where(finite, distance, 0.0).astype(LITTLE_F8).tobytes())
    has_distance = (finite & (distance != 0.0)).tolist()
    flagged = ood.flagged[picked].tolist()
    distance_flagged = ood.distance_flagged[picked].tolist()
    range_entries, missing_entries = _name_entries(tuple(ood.feature_names))
    out_of_range = _names_by_row(ood.out_of_range[picked], range_entries)
    unexpectedly_missing = _names_by_row(ood.unseen_missing[picked], missing_entries)
    flag_on, distance_key, distance_flag_on = k.flagged + b"\x01", k.distance, k.distance_flagged + b"\x01"
    out = []
    for r in range(len(flagged)):
        body = [flag_on, out_of_range[r], unexpectedly_missing[r]] if flagged[r] else []
        if has_distance[r]:
            body += [distance_key, distance_bytes[8 * r : 8 * r + 8]]
        if distance_flagged[r]:
            body.append(distance_flag_on)
        out.append(b"".join(body))
    return out


def encode_forecasts(
    forecast: Forecast,
    targets: tuple[tuple[str, float], ...],
    columns: np.ndarray,
    ids: Sequence[str],
    featurized: np.ndarray,
    cache_hit: np.ndarray,
    offset: int = 0,
) -> bytes:
    """Field-1 entries (one CandidateForecast per row of ``forecast``, rows being
    candidates ``offset`` onwards) of a ForecastResponse or ForecastBatchResponse."""
    k = _keys()
    tails = _flag_tails()
    n_rows, n_levels = forecast.point.shape[0], len(forecast.levels)
    layout = target_template(targets, n_levels)
    values = np.concatenate(
        [
            forecast.point[:, columns, None],
            np.transpose(forecast.lower[:, :, columns], (1, 2, 0)),
            np.transpose(forecast.upper[:, :, columns], (1, 2, 0)),
        ],
        axis=2,
    )
    block = np.empty((n_rows, layout.width), dtype=np.uint8)
    block[:] = layout.template
    block[:, layout.positions] = np.ascontiguousarray(values, dtype=LITTLE_F8).reshape(n_rows, -1).view(np.uint8)
    width = layout.width
    target_bytes = memoryview(block.reshape(-1))
    ood_body = ood_bodies(forecast.ood)
    codes = (forecast.observed.astype(np.intp) + 2 * featurized[offset : offset + n_rows].astype(np.intp)
             + 4 * cache_hit[offset : offset + n_rows].astype(np.intp)).tolist()
    parts: list[bytes | memoryview] = []
    append = parts.append
    for r in range(n_rows):
        i = offset + r
        name = ids[i].encode()
        head = (k.candidate_id + varint(len(name)) + name if name else b"") + (k.index + varint(i) if i else b"")
        tail = k.ood + varint(len(ood_body[r])) + ood_body[r] + tails[codes[r]]
        append(k.reply_forecast)
        append(varint(len(head) + width + len(tail)))
        append(head)
        append(target_bytes[width * r : width * (r + 1)])
        append(tail)
    return b"".join(parts)
