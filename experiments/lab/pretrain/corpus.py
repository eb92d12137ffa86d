"""Reading the lab corpus: plain text files whose documents are separated by a separator line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from experiments.lab.pretrain.config import DOCUMENT_SEPARATOR

TRAIN_FILENAME = "train.txt"
VALID_FILENAME = "valid.txt"
_HASH_CHUNK_BYTES = 1 << 20


def corpus_file(corpus_dir: Path, name: str) -> Path:
    """Path of one split, with an error that names the missing file."""
    path = Path(corpus_dir) / name
    if not path.is_file():
        raise FileNotFoundError(f"corpus split {name!r} not found at {path}; build the corpus first")
    return path


def iter_documents(path: Path) -> Iterator[str]:
    """Yield each non-empty document; a line equal to the separator ends a document.

    Streaming keeps memory flat for corpora of any size.
    """
    lines: list[str] = []
    with Path(path).open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.rstrip("\r\n") == DOCUMENT_SEPARATOR:
                text = "".join(lines).strip("\n")
                if text.strip():
                    yield text
                lines = []
            else:
                lines.append(line)
    text = "".join(lines).strip("\n")
    if text.strip():
        yield text


def iter_limited(documents: Iterator[str], max_chars: int | None) -> Iterator[str]:
    """Pass documents through until about ``max_chars`` characters have gone by."""
    seen = 0
    for doc in documents:
        if max_chars is not None and seen >= max_chars:
            return
        seen += len(doc)
        yield doc


def file_sha256(path: Path) -> str:
    """Content hash, used to tie a token cache to the exact text it came from."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
