"""The log of runs that could not produce a record (e.g. diverged), kept beside the store.

A failed config fails again when rerun (runs are deterministic), so resume skips
the ids listed here unless asked to retry. Rewritten whole (temp + rename) on
every addition: it stays small, and a crash never leaves half a line.
"""

from __future__ import annotations

import json
from pathlib import Path

from experiments.corpus_builder.sampler import RunConfig
from featurizers.io import write_text_atomic

FAILURES_NAME = "failed_runs.jsonl"


def read_run_entries(path: Path) -> list[dict[str, object]]:
    """The JSON objects of a run-keyed JSONL log (each with a string 'run_id'); [] if absent."""
    if not path.is_file():
        return []
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg}); fix or delete the line") from exc
        if not isinstance(entry, dict) or not isinstance(entry.get("run_id"), str):
            raise ValueError(f"{path}:{lineno}: expected an object with a string 'run_id'")
        entries.append(entry)
    return entries


class FailureLog:
    """failed_runs.jsonl in a corpus directory: one {"run_id", "error", "config"} per line."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FAILURES_NAME

    def entries(self) -> list[dict[str, object]]:
        return read_run_entries(self.path)

    def run_ids(self) -> set[str]:
        return {str(e["run_id"]) for e in self.entries()}

    def add(self, run_id: str, error: str, config: RunConfig) -> None:
        kept = [e for e in self.entries() if e["run_id"] != run_id]
        kept.append({"run_id": run_id, "error": error, "config": config.model_dump(mode="json")})
        text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in kept)
        write_text_atomic(self.path, text)
