"""The run-corpus store: an append-only directory of Parquet batch files.

One immutable file per ``append`` keeps concurrent writers from ever touching
the same bytes, and plain Parquet keeps the corpus readable by pyarrow,
DuckDB, Spark or Ray Data without our code. Temp and lock files start with a
dot, which those readers skip.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from surrogate.runs.lock import exclusive_lock, fsync_dir, stamped_name
from surrogate.runs.outcomes import CORE_OUTCOMES, order_outcomes
from surrogate.runs.record import RunRecord
from surrogate.runs.table import (
    RECORD_JSON_COLUMN,
    RUN_ID_COLUMN,
    records_to_table,
)

if TYPE_CHECKING:  # pyarrow is imported by the methods that touch Parquet, not at import
    import pyarrow as pa

logger = logging.getLogger(__name__)

STORE_FORMAT_VERSION: Final[str] = "1"
FORMAT_METADATA_KEY: Final[bytes] = b"tunecast.run_store.format_version"
BATCH_PREFIX: Final[str] = "runs-"
BATCH_SUFFIX: Final[str] = ".parquet"
TEMP_PREFIX: Final[str] = "." + BATCH_PREFIX
TEMP_SUFFIX: Final[str] = ".tmp"
LOCK_NAME: Final[str] = ".runs.lock"


class RunStoreError(ValueError):
    """The store's contents or an append request break a store invariant."""


class DuplicateRunError(RunStoreError):
    """A run id would appear twice in the corpus."""


