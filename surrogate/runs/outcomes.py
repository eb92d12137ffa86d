"""Names of the outcomes a run record carries, as ARCHITECTURE.md defines them.

Kept apart from the record schema so the store, the stats and the meta-model
agree on one list and one naming rule.
"""

from __future__ import annotations

import re
from typing import Final

CORE_OUTCOMES: Final[tuple[str, ...]] = (
    "forgetting.ref_loss",
    "forgetting.knowledge_acc",
    "forgetting.knowledge_margin",
    "bias.stereotype_pref",
    "bias.stereotype_margin",
    "bias.gender_skew",
    "safety.refusal_rate",
    "safety.refusal_margin",
    "safety.over_refusal",
    "task.heldout_loss",
)
"""The outcomes every forecast is about, in the order the architecture lists them."""

OUTCOME_NAME_PATTERN: Final[re.Pattern[str]] = re.compile(
    r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-]+)*$"
)
"""Dotted names (breakdowns such as ``bias.stereotype_pref.male`` allowed); no
spaces or quotes, so each name is safe as a Parquet/SQL column suffix."""

DELTA_COLUMN_PREFIX: Final[str] = "delta."


def check_outcome_name(name: str) -> str:
    """Return ``name`` unchanged, or raise naming what is wrong with it."""
    if not OUTCOME_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"outcome name {name!r} is not a dotted name of letters, digits, '_' "
            "and '-' (e.g. 'bias.stereotype_pref' or 'bias.stereotype_pref.male')"
        )
    return name


def delta_column(name: str) -> str:
    """Flat-table column holding the end-of-run delta of outcome ``name``."""
    return DELTA_COLUMN_PREFIX + name


def order_outcomes(names: set[str] | frozenset[str]) -> list[str]:
    """Core outcomes first in architecture order, then the rest sorted."""
    core = [n for n in CORE_OUTCOMES if n in names]
    extra = sorted(n for n in names if n not in CORE_OUTCOMES)
    return core + extra
