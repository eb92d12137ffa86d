"""The meta-model's training table: run records joined with their stored features, no torch.

One row per run that has features: the pre-run feature matrix X (partitioned by feature
family, so baselines such as "recipe only" select columns), end-of-run and per-checkpoint
outcome deltas, and the early-run observations at the first checkpoint (the mid-run
forecast's extra input, named as the featurizer names them). Runs come from
`RunStore` directories; features from `featurize_corpus` (layout in `feature_files`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from surrogate.runs.feature_files import (
    CONFIG_NAME,
    FEATURIZE_COMMAND,
    RUN_ID_COLUMN,
    SCHEMA_NAME,
    FeatureFilesError,
    feature_dirs,
    features_root,
    read_features,
    read_json_file,
    recipe_key,
    stored_feature_names,
)
from surrogate.runs.observations import (
    OBSERVATION_FEATURES,
    OBSERVATION_PREFIX,
    record_observations,
)
from surrogate.runs.outcomes import CORE_OUTCOMES
from surrogate.runs.record import RunRecord
from surrogate.runs.store import RunStore

logger = logging.getLogger(__name__)

RECIPE_PREFIXES: Final[tuple[str, ...]] = ("recipe.",)
DATASET_STAT_PREFIXES: Final[tuple[str, ...]] = ("data.", "lex.")
MODEL_FEATURE_PREFIXES: Final[tuple[str, ...]] = (
    "fwd.", "enc.", "grad.", "probe.", "align.", "fo.", "fo_sign.", "fo_adam.", "infl.",
)
"""Feature families by name prefix: recipe (no data, no model), dataset statistics (data,
no model) and model-side features (forward passes and gradients of the base)."""

BUILD_CONFIG_GLOB: Final[str] = "build-*.json"


class TrainingTableError(ValueError):
    """Runs and features cannot be joined into a training table; the message says what to run."""


@dataclass(frozen=True)
class TrainingTable:
    """Rows = featurized runs, in corpus order (corpus dirs concatenated in the order given)."""

    run_ids: tuple[str, ...]
    families: tuple[str, ...]
    methods: tuple[str, ...]
    feature_names: tuple[str, ...]
    X: np.ndarray
    recipe_names: tuple[str, ...]
    dataset_stat_names: tuple[str, ...]
    model_feature_names: tuple[str, ...]
    outcomes: dict[str, np.ndarray]
    checkpoint_fractions: tuple[float, ...]
    trajectories: dict[str, np.ndarray]
    early_fraction: float
    early_observation_names: tuple[str, ...]
    early_observations: np.ndarray
    corpus_hash: str
    feature_schema: dict[str, Any]
    featurizer_config: dict[str, Any]
    base_models: tuple[tuple[str, str], ...] = ()
    """(name, weights hash) of every base model the runs fine-tuned, sorted."""

    @property
    def n_runs(self) -> int:
        return len(self.run_ids)

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """The X columns of `names`, in that order (e.g. recipe_names + dataset_stat_names)."""
        index = {n: i for i, n in enumerate(self.feature_names)}
        unknown = [n for n in names if n not in index]
        if unknown:
            raise KeyError(f"no feature(s) {unknown[:5]} in the training table")
        return self.X[:, [index[n] for n in names]]


def partition_features(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(recipe, dataset statistics, model-side) names; a name of no known family is an error,
    so a new featurizer family is placed deliberately rather than silently."""
    groups: tuple[list[str], list[str], list[str]] = ([], [], [])
    for name in names:
        for group, prefixes in zip(groups, (RECIPE_PREFIXES, DATASET_STAT_PREFIXES, MODEL_FEATURE_PREFIXES)):
            if name.startswith(prefixes):
                group.append(name)
                break
        else:
            raise TrainingTableError(f"feature {name!r} belongs to no feature family; add its prefix to "
                                     "surrogate.runs.training_table (RECIPE_, DATASET_STAT_ or MODEL_FEATURE_PREFIXES)")
    return tuple(groups[0]), tuple(groups[1]), tuple(groups[2])


def checkpoint_step(fraction: float, steps: int) -> int:
    """The step the harness measures checkpoint `fraction` at: round half up, at least 1."""
    return max(1, math.floor(fraction * steps + 0.5))


def build_checkpoint_fractions(corpus_dir: Path) -> tuple[float, ...] | None:
    """The harness checkpoint fractions the corpus builder saved in build-*.json (None if none saved)."""
    found: set[tuple[float, ...]] = set()
    for path in sorted(corpus_dir.glob(BUILD_CONFIG_GLOB)):
        fractions = read_json_file(path).get("harness", {}).get("checkpoint_fractions")
        if fractions is not None:
            found.add(tuple(float(f) for f in fractions))
    if len(found) > 1:
        raise TrainingTableError(f"{corpus_dir}: builds measured different checkpoint fractions {sorted(found)}; "
                                 "pass checkpoint_fractions explicitly")
    return found.pop() if found else None


