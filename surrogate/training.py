"""From a training table to the meta-model's inputs: feature matrices, targets, a fitted model.

Training, cross-validation and held-out scoring all lay features out here, so a model
fitted by ``tunecast train`` and one refitted inside a CV fold see the same columns.
Early-run observations (``obs.*``) are columns of the featurizer's schema; a table keeps
them apart (they are measured, not computed), and this module puts them back in place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import numpy as np

from surrogate.model import (
    FeatureSchema,
    ForecastModel,
    ForecastModelConfig,
    target_name,
)
from surrogate.runs.observations import OBSERVATION_PREFIX
from surrogate.runs.training_table import TrainingTable

logger = logging.getLogger(__name__)

END_OF_RUN: Final[float] = 1.0


def featurizer_version(table: TrainingTable) -> str:
    version = table.feature_schema.get("featurizer_version")
    if not isinstance(version, str) or not version:
        raise ValueError("the training table's feature schema has no featurizer_version; re-featurize the corpus")
    return version


def feature_names(table: TrainingTable, *, with_observations: bool) -> tuple[str, ...]:
    """Pre-run features in schema order, followed in place by the ``obs.*`` columns when asked
    for and when the featurizer's schema has them (the layout a served feature vector has)."""
    if not with_observations:
        return table.feature_names
    schema_names = tuple(table.feature_schema.get("feature_names", ()))
    names = tuple(n for n in schema_names if n in set(table.feature_names) | set(table.early_observation_names))
    if tuple(n for n in names if not n.startswith(OBSERVATION_PREFIX)) != table.feature_names:
        raise ValueError(
            "the training table's features differ from its feature schema's names; "
            "rebuild the table with load_training_table"
        )
    return names


def has_observation_columns(names: Sequence[str]) -> bool:
    return any(n.startswith(OBSERVATION_PREFIX) for n in names)


def design_matrix(table: TrainingTable, names: Sequence[str], *, observations: bool = True) -> np.ndarray:
    """The table's values for ``names`` (pre-run features and ``obs.*``), one row per run.

    ``observations=False`` leaves every ``obs.*`` column NaN: the pre-run request a platform
    sends before a job starts.
    """
    pre = {n: i for i, n in enumerate(table.feature_names)}
    obs = {n: i for i, n in enumerate(table.early_observation_names)}
    out = np.full((table.n_runs, len(names)), np.nan, dtype=np.float64)
    for j, name in enumerate(names):
        if name in pre:
            out[:, j] = table.X[:, pre[name]]
        elif name in obs:
            if observations:
                out[:, j] = table.early_observations[:, obs[name]]
        else:
            raise KeyError(f"feature {name!r} is neither a stored feature nor an early-run observation of the table")
    return out


def schema_for(table: TrainingTable, names: Sequence[str]) -> FeatureSchema:
    return FeatureSchema(feature_names=tuple(names), featurizer_version=featurizer_version(table))


def end_of_run_targets(table: TrainingTable) -> dict[str, np.ndarray]:
    """``outcome@1.0`` -> end-of-run delta per run (the outcomes the evaluation scores)."""
    return {target_name(o, END_OF_RUN): values for o, values in table.outcomes.items()}


def trajectory_targets(table: TrainingTable) -> dict[str, np.ndarray]:
    """``outcome@fraction`` for every measured checkpoint, plus the end of run; targets no run
    measured are dropped (there is nothing to fit)."""
    targets: dict[str, np.ndarray] = {}
    for outcome, trajectory in table.trajectories.items():
        for j, fraction in enumerate(table.checkpoint_fractions):
            targets[target_name(outcome, fraction)] = trajectory[:, j]
    for name, values in end_of_run_targets(table).items():
        targets.setdefault(name, values)
    empty = [name for name, values in targets.items() if np.isnan(values).all()]
    for name in empty:
        logger.warning("target %s has no measured value in the corpus; not fitted", name)
        del targets[name]
    if not targets:
        raise ValueError("the training table has no measured outcome; nothing to fit")
    return targets


def train_model(
    table: TrainingTable, config: ForecastModelConfig | None = None, *, progress: bool = False
) -> ForecastModel:
    """The meta-model of a corpus: every outcome at every checkpoint, with the early-run
    observations as features when the featurizer's schema has them (mid-run forecasts)."""
    names = feature_names(table, with_observations=True)
    X = design_matrix(table, names, observations=True)
    model = ForecastModel(config or ForecastModelConfig())
    return model.fit(X, trajectory_targets(table), schema_for(table, names), progress=progress)
