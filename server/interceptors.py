"""One server interceptor for what every call shares: auth, metrics, access log.

It wraps the method handler rather than the servicer, so health checks and
reflection are counted and guarded the same way as the Forecaster's RPCs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from server.auth import TokenPolicy
from server.errors import ServiceError
from server.logs import FIELDS_ATTR, ACCESS_LOGGER
from server.metrics import ServerMetrics

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID_CHARS = 128


def _code_name(context: grpc.ServicerContext, failed: bool) -> str:
    code = context.code()
    if code is None:
        return "UNKNOWN" if failed else "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class _Undecodable:
    """Stands in for a request whose bytes did not parse, so the call can be answered
    INVALID_ARGUMENT instead of gRPC's default INTERNAL."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # any parse failure of caller bytes is the caller's error
            return _Undecodable(exc)

    return parse


def _request_id(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str):
            return value[:MAX_REQUEST_ID_CHARS]
    return ""


class CallGate(grpc.ServerInterceptor):
    """Refuses unauthorised calls, then times, counts and logs every call."""

    def __init__(self, policy: TokenPolicy, metrics: ServerMetrics) -> None:
        self._policy = policy
        self._metrics = metrics
        self._log = logging.getLogger(ACCESS_LOGGER)

    def _finish(self, method: str, context: grpc.ServicerContext, start: float, code: str, request_id: str) -> None:
        latency_ms = (time.perf_counter() - start) * 1e3
        self._metrics.observe(method, code, latency_ms)
        if self._log.isEnabledFor(logging.INFO):
            fields = {"method": method, "code": code, "latency_ms": round(latency_ms, 3), "peer": context.peer()}
            if request_id:
                fields["request_id"] = request_id
            self._log.info("rpc", extra={FIELDS_ATTR: fields})

    def _unary_response(self, inner: Callable, method: str, refusal: ServiceError | None, request_id: str) -> Callable:
        def behavior(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            failed = True
            try:
                if refusal is not None:
                    context.abort(refusal.code, refusal.detail)
                if isinstance(request_or_iterator, _Undecodable):
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request: the bytes are not a valid message of this method")
                response = inner(request_or_iterator, context)
                failed = False
                return response
            finally:
                self._finish(method, context, start, _code_name(context, failed), request_id)

        return behavior

    def _stream_response(self, inner: Callable, method: str, refusal: ServiceError | None, request_id: str) -> Callable:
        def behavior(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            start = time.perf_counter()
            code = None
            try:
                if refusal is not None:
                    context.abort(refusal.code, refusal.detail)
                if isinstance(request_or_iterator, _Undecodable):
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request: the bytes are not a valid message of this method")
                yield from inner(request_or_iterator, context)
                code = _code_name(context, False)
            except GeneratorExit:
                code = "CANCELLED"
                raise
            finally:
                self._finish(method, context, start, code or _code_name(context, True), request_id)

        return behavior

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        metadata = handler_call_details.invocation_metadata
        refusal = self._policy.check(method, metadata)
        request_id = _request_id(metadata)
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        unary_codec = {**codec, "request_deserializer": _tolerant(handler.request_deserializer)}
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary_response(handler.unary_unary, method, refusal, request_id), **unary_codec
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream_response(handler.unary_stream, method, refusal, request_id), **unary_codec
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary_response(handler.stream_unary, method, refusal, request_id), **codec
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream_response(handler.stream_stream, method, refusal, request_id), **codec
        )
