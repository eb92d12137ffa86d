"""``tunecast.v1.Forecaster``: translates protos to and from the plain functions.

Each RPC takes one model snapshot at its start; a ServiceError from below
becomes ``context.abort(code, detail)``; anything unexpected is logged with
its traceback and answered INTERNAL without internals in the detail.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc

from server.convert import forecast_reply, model_info, model_stamp
from server.datasets import Record, record_excerpt
from server.deadline import Deadline
from server.dense_batch import encode_forecast_matrix, matrix_rows
from server.errors import ServiceError, invalid
from server.featurize import Influence
from server.forecasting import (
    ForecastEnv,
    batch_field,
    candidate_rows,
    explain,
    featurize_rows,
    predict,
    single_field,
    spec_job,
)
from server.generated.tunecast.v1 import (
    forecast_pb2,
    forecaster_pb2,
    forecaster_pb2_grpc,
)
from server.metrics import ServerMetrics
from server.model_holder import ModelHolder, ModelSource
from server.validation import check_levels, check_outcomes

logger = logging.getLogger(__name__)


def _elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1e3


def _excerpt(example: Influence, records: Sequence[Record], chars: int) -> str:
    """The featurizer's excerpt, else the start of the record itself."""
    if example.excerpt:
        return example.excerpt[:chars]
    if 0 <= example.index < len(records):
        return record_excerpt(records[example.index], chars)
    return ""


