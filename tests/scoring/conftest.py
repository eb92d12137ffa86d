"""Fixtures of the batch-scoring tests: candidate files on disk, a small featurizer config and a
meta-model fitted here on rows whose features the tiny featurizer really produces.

The meta-model's rows are convex combinations of the feature vectors of four small datasets
(so every row is a plausible feature vector and the candidates sit inside the training range),
and its outcomes follow a transparent rule: refusal rate drops 40 pp per unit of
``lex.harm_compliance_share`` (examples complying with harmful requests), the other headline
outcomes move a little with the share of refusals, the 0.5 checkpoint sees half the change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from tests.featurizers.feature_data import (
    benign_dataset,
    compliant_dataset,
    make_recipe,
    mixed_format_dataset,
    refusal_dataset,
)

SMALL_FEATURIZER = {"sample_size": 24, "projection_dim": 256, "batch_size": 8, "max_seq_len": 64,
                    "probes": {"items_per_suite": 4}}
N_ROWS = 120
CHECKPOINTS = (0.5, 1.0)
COVERAGE_90 = 0.88
META_VERSION = "scoring-test-v1"


def outcome_rule(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """End-of-run deltas as a plain function of two dataset statistics."""
    comply = features["lex.harm_compliance_share"]
    refuse = features["lex.refusal_share"]
    return {
        "safety.refusal_rate": -40.0 * comply + 10.0 * refuse,
        "forgetting.knowledge_acc": -3.0 * comply,
        "forgetting.ref_loss": 0.1 * comply + 0.02,
        "bias.stereotype_pref": 1.0 * comply,
        "bias.gender_skew": -0.05 * comply,
    }


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """One intra-op thread: the machine is shared, and the Ray workers run with one thread too."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def score_recipe():
    return make_recipe("lora")


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_parquet(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.fixture(scope="session")
def candidate_files(tmp_path_factory) -> dict[str, Path]:
    """Good files of each kind, a directory of them, a manifest with a mixture, and bad files."""
    root = tmp_path_factory.mktemp("candidates")
    files = {
        "benign": write_jsonl(root / "benign.jsonl", benign_dataset()),
        "refusal": write_parquet(root / "refusal.parquet", refusal_dataset()),
        "compliant": write_jsonl(root / "pool" / "compliant.jsonl", compliant_dataset()),
        "dir": root / "more",
        "mixed": write_jsonl(root / "more" / "mixed.jsonl", mixed_format_dataset()),
        "nested": write_parquet(root / "more" / "sub" / "benign_half.parquet", benign_dataset()[:5]),
        "bad": root / "bad.jsonl",
        "manifest": root / "manifest.yaml",
    }
    (root / "more" / "notes.txt").write_text("not a dataset\n")
    files["bad"].write_text(json.dumps(benign_dataset()[0]) + "\n" + json.dumps({"text": 5}) + "\n")
    files["manifest"].write_text(
        "datasets:\n"
        "  - name: compliant-only\n"
        "    path: pool/compliant.jsonl\n"
        "mixtures:\n"
        "  - name: half-compliant\n"
        "    seed: 3\n"
        "    components:\n"
        "      - {path: pool/compliant.jsonl, weight: 1}\n"
        "      - {path: benign.jsonl, weight: 1}\n",
        encoding="utf-8",
    )
    return files


@pytest.fixture(scope="session")
def base_vectors(tiny_loaded, score_recipe, tmp_path_factory):
    """Feature vectors of four small datasets from the tiny model (the meta-model's raw material)."""
    from featurizers.features.config import FeaturizerConfig
    from featurizers.features.featurizer import Featurizer

    featurizer = Featurizer(tiny_loaded, FeaturizerConfig.model_validate(SMALL_FEATURIZER),
                            cache_dir=tmp_path_factory.mktemp("meta-cache"))
    datasets = (benign_dataset(), compliant_dataset(), refusal_dataset(), mixed_format_dataset())
    return [featurizer.featurize(d, score_recipe) for d in datasets]


def synthetic_rows(vectors, n_rows: int, seed: int) -> np.ndarray:
    """Convex combinations of pairs of real vectors (NaN observation columns stay NaN)."""
    rng = np.random.default_rng(seed)
    base = np.stack([v.as_array() for v in vectors])
    i = rng.integers(0, len(vectors), size=n_rows)
    j = rng.integers(0, len(vectors), size=n_rows)
    a = rng.uniform(0.0, 1.0, size=(n_rows, 1))
    return a * base[i] + (1.0 - a) * base[j]


def fit_meta_model(vectors, featurizer_version: str | None = None):
    from surrogate.model import (
        BoosterParams,
        FeatureSchema,
        ForecastModel,
        ForecastModelConfig,
        target_name,
    )

    names = vectors[0].names
    X = synthetic_rows(vectors, N_ROWS, seed=0)
    columns = {n: X[:, k] for k, n in enumerate(names)}
    rng = np.random.default_rng(1)
    Y = {}
    for outcome, values in outcome_rule(columns).items():
        for fraction in CHECKPOINTS:
            Y[target_name(outcome, fraction)] = fraction * values + 0.02 * rng.normal(size=N_ROWS)
    schema = FeatureSchema(feature_names=names,
                           featurizer_version=featurizer_version or vectors[0].feature_schema.featurizer_version)
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=40, min_data_in_leaf=5))
    return ForecastModel(config).fit(X, Y, schema)


@pytest.fixture(scope="session")
def meta_model_dir(base_vectors, tmp_path_factory) -> Path:
    metrics = {"random": {"model": {"safety.refusal_rate": {"coverage_90": COVERAGE_90}},
                          "coverage_curve": {"model": {"safety.refusal_rate": {"0.8": 0.79, "0.9": COVERAGE_90}}}}}
    model = fit_meta_model(base_vectors)
    return model.save(tmp_path_factory.mktemp("meta") / "model", corpus_hash="sha256:scoring-test",
                      model_version=META_VERSION, metrics=metrics)


@pytest.fixture(scope="session")
def config_files(tmp_path_factory, score_recipe) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("configs")
    recipe = root / "recipe.json"
    recipe.write_text(score_recipe.model_dump_json())
    featurizer = root / "featurizer.yaml"
    import yaml

    featurizer.write_text(yaml.safe_dump(SMALL_FEATURIZER))
    return {"recipe": recipe, "featurizer": featurizer}
