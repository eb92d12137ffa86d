"""Writing and reading corpus splits: documents separated by the line `<|endoftext|>`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from featurizers.chat_format import DOC_TOKEN
from featurizers.io import write_json_atomic


def write_documents(path: Path, documents: Iterable[str]) -> None:
    """Each document, then a newline if it lacks one, then the separator line; written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for document in documents:
            if DOC_TOKEN in document:
                raise ValueError(f"a document contains the separator {DOC_TOKEN!r}: {document[:80]!r}")
            handle.write(document if document.endswith("\n") else document + "\n")
            handle.write(DOC_TOKEN + "\n")
    os.replace(tmp, path)


def read_documents(path: Path) -> Iterator[str]:
    """Documents of a split, each with its trailing newline (so chat exchanges come back exactly)."""
    lines: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.rstrip("\n") == DOC_TOKEN:
                yield "".join(lines)
                lines = []
            else:
                lines.append(line)
    if "".join(lines).strip():
        yield "".join(lines)


def write_json(path: Path, payload: Any) -> None:
    write_json_atomic(path, payload, sort_keys=False)


def text_stats(documents: list[str]) -> dict[str, int]:
    """Characters, whitespace-separated words and documents, the units composition.json reports."""
    return {
        "chars": sum(len(d) for d in documents),
        "words": sum(len(d.split()) for d in documents),
        "documents": len(documents),
    }