def _aborting(method: Callable) -> Callable:
    """Map ServiceError to its status and any other failure to INTERNAL."""

    @functools.wraps(method)
    def wrapper(self: ForecasterServicer, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except ServiceError as exc:
            context.abort(exc.code, exc.detail)
        except Exception:
            logger.exception("%s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"{method.__name__} failed inside the server; see its log")

    return wrapper


def _aborting_stream(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: ForecasterServicer, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from method(self, request, context)
        except ServiceError as exc:
            context.abort(exc.code, exc.detail)
        except Exception:
            logger.exception("%s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"{method.__name__} failed inside the server; see its log")

    return wrapper


class ForecasterServicer(forecaster_pb2_grpc.ForecasterServicer):
    """The Forecaster service over a model holder and a forecast environment."""

    def __init__(
        self, holder: ModelHolder, source: ModelSource | None, env: ForecastEnv, metrics: ServerMetrics
    ) -> None:
        self._holder = holder
        self._source = source
        self._env = env
        self._metrics = metrics

    # ------------------------------------------------------------ forecasts
    @_aborting
    def Forecast(self, request: forecaster_pb2.ForecastRequest, context: grpc.ServicerContext) -> forecaster_pb2.ForecastResponse:
        start = time.perf_counter()
        snapshot = self._holder.get()
        if not request.HasField("candidate"):
            raise invalid("candidate", "is required")
        levels = check_levels(request.levels, snapshot, self._env.limits)
        columns = check_outcomes(request.outcomes, snapshot)
        batch = candidate_rows([request.candidate], snapshot, self._env, single_field)
        featurize_rows(batch, range(1), snapshot, self._env, Deadline.from_context(context), single_field)
        forecast = predict(snapshot, batch.rows, levels)
        reply = forecast_reply(
            forecaster_pb2.ForecastResponse, forecast, snapshot, columns, batch.ids, batch.featurized,
            batch.cache_hit, levels,
        )
        reply.server_latency_ms = _elapsed_ms(start)
        return reply

    def _batch_setup(self, request: forecaster_pb2.ForecastBatchRequest, limit: int, hint: str) -> tuple[Any, ...]:
        snapshot = self._holder.get()
        n = len(request.candidates)
        dense = request.HasField("matrix")
        if dense and n:
            raise invalid("matrix", "send either candidates or matrix, not both")
        if n == 0 and not dense:
            raise invalid("candidates", "is empty: send at least one candidate (or a matrix)")
        if n > limit:
            raise invalid("candidates", f"holds {n} candidates; the limit is {limit}{hint}")
        levels = check_levels(request.levels, snapshot, self._env.limits)
        columns = check_outcomes(request.outcomes, snapshot)
        if dense:
            batch = matrix_rows(request.matrix, snapshot, self._env.limits, limit, hint)
        else:
            batch = candidate_rows(request.candidates, snapshot, self._env, batch_field)
        return snapshot, levels, columns, batch, dense

    @staticmethod
    def _batch_reply(
        forecast: Any, snapshot: Any, columns: Any, batch: Any, levels: Any, dense: bool, offset: int = 0
    ) -> forecaster_pb2.ForecastBatchResponse:
        if not dense:
            return forecast_reply(
                forecaster_pb2.ForecastBatchResponse, forecast, snapshot, columns, batch.ids, batch.featurized,
                batch.cache_hit, levels, offset=offset,
            )
        reply = forecaster_pb2.ForecastBatchResponse(model=model_stamp(snapshot), levels=levels)
        reply.matrix.ParseFromString(encode_forecast_matrix(forecast, snapshot, columns, batch.ids, offset))
        return reply

    @_aborting
    def ForecastBatch(self, request: forecaster_pb2.ForecastBatchRequest, context: grpc.ServicerContext) -> forecaster_pb2.ForecastBatchResponse:
        start = time.perf_counter()
        limits = self._env.limits
        snapshot, levels, columns, batch, dense = self._batch_setup(
            request, limits.max_batch_candidates, "; use ForecastStream for more"
        )
        n = len(batch.ids)
        featurize_rows(batch, range(n), snapshot, self._env, Deadline.from_context(context), batch_field)
        forecast = predict(snapshot, batch.rows, levels)
        reply = self._batch_reply(forecast, snapshot, columns, batch, levels, dense)
        reply.server_latency_ms = _elapsed_ms(start)
        return reply

    @_aborting_stream
    def ForecastStream(self, request: forecaster_pb2.ForecastBatchRequest, context: grpc.ServicerContext) -> Iterator[forecaster_pb2.ForecastBatchResponse]:
        start = time.perf_counter()
        limits = self._env.limits
        snapshot, levels, columns, batch, dense = self._batch_setup(request, limits.max_stream_candidates, "")
        deadline = Deadline.from_context(context)
        n = len(batch.ids)
        chunk = limits.stream_chunk_candidates
        for lo in range(0, n, chunk):
            if not context.is_active():
                logger.info("ForecastStream: caller went away after %d of %d candidates", lo, n)
                return
            deadline.check(f"candidates[{lo}]")
            hi = min(lo + chunk, n)
            featurize_rows(batch, range(lo, hi), snapshot, self._env, deadline, batch_field)
            forecast = predict(snapshot, batch.rows[lo:hi], levels)
            reply = self._batch_reply(forecast, snapshot, columns, batch, levels, dense, offset=lo)
            reply.server_latency_ms = _elapsed_ms(start)
            yield reply

    # -------------------------------------------------------------- explain
    @_aborting
    def Explain(self, request: forecaster_pb2.ExplainRequest, context: grpc.ServicerContext) -> forecaster_pb2.ExplainResponse:
        start = time.perf_counter()
        snapshot = self._holder.get()
        limits = self._env.limits
        if not request.HasField("spec"):
            raise invalid("spec", "is required: Explain needs the fine-tune's dataset")
        if not 0 <= request.top_k <= limits.max_top_k:
            raise invalid("top_k", f"is {request.top_k}; use 1 to {limits.max_top_k} (0 for {limits.default_top_k})")
        top_k = request.top_k or limits.default_top_k
        job = spec_job(request.spec, "spec", self._env)
        result = explain(job, list(request.outcomes), top_k, self._env, Deadline.from_context(context))
        preview = limits.preview_chars
        return forecaster_pb2.ExplainResponse(
            outcomes=[
                forecaster_pb2.OutcomeInfluence(
                    outcome=o.outcome,
                    harmful_direction=o.harmful_direction,
                    examples=[
                        forecaster_pb2.InfluentialExample(
                            index=e.index, score=e.score, cosine=e.cosine,
                            excerpt=_excerpt(e, job.dataset.records, preview),
                        )
                        for e in o.examples
                    ],
                )
                for o in result.outcomes
            ],
            n_scored=result.n_scored,
            n_examples=result.n_examples,
            model=model_stamp(snapshot),
            server_latency_ms=_elapsed_ms(start),
        )

    # --------------------------------------------------------- model admin
    @_aborting
    def GetModelInfo(self, request: forecaster_pb2.GetModelInfoRequest, context: grpc.ServicerContext) -> forecaster_pb2.ModelInfo:
        return model_info(self._holder.get())

    @_aborting
    def ReloadModel(self, request: forecaster_pb2.ReloadModelRequest, context: grpc.ServicerContext) -> forecaster_pb2.ReloadModelResponse:
        if self._source is None:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, "this server has no model source to reload from")
        target = request.WhichOneof("target")
        directory = self._source.resolve(
            request.version if target == "version" else None,
            request.path if target == "path" else None,
            self._env.limits.max_path_chars,
        )
        previous, current, load_ms = self._holder.reload(directory)
        return forecaster_pb2.ReloadModelResponse(
            previous_version=previous.version if previous is not None else "",
            model_version=current.version,
            load_ms=load_ms,
        )

    @_aborting
    def GetStats(self, request: forecaster_pb2.GetStatsRequest, context: grpc.ServicerContext) -> forecaster_pb2.ServerStats:
        snapshot = self._holder.peek()
        cache = self._env.cache
        methods = [
            forecaster_pb2.MethodStats(
                method=s.method, count=s.count, codes=s.codes,
                bucket_upper_ms=list(s.bucket_upper_ms[:-1]), bucket_counts=list(s.bucket_counts),
                latency_sum_ms=s.latency_sum_ms, p50_ms=s.quantile_ms(0.5), p99_ms=s.quantile_ms(0.99),
            )
            for s in self._metrics.snapshot()
        ]
        gauges = {
            "uptime_seconds": self._metrics.uptime_s,
            "model_reloads_total": float(self._holder.reloads),
            "feature_cache_entries": float(len(cache)),
            "feature_cache_hits_total": float(cache.hits),
            "feature_cache_misses_total": float(cache.misses),
        }
        return forecaster_pb2.ServerStats(
            uptime_s=self._metrics.uptime_s,
            model=model_stamp(snapshot) if snapshot is not None else forecast_pb2.ModelStamp(),
            reloads=self._holder.reloads,
            methods=methods,
            feature_cache_entries=len(cache),
            feature_cache_hits=cache.hits,
            feature_cache_misses=cache.misses,
            prometheus_text=self._metrics.prometheus_text(gauges),
        )
