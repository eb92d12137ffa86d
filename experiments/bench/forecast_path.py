"""Where the server-side time of a Forecast and of a 1,000-candidate ForecastBatch goes,
and each replaced piece of that path against its replacement, in one process.

Against the embedded default model (or ``--model``), with requests built as
``experiments.bench.serving`` builds them (named features near the training medians):

- sections of each path, timed in-process: request parsing, validation and proto ->
  rows, tree evaluation, the OOD check, conformal interval assembly (the rest of
  ``ForecastModel.predict``), forecast -> reply protos, reply serialisation, the whole
  servicer method, and the call interceptor (auth, metrics, JSON access log); once as a
  server answers before its warm-up or without numba (numpy trees, protobuf feature
  reading) and once after it (compiled trees and feature decoder);
- old against new on the same inputs, 1 row and the batch, as CPU-time ratios of one
  run (on a shared machine wall-clock is noise; CPU time and ratios within one run are
  the steady figures): numpy against compiled trees (``surrogate.model.tree_fast``),
  replies built with the message API against wire bytes (``server.wire``), feature
  vectors read through protobuf against the decoder (``server.feature_decode``), and
  the OOD check deriving its bounds per call against prepared once per model.

Nothing is asserted. Writes ``experiments/results/forecast_path.json``.

    python -m experiments.bench.forecast_path [--model DIR] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "surrogate" / "models" / "default"
DEFAULT_OUT = REPO / "experiments" / "results" / "forecast_path.json"


class ForecastPathConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_rows: int = Field(default=1000, ge=1, description="candidates of the ForecastBatch request")
    single_reps: int = Field(default=400, ge=1)
    batch_reps: int = Field(default=12, ge=1)
    warmup_reps: int = Field(default=5, ge=0)
    noise: float = Field(default=0.1, ge=0.0, description="spread of the request features around the medians")
    seed: int = 1


QUICK = ForecastPathConfig(single_reps=60, batch_reps=3, warmup_reps=2)


class _Context:
    """The few ``grpc.ServicerContext`` methods the servicer and interceptor call in-process."""

    def time_remaining(self) -> None:
        return None

    def is_active(self) -> bool:
        return True

    def abort(self, code: Any, detail: str) -> None:
        raise RuntimeError(f"{code}: {detail}")

    def code(self) -> None:
        return None

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"


def timed(call: Callable[[], object], reps: int, warmup: int) -> dict[str, float]:
    """Median wall-clock and mean CPU milliseconds per call (CPU summed over the reps, so
    sub-millisecond calls are not lost to the clock's resolution)."""
    for _ in range(warmup):
        call()
    wall = np.empty(reps)
    c0 = time.process_time()
    for i in range(reps):
        w0 = time.perf_counter()
        call()
        wall[i] = time.perf_counter() - w0
    cpu = (time.process_time() - c0) / reps
    return {"wall_ms_median": float(np.median(wall) * 1e3), "cpu_ms_mean": cpu * 1e3, "reps": reps}


def _requests(model: Any, n: int, noise: float, seed: int) -> tuple[bytes, bytes]:
    """Serialized Forecast and ForecastBatch requests, as the serving benchmark builds them."""
    from server.client import feature_candidate
    from server.generated.tunecast.v1 import forecaster_pb2

    names = model.schema_.feature_names
    medians = model.feature_stats_.median
    rng = np.random.default_rng(seed)
    rows = [
        {name: float(m + noise * rng.normal()) for name, m in zip(names, medians) if not name.startswith("obs.")}
        for _ in range(n)
    ]
    single = forecaster_pb2.ForecastRequest(candidate=feature_candidate(rows[0]))
    batch = forecaster_pb2.ForecastBatchRequest(candidates=[feature_candidate(r) for r in rows])
    return single.SerializeToString(), batch.SerializeToString()


def _interceptor_ms(deps: Any, reps: int, warmup: int) -> dict[str, float]:
    """Cost of the call interceptor around a handler that does nothing, with the serve
    command's JSON access log going to an in-memory stream."""
    import grpc

    from server.interceptors import CallGate
    from server.logs import ACCESS_LOGGER, JsonLinesFormatter

    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: None)

    class Details:
        method = "/tunecast.v1.Forecaster/Forecast"
        invocation_metadata = ()

    access = logging.getLogger(ACCESS_LOGGER)
    sink = logging.StreamHandler(io.StringIO())
    sink.setFormatter(JsonLinesFormatter())
    previous = access.level, access.propagate
    access.addHandler(sink)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        wrapped = CallGate(deps.policy, deps.metrics).intercept_service(lambda details: handler, Details())
        context = _Context()
        return timed(lambda: wrapped.unary_unary(b"", context), reps, warmup)
    finally:
        access.removeHandler(sink)
        access.setLevel(previous[0])
        access.propagate = previous[1]


