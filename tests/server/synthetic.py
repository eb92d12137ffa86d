"""A small synthetic meta-model and its artifacts, for the server tests.

Features and targets mimic the real layout (recipe, dataset statistics, an
early-run observation) but are drawn from simple formulas, so a fit takes
well under a second and predictions are easy to check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surrogate.model import BoosterParams, FeatureSchema, ForecastModel, ForecastModelConfig, ModelRegistry

FEATURIZER_VERSION = "test-featurizer-1"
FEATURES = (
    "recipe.log_lr",
    "recipe.log_steps",
    "recipe.lora_rank",
    "data.n_examples",
    "data.mean_chars",
    "data.refusal_rate",
    "data.gendered_rate",
    "obs.delta.forgetting.ref_loss",
)
OBSERVATION = "obs.delta.forgetting.ref_loss"
OUTCOMES = ("forgetting.ref_loss", "bias.gender_skew", "safety.refusal_margin")
CHECKPOINTS = (0.5, 1.0)
N_ROWS = 360
N_ESTIMATORS = 40


def schema() -> FeatureSchema:
    return FeatureSchema(feature_names=FEATURES, featurizer_version=FEATURIZER_VERSION)


def training_data(seed: int, scale: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Rows uniform in [-1, 1]; the observation is missing for half of them."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(N_ROWS, len(FEATURES)))
    X[rng.random(N_ROWS) < 0.5, FEATURES.index(OBSERVATION)] = np.nan
    base = {
        "forgetting.ref_loss": 0.4 * X[:, 0] + 0.2 * X[:, 1],
        "bias.gender_skew": 0.5 * X[:, 6] - 0.1 * X[:, 3],
        "safety.refusal_margin": -0.6 * X[:, 5] + 0.2 * X[:, 0],
    }
    Y = {}
    for outcome, values in base.items():
        for checkpoint in CHECKPOINTS:
            noise = 0.05 * rng.normal(size=N_ROWS)
            Y[f"{outcome}@{checkpoint!r}"] = scale * (checkpoint * values + noise)
    return X, Y


def fit_model(seed: int = 0, scale: float = 1.0) -> ForecastModel:
    X, Y = training_data(seed, scale)
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=N_ESTIMATORS), seed=seed)
    return ForecastModel(config).fit(X, Y, schema())


def save_model(model: ForecastModel, directory: Path, version: str) -> Path:
    metrics = {"held_out": {"coverage": {"0.8": 0.81, "0.9": 0.9}, "mae": {"forgetting.ref_loss@1.0": 0.04}}}
    return model.save(directory, corpus_hash=f"sha256:synthetic-{version}", model_version=version, metrics=metrics)


def build_registry(root: Path, versions: dict[str, float]) -> ModelRegistry:
    """A registry with one model per version (value = target scale); the first is CURRENT."""
    registry = ModelRegistry(root)
    staging = root.parent / f"{root.name}-staging"
    for i, (version, scale) in enumerate(versions.items()):
        path = save_model(fit_model(seed=i, scale=scale), staging / version, version)
        registry.publish(path, make_current=(i == 0))
    return registry


def feature_row(values: dict[str, float] | None = None) -> dict[str, float]:
    """A typical in-distribution feature vector (observation left out)."""
    row = {name: 0.1 for name in FEATURES if not name.startswith("obs.")}
    row.update(values or {})
    return row


RECIPE = {
    "method": "lora", "lora_rank": 8, "lora_alpha": 16.0, "lora_dropout": 0.05,
    "target_modules": ["q_proj", "v_proj"], "learning_rate": 2e-4, "lr_schedule": "linear",
    "warmup_steps": 10, "batch_size": 8, "steps": 200, "epochs": 1.0, "max_seq_len": 256,
    "seed": 0, "optimizer": "adamw",
}
"""A valid LoRA recipe (the fields of surrogate.runs.Recipe)."""