class RunStoreConfig(BaseModel):
    """Knobs of the store's writer; defaults suit a local disk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lock_timeout_s: float = Field(default=120.0, gt=0)
    lock_poll_s: float = Field(default=0.02, gt=0)
    compression: str = "zstd"
    max_ids_in_error: int = Field(default=10, ge=1)


class RunStore:
    """Append-only Parquet store of :class:`RunRecord`, one file per batch."""

    def __init__(self, directory: str | os.PathLike[str], config: RunStoreConfig | None = None):
        self.directory = Path(directory)
        self.config = config if config is not None else RunStoreConfig()

    # ---- files -------------------------------------------------------------

    def batch_files(self) -> list[Path]:
        """Committed batch files in write order (names start with a UTC timestamp)."""
        if not self.directory.exists():
            return []
        if not self.directory.is_dir():
            raise RunStoreError(f"run store path {self.directory} is not a directory")
        return sorted(
            p
            for p in self.directory.iterdir()
            if p.name.startswith(BATCH_PREFIX) and p.name.endswith(BATCH_SUFFIX) and p.is_file()
        )

    def _stale_temp_files(self) -> list[Path]:
        return sorted(
            p
            for p in self.directory.iterdir()
            if p.name.startswith(TEMP_PREFIX) and p.name.endswith(TEMP_SUFFIX)
        )

    def _read_file(self, path: Path, columns: list[str]) -> pa.Table:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RunStoreError(
                f"batch file {path} is unreadable ({exc}); move it out of the store to recover"
            ) from exc
        metadata = table.schema.metadata or {}
        version = metadata.get(FORMAT_METADATA_KEY)
        if version != STORE_FORMAT_VERSION.encode():
            raise RunStoreError(
                f"batch file {path} has store format version {version!r}, this code reads "
                f"{STORE_FORMAT_VERSION!r}"
            )
        return table

    # ---- reading -----------------------------------------------------------

    def _ids_by_file(self) -> dict[str, Path]:
        """Every stored run id and the file holding it; a repeat is a broken store."""
        seen: dict[str, Path] = {}
        for path in self.batch_files():
            for run_id in self._read_file(path, [RUN_ID_COLUMN]).column(RUN_ID_COLUMN).to_pylist():
                if run_id in seen:
                    raise DuplicateRunError(
                        f"run id {run_id!r} is stored in both {seen[run_id].name} and "
                        f"{path.name}; remove one of the files"
                    )
                seen[run_id] = path
        return seen

    def run_ids(self) -> list[str]:
        """Stored run ids in write order."""
        return list(self._ids_by_file())

    def read(self) -> list[RunRecord]:
        """All records in write order, rebuilt from the ``record_json`` column."""
        records: list[RunRecord] = []
        seen: dict[str, str] = {}
        for path in self.batch_files():
            table = self._read_file(path, [RUN_ID_COLUMN, RECORD_JSON_COLUMN])
            ids = table.column(RUN_ID_COLUMN).to_pylist()
            texts = table.column(RECORD_JSON_COLUMN).to_pylist()
            for row, (run_id, text) in enumerate(zip(ids, texts, strict=True)):
                try:
                    record = RunRecord.model_validate_json(text)
                except ValidationError as exc:
                    raise RunStoreError(
                        f"{path.name} row {row} (run {run_id!r}) does not validate as a "
                        f"RunRecord: {exc}"
                    ) from exc
                if record.run_id != run_id:
                    raise RunStoreError(
                        f"{path.name} row {row}: run_id column {run_id!r} disagrees with "
                        f"record_json run_id {record.run_id!r}"
                    )
                if run_id in seen:
                    raise DuplicateRunError(
                        f"run id {run_id!r} is stored in both {seen[run_id]} and {path.name}; "
                        "remove one of the files"
                    )
                seen[run_id] = path.name
                records.append(record)
        return records

    def to_table(self) -> pa.Table:
        """One flat row per run, with a ``delta.<outcome>`` column for every outcome
        seen in any run (breakdowns included) and the full record as JSON."""
        records = self.read()
        names = order_outcomes({name for r in records for name in r.final.deltas})
        return records_to_table(records, names)

    def store_hash(self) -> str:
        """sha256 over run ids and canonical record JSON, sorted by run id, so the
        hash depends on what is stored, not on how it was batched."""
        digest = hashlib.sha256()
        for record in sorted(self.read(), key=lambda r: r.run_id):
            digest.update(record.run_id.encode())
            digest.update(b"\n")
            digest.update(record.canonical_json().encode())
            digest.update(b"\n")
        return digest.hexdigest()

    # ---- writing -----------------------------------------------------------

    def _refuse_duplicates(self, records: list[RunRecord], stored: dict[str, Path]) -> None:
        limit = self.config.max_ids_in_error
        batch_seen: set[str] = set()
        within = []
        for record in records:
            if record.run_id in batch_seen:
                within.append(record.run_id)
            batch_seen.add(record.run_id)
        if within:
            raise DuplicateRunError(
                f"batch repeats run ids {sorted(set(within))[:limit]}; each run id must be unique"
            )
        clash = sorted(batch_seen & stored.keys())
        if clash:
            raise DuplicateRunError(
                f"{len(clash)} run id(s) already stored in {self.directory}: {clash[:limit]} "
                f"(first in {stored[clash[0]].name}); the store is append-only, give new "
                "runs new ids"
            )

    def _remove_stale_temps(self) -> None:
        """Delete temp files of crashed writers; safe because writers only make
        temp files while holding the lock we now hold."""
        for path in self._stale_temp_files():
            logger.warning("removing %s left by an interrupted writer", path)
            path.unlink(missing_ok=True)

    def append(self, records: Iterable[RunRecord]) -> Path | None:
        """Write ``records`` as one new batch file; refuse any repeated run id.

        Returns the new file, or None when there was nothing to write.
        """
        batch = list(records)
        for i, record in enumerate(batch):
            if not isinstance(record, RunRecord):
                raise TypeError(f"records[{i}] is {type(record).__name__}, expected RunRecord")
        if not batch:
            return None
        import pyarrow.parquet as pq

        self.directory.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(
            self.directory / LOCK_NAME, self.config.lock_timeout_s, self.config.lock_poll_s
        ):
            self._remove_stale_temps()
            self._refuse_duplicates(batch, self._ids_by_file())
            table = records_to_table(batch, CORE_OUTCOMES)
            table = table.replace_schema_metadata({FORMAT_METADATA_KEY: STORE_FORMAT_VERSION})
            final = self.directory / stamped_name(BATCH_PREFIX, BATCH_SUFFIX)
            temp = self.directory / f".{final.name}{TEMP_SUFFIX}"
            try:
                pq.write_table(table, temp, compression=self.config.compression)
                with open(temp, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(temp, final)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            fsync_dir(self.directory)
        logger.info("appended %d run(s) to %s", len(batch), final)
        return final

