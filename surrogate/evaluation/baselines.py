"""Which methods an evaluation compares, and the columns each may read.

The full model reads every pre-run feature (and the early-run observations, which
pre-run forecasts leave empty); the baselines read feature families by name prefix,
so an ablation can never see a model-side feature by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from surrogate.evaluation.config import EvaluationConfig
from surrogate.evaluation.methods import (
    BoostedMethod,
    FirstOrderMethod,
    KnnMethod,
    MethodSpec,
)
from surrogate.model import ForecastModelConfig
from surrogate.model.boosters import derive_seed
from surrogate.runs.training_table import TrainingTable
from surrogate.training import (
    feature_names,
    featurizer_version,
    has_observation_columns,
)

MODEL: Final[str] = "model"
ABLATION: Final[str] = "recipe_plus_dataset_stats"
BASELINES: Final[tuple[str, ...]] = ("recipe_only", "dataset_stats_only", "first_order", "knn", ABLATION)
"""Every baseline, in report order; ``ABLATION`` is the one the gap is measured against."""

FIRST_ORDER_PREFIXES: Final[tuple[str, ...]] = ("fo.", "fo_adam.", "fo_sign.")
CONTINUOUS_TWIN: Final[dict[str, str]] = {
    "forgetting.knowledge_acc": "forgetting.knowledge_margin",
    "bias.stereotype_pref": "bias.stereotype_margin",
    "safety.refusal_rate": "safety.refusal_margin",
    "safety.over_refusal": "safety.over_refusal_margin",
}
"""A percentage outcome has no gradient of its own; its first-order estimate is that of the
log-likelihood margin behind it (ARCHITECTURE.md, 'continuous twin')."""


def first_order_columns(outcome: str, names: Sequence[str]) -> tuple[str, ...]:
    """The first-order estimate features of ``outcome`` (by name, else of its continuous twin);
    empty when the featurizer computes none for it."""
    for stem in (outcome, CONTINUOUS_TWIN.get(outcome)):
        if stem is None:
            continue
        found = tuple(n for n in names if any(n == prefix + stem for prefix in FIRST_ORDER_PREFIXES))
        if found:
            return found
    return ()


def model_columns(table: TrainingTable) -> tuple[str, ...]:
    """What the served model reads: pre-run features plus ``obs.*`` when the schema has them."""
    return feature_names(table, with_observations=True)


def build_methods(
    table: TrainingTable,
    outcomes: Sequence[str],
    model_config: ForecastModelConfig,
    config: EvaluationConfig,
) -> dict[str, MethodSpec]:
    """The model and every baseline of ``BASELINES`` (a baseline with no columns to read
    supports no outcome and is reported absent)."""
    version = featurizer_version(table)
    every = frozenset(outcomes)
    fraction, seed = config.baseline_calibration_fraction, derive_seed(config.seed, "baseline-calibration")

    def boosted(name: str, columns: tuple[str, ...], early: bool = False) -> MethodSpec:
        return MethodSpec(
            name=name,
            factory=lambda: BoostedMethod(outcomes, columns, version, model_config),
            columns=columns,
            supports=every if columns else frozenset(),
            early_run=early,
        )

    columns = model_columns(table)
    specs = {MODEL: boosted(MODEL, columns, early=config.early_run and has_observation_columns(columns))}
    recipe, stats = table.recipe_names, table.dataset_stat_names
    specs["recipe_only"] = boosted("recipe_only", recipe)
    specs["dataset_stats_only"] = boosted("dataset_stats_only", stats)

    per_outcome = [first_order_columns(o, table.feature_names) for o in outcomes]
    fo_columns = tuple(dict.fromkeys(n for names in per_outcome for n in names))
    specs["first_order"] = MethodSpec(
        name="first_order",
        factory=lambda: FirstOrderMethod(fo_columns, per_outcome, fraction, seed),
        columns=fo_columns,
        supports=frozenset(o for o, names in zip(outcomes, per_outcome) if names),
    )
    neighbours = recipe + stats
    specs["knn"] = MethodSpec(
        name="knn",
        factory=lambda: KnnMethod(config.knn_k, len(outcomes), fraction, seed),
        columns=neighbours,
        supports=every if neighbours else frozenset(),
    )
    specs[ABLATION] = boosted(ABLATION, recipe + stats)
    return specs
