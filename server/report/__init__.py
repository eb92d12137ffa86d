"""The risk report: one self-contained HTML file (plots embedded) for a batch-scoring result directory.

Nothing heavy loads here: ``tunecast --help`` imports ``server.report.cli``, which
imports this package, so ``write_report`` (matplotlib, numpy) is resolved lazily.
"""

from __future__ import annotations

from typing import Any

__all__ = ["write_report"]


def __getattr__(name: str) -> Any:
    if name == "write_report":
        from server.report.build import write_report

        return write_report
    raise AttributeError(f"module 'server.report' has no attribute {name!r}")