def _path_sections(
    deps: Any, name: str, request_type: Any, payload: bytes, reps: int, method: Callable, warmup: int
) -> dict[str, Any]:
    """Milliseconds per section of one path (Forecast or ForecastBatch) on one request."""
    from server.convert import forecast_reply
    from server.forecasting import batch_field, candidate_rows, single_field
    from server.generated.tunecast.v1 import forecaster_pb2
    from server.validation import check_levels, check_outcomes
    from surrogate.model.ood import check_rows

    snapshot = deps.holder.get()
    model = snapshot.model
    limits = deps.env.limits
    context = _Context()
    single = name == "forecast"
    request = request_type.FromString(payload)
    candidates = [request.candidate] if single else request.candidates
    field = single_field if single else batch_field
    levels = check_levels(request.levels, snapshot, limits)
    columns = check_outcomes(request.outcomes, snapshot)
    batch = candidate_rows(candidates, snapshot, deps.env, field)
    forecast = model.predict(batch.rows, levels)
    reply_type = forecaster_pb2.ForecastResponse if single else forecaster_pb2.ForecastBatchResponse

    def validate() -> object:
        check_levels(request.levels, snapshot, limits)
        check_outcomes(request.outcomes, snapshot)
        return candidate_rows(candidates, snapshot, deps.env, field)

    def ood() -> object:
        return check_rows(batch.rows, model.feature_stats_, model.config_.ood, model.schema_.feature_names,
                          model._blas, model.config_.num_threads, model._ood_checks)

    def convert() -> object:
        return forecast_reply(reply_type, forecast, snapshot, columns, batch.ids, batch.featurized,
                              batch.cache_hit, levels)

    reply = method(request, context)
    parts: dict[str, Any] = {
        "parse_request": timed(lambda: request_type.FromString(payload), reps, warmup),
        "validate_and_rows": timed(validate, reps, warmup),
        "tree_evaluation": timed(lambda: model.forest_.predict(batch.rows), reps, warmup),
        "ood_check": timed(ood, reps, warmup),
        "model_predict_total": timed(lambda: model.predict(batch.rows, levels), reps, warmup),
        "reply_protos": timed(convert, reps, warmup),
        "serialize_reply": timed(reply.SerializeToString, reps, warmup),
        "servicer_method": timed(lambda: method(request, context), reps, warmup),
    }
    parts["conformal_and_checks_cpu_ms"] = (
        parts["model_predict_total"]["cpu_ms_mean"] - parts["tree_evaluation"]["cpu_ms_mean"]
        - parts["ood_check"]["cpu_ms_mean"]
    )
    return parts


def _sections(deps: Any, single_bytes: bytes, batch_bytes: bytes, config: ForecastPathConfig) -> dict[str, Any]:
    """Milliseconds per section of the Forecast and ForecastBatch paths."""
    from server.generated.tunecast.v1 import forecaster_pb2
    from server.servicer import ForecasterServicer

    servicer = ForecasterServicer(deps.holder, deps.source, deps.env, deps.metrics)
    return {
        "forecast": _path_sections(deps, "forecast", forecaster_pb2.ForecastRequest, single_bytes,
                                   config.single_reps, servicer.Forecast, config.warmup_reps),
        f"forecast_batch_{config.batch_rows}": _path_sections(
            deps, "batch", forecaster_pb2.ForecastBatchRequest, batch_bytes, config.batch_reps,
            servicer.ForecastBatch, config.warmup_reps,
        ),
    }


def _ratio(old: dict[str, float], new: dict[str, float]) -> dict[str, Any]:
    return {"old": old, "new": new, "cpu_ratio_old_over_new": old["cpu_ms_mean"] / new["cpu_ms_mean"]}


