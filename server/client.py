"""``ForecastClient``: a synchronous Python client with deadlines, retries, TLS and tokens.

Only UNAVAILABLE is retried (the server was unreachable or restarting, so the
call did nothing); every attempt shares the one overall deadline of the call.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import numpy as np
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.generated.tunecast.v1 import (
    candidate_pb2,
    forecaster_pb2,
    forecaster_pb2_grpc,
)
from server.results import (
    CandidateResult,
    MatrixResult,
    batch_results,
    candidate_result,
    matrix_result,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
FeatureInput = Mapping[str, float | None]
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter between attempts on UNAVAILABLE."""

    attempts: int = 4
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts is {self.attempts}; at least 1 is needed")
        if self.initial_backoff_s < 0 or self.max_backoff_s < self.initial_backoff_s or self.multiplier < 1:
            raise ValueError("backoff must satisfy 0 <= initial_backoff_s <= max_backoff_s and multiplier >= 1")


def feature_candidate(features: FeatureInput, candidate_id: str = "", featurizer_version: str = "") -> candidate_pb2.Candidate:
    """A candidate from named features; None values are left out (missing)."""
    named = {name: float(value) for name, value in features.items() if value is not None}
    return candidate_pb2.Candidate(
        id=candidate_id,
        features=candidate_pb2.FeatureVector(named=named, featurizer_version=featurizer_version),
    )


def spec_candidate(
    base_model: str,
    recipe: Mapping[str, Any],
    *,
    dataset_path: str | None = None,
    examples: Sequence[Mapping[str, str]] | None = None,
    observations: Mapping[str, Any] | None = None,
    candidate_id: str = "",
) -> candidate_pb2.Candidate:
    """A candidate the server featurizes: base model + recipe + dataset (path or inline).

    ``recipe`` holds the fields of ``surrogate.runs.Recipe``; ``examples`` are records
    ({"text"}, {"prompt", "response"} or {"messages"}); ``observations`` has ``step``,
    ``loss_curve`` ([{"step", "loss"}]) and ``probe_deltas`` (outcome -> delta).
    """
    if (dataset_path is None) == (examples is None):
        raise ValueError("give exactly one of dataset_path or examples")
    if dataset_path is not None:
        dataset = candidate_pb2.Dataset(path=dataset_path)
    else:
        inline = json_format.ParseDict({"examples": [dict(e) for e in examples or ()]}, candidate_pb2.InlineDataset())
        dataset = candidate_pb2.Dataset(inline=inline)
    spec = candidate_pb2.FineTuneSpec(
        base_model=base_model,
        recipe=json_format.ParseDict({k: v for k, v in recipe.items() if v is not None}, candidate_pb2.Recipe()),
        dataset=dataset,
    )
    if observations is not None:
        spec.observations.CopyFrom(json_format.ParseDict(dict(observations), candidate_pb2.EarlyObservations()))
    return candidate_pb2.Candidate(id=candidate_id, spec=spec)


