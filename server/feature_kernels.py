"""Compiled (numba) decoder of serialized ``FeatureVector`` messages into model rows.

Imported only by ``server.feature_decode.load`` (on the server's background warm-up
thread), never at package import: importing numba costs about a whole start-up.

Reading a protobuf map from Python costs a hash lookup and two objects per entry
(about 40 ms for 1,000 candidates of 175 features); here every candidate's features
are decoded from their wire bytes in one call. Only the happy path is decoded: any
candidate with something unusual (unknown or non-finite feature, both ``named`` and
``names``/``values``, mismatched or empty lists, a repeated name, an unknown field,
malformed bytes) is marked for the Python path, which raises the precise error or
builds the row itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, nogil=True)
def fnv1a(data: np.ndarray, start: int, end: int) -> np.uint64:
    """64-bit FNV-1a hash of ``data[start:end]`` (the feature-name table uses the same)."""
    h = _FNV_OFFSET
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * _FNV_PRIME
    return h


@njit(cache=True, nogil=True)
def _column(
    buf: np.ndarray, start: int, end: int, names: np.ndarray, name_start: np.ndarray, table: np.ndarray
) -> int:
    """Model column of the feature named by ``buf[start:end]``, or -1."""
    mask = np.int64(table.size - 1)
    slot = np.int64(fnv1a(buf, start, end) & np.uint64(mask))
    length = end - start
    while True:
        col = table[slot]
        if col < 0:
            return -1
        a, b = name_start[col], name_start[col + 1]
        if b - a == length:
            same = True
            for i in range(length):
                if names[a + i] != buf[start + i]:
                    same = False
                    break
            if same:
                return col
        slot = (slot + np.int64(1)) & mask


@njit(cache=True, nogil=True)
def _varint(buf: np.ndarray, pos: int, end: int) -> tuple[int, int]:
    """(value, next position); position -1 when malformed or past ``end``."""
    value = 0
    shift = 0
    while pos < end and shift < 64:
        byte = buf[pos]
        pos += 1
        value |= (int(byte) & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return 0, -1


@njit(cache=True, nogil=True)
def _double(buf: np.ndarray, pos: int, scratch: np.ndarray, as_double: np.ndarray) -> float:
    """The little-endian double at ``buf[pos:pos + 8]`` (through an 8-byte scratch array
    and its float64 view, allocated once per call: a view per value costs an allocation)."""
    for k in range(8):
        scratch[k] = buf[pos + k]
    return as_double[0]


@njit(cache=True, nogil=True)
def decode_rows(
    buf: np.ndarray,
    starts: np.ndarray,
    names: np.ndarray,
    name_start: np.ndarray,
    table: np.ndarray,
    rows: np.ndarray,
    ok: np.ndarray,
) -> None:
    """Fill ``rows[i]`` (pre-filled with NaN) from FeatureVector ``buf[starts[i]:starts[i+1]]``
    and set ``ok[i]``; a candidate left not ok must take the Python path."""
    n_features = rows.shape[1]
    cols = np.empty(n_features, dtype=np.int64)
    vals = np.empty(n_features, dtype=np.float64)
    seen = np.zeros(n_features, dtype=np.int64)
    scratch = np.empty(8, dtype=np.uint8)
    as_double = scratch.view(np.float64)
    for i in range(starts.size - 1):
        ok[i] = False
        pos, end = starts[i], starts[i + 1]
        n_named = 0
        n_names = 0
        n_values = 0
        good = True
        while pos < end and good:
            key, pos = _varint(buf, pos, end)
            if pos < 0:
                good = False
                break
            field, wire = key >> 3, key & 7
            if wire == 2:
                length, pos = _varint(buf, pos, end)
                if pos < 0 or pos + length > end:
                    good = False
                    break
                stop = pos + length
                if field == 1:  # a map entry: key = 1 (string), value = 2 (double)
                    k0 = -1
                    k1 = -1
                    value = 0.0
                    p = pos
                    while p < stop:
                        inner, p = _varint(buf, p, stop)
                        if p < 0:
                            break
                        if inner == 0x0A:
                            klen, p = _varint(buf, p, stop)
                            if p < 0 or p + klen > stop:
                                p = -1
                                break
                            k0, k1 = p, p + klen
                            p += klen
                        elif inner == 0x11 and p + 8 <= stop:
                            value = _double(buf, p, scratch, as_double)
                            p += 8
                        else:
                            p = -1
                            break
                    if p != stop or k0 < 0:
                        good = False
                        break
                    col = _column(buf, k0, k1, names, name_start, table)
                    if col < 0 or not np.isfinite(value):
                        good = False
                        break
                    rows[i, col] = value
                    n_named += 1
                elif field == 2:  # names
                    col = _column(buf, pos, stop, names, name_start, table)
                    if col < 0 or n_names >= n_features or seen[col] == i + 1:
                        good = False
                        break
                    seen[col] = i + 1
                    cols[n_names] = col
                    n_names += 1
                elif field == 3:  # packed values
                    if length % 8 != 0 or n_values + length // 8 > n_features:
                        good = False
                        break
                    for p in range(pos, stop, 8):
                        vals[n_values] = _double(buf, p, scratch, as_double)
                        n_values += 1
                elif field != 4:  # featurizer_version is checked by the caller
                    good = False
                    break
                pos = stop
            elif wire == 1 and field == 3 and pos + 8 <= end and n_values < n_features:  # an unpacked value
                vals[n_values] = _double(buf, pos, scratch, as_double)
                n_values += 1
                pos += 8
            else:
                good = False
        if not good or pos != end:
            continue
        if n_named > 0:
            ok[i] = n_names == 0 and n_values == 0
            continue
        if n_names == 0 or n_names != n_values:
            continue
        for j in range(n_values):
            if not np.isfinite(vals[j]):
                good = False
                break
        if not good:
            continue
        for j in range(n_names):
            rows[i, cols[j]] = vals[j]
        ok[i] = True