def _comparisons(deps: Any, batch_bytes: bytes, config: ForecastPathConfig) -> dict[str, Any]:
    """Each replaced piece against its replacement on the same inputs, 1 row and the batch."""
    from server import feature_decode
    from server.convert import candidate_forecasts, forecast_reply
    from server.forecasting import batch_field, candidate_rows
    from server.generated.tunecast.v1 import forecaster_pb2
    from surrogate.model.ood import check_rows

    snapshot = deps.holder.get()
    model = snapshot.model
    forest = model.forest_
    fast = forest.acceleration.compiled
    request = forecaster_pb2.ForecastBatchRequest.FromString(batch_bytes)
    batch = candidate_rows(request.candidates, snapshot, deps.env, batch_field)
    rows = batch.rows
    forecast = model.predict(rows)
    columns = np.arange(len(snapshot.targets))
    stats, ood_config, names = model.feature_stats_, model.config_.ood, model.schema_.feature_names
    out: dict[str, Any] = {
        "trees_identical": bool(np.array_equal(fast.predict(rows), forest.predict_numpy(rows))),
    }
    for label, n, reps in (("one_row", 1, config.single_reps), (f"{rows.shape[0]}_rows", rows.shape[0],
                                                                config.batch_reps)):
        X = rows[:n]
        part = forecast if n == rows.shape[0] else model.predict(X)
        candidates = request.candidates[:n]

        def message_api(part: Any = part, n: int = n) -> object:
            return forecaster_pb2.ForecastBatchResponse(forecasts=candidate_forecasts(
                part, snapshot, columns, batch.ids[:n], batch.featurized[:n], batch.cache_hit[:n]))

        def wire(part: Any = part, n: int = n) -> object:
            return forecast_reply(forecaster_pb2.ForecastBatchResponse, part, snapshot, columns, batch.ids[:n],
                                  batch.featurized[:n], batch.cache_hit[:n], part.levels)

        def protobuf_rows(candidates: Any = candidates) -> object:
            with _decoder_unloaded():
                return candidate_rows(candidates, snapshot, deps.env, batch_field)

        warm = config.warmup_reps
        out[label] = {
            "tree_evaluation_numpy_vs_compiled": _ratio(timed(lambda X=X: forest.predict_numpy(X), reps, warm),
                                                        timed(lambda X=X: fast.predict(X), reps, warm)),
            "reply_message_api_vs_wire_bytes": _ratio(timed(message_api, reps, warm), timed(wire, reps, warm)),
            "feature_rows_protobuf_vs_decoder": _ratio(
                timed(protobuf_rows, reps, warm),
                timed(lambda c=candidates: candidate_rows(c, snapshot, deps.env, batch_field), reps, warm)),
            "ood_check_per_call_vs_prepared": _ratio(
                timed(lambda X=X: check_rows(X, stats, ood_config, names, model._blas, 1), reps, warm),
                timed(lambda X=X: check_rows(X, stats, ood_config, names, model._blas, 1, model._ood_checks),
                      reps, warm)),
        }
    out["decoder_loaded"] = feature_decode.ready()
    return out


@contextlib.contextmanager
def _decoder_unloaded() -> Iterator[None]:
    """Read feature vectors through protobuf inside the block (the path before the warm-up)."""
    from server import feature_decode

    kernels, feature_decode._Loaded.kernels = feature_decode._Loaded.kernels, None
    try:
        yield
    finally:
        feature_decode._Loaded.kernels = kernels


def measure(model_dir: Path, config: ForecastPathConfig) -> dict[str, Any]:
    from server import feature_decode
    from server.app import build_deps, load_model
    from server.config import ServerConfig
    from surrogate.model import tree_fast

    deps = build_deps(ServerConfig(model=model_dir, port=0))
    snapshot = load_model(deps)
    model = snapshot.model
    forest = model.forest_
    single_bytes, batch_bytes = _requests(model, config.batch_rows, config.noise, config.seed)
    result: dict[str, Any] = {
        "config": config.model_dump(mode="json"),
        "model": {"path": str(model_dir), "version": snapshot.version, "boosters": forest.n_models,
                  "trees": forest.n_trees, "features": forest.n_features},
        "interceptor_per_call": _interceptor_ms(deps, config.single_reps, config.warmup_reps),
        # before the warm-up, or without numba: numpy trees, protobuf feature reading
        "sections": {"numpy_fallback": _sections(deps, single_bytes, batch_bytes, config)},
    }
    start = time.perf_counter()
    compiled = model.accelerate() and feature_decode.load()
    result["warm_up_s"] = time.perf_counter() - start
    result["compiled_available"] = compiled
    if compiled:
        result["sections"]["compiled"] = _sections(deps, single_bytes, batch_bytes, config)
        result["comparisons"] = _comparisons(deps, batch_bytes, config)
    result["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "numba": tree_fast.numba_version(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="artifact directory to profile")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = QUICK if args.quick else ForecastPathConfig()
    result = measure(args.model, config)
    result["quick"] = args.quick
    write_json_atomic(args.out, result)
    summary = {
        evaluator: {path: {k: round(v["cpu_ms_mean"], 3) if isinstance(v, dict) else round(v, 3)
                           for k, v in parts.items()} for path, parts in sections.items()}
        for evaluator, sections in result["sections"].items()
    }
    ratios = {
        size: {piece: round(v["cpu_ratio_old_over_new"], 2) for piece, v in pieces.items()}
        for size, pieces in result.get("comparisons", {}).items() if isinstance(pieces, dict)
    }
    print(json.dumps({"sections_cpu_ms": summary, "cpu_ratios_old_over_new": ratios}, indent=1))
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
