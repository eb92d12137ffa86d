"""Forecast arrays -> reply protos (server side), and the model-info and stats replies.

Forecast replies are encoded to wire bytes with numpy (``server.wire``) and parsed
once (``forecast_reply``); ``candidate_forecasts`` builds the same messages through
the message API, the reference the wire encoding is tested against.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from google.protobuf import struct_pb2

from server.generated.tunecast.v1 import forecast_pb2, forecaster_pb2
from server.model_holder import ServingModel
from server.wire import encode_forecasts
from surrogate.model import Forecast

ReplyT = TypeVar("ReplyT", forecaster_pb2.ForecastResponse, forecaster_pb2.ForecastBatchResponse)

COVERAGE_KEY = "coverage"


def model_stamp(snapshot: ServingModel) -> forecast_pb2.ModelStamp:
    return forecast_pb2.ModelStamp(model_version=snapshot.version, featurizer_version=snapshot.featurizer_version)


def forecast_reply(
    reply_type: type[ReplyT],
    forecast: Forecast,
    snapshot: ServingModel,
    columns: np.ndarray,
    ids: Sequence[str],
    featurized: np.ndarray,
    cache_hit: np.ndarray,
    levels: Sequence[float],
    offset: int = 0,
) -> ReplyT:
    """A ForecastResponse or ForecastBatchResponse holding one CandidateForecast per row of
    ``forecast`` (candidates ``offset`` onwards), stamped with the model and levels; the
    caller sets ``server_latency_ms`` last."""
    targets = tuple(snapshot.targets[j] for j in columns.tolist())
    reply = reply_type.FromString(encode_forecasts(forecast, targets, columns, ids, featurized, cache_hit, offset))
    reply.model.CopyFrom(model_stamp(snapshot))
    reply.levels.extend(levels)
    return reply


def candidate_forecasts(
    forecast: Forecast,
    snapshot: ServingModel,
    columns: np.ndarray,
    ids: Sequence[str],
    featurized: np.ndarray,
    cache_hit: np.ndarray,
    offset: int = 0,
) -> list[forecast_pb2.CandidateForecast]:
    """One CandidateForecast per row of ``forecast``; rows are candidates ``offset`` onwards."""
    targets = [snapshot.targets[j] for j in columns]
    points = forecast.point[:, columns].tolist()
    lowers = np.transpose(forecast.lower[:, :, columns], (1, 2, 0)).tolist()
    uppers = np.transpose(forecast.upper[:, :, columns], (1, 2, 0)).tolist()
    ood = forecast.ood
    names = ood.feature_names
    flagged = ood.flagged.tolist()
    distance = ood.distance.tolist()
    distance_flagged = ood.distance_flagged.tolist()
    any_range = ood.out_of_range.any(axis=1).tolist()
    any_missing = ood.unseen_missing.any(axis=1).tolist()
    observed = forecast.observed.tolist()
    TargetForecast = forecast_pb2.TargetForecast
    out = []
    for r in range(forecast.point.shape[0]):
        row_targets = [
            TargetForecast(
                outcome=outcome, checkpoint=checkpoint, point=points[r][j], lower=lowers[r][j], upper=uppers[r][j]
            )
            for j, (outcome, checkpoint) in enumerate(targets)
        ]
        ood_pb = forecast_pb2.OutOfDistribution(
            flagged=flagged[r],
            out_of_range=[names[c] for c in np.flatnonzero(ood.out_of_range[r])] if any_range[r] else [],
            unexpectedly_missing=[names[c] for c in np.flatnonzero(ood.unseen_missing[r])] if any_missing[r] else [],
            distance=distance[r] if math.isfinite(distance[r]) else 0.0,
            distance_flagged=distance_flagged[r],
        )
        i = offset + r
        out.append(
            forecast_pb2.CandidateForecast(
                candidate_id=ids[i], index=i, targets=row_targets, ood=ood_pb, observed=observed[r],
                featurized=bool(featurized[i]), cache_hit=bool(cache_hit[i]),
            )
        )
    return out


def _numeric_leaves(value: Any, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _numeric_leaves(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _numeric_leaves(child, f"{path}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, float(value)


def coverage_metrics(metrics: Mapping[str, Any] | None) -> list[forecaster_pb2.Metric]:
    """Every number in metrics.json whose path mentions coverage, flattened by dotted path."""
    if not metrics:
        return []
    return [
        forecaster_pb2.Metric(name=path, value=value)
        for path, value in _numeric_leaves(metrics, "")
        if COVERAGE_KEY in path.lower()
    ]


def model_info(snapshot: ServingModel) -> forecaster_pb2.ModelInfo:
    metrics = struct_pb2.Struct()
    if snapshot.metrics:
        metrics.update(dict(snapshot.metrics))
    corpus = forecaster_pb2.CorpusSummary(
        corpus_hash=snapshot.meta.corpus_hash,
        targets=[
            forecaster_pb2.TargetRows(outcome=o, checkpoint=c, train_rows=n, calibration_rows=k)
            for (o, c), n, k in zip(snapshot.targets, snapshot.train_rows, snapshot.calibration_rows)
        ],
    )
    return forecaster_pb2.ModelInfo(
        model=model_stamp(snapshot),
        schema_fingerprint=snapshot.meta.schema_fingerprint,
        feature_names=list(snapshot.schema.feature_names),
        observation_features=sorted(snapshot.observation_features),
        outcomes=list(snapshot.outcomes),
        checkpoints=list(snapshot.checkpoints),
        default_levels=list(snapshot.default_levels),
        corpus=corpus,
        metrics=metrics,
        coverage=coverage_metrics(snapshot.metrics),
        created_at=snapshot.meta.created_at.isoformat(),
        loaded_at=snapshot.loaded_at.isoformat(),
    )
