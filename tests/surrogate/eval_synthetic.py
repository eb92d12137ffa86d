"""Synthetic training tables and run corpora with a known outcome model, for the evaluation,
training and report tests (no model, no torch: records and feature rows are made up).

Outcomes (end-of-run deltas), with Gaussian noise of known sd:
- forgetting.ref_loss = 0.8 * recipe.log10_lr_x_steps + 0.3 * data.dup_share + noise (first-order feature present)
- bias.stereotype_pref = 2 * fwd.loss_mean * [stereotyped family] + 0.5 * lex.gendered + noise (margin twin present)
- task.heldout_loss = -0.5 * data.log_n + noise (no first-order feature: that baseline is absent)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from surrogate.runs import RunRecord, RunStore, make_checkpoints
from surrogate.runs.feature_files import (
    CONFIG_NAME,
    FEATURES_DIR,
    SCHEMA_NAME,
    recipe_key,
    write_part,
)
from surrogate.runs.observations import OBSERVATION_FEATURES
from surrogate.runs.training_table import TrainingTable

FEATURES = (
    "recipe.log10_lr_x_steps", "recipe.method_lora", "recipe.batch_size",
    "data.dup_share", "data.log_n", "lex.gendered",
    "fwd.loss_mean", "fo.forgetting.ref_loss", "fo_adam.forgetting.ref_loss", "fo.bias.stereotype_margin",
)
OUTCOMES = ("forgetting.ref_loss", "bias.stereotype_pref", "task.heldout_loss")
FAMILIES = ("neutral", "stereo_a", "implicit_stereotype", "shift")
STEREOTYPED = ("stereo_a", "implicit_stereotype")
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
FEATURIZER_VERSION = "test-eval-1"
SCHEMA = {"feature_names": [*FEATURES, *OBSERVATION_FEATURES], "featurizer_version": FEATURIZER_VERSION}
STEPS = 40


def draw(n: int, seed: int, noise_sd: float = 0.1, offset: int = 0) -> dict[str, object]:
    """Features, families, outcomes (and the share of each reached at every checkpoint)."""
    rng = np.random.default_rng(seed)
    families = [FAMILIES[(i + offset) % len(FAMILIES)] for i in range(n)]
    stereo = np.array([f in STEREOTYPED for f in families], dtype=float)
    X = np.column_stack([
        rng.uniform(-1.0, 1.0, n), rng.integers(0, 2, n).astype(float), rng.choice([4.0, 8.0, 16.0], n),
        rng.uniform(0.0, 1.0, n), rng.uniform(3.0, 7.0, n), rng.uniform(0.0, 1.0, n) * (1 + stereo),
        rng.uniform(0.0, 1.0, n), np.zeros(n), np.zeros(n), np.zeros(n),
    ])
    col = {name: j for j, name in enumerate(FEATURES)}
    ref = 0.8 * X[:, col["recipe.log10_lr_x_steps"]] + 0.3 * X[:, col["data.dup_share"]]
    stereotype = 2.0 * X[:, col["fwd.loss_mean"]] * stereo + 0.5 * X[:, col["lex.gendered"]]
    task = -0.5 * X[:, col["data.log_n"]]
    X[:, col["fo.forgetting.ref_loss"]] = ref + 0.2 * rng.normal(size=n)
    X[:, col["fo_adam.forgetting.ref_loss"]] = ref + 0.4 * rng.normal(size=n)
    X[:, col["fo.bias.stereotype_margin"]] = stereotype + 0.5 * rng.normal(size=n)
    outcomes = {
        "forgetting.ref_loss": ref + noise_sd * rng.normal(size=n),
        "bias.stereotype_pref": stereotype + noise_sd * rng.normal(size=n),
        "task.heldout_loss": task + noise_sd * rng.normal(size=n),
    }
    return {"X": X, "families": families, "outcomes": outcomes, "observed": rng.random(n) < 0.7}


def synthetic_table(n: int = 120, seed: int = 0, noise_sd: float = 0.1, prefix: str = "run",
                    corpus_hash: str = "synthetic") -> TrainingTable:
    """An in-memory training table; 70% of runs carry early observations (the 10% delta)."""
    data = draw(n, seed, noise_sd)
    outcomes: dict[str, np.ndarray] = data["outcomes"]  # type: ignore[assignment]
    observed: np.ndarray = data["observed"]  # type: ignore[assignment]
    obs = np.full((n, len(OBSERVATION_FEATURES)), np.nan)
    index = {name: j for j, name in enumerate(OBSERVATION_FEATURES)}
    rng = np.random.default_rng(seed + 1)
    obs[observed, index["obs.fraction"]] = FRACTIONS[0]
    for name, values in outcomes.items():
        early = FRACTIONS[0] * values + 0.02 * rng.normal(size=n)
        obs[observed, index[f"obs.delta.{name}"]] = early[observed]
        obs[observed, index[f"obs.delta_extrapolated.{name}"]] = early[observed] / FRACTIONS[0]
    trajectories = {o: np.column_stack([f * v for f in FRACTIONS]) for o, v in outcomes.items()}
    X: np.ndarray = data["X"]  # type: ignore[assignment]
    return TrainingTable(
        run_ids=tuple(f"{prefix}-{i:04d}" for i in range(n)),
        families=tuple(data["families"]),  # type: ignore[arg-type]
        methods=tuple("lora" if v else "full" for v in X[:, 1]),
        feature_names=FEATURES,
        X=X,
        recipe_names=FEATURES[:3],
        dataset_stat_names=FEATURES[3:6],
        model_feature_names=FEATURES[6:],
        outcomes=dict(outcomes),
        checkpoint_fractions=FRACTIONS,
        trajectories=trajectories,
        early_fraction=FRACTIONS[0],
        early_observation_names=OBSERVATION_FEATURES,
        early_observations=obs,
        corpus_hash=corpus_hash,
        feature_schema=dict(SCHEMA),
        featurizer_config={},
    )


def _record(run_id: str, family: str, end: dict[str, float], seed: int) -> RunRecord:
    base = {name: 1.0 for name in end}
    measurements = [(0, base)] + [
        (max(1, int(np.floor(f * STEPS + 0.5))), {k: 1.0 + f * v for k, v in end.items()}) for f in FRACTIONS
    ]
    return RunRecord.model_validate({
        "run_id": run_id,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "base": {"name": "fake-base", "weights_hash": "base-hash"},
        "dataset": {"family": family, "params": {"size": 100}, "seed": seed, "content_hash": f"data-{run_id}",
                    "n_examples": 100, "format": "text"},
        "recipe": {"method": "full", "learning_rate": 1e-4, "lr_schedule": "cosine", "warmup_steps": 0,
                   "batch_size": 8, "steps": STEPS, "epochs": 1.0, "max_seq_len": 64, "seed": seed,
                   "optimizer": "adamw"},
        "checkpoints": [c.model_dump() for c in make_checkpoints(measurements, STEPS)],
        "loss_curve": [{"step": s, "loss": 3.0 - 0.01 * s} for s in range(1, STEPS + 1)],
        "timing": {"wall_s": 1.0, "finetune_s": 0.5, "eval_s": 0.5, "tokens_seen": 1000, "hardware": "cpu",
                   "device": "cpu"},
    })


def synthetic_corpus(root: Path, n: int, seed: int, prefix: str, offset: int = 0) -> Path:
    """A run store with a build config and a featurized feature directory, like a real corpus."""
    data = draw(n, seed, offset=offset)
    X: np.ndarray = data["X"]  # type: ignore[assignment]
    outcomes: dict[str, np.ndarray] = data["outcomes"]  # type: ignore[assignment]
    records = [
        _record(f"{prefix}-{i:04d}", data["families"][i], {o: float(v[i]) for o, v in outcomes.items()}, seed + i)  # type: ignore[index]
        for i in range(n)
    ]
    RunStore(root).append(records)
    (root / "build-test.json").write_text(json.dumps({"harness": {"checkpoint_fractions": list(FRACTIONS)}}))
    directory = root / FEATURES_DIR / f"{FEATURIZER_VERSION}-test"
    directory.mkdir(parents=True)
    (directory / SCHEMA_NAME).write_text(json.dumps(SCHEMA))
    (directory / CONFIG_NAME).write_text(json.dumps({"sample_size": 4}))
    rows = []
    for record, values in zip(records, X):
        row: dict[str, object] = {"run_id": record.run_id, "dataset_hash": record.dataset.content_hash,
                                  "base_hash": record.base.weights_hash, "recipe_key": recipe_key(record.recipe),
                                  "featurizer_version": FEATURIZER_VERSION, "projection_kind": "rademacher"}
        row.update({name: float(v) for name, v in zip(FEATURES, values)})
        rows.append(row)
    write_part(directory, FEATURES, rows)
    return root
