"""From the ``CANDIDATE...`` arguments of ``tunecast score`` to candidates and their records.

An argument is a dataset file (``.jsonl`` / ``.parquet``: one candidate), a directory
(every dataset file below it, recursively, in sorted path order: one candidate each) or a
manifest (``.json`` / ``.yaml``: one candidate per named dataset or mixture, see
``server.scoring.manifest``). Discovery only looks at names; records are read one
candidate at a time (``load_candidate``), so a batch of thousands never holds them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from server.scoring.manifest import (
    Manifest,
    ManifestError,
    is_manifest,
    read_manifest,
    resolve_entry_path,
)
from server.scoring.mixing import mix
from server.scoring.results import SkippedCandidate, SourceFile
from server.scoring.sources import DATA_SUFFIXES, SourceError, is_data_file, read_source


@dataclass(frozen=True)
class CandidateSpec:
    """What a candidate is made of; ``weights`` is None for a single file scored as it is."""

    candidate_id: str
    name: str
    paths: tuple[Path, ...]
    weights: tuple[float, ...] | None = None
    size: int | None = None
    seed: int = 0


class Candidate(BaseModel):
    """A candidate with its records, ready to featurize (JSON-able: it travels to Ray workers)."""

    model_config = ConfigDict(frozen=True)

    candidate_id: str
    name: str
    sources: tuple[SourceFile, ...]
    records: list[dict[str, Any]]


@dataclass
class Discovery:
    specs: list[CandidateSpec]
    skipped: list[SkippedCandidate]


class _Ids:
    """Candidate ids are the names, made unique with a ``~2``, ``~3`` suffix when names repeat."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        count = self._seen.get(name, 0) + 1
        self._seen[name] = count
        return name if count == 1 else f"{name}~{count}"


def _manifest_specs(path: Path, manifest: Manifest, ids: _Ids) -> list[CandidateSpec]:
    specs = [CandidateSpec(ids(d.name), d.name, (resolve_entry_path(path, d.path),)) for d in manifest.datasets]
    for m in manifest.mixtures:
        specs.append(CandidateSpec(
            ids(m.name), m.name, tuple(resolve_entry_path(path, c.path) for c in m.components),
            weights=tuple(c.weight for c in m.components), size=m.size, seed=m.seed,
        ))
    return specs


def discover(arguments: Sequence[str | Path]) -> Discovery:
    """Candidate specs of every argument; arguments that name nothing scorable go to ``skipped``."""
    ids = _Ids()
    found = Discovery([], [])
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files = sorted((p for p in path.rglob("*") if p.is_file() and is_data_file(p)),
                           key=lambda p: p.relative_to(path).as_posix())
            if not files:
                found.skipped.append(SkippedCandidate(
                    name=str(argument), path=str(path),
                    reason=f"the directory holds no dataset files ({', '.join(DATA_SUFFIXES)})"))
            found.specs.extend(CandidateSpec(ids(str(f)), str(f), (f,)) for f in files)
        elif not path.exists():
            found.skipped.append(SkippedCandidate(name=str(argument), path=str(path),
                                                  reason="no such file or directory"))
        elif is_data_file(path):
            found.specs.append(CandidateSpec(ids(str(argument)), str(argument), (path,)))
        elif is_manifest(path):
            try:
                found.specs.extend(_manifest_specs(path, read_manifest(path), ids))
            except (ManifestError, OSError, UnicodeDecodeError) as exc:
                found.skipped.append(SkippedCandidate(name=str(argument), path=str(path), reason=str(exc)))
        else:
            found.skipped.append(SkippedCandidate(
                name=str(argument), path=str(path),
                reason=f"unknown file type {path.suffix!r}: give .jsonl or .parquet datasets, a directory of them, "
                       "or a .json/.yaml manifest"))
    return found


def load_candidate(spec: CandidateSpec) -> Candidate:
    """Read (and for a mixture, mix) the candidate's records; ``SourceError`` names the bad file and line."""
    if spec.weights is None:
        source = read_source(spec.paths[0])
        return Candidate(candidate_id=spec.candidate_id, name=spec.name, records=source.records,
                         sources=(SourceFile(path=str(source.path), n_examples=len(source.records)),))
    components = [read_source(path).records for path in spec.paths]
    mixed = mix(components, spec.weights, spec.size, spec.seed)
    sources = tuple(SourceFile(path=str(p), weight=w, n_examples=c)
                    for p, w, c in zip(spec.paths, mixed.weights, mixed.counts))
    return Candidate(candidate_id=spec.candidate_id, name=spec.name, sources=sources, records=mixed.records)


def skipped_for(spec: CandidateSpec, error: SourceError) -> SkippedCandidate:
    return SkippedCandidate(name=spec.name, path=error.path, line=error.line, reason=error.reason)