def feature_matrix(
    names: Sequence[str],
    values: Any,
    candidate_ids: Sequence[str] = (),
    featurizer_version: str = "",
    nan_is_missing: bool = False,
) -> candidate_pb2.FeatureMatrix:
    """A FeatureMatrix from a (rows, len(names)) array. NaN cells are refused unless
    ``nan_is_missing``, which sends them as missing cells (the wire never carries NaN)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != len(names):
        raise ValueError(f"values must be (rows, {len(names)}) for {len(names)} names; got shape {array.shape}")
    flat = array.reshape(-1)
    nan = np.isnan(flat)
    if nan.any() and not nan_is_missing:
        row, col = divmod(int(np.flatnonzero(nan)[0]), len(names))
        raise ValueError(f"values[{row}, {col}] ({names[col]!r}) is NaN; pass nan_is_missing=True to send NaN as missing")
    missing = np.flatnonzero(nan)
    return candidate_pb2.FeatureMatrix(
        names=list(names), values=np.where(nan, 0.0, flat), missing=missing.tolist(),
        candidate_ids=list(candidate_ids), featurizer_version=featurizer_version,
    )


def _as_candidate(item: FeatureInput | candidate_pb2.Candidate, index: int) -> candidate_pb2.Candidate:
    if isinstance(item, candidate_pb2.Candidate):
        return item
    if isinstance(item, Mapping):
        return feature_candidate(item)
    raise TypeError(f"candidates[{index}] is a {type(item).__name__}; pass a mapping of features or a Candidate")


class ForecastClient:
    """Calls a tunecast server. Use as a context manager or call ``close``."""

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        admin_token: str | None = None,
        tls: bool = False,
        root_certificates: bytes | None = None,
        server_name: str | None = None,
        timeout_s: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        seed: int | None = None,
    ) -> None:
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            # Reconnect on the client's own backoff scale, so a retry finds a restarted server.
            ("grpc.initial_reconnect_backoff_ms", max(1, int(retry.initial_backoff_s * 1000))),
            ("grpc.min_reconnect_backoff_ms", max(1, int(retry.initial_backoff_s * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(1, int(retry.max_backoff_s * 1000))),
        ]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if tls or root_certificates is not None:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = forecaster_pb2_grpc.ForecasterStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._token = token
        self._admin_token = admin_token
        self.timeout_s = timeout_s
        self.retry = retry
        self._rng = random.Random(seed)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ForecastClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- plumbing
    def _metadata(self, admin: bool = False) -> list[tuple[str, str]]:
        token = self._admin_token if admin else self._token
        return [("authorization", f"Bearer {token}")] if token else []

    def _call(self, method: Callable[..., T], request: Any, timeout_s: float | None, admin: bool = False) -> T:
        """Run one unary call, retrying on UNAVAILABLE inside the overall deadline."""
        budget = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + budget
        backoff = self.retry.initial_backoff_s
        for attempt in range(1, self.retry.attempts + 1):
            remaining = deadline - time.monotonic()
            try:
                return method(request, timeout=max(remaining, 0.0), metadata=self._metadata(admin))
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or attempt == self.retry.attempts:
                    raise
                pause = self._rng.uniform(0.0, backoff)
                if time.monotonic() + pause >= deadline:
                    raise
                logger.info("server unavailable (attempt %d of %d); retrying in %.2f s", attempt, self.retry.attempts, pause)
                time.sleep(pause)
                backoff = min(backoff * self.retry.multiplier, self.retry.max_backoff_s)
        raise AssertionError("unreachable: the loop returns or raises")

    # ---------------------------------------------------------------- calls
    def forecast(
        self,
        features: FeatureInput | candidate_pb2.Candidate,
        *,
        levels: Sequence[float] = (),
        outcomes: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> CandidateResult:
        request = forecaster_pb2.ForecastRequest(
            candidate=_as_candidate(features, 0), levels=list(levels), outcomes=list(outcomes)
        )
        reply = self._call(self._stub.Forecast, request, timeout_s)
        return candidate_result(reply.forecast, reply.model, list(reply.levels))

    def _batch_request(
        self, candidates: Iterable[FeatureInput | candidate_pb2.Candidate], levels: Sequence[float], outcomes: Sequence[str]
    ) -> forecaster_pb2.ForecastBatchRequest:
        return forecaster_pb2.ForecastBatchRequest(
            candidates=[_as_candidate(c, i) for i, c in enumerate(candidates)],
            levels=list(levels),
            outcomes=list(outcomes),
        )

    def forecast_batch(
        self,
        candidates: Iterable[FeatureInput | candidate_pb2.Candidate],
        *,
        levels: Sequence[float] = (),
        outcomes: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> list[CandidateResult]:
        reply = self._call(self._stub.ForecastBatch, self._batch_request(candidates, levels, outcomes), timeout_s)
        return batch_results(reply)

    def forecast_stream(
        self,
        candidates: Iterable[FeatureInput | candidate_pb2.Candidate],
        *,
        levels: Sequence[float] = (),
        outcomes: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> Iterator[CandidateResult]:
        """Results in request order, chunk by chunk; retried only before the first chunk arrives."""
        request = self._batch_request(candidates, levels, outcomes)
        responses = self._call(self._stream_first, request, timeout_s)
        for reply in responses:
            yield from batch_results(reply)

    def forecast_matrix(
        self,
        names: Sequence[str],
        values: Any,
        *,
        candidate_ids: Sequence[str] = (),
        levels: Sequence[float] = (),
        outcomes: Sequence[str] = (),
        nan_is_missing: bool = False,
        stream: bool = False,
        timeout_s: float | None = None,
    ) -> MatrixResult:
        """Forecast every row of a (rows, len(names)) feature array in one dense call
        (ForecastStream when ``stream``, for more rows than one batch takes)."""
        request = forecaster_pb2.ForecastBatchRequest(
            matrix=feature_matrix(names, values, candidate_ids, nan_is_missing=nan_is_missing),
            levels=list(levels), outcomes=list(outcomes),
        )
        if stream:
            return matrix_result(list(self._call(self._stream_first, request, timeout_s)))
        return matrix_result([self._call(self._stub.ForecastBatch, request, timeout_s)])

    def _stream_first(self, request: Any, *, timeout: float, metadata: Any) -> Iterator[Any]:
        call = self._stub.ForecastStream(request, timeout=timeout, metadata=metadata)
        first = next(call, None)

        def chained() -> Iterator[Any]:
            if first is not None:
                yield first
            yield from call

        return chained()

    def explain(
        self, spec: candidate_pb2.FineTuneSpec, *, outcomes: Sequence[str] = (), top_k: int = 0, timeout_s: float | None = None
    ) -> forecaster_pb2.ExplainResponse:
        request = forecaster_pb2.ExplainRequest(spec=spec, outcomes=list(outcomes), top_k=top_k)
        return self._call(self._stub.Explain, request, timeout_s)

    def model_info(self, *, timeout_s: float | None = None) -> forecaster_pb2.ModelInfo:
        return self._call(self._stub.GetModelInfo, forecaster_pb2.GetModelInfoRequest(), timeout_s)

    def reload(
        self, *, version: str | None = None, path: str | None = None, timeout_s: float | None = None
    ) -> forecaster_pb2.ReloadModelResponse:
        if version and path:
            raise ValueError("give version or path, not both")
        request = forecaster_pb2.ReloadModelRequest(version=version) if version else (
            forecaster_pb2.ReloadModelRequest(path=path) if path else forecaster_pb2.ReloadModelRequest()
        )
        return self._call(self._stub.ReloadModel, request, timeout_s, admin=True)

    def stats(self, *, timeout_s: float | None = None) -> forecaster_pb2.ServerStats:
        return self._call(self._stub.GetStats, forecaster_pb2.GetStatsRequest(), timeout_s)

    def health(self, service: str = "", *, timeout_s: float | None = None) -> str:
        """The health status name ("SERVING", "NOT_SERVING", ...) of ``service``."""
        reply = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout_s)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
