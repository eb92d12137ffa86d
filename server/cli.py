"""``tunecast serve`` and ``tunecast forecast``: parsers and command functions.

Importing this module costs only argparse; grpc and the model load inside
the commands, so ``tunecast --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

DEFAULT_PORT = 50051
DEFAULT_LEVELS = "0.8,0.9"


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", help="run the gRPC forecasting service")
    p.add_argument("--model", type=Path,
                   help="model artifact directory, or a registry root (CURRENT + models/); "
                        "default: the meta-model embedded in the package")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to bind (0 picks a free one)")
    p.add_argument("--data-root", type=Path, action="append", default=[], metavar="DIR",
                   help="directory datasets may be read from (repeatable); nothing outside is ever read")
    p.add_argument("--model-root", type=Path, action="append", default=[], metavar="DIR",
                   help="extra directory ReloadModel may load artifacts from (repeatable)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate chain (with --tls-key)")
    p.add_argument("--tls-key", type=Path, help="PEM private key (with --tls-cert)")
    p.add_argument("--token-file", type=Path, help="file holding the bearer token callers must send")
    p.add_argument("--admin-token-file", type=Path, help="file holding the token admin RPCs (ReloadModel) need")
    p.add_argument("--max-workers", type=int, default=16, help="threads serving calls")
    p.add_argument("--grace", type=float, default=5.0, help="seconds calls in flight get at shutdown")
    p.set_defaults(func=serve_command)
    return p


def serve_command(args: argparse.Namespace) -> int:
    from server.app import serve
    from server.config import ServerConfig
    from server.errors import ServiceError
    from server.logs import configure_json_logging
    from surrogate.default_model import DefaultModelMissingError, resolve_model_dir

    try:
        model = resolve_model_dir(args.model)
    except DefaultModelMissingError as exc:
        print(f"tunecast serve: error: {exc}", file=sys.stderr)
        return 2
    config = ServerConfig(
        host=args.host, port=args.port, model=model, model_roots=tuple(args.model_root),
        data_roots=tuple(args.data_root), tls_cert=args.tls_cert, tls_key=args.tls_key,
        token_file=args.token_file, admin_token_file=args.admin_token_file,
        max_workers=args.max_workers, grace_seconds=args.grace,
    )
    configure_json_logging()
    try:
        serve(config)
    except ServiceError as exc:
        print(f"tunecast serve: error: {exc.detail}", file=sys.stderr)
        return 2
    return 0


def add_forecast_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("forecast", help="ask a running server for a forecast from a feature vector")
    p.add_argument("--server", required=True, metavar="HOST:PORT")
    p.add_argument("--features", required=True, type=Path, metavar="FILE.json",
                   help="a JSON object of feature name -> number (null = missing), or a list of them")
    p.add_argument("--levels", default=DEFAULT_LEVELS, help="interval levels, comma-separated")
    p.add_argument("--outcomes", default="", help="outcomes to show, comma-separated (default all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before giving up")
    p.add_argument("--token-file", type=Path, help="file holding the bearer token")
    p.add_argument("--tls", action="store_true", help="use TLS with the system's root certificates")
    p.add_argument("--tls-ca", type=Path, help="PEM root certificate to trust (implies --tls)")
    p.set_defaults(func=forecast_command)
    return p


def parse_levels(text: str) -> list[float]:
    levels = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            level = float(part)
        except ValueError:
            raise ValueError(f"--levels: {part!r} is not a number") from None
        if not (math.isfinite(level) and 0.0 < level < 1.0):
            raise ValueError(f"--levels: {level} must lie strictly between 0 and 1")
        levels.append(level)
    return levels


def read_feature_file(path: Path) -> list[dict[str, float | None]]:
    """One or many feature mappings from a JSON file, checked value by value."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"--features {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    rows = data if isinstance(data, list) else [data]
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"--features {path}: item {i} is a {type(row).__name__}, expected an object")
        for name, value in row.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"--features {path}: item {i} feature {name!r} is {value!r}, expected a number or null")
        out.append(row)
    if not out:
        raise ValueError(f"--features {path}: the list is empty")
    return out


def format_table(results: list[Any]) -> str:
    lines = []
    for result in results:
        head = f"candidate {result.index}" + (f" ({result.candidate_id})" if result.candidate_id else "")
        lines.append(f"{head}: model {result.model_version}, featurizer {result.featurizer_version}")
        levels = [i.level for i in result.targets[0].intervals] if result.targets else []
        width = max((len(t.outcome) for t in result.targets), default=8)
        header = f"  {'outcome':<{width}}  {'ckpt':>5}  {'point':>10}" + "".join(
            f"  {f'{lv:.0%} interval':>23}" for lv in levels
        )
        lines.append(header)
        for t in result.targets:
            cells = "".join(f"  [{i.lower:10.4f}, {i.upper:10.4f}]" for i in t.intervals)
            lines.append(f"  {t.outcome:<{width}}  {t.checkpoint:5.2f}  {t.point:10.4f}{cells}")
        if result.ood.flagged:
            parts = []
            if result.ood.out_of_range:
                parts.append("out of range: " + ", ".join(result.ood.out_of_range))
            if result.ood.unexpectedly_missing:
                parts.append("missing: " + ", ".join(result.ood.unexpectedly_missing))
            if result.ood.distance_flagged:
                parts.append(f"far from training runs (distance {result.ood.distance:.2f})")
            lines.append("  warning: outside the training distribution; " + "; ".join(parts))
    return "\n".join(lines)


def forecast_command(args: argparse.Namespace) -> int:
    import grpc

    from server.client import ForecastClient

    rows = read_feature_file(args.features)
    levels = parse_levels(args.levels)
    outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else None
    roots = args.tls_ca.read_bytes() if args.tls_ca else None
    with ForecastClient(args.server, token=token, tls=args.tls, root_certificates=roots, timeout_s=args.timeout) as client:
        try:
            if len(rows) == 1:
                results = [client.forecast(rows[0], levels=levels, outcomes=outcomes)]
            else:
                results = client.forecast_batch(rows, levels=levels, outcomes=outcomes)
        except grpc.RpcError as exc:
            print(f"tunecast forecast: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(format_table(results))
    return 0
