"""The served model as an immutable snapshot behind one swappable reference.

A request reads the reference once and uses that snapshot to the end, so a
reload never fails or mixes a request: the new model is loaded and checked
fully before the swap, and the old one lives until its last request ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from server.errors import failed_precondition, unavailable
from server.paths import real_roots, resolve_inside
from surrogate.model import ArtifactMeta, FeatureSchema, ForecastModel, ModelRegistry, parse_target, read_meta
from surrogate.model.artifact import METRICS_FILE

logger = logging.getLogger(__name__)

REGISTRY_POINTER = "CURRENT"
REGISTRY_MODELS = "models"
ARTIFACT_MARKER = "meta.json"


@dataclass(frozen=True)
class ServingModel:
    """Everything a request needs from the model, computed once at load."""

    model: ForecastModel
    version: str
    schema: FeatureSchema
    feature_index: Mapping[str, int]
    observation_features: frozenset[str]
    targets: tuple[tuple[str, float], ...]
    outcomes: tuple[str, ...]
    checkpoints: tuple[float, ...]
    default_levels: tuple[float, ...]
    meta: ArtifactMeta
    metrics: Mapping[str, Any] | None
    train_rows: tuple[int, ...]
    calibration_rows: tuple[int, ...]
    source: Path
    loaded_at: datetime

    @property
    def featurizer_version(self) -> str:
        return self.schema.featurizer_version


def _read_metrics(directory: Path, meta: ArtifactMeta) -> Mapping[str, Any] | None:
    """metrics.json, checked against the hash meta.json recorded (artifacts are immutable)."""
    expected = meta.files.get(METRICS_FILE)
    if expected is None:
        return None
    raw = (directory / METRICS_FILE).read_bytes()
    if hashlib.sha256(raw).hexdigest() != expected:
        raise ValueError(f"{directory}/{METRICS_FILE}: SHA-256 differs from meta.json; the file was altered")
    metrics = json.loads(raw)
    if not isinstance(metrics, dict):
        raise ValueError(f"{directory}/{METRICS_FILE} holds a {type(metrics).__name__}, not a JSON object")
    return metrics


def load_serving_model(directory: Path) -> ServingModel:
    """Load and verify an artifact directory, then run one forecast on the training
    medians so a model that cannot predict is refused before it is served."""
    model = ForecastModel.load(directory)
    meta = read_meta(directory)
    schema = model.schema_
    median = np.asarray(model.feature_stats_.median, dtype=np.float64)[None, :]
    probe = model.predict(median)
    if not np.all(np.isfinite(probe.point)):
        raise ValueError(f"{directory}: the model forecasts non-finite values on the training medians")
    targets = tuple(parse_target(t) for t in model.targets_)
    sizes = model.calibration_sizes()
    return ServingModel(
        model=model,
        version=meta.model_version,
        schema=schema,
        feature_index=MappingProxyType({n: i for i, n in enumerate(schema.feature_names)}),
        observation_features=frozenset(schema.feature_names[i] for i in schema.observation_indices),
        targets=targets,
        outcomes=tuple(dict.fromkeys(o for o, _ in targets)),
        checkpoints=tuple(sorted({c for _, c in targets})),
        default_levels=tuple(model.config_.levels),
        meta=meta,
        metrics=_read_metrics(directory, meta),
        train_rows=tuple(int(c.n_train) for c in model.calibration_),
        calibration_rows=tuple(int(sizes[t].get("pre", 0)) for t in model.targets_),
        source=directory,
        loaded_at=datetime.now(UTC),
    )


@dataclass(frozen=True)
class ModelSource:
    """Where the server takes models from: one artifact directory or a registry root."""

    path: Path
    is_registry: bool
    roots: tuple[Path, ...]

    @classmethod
    def from_path(cls, path: Path, extra_roots: Sequence[Path] = ()) -> ModelSource:
        if not path.is_dir():
            raise ValueError(f"--model {path}: not a directory (give a model artifact or a registry root)")
        is_registry = not (path / ARTIFACT_MARKER).is_file() and (
            (path / REGISTRY_POINTER).is_file() or (path / REGISTRY_MODELS).is_dir()
        )
        default_root = path / REGISTRY_MODELS if is_registry else path.parent
        return cls(path=path, is_registry=is_registry, roots=real_roots([default_root, *extra_roots]))

    def resolve(self, version: str | None, path: str | None, max_path_chars: int) -> Path:
        """Directory to load for a reload request (both None: the starting point again)."""
        if version:
            if not self.is_registry:
                raise failed_precondition(
                    "this server was started on one artifact directory, not a registry; reload by path", "version"
                )
            registry = ModelRegistry(self.path)
            try:
                directory = registry.path(version)
            except ValueError as exc:
                raise failed_precondition(str(exc), "version") from exc
            if version not in registry.list():
                raise failed_precondition(f"{version!r} is not published; known: {registry.list()[-5:]}", "version")
            return directory
        if path:
            return resolve_inside(path, self.roots, "path", "dir", max_path_chars)
        if self.is_registry:
            current = ModelRegistry(self.path).current()
            if current is None:
                raise failed_precondition(f"the registry {self.path} has no {REGISTRY_POINTER} version yet")
            return ModelRegistry(self.path).path(current)
        return self.path


class ModelHolder:
    """The one mutable thing of a server: which snapshot new requests get."""

    def __init__(self, listeners: Sequence[Callable[[ServingModel], None]] = ()) -> None:
        self._current: ServingModel | None = None
        self._swap_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._listeners = list(listeners)
        self._reloads = 0

    def add_listener(self, listener: Callable[[ServingModel], None]) -> None:
        self._listeners.append(listener)
        if self._current is not None:
            listener(self._current)

    def get(self) -> ServingModel:
        """The snapshot a request should use from start to end."""
        current = self._current
        if current is None:
            raise unavailable("no model is loaded yet; retry shortly")
        return current

    def peek(self) -> ServingModel | None:
        return self._current

    @property
    def reloads(self) -> int:
        return self._reloads

    def install(self, snapshot: ServingModel) -> ServingModel | None:
        """Make ``snapshot`` current; returns the previous one."""
        with self._swap_lock:
            previous, self._current = self._current, snapshot
            if previous is not None:
                self._reloads += 1
        for listener in self._listeners:
            listener(snapshot)
        logger.info("serving model %s from %s", snapshot.version, snapshot.source)
        return previous

    def reload(self, directory: Path) -> tuple[ServingModel | None, ServingModel, float]:
        """Load ``directory`` and swap it in; (previous, new, load ms). One reload at a time;
        a failed load leaves the current model serving."""
        with self._reload_lock:
            start = time.perf_counter()
            try:
                snapshot = load_serving_model(directory)
            except (ValueError, OSError) as exc:
                raise failed_precondition(f"cannot load a model from it: {exc}", "model directory") from exc
            elapsed_ms = (time.perf_counter() - start) * 1e3
            previous = self.install(snapshot)
            return previous, snapshot, elapsed_ms
