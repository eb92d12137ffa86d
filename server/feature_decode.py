"""Feature vectors of many candidates -> model rows in one compiled call, when it is loaded.

``load`` (run by the server's background warm-up, never at import) imports
``server.feature_kernels`` (numba); until it has, and in any process without numba,
``decode`` returns None and ``forecasting.candidate_rows`` reads every vector through
the message API (``validation.feature_row``). Decoded rows equal those of
``feature_row``; candidates the decoder does not accept go through ``feature_row``,
which raises the precise error.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Final

import numpy as np

logger = logging.getLogger(__name__)

_FNV_OFFSET: Final[int] = 0xCBF29CE484222325
_FNV_PRIME: Final[int] = 0x100000001B3
_MASK64: Final[int] = (1 << 64) - 1
_TABLE_LOAD: Final[int] = 4
"""Hash-table slots per feature name (a power of two at least this many times as large)."""


class _Loaded:
    """The kernels module once ``load`` has imported it (one reference, read per request)."""

    kernels: ModuleType | None = None
    lock = threading.Lock()


def fnv1a(data: bytes) -> int:
    """64-bit FNV-1a, as ``feature_kernels.fnv1a``."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK64
    return h


@dataclass(frozen=True)
class NameTable:
    """Feature names as UTF-8 bytes (name ``c`` is ``names[name_start[c]:name_start[c + 1]]``)
    and an open-addressing hash table of their columns (-1: empty slot)."""

    names: np.ndarray
    name_start: np.ndarray
    table: np.ndarray


@functools.lru_cache(maxsize=8)
def name_table(feature_names: tuple[str, ...]) -> NameTable:
    """The table of a model's schema (cached: a server holds one or two models)."""
    encoded = [name.encode() for name in feature_names]
    size = 1
    while size < _TABLE_LOAD * max(len(encoded), 1):
        size *= 2
    table = np.full(size, -1, dtype=np.int32)
    for col, name in enumerate(encoded):
        slot = fnv1a(name) & (size - 1)
        while table[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        table[slot] = col
    names = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.empty(0, dtype=np.uint8)
    name_start = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64)
    return NameTable(names=names, name_start=name_start, table=table)


def load() -> bool:
    """Import (and load or compile) the decoder; False when numba is not installed."""
    with _Loaded.lock:
        if _Loaded.kernels is not None:
            return True
        try:
            from server import feature_kernels
        except ImportError as exc:
            logger.info("compiled feature decoding unavailable (%s): vectors are read through protobuf", exc)
            return False
        probe = name_table(("a",))
        rows = np.full((1, 1), np.nan)
        ok = np.zeros(1, dtype=np.bool_)
        entry = b"\x0a\x01a\x11" + np.float64(1.5).tobytes()
        buf = np.frombuffer(b"\x0a" + bytes([len(entry)]) + entry, dtype=np.uint8)
        feature_kernels.decode_rows(buf, np.array([0, buf.size], dtype=np.int64), probe.names, probe.name_start,
                                    probe.table, rows, ok)
        if not (ok[0] and rows[0, 0] == 1.5):
            logger.error("compiled feature decoding failed its probe; vectors are read through protobuf")
            return False
        _Loaded.kernels = feature_kernels
        return True


def ready() -> bool:
    """Whether ``load`` has installed the decoder."""
    return _Loaded.kernels is not None


def decode(blobs: Sequence[bytes], feature_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, accepted) for serialized FeatureVectors, or None before ``load``: rows of
    accepted vectors are final, the others must go through ``validation.feature_row``."""
    kernels = _Loaded.kernels
    if kernels is None:
        return None
    table = name_table(feature_names)
    buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    starts = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=starts[1:])
    rows = np.full((len(blobs), len(feature_names)), np.nan, dtype=np.float64)
    accepted = np.zeros(len(blobs), dtype=np.bool_)
    kernels.decode_rows(buf, starts, table.names, table.name_start, table.table, rows, accepted)
    return rows, accepted
