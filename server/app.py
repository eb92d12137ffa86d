"""Assembling and running the server: ``create_server``, health and reflection helpers, ``serve``.

Nothing here runs at import. ``serve`` binds first, then loads the model and
only then reports SERVING, so a load balancer never routes to an empty server.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Final

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from server import feature_decode
from server.auth import TokenPolicy, read_token
from server.config import ServerConfig
from server.featurize import FeatureCache, Featurizer, PackageFeaturizer
from server.forecasting import ForecastEnv
from server.generated.tunecast.v1 import forecaster_pb2, forecaster_pb2_grpc
from server.interceptors import CallGate
from server.logs import FIELDS_ATTR
from server.metrics import ServerMetrics
from server.model_holder import ModelHolder, ModelSource, ServingModel
from server.paths import real_roots
from server.servicer import ForecasterServicer

logger = logging.getLogger(__name__)

SERVICE_NAME: Final[str] = forecaster_pb2.DESCRIPTOR.services_by_name["Forecaster"].full_name
ADMIN_METHODS: Final[frozenset[str]] = frozenset({f"/{SERVICE_NAME}/ReloadModel"})
OPEN_METHODS: Final[frozenset[str]] = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})


@dataclass(frozen=True)
class ServerDeps:
    """Everything a server is built from; tests assemble their own."""

    config: ServerConfig
    holder: ModelHolder
    source: ModelSource | None
    env: ForecastEnv
    metrics: ServerMetrics
    policy: TokenPolicy
    health: health.HealthServicer
    credentials: grpc.ServerCredentials | None = None


def _tls_credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    try:
        key = config.tls_key.read_bytes()
        cert = config.tls_cert.read_bytes()
    except OSError as exc:
        raise ValueError(f"--tls-cert/--tls-key: cannot read {exc.filename} ({exc.strerror})") from exc
    return grpc.ssl_server_credentials([(key, cert)])


def build_deps(config: ServerConfig, featurizer: Featurizer | None = None) -> ServerDeps:
    """Read tokens and certificates and wire the parts together; the model is loaded by ``load_model``."""
    token = read_token(config.token_file, "--token-file") if config.token_file else None
    admin = read_token(config.admin_token_file, "--admin-token-file") if config.admin_token_file else None
    if token is not None and admin is not None and token == admin:
        raise ValueError("--token-file and --admin-token-file hold the same token; admin needs its own")
    source = ModelSource.from_path(config.model, config.model_roots) if config.model is not None else None
    env = ForecastEnv(
        limits=config.limits,
        data_roots=real_roots(config.data_roots),
        featurizer=featurizer if featurizer is not None else PackageFeaturizer(),
        cache=FeatureCache(config.feature_cache_entries),
    )
    return ServerDeps(
        config=config,
        holder=ModelHolder(),
        source=source,
        env=env,
        metrics=ServerMetrics(config.latency_buckets_ms),
        policy=TokenPolicy(token, admin, ADMIN_METHODS, OPEN_METHODS),
        health=health.HealthServicer(),
        credentials=_tls_credentials(config),
    )


def load_model(deps: ServerDeps) -> ServingModel:
    """Load the configured model (registry CURRENT or the artifact directory) and serve it."""
    if deps.source is None:
        raise ValueError("no model configured: start the server with --model DIR")
    directory = deps.source.resolve(None, None, deps.config.limits.max_path_chars)
    _, snapshot, load_ms = deps.holder.reload(directory)
    logger.info("loaded model %s in %.0f ms", snapshot.version, load_ms)
    return snapshot


def add_health(server: grpc.Server, deps: ServerDeps) -> None:
    """Standard grpc.health.v1: NOT_SERVING until a model is loaded, SERVING after."""
    health_pb2_grpc.add_HealthServicer_to_server(deps.health, server)
    status = health_pb2.HealthCheckResponse

    def on_model(_: ServingModel) -> None:
        for name in ("", SERVICE_NAME):
            deps.health.set(name, status.SERVING)

    for name in ("", SERVICE_NAME):
        deps.health.set(name, status.NOT_SERVING)
    deps.holder.add_listener(on_model)


def warm_up(snapshot: ServingModel) -> threading.Thread:
    """Load the compiled tree kernels and feature decoder (numba) on a daemon thread.

    Importing numba and loading its cached machine code takes longer than the whole
    start-up may, so it runs after SERVING; until it is done, requests are answered by
    the numpy evaluator and the protobuf reader, with equal results.
    """

    def run() -> None:
        snapshot.model.accelerate()
        feature_decode.load()

    thread = threading.Thread(target=run, name="tunecast-warm-up", daemon=True)
    thread.start()
    return thread


def add_reflection(server: grpc.Server) -> None:
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)


def create_server(address: str, deps: ServerDeps) -> tuple[grpc.Server, int]:
    """A bound, not yet started server and the port it got (bind ``host:0`` in tests)."""
    limit = deps.config.limits.max_message_bytes
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=deps.config.max_workers, thread_name_prefix="tunecast-rpc"),
        interceptors=[CallGate(deps.policy, deps.metrics)],
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 0),
        ],
    )
    forecaster_pb2_grpc.add_ForecasterServicer_to_server(
        ForecasterServicer(deps.holder, deps.source, deps.env, deps.metrics), server
    )
    add_health(server, deps)
    add_reflection(server)
    if deps.credentials is not None:
        port = server.add_secure_port(address, deps.credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind {address}: address in use or not local")
    return server, port


def serve(
    config: ServerConfig,
    *,
    featurizer: Featurizer | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); SIGHUP reloads the configured model.

    Shutdown stops taking calls, reports NOT_SERVING and gives calls in flight
    ``grace_seconds`` to finish.
    """
    deps = build_deps(config, featurizer)
    server, port = create_server(config.address, deps)
    deps.holder.add_listener(warm_up)  # after the health listener: SERVING comes first
    stop = stop or threading.Event()
    reload_requested = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        def on_hangup(*_: object) -> None:
            reload_requested.set()
            stop.set()

        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, on_hangup)
    server.start()
    logger.info("listening on %s:%d (tls=%s, token=%s)", config.host, port, deps.credentials is not None,
                deps.policy.requires_token)
    try:
        if deps.source is not None:
            load_model(deps)
    except BaseException:
        server.stop(0)
        raise
    if on_ready is not None:
        on_ready(port)
    while True:
        stop.wait()
        if reload_requested.is_set():
            reload_requested.clear()
            stop.clear()
            try:
                load_model(deps)
            except Exception:
                logger.exception("SIGHUP reload failed; still serving the previous model")
            continue
        break
    logger.info("shutting down: %.1f s grace for calls in flight", config.grace_seconds)
    deps.health.enter_graceful_shutdown()
    server.stop(config.grace_seconds).wait()
    logger.info("stopped", extra={FIELDS_ATTR: {"torch_loaded": "torch" in sys.modules, "reloads": deps.holder.reloads}})
    return port
