"""A fitted model on disk: LightGBM text models plus versioned JSON sidecars.

Nothing here can execute code on load (no pickle): boosters are LightGBM
text, everything else JSON validated by pydantic, and every file is checked
against the SHA-256 that ``meta.json`` recorded. A model directory is written
under a temporary name and renamed into place, so a crash never leaves half
an artifact behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from pydantic import BaseModel, ValidationError

from surrogate.model.artifact_files import (
    ArtifactMeta,
    BoosterEntry,
    CalibrationFile,
    OODFile,
    SchemaFile,
    ScoreSet,
    TargetScores,
    TrainingProvenance,
    check_version,
)
from surrogate.model.boosters import POINT_OBJECTIVES, BoosterSpec, describe_model_text
from surrogate.model.conformal import REGIMES, CalibrationScores
from surrogate.model.errors import ArtifactError, SchemaMismatchError
from surrogate.model.estimator import ForecastModel
from surrogate.model.fitting import TargetCalibration, booster_roles
from surrogate.model.ood import FeatureStats
from surrogate.model.schema import parse_target
from surrogate.model.tree_text import TreeModelError

logger = logging.getLogger(__name__)

ARTIFACT_FORMAT_VERSION: Final[str] = "1"
META_FILE: Final[str] = "meta.json"
SCHEMA_FILE: Final[str] = "schema.json"
CALIBRATION_FILE: Final[str] = "calibration.json"
OOD_FILE: Final[str] = "ood.json"
METRICS_FILE: Final[str] = "metrics.json"
TRAINING_FILE: Final[str] = "training.json"
MODELS_DIR: Final[str] = "models"
_HASH_CHUNK: Final[int] = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _write_json(path: Path, payload: Any) -> None:
    try:
        text = json.dumps(payload, indent=1, allow_nan=False, sort_keys=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{path.name}: {exc} (only plain JSON values are stored: no NaN, infinity or numpy objects)"
        ) from exc
    _write_text(path, text + "\n")


def _lightgbm_version() -> str:
    """The LightGBM that trained the boosters (provenance only: loading never imports it)."""
    import lightgbm as lgb

    return lgb.__version__


def _optional(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def _booster_file(target_index: int, kind: str, base_level: float | None) -> str:
    suffix = "" if base_level is None else f"-{base_level!r}"
    return f"{MODELS_DIR}/t{target_index:03d}-{kind}{suffix}.txt"


def save_model(
    model: ForecastModel,
    directory: str | os.PathLike[str],
    *,
    corpus_hash: str,
    model_version: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    provenance: TrainingProvenance | None = None,
) -> Path:
    """Write ``model`` to the new directory ``directory`` and return its path."""
    final = Path(directory)
    if final.exists():
        raise FileExistsError(f"{final} already exists: model artifacts are immutable, pick a new directory")
    if not corpus_hash:
        raise ValueError("corpus_hash is empty: pass the hash of the run corpus the model was fitted on")
    if model_version is not None:
        check_version(model_version)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex}"
    temp.mkdir()
    try:
        _write_contents(model, temp, corpus_hash, model_version, metrics, provenance)
        _fsync_path(temp)
        os.rename(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _fsync_path(final.parent)
    logger.info("saved model to %s", final)
    return final


def _write_contents(
    model: ForecastModel,
    temp: Path,
    corpus_hash: str,
    model_version: str | None,
    metrics: Mapping[str, Any] | None,
    provenance: TrainingProvenance | None = None,
) -> None:
    (temp / MODELS_DIR).mkdir()
    target_index = {t: i for i, t in enumerate(model.targets_)}
    entries = []
    for spec in model.boosters_:
        rel = _booster_file(target_index[spec.target], spec.kind, spec.base_level)
        _write_text(temp / rel, spec.model_text)  # written by LightGBM with every iteration explicit
        entries.append(
            BoosterEntry(
                target=spec.target, kind=spec.kind, base_level=spec.base_level,
                alpha=spec.alpha, num_iteration=spec.num_iteration, file=rel,
            )
        )
    parsed = [parse_target(t) for t in model.targets_]
    schema_file = SchemaFile(
        features=model.schema_,
        targets=model.targets_,
        outcomes=tuple(dict.fromkeys(o for o, _ in parsed)),
        checkpoints=tuple(sorted({f for _, f in parsed})),
    )
    _write_json(temp / SCHEMA_FILE, schema_file.model_dump(mode="json"))
    calibration = CalibrationFile(
        score=model.config_.score,
        targets=tuple(
            TargetScores(
                target=c.target, width_floor=c.width_floor, n_train=c.n_train,
                scores=tuple(
                    ScoreSet(base_level=s.base_level, regime=s.regime, values=tuple(s.scores.tolist()))
                    for s in c.scores
                ),
            )
            for c in model.calibration_
        ),
    )
    _write_json(temp / CALIBRATION_FILE, calibration.model_dump(mode="json"))
    stats = model.feature_stats_
    ood = OODFile(
        minimum=tuple(_optional(stats.minimum)), maximum=tuple(_optional(stats.maximum)),
        median=tuple(stats.median.tolist()), mad=tuple(stats.mad.tolist()),
        seen_missing=tuple(bool(v) for v in stats.seen_missing),
        mean=tuple(stats.mean.tolist()), scale=tuple(stats.scale.tolist()),
        distance_columns=tuple(int(c) for c in stats.distance_columns),
        reference=tuple(tuple(row) for row in stats.reference.tolist()),
        distance_scale=stats.distance_scale,
    )
    _write_json(temp / OOD_FILE, ood.model_dump(mode="json"))
    if metrics is not None:
        _write_json(temp / METRICS_FILE, dict(metrics))
    if provenance is not None:
        _write_json(temp / TRAINING_FILE, provenance.model_dump(mode="json"))
    files = {
        p.relative_to(temp).as_posix(): file_sha256(p) for p in sorted(temp.rglob("*")) if p.is_file()
    }
    created = datetime.now(UTC)
    if model_version is None:
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        model_version = f"{created:%Y%m%dT%H%M%SZ}-{digest[:10]}"
    meta = ArtifactMeta(
        artifact_format_version=ARTIFACT_FORMAT_VERSION,
        model_version=model_version,
        created_at=created,
        corpus_hash=corpus_hash,
        lightgbm_version=_lightgbm_version(),
        schema_fingerprint=model.schema_.fingerprint(),
        config=model.config_,
        boosters=tuple(entries),
        files=files,
    )
    _write_json(temp / META_FILE, meta.model_dump(mode="json"))


# --------------------------------------------------------------------- loading
def _parse(directory: Path, name: str, model: type[BaseModel]) -> Any:
    path = directory / name
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{directory}: {name} is missing; not a complete model artifact") from exc
    except ValidationError as exc:
        raise ArtifactError(f"{directory}/{name} is invalid: {exc}") from exc


def read_meta(directory: str | os.PathLike[str]) -> ArtifactMeta:
    """Parse ``meta.json`` and check the artifact format version."""
    root = Path(directory)
    raw = root / META_FILE
    if raw.is_file():
        try:
            version = json.loads(raw.read_bytes()).get("artifact_format_version")
        except (ValueError, AttributeError) as exc:
            raise ArtifactError(f"{raw} is not a JSON object: {exc}") from exc
        if version != ARTIFACT_FORMAT_VERSION:
            raise ArtifactError(
                f"{raw}: artifact_format_version {version!r} is not supported "
                f"(this tunecast reads {ARTIFACT_FORMAT_VERSION!r})"
            )
    return _parse(root, META_FILE, ArtifactMeta)


def read_training_provenance(directory: str | os.PathLike[str]) -> TrainingProvenance | None:
    """``training.json`` of an artifact, or None for artifacts saved without one."""
    root = Path(directory)
    if not (root / TRAINING_FILE).is_file():
        return None
    return _parse(root, TRAINING_FILE, TrainingProvenance)


def verify_artifact(directory: str | os.PathLike[str]) -> ArtifactMeta:
    """Check that exactly the files ``meta.json`` lists are present, byte for byte."""
    root = Path(directory)
    if not root.is_dir():
        raise ArtifactError(f"{root} is not a directory")
    meta = read_meta(root)
    links = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_symlink()]
    if links:
        raise ArtifactError(f"{root}: symbolic links are not allowed in an artifact: {links[:5]}")
    on_disk = {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != META_FILE
    }
    missing = sorted(set(meta.files) - on_disk)
    extra = sorted(on_disk - set(meta.files))
    if missing:
        raise ArtifactError(f"{root}: files listed in meta.json are missing: {missing[:5]}")
    if extra:
        raise ArtifactError(f"{root}: files not listed in meta.json: {extra[:5]}; the artifact was altered")
    for rel, expected in meta.files.items():
        if file_sha256(root / rel) != expected:
            raise ArtifactError(f"{root}/{rel}: SHA-256 differs from meta.json; the file was altered")
    for required in (SCHEMA_FILE, CALIBRATION_FILE, OOD_FILE):
        if required not in meta.files:
            raise ArtifactError(f"{root}: meta.json does not list {required}")
    return meta


def _check_boosters(meta: ArtifactMeta, schema_file: SchemaFile, root: Path) -> list[BoosterSpec]:
    """Read each booster text and check it against meta.json and the schema before
    any of it is compiled for prediction."""
    config = meta.config
    roles = booster_roles(config.base_levels)
    expected = [(t, kind, level, alpha) for t in schema_file.targets for kind, level, alpha in roles]
    got = [(b.target, b.kind, b.base_level, b.alpha) for b in meta.boosters]
    if got != expected:
        raise ArtifactError(
            f"{root}/{META_FILE}: boosters do not match targets x roles of the config "
            f"(expected {len(expected)} entries starting {expected[:2]}, got {len(got)} starting {got[:2]})"
        )
    names = schema_file.features.feature_names
    point_objective = POINT_OBJECTIVES[config.point_objective]
    specs = []
    for entry in meta.boosters:
        where = f"{root}/{entry.file}"
        if entry.file not in meta.files or not entry.file.startswith(f"{MODELS_DIR}/"):
            raise ArtifactError(f"{root}/{META_FILE}: booster file {entry.file!r} is not a listed models/ file")
        text = (root / entry.file).read_text(encoding="utf-8")
        try:
            info = describe_model_text(text)
        except ValueError as exc:
            raise ArtifactError(f"{where}: {exc}") from exc
        if info.feature_names != names:
            diff = next(
                (i for i, (a, b) in enumerate(zip(info.feature_names, names)) if a != b),
                min(len(names), len(info.feature_names)),
            )
            raise SchemaMismatchError(
                f"{where}: feature_names differ from schema.json at position {diff} "
                f"({len(info.feature_names)} vs {len(names)} features)"
            )
        if info.num_tree_per_iteration != 1 or info.n_trees != entry.num_iteration:
            raise ArtifactError(
                f"{where}: holds {info.n_trees} trees ({info.num_tree_per_iteration} per iteration), "
                f"meta.json says {entry.num_iteration} iterations of one tree"
            )
        wanted = point_objective if entry.kind == "point" else "quantile"
        if info.objective != wanted:
            raise ArtifactError(
                f"{where}: objective {info.objective!r}, expected {wanted!r} for a {entry.kind} booster"
            )
        if entry.kind != "point" and (info.alpha is None or not np.isclose(info.alpha, entry.alpha or 0.0)):
            raise ArtifactError(
                f"{where}: quantile alpha {info.alpha} differs from meta.json alpha {entry.alpha}"
            )
        specs.append(
            BoosterSpec(entry.target, entry.kind, entry.base_level, entry.alpha, entry.num_iteration, text, where)
        )
    return specs


def _calibrations(
    calibration: CalibrationFile, meta: ArtifactMeta, targets: tuple[str, ...], root: Path
) -> list[TargetCalibration]:
    where = f"{root}/{CALIBRATION_FILE}"
    if calibration.score != meta.config.score:
        raise ArtifactError(
            f"{where}: score {calibration.score!r} differs from config score {meta.config.score!r}"
        )
    got_targets = tuple(t.target for t in calibration.targets)
    if got_targets != targets:
        raise ArtifactError(f"{where}: targets {list(got_targets)[:3]}... differ from schema.json targets")
    wanted = {(level, regime) for level in meta.config.base_levels for regime in REGIMES}
    out = []
    for t in calibration.targets:
        keys = {(s.base_level, s.regime) for s in t.scores}
        if keys != wanted or len(t.scores) != len(wanted):
            raise ArtifactError(
                f"{where}: target {t.target!r} has score sets {sorted(keys)}, expected {sorted(wanted)}"
            )
        scores = tuple(
            CalibrationScores(t.target, s.base_level, s.regime, np.asarray(s.values, dtype=np.float64))
            for s in t.scores
        )
        out.append(TargetCalibration(t.target, t.width_floor, t.n_train, scores))
    return out


def _feature_stats(ood: OODFile, n_features: int, root: Path) -> FeatureStats:
    where = f"{root}/{OOD_FILE}"
    per_feature = {
        "minimum": ood.minimum, "maximum": ood.maximum, "median": ood.median, "mad": ood.mad,
        "seen_missing": ood.seen_missing, "mean": ood.mean, "scale": ood.scale,
    }
    for name, values in per_feature.items():
        if len(values) != n_features:
            raise ArtifactError(
                f"{where}: {name} has {len(values)} entries, the schema has {n_features} features"
            )
    columns = np.asarray(ood.distance_columns, dtype=np.intp)
    if columns.size and (columns.min() < 0 or columns.max() >= n_features):
        raise ArtifactError(f"{where}: distance_columns point outside the {n_features} features")
    reference = np.asarray(ood.reference, dtype=np.float64).reshape(len(ood.reference), -1)
    if reference.shape[0] and reference.shape[1] != columns.size:
        raise ArtifactError(
            f"{where}: reference rows have {reference.shape[1]} columns, expected {columns.size}"
        )
    reference = reference.reshape(reference.shape[0], columns.size)
    return FeatureStats(
        minimum=np.array([np.inf if v is None else v for v in ood.minimum], dtype=np.float64),
        maximum=np.array([-np.inf if v is None else v for v in ood.maximum], dtype=np.float64),
        median=np.asarray(ood.median, dtype=np.float64),
        mad=np.asarray(ood.mad, dtype=np.float64),
        seen_missing=np.asarray(ood.seen_missing, dtype=bool),
        mean=np.asarray(ood.mean, dtype=np.float64),
        scale=np.asarray(ood.scale, dtype=np.float64),
        distance_columns=columns,
        reference=reference,
        distance_scale=ood.distance_scale,
    )


def load_model(directory: str | os.PathLike[str]) -> ForecastModel:
    """Read a model directory, verifying hashes, schema, boosters and calibration."""
    root = Path(directory)
    meta = verify_artifact(root)
    schema_file: SchemaFile = _parse(root, SCHEMA_FILE, SchemaFile)
    if schema_file.features.fingerprint() != meta.schema_fingerprint:
        raise SchemaMismatchError(
            f"{root}/{SCHEMA_FILE}: schema fingerprint {schema_file.features.fingerprint()} differs "
            f"from meta.json schema_fingerprint {meta.schema_fingerprint}"
        )
    specs = _check_boosters(meta, schema_file, root)
    calibration_file = _parse(root, CALIBRATION_FILE, CalibrationFile)
    calibrations = _calibrations(calibration_file, meta, schema_file.targets, root)
    stats = _feature_stats(_parse(root, OOD_FILE, OODFile), schema_file.features.n_features, root)
    model = ForecastModel(meta.config)
    try:
        model._set_fitted(meta.config, schema_file.features, schema_file.targets, specs, calibrations, stats)
    except TreeModelError as exc:  # the message names the booster file and tree
        raise ArtifactError(str(exc)) from exc
    model.model_version_ = meta.model_version
    return model
