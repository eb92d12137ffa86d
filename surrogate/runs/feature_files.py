"""Pre-run features of a run corpus, stored beside it as plain Parquet (no torch here).

Layout: ``CORPUS/features/<featurizer_version>-<fingerprint>/`` holds ``schema.json``
(the featurizer's FeatureSchema), ``featurizer_config.json`` (the settings behind the
values), ``part-<UTC timestamp>-<uuid>.parquet`` files of rows keyed by ``run_id`` and
``failed.jsonl``. Parts are immutable and written temp + rename under a lock, so a
killed writer loses only unflushed rows and no run id is ever stored twice. The
featurizer (experiments) writes them; the training table (surrogate) reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from surrogate.runs.lock import exclusive_lock, fsync_dir, stamped_name
from surrogate.runs.observations import OBSERVATION_PREFIX
from surrogate.runs.record import Recipe

logger = logging.getLogger(__name__)

FEATURES_DIR: Final[str] = "features"
SCHEMA_NAME: Final[str] = "schema.json"
CONFIG_NAME: Final[str] = "featurizer_config.json"
FAILED_NAME: Final[str] = "failed.jsonl"
PART_PREFIX: Final[str] = "part-"
PART_SUFFIX: Final[str] = ".parquet"
TEMP_SUFFIX: Final[str] = ".tmp"
LOCK_NAME: Final[str] = ".features.lock"
LOCK_TIMEOUT_S: Final[float] = 120.0
LOCK_POLL_S: Final[float] = 0.05
COMPRESSION: Final[str] = "zstd"
FINGERPRINT_CHARS: Final[int] = 16
FORMAT_METADATA_KEY: Final[bytes] = b"tunecast.features.format_version"
FORMAT_VERSION: Final[str] = "1"

RUN_ID_COLUMN: Final[str] = "run_id"
KEY_COLUMNS: Final[tuple[str, ...]] = (
    RUN_ID_COLUMN, "dataset_hash", "base_hash", "recipe_key", "featurizer_version", "projection_kind",
)
"""String columns before the features: the join key (run_id) and what the row was computed from."""

FEATURIZE_COMMAND: Final[str] = "tunecast corpus featurize DIR --model SPEC"


class FeatureFilesError(ValueError):
    """Stored features that are missing, unreadable or inconsistent with their runs."""


def canonical_json(data: Any) -> str:
    """Key-sorted compact JSON, the same canonical form the featurizer cache hashes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def recipe_key(recipe: Recipe) -> str:
    """sha256 of the recipe as the featurizer cache keys it (every field: all of them shape some feature)."""
    return hashlib.sha256(canonical_json(recipe.model_dump(mode="json")).encode("utf-8")).hexdigest()


def stored_feature_names(schema_names: Sequence[str]) -> tuple[str, ...]:
    """The pre-run features of a schema: everything except the early-run observations (`obs.*`)."""
    return tuple(n for n in schema_names if not n.startswith(OBSERVATION_PREFIX))


def feature_dir_name(schema: Mapping[str, Any], config_material: Mapping[str, Any]) -> str:
    """`<featurizer_version>-<fingerprint>`; the fingerprint covers the schema and the value-changing
    settings, so features from other settings land in another directory instead of mixing."""
    text = canonical_json({"schema": dict(schema), "config": dict(config_material)})
    return f"{schema['featurizer_version']}-{hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS]}"


def features_root(corpus_dir: str | os.PathLike[str]) -> Path:
    return Path(corpus_dir) / FEATURES_DIR


def feature_dirs(corpus_dir: str | os.PathLike[str]) -> list[Path]:
    """Feature directories (those holding a schema.json) of a corpus, by name."""
    root = features_root(corpus_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / SCHEMA_NAME).is_file())


