"""``tunecast report``: parser and command. Importing this module costs only argparse; matplotlib loads in the command."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="write the self-contained HTML risk report of a `tunecast score` result")
    p.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="the --out folder of `tunecast score`")
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write the HTML (default RESULTS_DIR/report.html)")
    p.set_defaults(func=report_command)
    return p


def report_command(args: argparse.Namespace) -> int:
    from server.report.build import write_report

    path = write_report(args.results_dir, out=args.out)
    print(f"risk report: {path}")
    return 0
