"""``python -m server serve|forecast ...``: the same commands as ``tunecast serve|forecast``.

Useful where the ``tunecast`` entry point is not installed, and it keeps the
serving process free of the CLI's other imports.
"""

from __future__ import annotations

import argparse
import sys

from server.cli import add_forecast_parser, add_serve_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="tunecast gRPC service and client")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    add_forecast_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