def part_files(feature_dir: Path) -> list[Path]:
    """Committed part files in write order (names start with a UTC timestamp); dot-temps are skipped."""
    if not feature_dir.is_dir():
        return []
    return sorted(p for p in feature_dir.iterdir()
                  if p.name.startswith(PART_PREFIX) and p.name.endswith(PART_SUFFIX) and p.is_file())


def read_json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FeatureFilesError(f"{path} cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FeatureFilesError(f"{path} must hold a JSON object")
    return data


def _read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FeatureFilesError(f"feature part {path} is unreadable ({exc}); delete it to recompute its runs") from exc
    version = (table.schema.metadata or {}).get(FORMAT_METADATA_KEY)
    if version != FORMAT_VERSION.encode():
        raise FeatureFilesError(f"feature part {path} has format version {version!r}, this code reads {FORMAT_VERSION!r}")
    return table


def stored_run_ids(feature_dir: Path) -> dict[str, Path]:
    """Every featurized run id and its part file; a repeat is a broken directory."""
    seen: dict[str, Path] = {}
    for path in part_files(feature_dir):
        for run_id in _read_part(path, [RUN_ID_COLUMN]).column(RUN_ID_COLUMN).to_pylist():
            if run_id in seen:
                raise FeatureFilesError(f"run id {run_id!r} is featurized in both {seen[run_id].name} and "
                                        f"{path.name}; delete one of the files")
            seen[run_id] = path
    return seen


def read_features(feature_dir: Path, feature_names: Sequence[str]) -> pa.Table:
    """All part files as one table with the key columns then `feature_names`, in write order."""
    columns = [*KEY_COLUMNS, *feature_names]
    tables = []
    for path in part_files(feature_dir):
        table = _read_part(path)
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise FeatureFilesError(f"feature part {path} lacks columns {missing[:5]} of {feature_dir / SCHEMA_NAME}; "
                                    "delete it to recompute its runs")
        tables.append(table.select(columns).replace_schema_metadata(None))
    if not tables:
        return pa.table({c: pa.array([], pa.string() if c in KEY_COLUMNS else pa.float64()) for c in columns})
    stored_run_ids(feature_dir)  # refuse repeated run ids
    return pa.concat_tables(tables)


def part_schema(feature_names: Sequence[str]) -> pa.Schema:
    fields = [pa.field(c, pa.string(), nullable=False) for c in KEY_COLUMNS]
    fields += [pa.field(name, pa.float64()) for name in feature_names]
    return pa.schema(fields, metadata={FORMAT_METADATA_KEY: FORMAT_VERSION.encode()})


def write_part(feature_dir: Path, feature_names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Path | None:
    """Append `rows` as one new part file (temp + rename, under the directory lock).

    Rows whose run id another writer stored meanwhile are dropped, so two writers on one
    corpus waste work but never duplicate a run. Returns the new file, or None if nothing was new.
    """
    feature_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(feature_dir / LOCK_NAME, LOCK_TIMEOUT_S, LOCK_POLL_S):
        for stale in feature_dir.glob(f".{PART_PREFIX}*{TEMP_SUFFIX}"):
            logger.warning("removing %s left by an interrupted writer", stale)
            stale.unlink(missing_ok=True)
        stored = stored_run_ids(feature_dir)
        fresh = [row for row in rows if row[RUN_ID_COLUMN] not in stored]
        if len(fresh) < len(rows):
            logger.warning("%d run(s) were featurized meanwhile by another writer; keeping theirs", len(rows) - len(fresh))
        if not fresh:
            return None
        table = pa.Table.from_pylist(list(fresh), schema=part_schema(feature_names))
        final = feature_dir / stamped_name(PART_PREFIX, PART_SUFFIX)
        temp = feature_dir / f".{final.name}{TEMP_SUFFIX}"
        try:
            pq.write_table(table, temp, compression=COMPRESSION)
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        fsync_dir(feature_dir)
    logger.info("wrote %d featurized run(s) to %s", len(fresh), final)
    return final
