"""Cross-item checks run on every build: unique ids and no text shared across splits."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from ..schema import KnowledgeItem, ReferenceItem, RolePrompt, SafetyPrompt, StereotypePair

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case- and whitespace-insensitive form used to spot the same text twice."""
    return _SPACES.sub(" ", text.strip().lower())


def texts_of(item: BaseModel) -> list[str]:
    """The free-text fields of an item that a model is scored or trained on."""
    if isinstance(item, KnowledgeItem):
        return [item.question, *item.facts]
    if isinstance(item, SafetyPrompt):
        return [item.prompt]
    if isinstance(item, StereotypePair):
        return [item.stereotyped, item.anti_stereotyped]
    if isinstance(item, RolePrompt):
        return [item.prompt]
    if isinstance(item, ReferenceItem):
        return [item.text]
    raise TypeError(f"no text fields known for {type(item).__name__}")


def check_unique_ids(suite: str, items: Sequence[BaseModel]) -> None:
    """Every id in a suite must be unique."""
    seen: set[str] = set()
    for item in items:
        item_id = getattr(item, "id")
        if item_id in seen:
            raise ValueError(f"suite {suite!r}: id {item_id!r} is used twice")
        seen.add(item_id)


def check_disjoint_text(suite: str, items: Sequence[BaseModel]) -> None:
    """No text may appear in both the feature and the eval split (eval must stay unseen)."""
    owner: dict[str, tuple[str, str]] = {}
    for item in items:
        split, item_id = getattr(item, "split"), getattr(item, "id")
        for text in texts_of(item):
            key = normalize(text)
            if key in owner and owner[key][0] != split:
                raise ValueError(
                    f"suite {suite!r}: text {text!r} is in {owner[key][1]} ({owner[key][0]}) "
                    f"and {item_id} ({split}); reword one of them"
                )
            owner.setdefault(key, (split, item_id))