def _resolve_fractions(dirs: list[Path], given: Sequence[float] | None) -> tuple[float, ...]:
    if given is not None:
        fractions = tuple(float(f) for f in given)
    else:
        per_dir = {d: build_checkpoint_fractions(d) for d in dirs}
        missing = [str(d) for d, f in per_dir.items() if f is None]
        if missing:
            raise TrainingTableError(f"{missing[0]} has no build-*.json naming the checkpoint fractions; "
                                     "pass checkpoint_fractions (e.g. (0.1, 0.25, 0.5, 1.0))")
        distinct = set(per_dir.values())
        if len(distinct) > 1:
            raise TrainingTableError(f"corpora measured different checkpoint fractions {sorted(distinct)}; "
                                     "pass checkpoint_fractions explicitly")
        fractions = distinct.pop()  # type: ignore[assignment]
    if not fractions or list(fractions) != sorted(set(fractions)) or not all(0 < f <= 1 for f in fractions):
        raise TrainingTableError(f"checkpoint_fractions must be increasing values in (0, 1], got {list(fractions)}")
    return fractions


def _feature_dir(corpus_dir: Path, name: str | None) -> Path:
    hint = FEATURIZE_COMMAND.replace("DIR", str(corpus_dir))
    if name is not None:
        directory = features_root(corpus_dir) / name
        if not (directory / SCHEMA_NAME).is_file():
            known = [d.name for d in feature_dirs(corpus_dir)]
            raise TrainingTableError(f"{corpus_dir}: no feature directory {name!r} (found: {known or 'none'}); "
                                     f"compute features with `{hint}`")
        return directory
    found = feature_dirs(corpus_dir)
    if not found:
        raise TrainingTableError(f"{corpus_dir} has no featurized runs; compute them with `{hint}`")
    if len(found) > 1:
        raise TrainingTableError(f"{corpus_dir} holds features from several featurizers {[d.name for d in found]}; "
                                 "pass feature_dir_name to choose one")
    return found[0]


@dataclass
class _Rows:
    """Accumulates joined rows across corpus dirs before they become arrays."""

    records: list[RunRecord]
    features: list[np.ndarray]


def _join(corpus_dir: Path, directory: Path, names: tuple[str, ...], rows: _Rows, seen: dict[str, Path]) -> None:
    records = RunStore(corpus_dir).read()
    table = read_features(directory, names)
    index = {run_id: i for i, run_id in enumerate(table.column(RUN_ID_COLUMN).to_pylist())}
    if not index.keys() & {r.run_id for r in records}:
        raise TrainingTableError(f"{corpus_dir} has no featurized runs in {directory.name}; compute them with "
                                 f"`{FEATURIZE_COMMAND.replace('DIR', str(corpus_dir))}`")
    keys = {c: table.column(c).to_pylist() for c in ("dataset_hash", "base_hash", "recipe_key")}
    matrix = np.column_stack([table.column(n).to_numpy(zero_copy_only=False).astype(np.float64) for n in names])
    dropped = 0
    for record in records:
        i = index.pop(record.run_id, None)
        if i is None:
            dropped += 1
            continue
        expected = {"dataset_hash": record.dataset.content_hash, "base_hash": record.base.weights_hash,
                    "recipe_key": recipe_key(record.recipe)}
        stale = [k for k, v in expected.items() if keys[k][i] != v]
        if stale:
            raise TrainingTableError(f"{directory}: features of run {record.run_id} were computed from another "
                                     f"{', '.join(stale)} than its record; delete {directory} and recompute")
        if record.run_id in seen:
            raise TrainingTableError(f"run {record.run_id} is in both {seen[record.run_id]} and {corpus_dir}; "
                                     "a run may appear in one corpus only")
        seen[record.run_id] = corpus_dir
        rows.records.append(record)
        rows.features.append(matrix[i])
    if dropped:
        logger.warning("%s: %d of %d runs have no features in %s and are left out", corpus_dir, dropped,
                       len(records), directory.name)
    if index:
        logger.warning("%s: %d featurized run id(s) are not in the run store (e.g. %s); ignored", directory,
                       len(index), next(iter(index)))


