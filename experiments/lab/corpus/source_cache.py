"""Per-source caches of cleaned paragraphs (`<out>/sources/<name>.jsonl`), reused while their inputs match.

The cache holds every cleaned paragraph of a source (deduplicated within the source), not only
the part that enters pretraining, so later dataset families can draw text the model never saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from experiments.lab.corpus.config import CorpusConfig
from experiments.lab.corpus.sources import get_extractor
from experiments.lab.corpus.text_cleaning import Deduplicator, clean_paragraphs

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
_PACKAGE_DIR = Path(__file__).parent


@dataclass
class SourceCache:
    """A source's cleaned paragraphs and how many within-source duplicates were dropped."""

    name: str
    paragraphs: list[str]
    exact_duplicates: int
    normalized_duplicates: int
    reused: bool


def _fingerprint(name: str, cfg: CorpusConfig) -> str:
    """Hash of the code and settings that produce a cache, so a changed extractor rebuilds it."""
    digest = hashlib.sha256()
    digest.update(str(CACHE_FORMAT_VERSION).encode())
    digest.update(cfg.cleaning.model_dump_json().encode())
    for rel in (f"sources/{name}.py", "sources/dictd.py", "text_cleaning.py"):
        path = _PACKAGE_DIR / rel
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _read_cache(path: Path) -> list[str]:
    paragraphs = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{line_no}: expected an object with a string field 'text'")
            paragraphs.append(row["text"])
    return paragraphs


def load_or_build(name: str, cfg: CorpusConfig, sources_dir: Path, reuse: bool = True) -> SourceCache:
    """The source's cleaned paragraphs, from its cache when the fingerprint matches, else extracted anew."""
    cache_path = sources_dir / f"{name}.jsonl"
    meta_path = sources_dir / f"{name}.meta.json"
    fingerprint = _fingerprint(name, cfg)
    if reuse and cache_path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("fingerprint") == fingerprint:
            logger.info("reusing source cache %s", cache_path)
            return SourceCache(
                name, _read_cache(cache_path), meta["exact_duplicates"], meta["normalized_duplicates"], True
            )
    extractor = get_extractor(name)
    dedup = Deduplicator()
    paragraphs = []
    raw = tqdm(extractor(cfg), desc=f"extract {name}", unit=" para", mininterval=2.0)
    for paragraph in clean_paragraphs(raw, cfg.cleaning):
        if dedup.keep(paragraph, name):
            paragraphs.append(paragraph)
    sources_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(cache_path, "".join(json.dumps({"text": p}, ensure_ascii=False) + "\n" for p in paragraphs))
    meta = {
        "fingerprint": fingerprint,
        "paragraphs": len(paragraphs),
        "chars": sum(len(p) for p in paragraphs),
        "exact_duplicates": dedup.exact_dropped.get(name, 0),
        "normalized_duplicates": dedup.normalized_dropped.get(name, 0),
    }
    _write_atomic(meta_path, json.dumps(meta, indent=2) + "\n")
    return SourceCache(name, paragraphs, meta["exact_duplicates"], meta["normalized_duplicates"], False)
