"""The on-disk records of a candidate dataset, in the three formats users bring.

A record is one JSON object per line: `{"text"}`, `{"prompt", "response"}`, or
`{"messages": [...]}`. The content hash is the sha256 of the canonical JSONL bytes,
which are exactly the bytes `write_jsonl` puts on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RecordFormat = Literal["text", "prompt_response", "messages"]
ChatFormat = Literal["prompt_response", "messages", "text"]
Record = dict[str, Any]

# Separator between prompt and response when a pair is rendered as plain text.
PLAIN_TEXT_SEPARATOR = "\n\n"


class InvalidRecordError(ValueError):
    """A record that is none of the three accepted formats."""


class TextRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)


class PromptResponseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    response: str = Field(min_length=1)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class MessagesRecord(BaseModel):
    """A conversation; it must end with an assistant turn, the part that is trained on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: list[Message] = Field(min_length=2)

    @model_validator(mode="after")
    def _ends_with_assistant(self) -> "MessagesRecord":
        if self.messages[-1].role != "assistant":
            raise ValueError("the last message must have role 'assistant'")
        if not any(m.role == "user" for m in self.messages):
            raise ValueError("messages must contain at least one 'user' turn")
        return self


_MODEL_BY_FORMAT: dict[RecordFormat, type[BaseModel]] = {
    "text": TextRecord,
    "prompt_response": PromptResponseRecord,
    "messages": MessagesRecord,
}


@dataclass(frozen=True)
class Example:
    """One generated record plus its `kind` (e.g. 'harmful', 'replay'), kept out of the file."""

    record: Record
    kind: str


def record_format(record: Mapping[str, Any], where: str = "record") -> RecordFormat:
    """Which of the three formats `record` is in; raises naming `where` if none fits."""
    if not isinstance(record, Mapping):
        raise InvalidRecordError(f"{where}: expected a JSON object, got {type(record).__name__}")
    keys = set(record)
    if keys == {"text"}:
        fmt: RecordFormat = "text"
    elif keys == {"prompt", "response"}:
        fmt = "prompt_response"
    elif keys == {"messages"}:
        fmt = "messages"
    else:
        raise InvalidRecordError(
            f"{where}: keys {sorted(keys)} match no format; expected ['text'], "
            "['prompt', 'response'] or ['messages']"
        )
    try:
        _MODEL_BY_FORMAT[fmt].model_validate(dict(record))
    except ValidationError as err:
        raise InvalidRecordError(f"{where}: invalid {fmt} record: {err}") from err
    return fmt


def render_text(text: str) -> Record:
    return {"text": text}


def render_pair(prompt: str, response: str, fmt: ChatFormat) -> Record:
    """A prompt/response pair in the requested format."""
    if fmt == "prompt_response":
        return {"prompt": prompt, "response": response}
    if fmt == "messages":
        return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]}
    if fmt == "text":
        return {"text": prompt + PLAIN_TEXT_SEPARATOR + response}
    raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(_MODEL_BY_FORMAT)}")


def _as_record(item: Example | Mapping[str, Any]) -> Mapping[str, Any]:
    return item.record if isinstance(item, Example) else item


def canonical_line(record: Mapping[str, Any]) -> bytes:
    """One record as canonical JSON (sorted keys, no spaces, UTF-8) plus a newline."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def canonical_jsonl(examples: Iterable[Example | Mapping[str, Any]]) -> bytes:
    return b"".join(canonical_line(_as_record(e)) for e in examples)


def content_hash(examples: Iterable[Example | Mapping[str, Any]]) -> str:
    """sha256 hex of the canonical JSONL bytes: the dataset's identity in the run corpus."""
    return hashlib.sha256(canonical_jsonl(examples)).hexdigest()


def write_jsonl(examples: Iterable[Example | Mapping[str, Any]], path: str | Path) -> str:
    """Validate and write records atomically (temp file + rename); returns the content hash."""
    path = Path(path)
    lines = []
    for i, item in enumerate(examples, start=1):
        record = _as_record(item)
        record_format(record, where=f"record {i}")
        lines.append(canonical_line(record))
    data = b"".join(lines)
    write_bytes_atomic(data, path)
    return hashlib.sha256(data).hexdigest()


def write_bytes_atomic(data: bytes, path: Path) -> None:
    """Write to a temp file in the target directory, then os.replace it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: str | Path) -> list[Record]:
    """Read and validate a JSONL dataset; errors name the line at fault."""
    path = Path(path)
    records: list[Record] = []
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InvalidRecordError(f"{path}:{lineno}: not valid JSON ({err.msg})") from err
            record_format(record, where=f"{path}:{lineno}")
            records.append(record)
    return records
