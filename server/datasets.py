"""Candidate datasets from the wire: inline examples or a JSONL file inside the data roots.

Both become the featurizer's record dicts (``text`` | ``prompt``+``response`` |
``messages``) with the same canonical content hash the run corpus uses, so a
dataset is recognised whether it was sent inline or by reference.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from server.config import RequestLimits
from server.errors import invalid
from server.generated.tunecast.v1 import candidate_pb2
from server.paths import open_inside, resolve_inside

Record = Mapping[str, Any]
FORMATS: Final[dict[frozenset[str], str]] = {
    frozenset({"text"}): "text",
    frozenset({"prompt", "response"}): "prompt_response",
    frozenset({"messages"}): "messages",
}
ROLES: Final[tuple[str, ...]] = ("system", "user", "assistant")
MIN_MESSAGES: Final[int] = 2


@dataclass(frozen=True)
class DatasetInput:
    """The records of a candidate and the hash that identifies their content."""

    records: tuple[Record, ...]
    content_hash: str
    path: Path | None


def _nonempty(value: Any, where: str, key: str) -> None:
    if not isinstance(value, str) or not value:
        raise invalid(where, f"'{key}' must be a non-empty string")


def check_record(record: Any, where: str) -> Record:
    """The record unchanged, or INVALID_ARGUMENT naming the example and key at fault."""
    if not isinstance(record, Mapping):
        raise invalid(where, f"is a JSON {type(record).__name__}; expected an object")
    fmt = FORMATS.get(frozenset(record))
    if fmt is None:
        raise invalid(where, f"keys {sorted(record)[:5]} match no format; use text, prompt+response, or messages")
    if fmt == "text":
        _nonempty(record["text"], where, "text")
    elif fmt == "prompt_response":
        _nonempty(record["prompt"], where, "prompt")
        _nonempty(record["response"], where, "response")
    else:
        messages = record["messages"]
        if not isinstance(messages, list) or len(messages) < MIN_MESSAGES:
            raise invalid(where, f"'messages' must be a list of at least {MIN_MESSAGES} turns")
        for i, message in enumerate(messages):
            if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
                raise invalid(f"{where}.messages[{i}]", "must hold exactly 'role' and 'content'")
            if message["role"] not in ROLES:
                raise invalid(f"{where}.messages[{i}].role", f"{str(message['role'])[:40]!r} is not one of {list(ROLES)}")
            _nonempty(message["content"], f"{where}.messages[{i}]", "content")
        if messages[-1]["role"] != "assistant":
            raise invalid(f"{where}.messages", "the last turn must be the assistant's (the trained turn)")
        if not any(m["role"] == "user" for m in messages):
            raise invalid(f"{where}.messages", "needs at least one 'user' turn")
    return record


def content_hash(records: Sequence[Record]) -> str:
    """SHA-256 of the records as canonical JSON lines (sorted keys, compact, UTF-8)."""
    digest = hashlib.sha256()
    for record in records:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def _example_record(pb: candidate_pb2.Example) -> dict[str, Any]:
    """Only the fields the caller set, so a wrong mix is reported as such."""
    record: dict[str, Any] = {}
    if pb.text:
        record["text"] = pb.text
    if pb.prompt:
        record["prompt"] = pb.prompt
    if pb.response:
        record["response"] = pb.response
    if len(pb.messages):
        record["messages"] = [{"role": m.role, "content": m.content} for m in pb.messages]
    return record


def _example_chars(pb: candidate_pb2.Example) -> int:
    return len(pb.text) + len(pb.prompt) + len(pb.response) + sum(len(m.content) + len(m.role) for m in pb.messages)


def inline_examples(inline: candidate_pb2.InlineDataset, field: str, limits: RequestLimits) -> DatasetInput:
    count = len(inline.examples)
    if count == 0:
        raise invalid(f"{field}.examples", "is empty: send at least one example")
    if count > limits.max_inline_examples:
        raise invalid(
            f"{field}.examples",
            f"holds {count} examples; the inline limit is {limits.max_inline_examples} "
            "(put larger datasets under a data root and send dataset.path)",
        )
    total = 0
    records = []
    for i, pb in enumerate(inline.examples):
        total += _example_chars(pb)
        if total > limits.max_inline_bytes:
            raise invalid(
                f"{field}.examples[{i}]",
                f"inline examples exceed {limits.max_inline_bytes} characters in total; send dataset.path instead",
            )
        records.append(check_record(_example_record(pb), f"{field}.examples[{i}]"))
    return DatasetInput(tuple(records), content_hash(records), None)


def _parse_line(line: str, field: str, number: int) -> Record:
    where = f"{field} line {number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise invalid(where, f"is not JSON: {exc.msg} at column {exc.colno}") from None
    return check_record(record, where)


def file_examples(raw_path: str, field: str, limits: RequestLimits, roots: Sequence[Path]) -> DatasetInput:
    """Read a JSONL dataset that must lie inside the (real) data roots."""
    real = resolve_inside(raw_path, roots, field, "file", limits.max_path_chars)
    fd = open_inside(real, roots, field)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limits.max_dataset_file_bytes:
            raise invalid(field, f"the file holds {size} bytes; the limit is {limits.max_dataset_file_bytes}")
        data = handle.read(limits.max_dataset_file_bytes + 1)
    if len(data) > limits.max_dataset_file_bytes:
        raise invalid(field, f"the file grew past {limits.max_dataset_file_bytes} bytes while being read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(field, f"is not UTF-8 (byte {exc.start})") from None
    records = [
        _parse_line(line, field, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not records:
        raise invalid(field, "the file holds no examples")
    return DatasetInput(tuple(records), content_hash(records), real)


def dataset_input(
    dataset: candidate_pb2.Dataset, field: str, limits: RequestLimits, roots: Sequence[Path]
) -> DatasetInput:
    source = dataset.WhichOneof("source")
    if source == "inline":
        return inline_examples(dataset.inline, f"{field}.inline", limits)
    if source == "path":
        return file_examples(dataset.path, f"{field}.path", limits, roots)
    raise invalid(field, "set one of path (a file under the data roots) or inline (examples)")


def record_excerpt(record: Record, chars: int) -> str:
    """The start of what a record says, for previews."""
    if "text" in record:
        text = str(record["text"])
    elif "prompt" in record:
        text = f"{record['prompt']} {record['response']}"
    else:
        text = " ".join(str(m["content"]) for m in record["messages"])
    return text[:chars]
