"""Candidate-dataset records as the featurizer reads them: the three formats, hashed and viewed.

`featurizers` may not import `experiments`, so the format rules and the canonical
content hash are restated here; a test pins both to the lab's `records` module, so the
hash a feature vector is cached under is the hash a run record is stored under.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

RecordFormat = Literal["text", "prompt_response", "messages"]
Record = Mapping[str, Any]

_FORMAT_KEYS: dict[frozenset[str], RecordFormat] = {
    frozenset({"text"}): "text",
    frozenset({"prompt", "response"}): "prompt_response",
    frozenset({"messages"}): "messages",
}
_ROLES = ("system", "user", "assistant")
MIN_MESSAGES = 2


class DatasetFormatError(ValueError):
    """A record or a dataset file the featurizer cannot read; the message names the line."""


def _nonempty_str(value: Any, where: str, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise DatasetFormatError(f"{where}: field {field!r} must be a non-empty string")


def record_format(record: Any, where: str = "record") -> RecordFormat:
    """Which format `record` is in; raises naming `where` and the field when none fits."""
    if not isinstance(record, Mapping):
        raise DatasetFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    fmt = _FORMAT_KEYS.get(frozenset(record))
    if fmt is None:
        raise DatasetFormatError(
            f"{where}: keys {sorted(record)} match no format; expected ['text'], ['prompt', 'response'] or ['messages']"
        )
    if fmt == "text":
        _nonempty_str(record["text"], where, "text")
    elif fmt == "prompt_response":
        _nonempty_str(record["prompt"], where, "prompt")
        _nonempty_str(record["response"], where, "response")
    else:
        _check_messages(record["messages"], where)
    return fmt


def _check_messages(messages: Any, where: str) -> None:
    if not isinstance(messages, list) or len(messages) < MIN_MESSAGES:
        raise DatasetFormatError(f"{where}: field 'messages' must be a list of at least {MIN_MESSAGES} turns")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
            raise DatasetFormatError(f"{where}: messages[{i}] must be an object with exactly 'role' and 'content'")
        if message["role"] not in _ROLES:
            raise DatasetFormatError(f"{where}: messages[{i}].role {message['role']!r} is not one of {list(_ROLES)}")
        _nonempty_str(message["content"], where, f"messages[{i}].content")
    if messages[-1]["role"] != "assistant":
        raise DatasetFormatError(f"{where}: the last message must have role 'assistant' (the trained turn)")
    if not any(m["role"] == "user" for m in messages):
        raise DatasetFormatError(f"{where}: messages must contain at least one 'user' turn")


def validate_records(records: Sequence[Any], first_index: int = 1) -> list[RecordFormat]:
    """Formats of all records; the error names the first bad example by its 1-based position."""
    if not records:
        raise DatasetFormatError("dataset: no examples")
    return [record_format(r, where=f"dataset example {i}") for i, r in enumerate(records, start=first_index)]


def canonical_line(record: Record) -> bytes:
    """Sorted-key compact UTF-8 JSON plus a newline: equal records give equal bytes."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def content_hash(records: Iterable[Record]) -> str:
    """sha256 of the canonical JSONL bytes: the dataset's identity in caches and the run corpus."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(canonical_line(record))
    return digest.hexdigest()


def read_dataset_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL dataset in any of the three formats; bad lines are named by line number."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset {path}: no such file")
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            record_format(record, where=f"{path}:{lineno}")
            records.append(record)
    if not records:
        raise DatasetFormatError(f"dataset {path}: no examples (the file is empty)")
    return records


@dataclass(frozen=True)
class RecordText:
    """What a record says, split by who says it: prompts are read, responses are trained on."""

    prompt: str
    response: str
    n_assistant_turns: int

    @property
    def full(self) -> str:
        return f"{self.prompt}\n{self.response}" if self.prompt else self.response


def record_text(record: Record) -> RecordText:
    """Plain-text view of a record (text records are all 'response': every token is trained)."""
    if "text" in record:
        return RecordText(prompt="", response=str(record["text"]), n_assistant_turns=0)
    if "prompt" in record:
        return RecordText(prompt=str(record["prompt"]), response=str(record["response"]), n_assistant_turns=1)
    messages = record["messages"]
    prompt = "\n".join(str(m["content"]) for m in messages if m["role"] != "assistant")
    response = "\n".join(str(m["content"]) for m in messages if m["role"] == "assistant")
    return RecordText(prompt=prompt, response=response, n_assistant_turns=sum(m["role"] == "assistant" for m in messages))