def _checkpoint_deltas(records: list[RunRecord], fractions: tuple[float, ...],
                       outcomes: list[str]) -> dict[str, np.ndarray]:
    out = {o: np.full((len(records), len(fractions)), np.nan) for o in outcomes}
    for r, record in enumerate(records):
        by_step = {c.step: c for c in record.checkpoints[1:]}
        for j, fraction in enumerate(fractions):
            checkpoint = by_step.get(checkpoint_step(fraction, record.recipe.steps))
            if checkpoint is None:
                continue
            for o in outcomes:
                out[o][r, j] = checkpoint.deltas.get(o, np.nan)
    return out


def _early_observations(records: list[RunRecord], fraction: float) -> np.ndarray:
    out = np.full((len(records), len(OBSERVATION_FEATURES)), np.nan)
    for r, record in enumerate(records):
        step = checkpoint_step(fraction, record.recipe.steps)
        if any(c.step == step for c in record.checkpoints[1:]):
            values = record_observations(record, step)
            out[r] = [values[n] for n in OBSERVATION_FEATURES]
    return out


def _corpus_hash(dirs: list[Path]) -> str:
    hashes = [RunStore(d).store_hash() for d in dirs]
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()


def load_training_table(corpus_dirs: Sequence[str | os.PathLike[str]], feature_dir_name: str | None = None,
                        checkpoint_fractions: Sequence[float] | None = None) -> TrainingTable:
    """Join the runs of `corpus_dirs` with their stored features (one feature directory per corpus,
    `feature_dir_name` or the only one there). Checkpoint fractions default to those the corpus
    builder saved in build-*.json."""
    if isinstance(corpus_dirs, (str, os.PathLike)):
        corpus_dirs = [corpus_dirs]
    dirs = [Path(d) for d in corpus_dirs]
    if not dirs:
        raise TrainingTableError("corpus_dirs is empty; give at least one run-store directory")
    for d in dirs:
        if not d.is_dir():
            raise TrainingTableError(f"{d} is not a directory; give the run-store directory a build wrote to")
    fractions = _resolve_fractions(dirs, checkpoint_fractions)

    schema: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    rows = _Rows(records=[], features=[])
    seen: dict[str, Path] = {}
    first_dir = dirs[0]
    for d in dirs:
        directory = _feature_dir(d, feature_dir_name)
        this_schema, this_config = read_json_file(directory / SCHEMA_NAME), read_json_file(directory / CONFIG_NAME)
        if schema is None:
            schema, config, first_dir = this_schema, this_config, directory
        elif (this_schema, this_config) != (schema, config):
            what = "feature schema" if this_schema != schema else "featurizer config"
            raise TrainingTableError(f"{directory} and {first_dir} hold features of a different {what}; "
                                     "featurize every corpus with the same model and settings")
        _join(d, directory, _pre_run_names(schema, directory), rows, seen)
    assert schema is not None and config is not None  # dirs is not empty
    names = _pre_run_names(schema, first_dir)
    recipe_names, dataset_names, model_names = partition_features(names)

    records = rows.records
    present = {name for r in records for c in r.checkpoints for name in c.deltas}
    outcome_names = [o for o in CORE_OUTCOMES if o in present]
    final = {o: np.array([r.final.deltas.get(o, np.nan) for r in records], dtype=np.float64) for o in outcome_names}
    return TrainingTable(
        run_ids=tuple(r.run_id for r in records),
        families=tuple(r.dataset.family for r in records),
        methods=tuple(r.recipe.method for r in records),
        feature_names=names,
        X=np.vstack(rows.features) if rows.features else np.empty((0, len(names))),
        recipe_names=recipe_names,
        dataset_stat_names=dataset_names,
        model_feature_names=model_names,
        outcomes=final,
        checkpoint_fractions=fractions,
        trajectories=_checkpoint_deltas(records, fractions, outcome_names),
        early_fraction=fractions[0],
        early_observation_names=OBSERVATION_FEATURES,
        early_observations=_early_observations(records, fractions[0]),
        corpus_hash=_corpus_hash(dirs),
        feature_schema=schema,
        featurizer_config=config,
        base_models=tuple(sorted({(r.base.name, r.base.weights_hash) for r in records})),
    )


def _pre_run_names(schema: dict[str, Any], directory: Path) -> tuple[str, ...]:
    """The stored (pre-run) feature names; the schema's observation names must be the ones mirrored here."""
    names = schema.get("feature_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FeatureFilesError(f"{directory / SCHEMA_NAME}: 'feature_names' must be a list of strings")
    observed = tuple(n for n in names if n.startswith(OBSERVATION_PREFIX))
    if observed and observed != OBSERVATION_FEATURES:
        raise TrainingTableError(f"{directory / SCHEMA_NAME}: observation features {list(observed)[:3]}... differ "
                                 "from surrogate.runs.observations; update the mirror to the featurizer's")
    return stored_feature_names(names)
