"""Dense batches: a FeatureMatrix request in, a ForecastMatrix reply out.

For data teams scoring thousands of feature vectors, per-candidate messages cost
more than the forecast itself: the names repeat in every candidate (decoding them
is ~24 us a row) and every (outcome, checkpoint) becomes a message (~10 us a row to
encode, more to parse on the client). A matrix names its columns once and carries
the numbers as packed doubles, so decoding is one buffer view plus a column
scatter, and the reply is a handful of packed arrays written straight from the
forecast's arrays. Validation is as strict as for FeatureVector: every bad field is
named, values must be finite, and missing cells are listed, never implied by NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

from server.config import RequestLimits
from server.errors import invalid
from server.forecasting import CandidateRows
from server.generated.tunecast.v1 import candidate_pb2, forecast_pb2
from server.model_holder import ServingModel
from server.validation import (
    check_candidate_id,
    check_featurizer_version,
    unknown_feature,
)
from server.wire import LEN, LITTLE_F8, field_number, ood_bodies, varint
from surrogate.model import Forecast

FIELD = "matrix"


def matrix_rows(
    matrix: candidate_pb2.FeatureMatrix, snapshot: ServingModel, limits: RequestLimits, max_rows: int, hint: str = ""
) -> CandidateRows:
    """Model rows of a FeatureMatrix (missing cells NaN); the first fault, in field order, names the error."""
    check_featurizer_version(matrix.featurizer_version, snapshot, f"{FIELD}.featurizer_version")
    names = matrix.names
    width = len(names)
    if width == 0:
        raise invalid(f"{FIELD}.names", "is empty: name the matrix's columns")
    index = snapshot.feature_index
    cols = np.empty(width, dtype=np.intp)
    seen: dict[int, int] = {}
    for j, name in enumerate(names):
        col = index.get(name)
        if col is None:
            raise invalid(f"{FIELD}.names[{j}]", f"{name[:limits.max_name_chars]!r}: {unknown_feature(name, snapshot)}")
        if col in seen:
            raise invalid(f"{FIELD}.names[{j}]", f"{name[:limits.max_name_chars]!r} repeats names[{seen[col]}]")
        seen[col] = j
        cols[j] = col
    n_values = len(matrix.values)
    if n_values == 0:
        raise invalid(f"{FIELD}.values", "is empty: send at least one row")
    if n_values % width:
        raise invalid(f"{FIELD}.values", f"holds {n_values} values, not a whole number of rows of {width} names")
    n_rows = n_values // width
    if n_rows > max_rows:
        raise invalid(f"{FIELD}.values", f"holds {n_rows} rows; the limit is {max_rows}{hint}")
    values = np.array(matrix.values, dtype=np.float64).reshape(n_rows, width)  # a copy: missing cells become NaN
    bad = ~np.isfinite(values)
    if len(matrix.missing):
        missing = np.asarray(matrix.missing, dtype=np.uint64)
        beyond = np.flatnonzero(missing >= n_values)
        if beyond.size:
            i = int(beyond[0])
            raise invalid(f"{FIELD}.missing[{i}]", f"is {int(missing[i])}; positions run from 0 to {n_values - 1}")
        mask = _missing_mask(missing, values.shape)
        bad &= ~mask
        values[mask] = np.nan
    if bad.any():
        flat = int(np.flatnonzero(bad.reshape(-1))[0])
        row, j = divmod(flat, width)
        value = float(matrix.values[flat])
        raise invalid(
            f"{FIELD}.values[{flat}]",
            f"(row {row}, {names[j][:limits.max_name_chars]!r}) is {value}; values must be finite "
            "(list a cell in missing to leave it out)",
        )
    ids = _row_ids(matrix.candidate_ids, n_rows, limits)
    rows = np.full((n_rows, len(index)), np.nan, dtype=np.float64)
    rows[:, cols] = values
    return CandidateRows(ids, rows, {}, np.zeros(n_rows, dtype=bool), np.zeros(n_rows, dtype=bool))


def _missing_mask(missing: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape[0] * shape[1], dtype=bool)
    mask[missing.astype(np.intp)] = True
    return mask.reshape(shape)


def _row_ids(candidate_ids: Sequence[str], n_rows: int, limits: RequestLimits) -> list[str]:
    if len(candidate_ids) == 0:
        return [""] * n_rows
    if len(candidate_ids) != n_rows:
        raise invalid(
            f"{FIELD}.candidate_ids", f"holds {len(candidate_ids)} labels for {n_rows} rows; send one per row or none"
        )
    return [check_candidate_id(c, f"{FIELD}.candidate_ids[{i}]", limits) for i, c in enumerate(candidate_ids)]


def _packed(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | LEN) + varint(len(payload)) + payload if payload else b""


def _number(name: str, kind: int) -> int:
    return field_number(forecast_pb2.ForecastMatrix.DESCRIPTOR, name, kind, repeated=True)


def encode_forecast_matrix(
    forecast: Forecast, snapshot: ServingModel, columns: np.ndarray, ids: Sequence[str], offset: int = 0
) -> bytes:
    """Serialized ForecastMatrix of ``forecast``'s rows (request rows ``offset`` onwards),
    restricted to the target ``columns``: the packed arrays are written from numpy directly."""
    F = FieldDescriptor
    n_rows = forecast.point.shape[0]
    ood = forecast.ood
    flagged = ood.flagged  # a property computed on each access
    flagged_rows = np.flatnonzero(flagged)
    head = forecast_pb2.ForecastMatrix(
        target_outcomes=[snapshot.targets[j][0] for j in columns.tolist()],
        target_checkpoints=[snapshot.targets[j][1] for j in columns.tolist()],
        row_offset=offset,
        rows=n_rows,
        candidate_ids=ids[offset:offset + n_rows] if any(ids) else [],
        ood_rows=(flagged_rows + offset).tolist(),
    ).SerializeToString()
    ood_key = varint(_number("ood", F.TYPE_MESSAGE) << 3 | LEN)
    details = b"".join(ood_key + varint(len(body)) + body for body in ood_bodies(ood, flagged_rows))

    def doubles(array: np.ndarray) -> bytes:
        return np.ascontiguousarray(array, dtype=LITTLE_F8).tobytes()

    def bools(array: np.ndarray) -> bytes:
        return np.ascontiguousarray(array, dtype=np.uint8).tobytes()

    distance = np.where(np.isfinite(ood.distance), ood.distance, 0.0)
    return b"".join((
        head,
        details,
        _packed(_number("point", F.TYPE_DOUBLE), doubles(forecast.point[:, columns])),
        _packed(_number("lower", F.TYPE_DOUBLE), doubles(forecast.lower[:, :, columns])),
        _packed(_number("upper", F.TYPE_DOUBLE), doubles(forecast.upper[:, :, columns])),
        _packed(_number("observed", F.TYPE_BOOL), bools(forecast.observed)),
        _packed(_number("ood_flagged", F.TYPE_BOOL), bools(flagged)),
        _packed(_number("ood_distance", F.TYPE_DOUBLE), doubles(distance)),
    ))
