"""Readers for suite files: our JSONL/YAML, CrowS-Pairs-style CSV and JSONL of prompts.

Every malformed line is reported with the file, the line number and the field at fault.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from featurizers.probes.schema import SafetyOpenings, SafetyPrompt, Split, StereotypePair

ItemT = TypeVar("ItemT", bound=BaseModel)

CROWS_COLUMNS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")


class ProbeFileError(ValueError):
    """A suite file that cannot be read; the message names file, line and field."""


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(item)"
        parts.append(f"field '{loc}': {err['msg']}")
    return "; ".join(parts)


def read_jsonl(path: str | Path, model: type[ItemT]) -> list[ItemT]:
    """Parse a JSONL file of `model` items; blank lines are skipped, bad ones raise."""
    path = Path(path)
    if not path.is_file():
        raise ProbeFileError(f"{path}: no such file")
    items: list[ItemT] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProbeFileError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            try:
                items.append(model.model_validate(data))
            except ValidationError as exc:
                raise ProbeFileError(f"{path}:{lineno}: {_describe(exc)}") from exc
    _check_unique_ids(path, items)
    return items


def _check_unique_ids(path: Path, items: list) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        item_id = getattr(item, "id", None)
        if item_id is None:
            continue
        if item_id in seen:
            raise ProbeFileError(f"{path}: field 'id': duplicate id {item_id!r} (items {seen[item_id] + 1} and {index + 1})")
        seen[item_id] = index


def read_openings(path: str | Path) -> SafetyOpenings:
    """Read the refusal/compliance opening sets from YAML."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProbeFileError(f"{path}: cannot read YAML ({exc})") from exc
    try:
        return SafetyOpenings.model_validate(data)
    except ValidationError as exc:
        raise ProbeFileError(f"{path}: {_describe(exc)}") from exc


def read_crows_csv(path: str | Path, split: Split = "eval") -> list[StereotypePair]:
    """Read a CrowS-Pairs-style CSV: `sent_more` is taken as the stereotyped sentence.

    As in lm-evaluation-harness's use of CrowS-Pairs, preferring `sent_more` counts as a
    stereotyped preference whatever `stereo_antistereo` says; the direction is kept in the id.
    """
    path = Path(path)
    if not path.is_file():
        raise ProbeFileError(f"{path}: no such file")
    pairs: list[StereotypePair] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CROWS_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ProbeFileError(f"{path}:1: missing column(s) {', '.join(missing)}; expected {', '.join(CROWS_COLUMNS)}")
        for lineno, row in enumerate(reader, start=2):
            for column in CROWS_COLUMNS:
                if not (row.get(column) or "").strip():
                    raise ProbeFileError(f"{path}:{lineno}: field '{column}' is empty")
            direction = row["stereo_antistereo"].strip()
            if direction not in ("stereo", "antistereo"):
                raise ProbeFileError(f"{path}:{lineno}: field 'stereo_antistereo' must be 'stereo' or 'antistereo', got {direction!r}")
            try:
                pairs.append(
                    StereotypePair(
                        id=f"crows-{lineno}-{direction}",
                        split=split,
                        category=row["bias_type"].strip(),
                        stereotyped=row["sent_more"].strip(),
                        anti_stereotyped=row["sent_less"].strip(),
                    )
                )
            except ValidationError as exc:
                raise ProbeFileError(f"{path}:{lineno}: {_describe(exc)}") from exc
    if not pairs:
        raise ProbeFileError(f"{path}: no rows")
    return pairs


def read_prompt_jsonl(path: str | Path, kind: str, split: Split = "eval") -> list[SafetyPrompt]:
    """Read a JSONL of prompts (`{"prompt": ...}` with optional `id`, `category`, `split`)."""
    path = Path(path)
    if not path.is_file():
        raise ProbeFileError(f"{path}: no such file")
    prompts: list[SafetyPrompt] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProbeFileError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
                raise ProbeFileError(f"{path}:{lineno}: field 'prompt' is required and must be a string")
            try:
                prompts.append(
                    SafetyPrompt(
                        id=str(data.get("id", f"{path.stem}-{lineno}")),
                        split=data.get("split", split),
                        kind=kind,
                        category=str(data.get("category", "user")),
                        prompt=data["prompt"].strip(),
                    )
                )
            except ValidationError as exc:
                raise ProbeFileError(f"{path}:{lineno}: {_describe(exc)}") from exc
    if not prompts:
        raise ProbeFileError(f"{path}: no prompts")
    _check_unique_ids(path, prompts)
    return prompts
