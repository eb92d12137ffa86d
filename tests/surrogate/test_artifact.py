"""The model artifact on disk and the registry: identical predictions after a round
trip, integrity and schema checks on load, crash-safe writes, atomic CURRENT."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

import surrogate.model.artifact as artifact
from surrogate.model import (
    ARTIFACT_FORMAT_VERSION,
    ArtifactError,
    BoosterParams,
    FeatureSchema,
    ForecastModel,
    ForecastModelConfig,
    ModelRegistry,
    NotFittedError,
    RegistryError,
    SchemaMismatchError,
    read_meta,
)
from surrogate.model.artifact import file_sha256

TARGETS = ("forgetting.ref_loss@0.5", "forgetting.ref_loss@1.0", "safety.refusal_margin@1.0")
FEATURES = ("recipe.lr", "data.n", "fwd.loss_mean", "grad.align", "obs.ref_loss@0.1")


def _data(n: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(FEATURES)))
    X[rng.random(n) < 0.5, -1] = np.nan  # half the runs carry an early observation
    base = X[:, 0] - 0.5 * X[:, 2] + 0.3 * rng.normal(size=n) * (1 + np.abs(X[:, 1]))
    Y = {
        TARGETS[0]: 0.5 * base,
        TARGETS[1]: base,
        TARGETS[2]: np.where(rng.random(n) < 0.1, np.nan, X[:, 3] + 0.2 * rng.normal(size=n)),
    }
    return X, Y


@pytest.fixture(scope="module")
def fitted() -> tuple[ForecastModel, np.ndarray]:
    X, Y = _data(400, seed=5)
    schema = FeatureSchema(feature_names=FEATURES, featurizer_version="feat-2")
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=60), fused_max_rows=16)
    X_test, _ = _data(200, seed=6)
    return ForecastModel(config).fit(X, Y, schema), X_test


@pytest.fixture()
def saved(fitted, tmp_path) -> Path:
    model, _ = fitted
    return model.save(tmp_path / "model", corpus_hash="sha256:corpus", metrics={"coverage90": 0.91})


def _assert_same(a, b) -> None:
    assert a.targets == b.targets and a.levels == b.levels
    for field in ("point", "lower", "upper", "observed"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert np.array_equal(a.ood.distance, b.ood.distance)
    assert np.array_equal(a.ood.out_of_range, b.ood.out_of_range)
    assert np.array_equal(a.ood.unseen_missing, b.ood.unseen_missing)


def test_round_trip_gives_identical_predictions(fitted, saved):
    model, X_test = fitted
    loaded = ForecastModel.load(saved)
    X_odd = X_test.copy()
    X_odd[0, 1] = 40.0
    for X in (X_test[:1], X_test[:16], X_test, X_odd):  # fused and booster-by-booster paths
        _assert_same(model.predict(X, levels=(0.5, 0.8, 0.9)), loaded.predict(X, levels=(0.5, 0.8, 0.9)))
    assert loaded.config_ == model.config_ and loaded.schema_ == model.schema_
    assert loaded.model_version_ == read_meta(saved).model_version


def test_artifact_contents(fitted, saved):
    model, _ = fitted
    names = sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*") if p.is_file())
    assert {"meta.json", "schema.json", "calibration.json", "ood.json", "metrics.json"} <= set(names)
    assert all(n.endswith((".json", ".txt")) for n in names)  # text only: nothing executable
    meta = json.loads((saved / "meta.json").read_text())
    assert meta["artifact_format_version"] == ARTIFACT_FORMAT_VERSION
    assert meta["lightgbm_version"] == lgb.__version__
    assert meta["corpus_hash"] == "sha256:corpus"
    assert datetime.fromisoformat(meta["created_at"]).tzinfo is not None
    assert meta["config"]["booster"]["n_estimators"] == 60
    schema = json.loads((saved / "schema.json").read_text())
    assert schema["features"]["feature_names"] == list(FEATURES)
    assert schema["features"]["featurizer_version"] == "feat-2"
    assert schema["targets"] == list(TARGETS)
    assert schema["checkpoints"] == [0.5, 1.0]
    assert len(meta["boosters"]) == len(TARGETS) * 3
    for entry in meta["boosters"]:
        text = (saved / entry["file"]).read_text()
        assert text.startswith("tree\n")
        assert text.count("\nTree=") == entry["num_iteration"]  # saved with an explicit count
    calibration = json.loads((saved / "calibration.json").read_text())
    first = calibration["targets"][0]["scores"]
    assert {s["regime"] for s in first} == {"pre", "mid"}
    assert all(len(s["values"]) > 0 for s in first)
    assert json.loads((saved / "metrics.json").read_text()) == {"coverage90": 0.91}


def test_save_before_fit_refused(tmp_path):
    with pytest.raises(NotFittedError):
        ForecastModel().save(tmp_path / "m", corpus_hash="x")


def test_save_refuses_existing_directory_and_bad_metrics(fitted, saved, tmp_path):
    model, _ = fitted
    with pytest.raises(FileExistsError, match="immutable"):
        model.save(saved, corpus_hash="x")
    with pytest.raises(ValueError, match="metrics.json"):
        model.save(tmp_path / "nan", corpus_hash="x", metrics={"mae": float("nan")})
    assert not (tmp_path / "nan").exists()
    with pytest.raises(ValueError, match="model version"):
        model.save(tmp_path / "v", corpus_hash="x", model_version="../escape")


def test_crash_while_writing_leaves_nothing(fitted, tmp_path, monkeypatch):
    model, _ = fitted
    real = artifact._write_json

    def failing(path, payload):
        if path.name == "ood.json":
            raise OSError("disk full")
        real(path, payload)

    monkeypatch.setattr(artifact, "_write_json", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m", corpus_hash="x")
    assert list(tmp_path.iterdir()) == []


def test_altered_files_are_refused(saved):
    booster_file = next((saved / "models").iterdir())
    booster_file.write_text(booster_file.read_text().replace("shrinkage=1", "shrinkage=2", 1))
    with pytest.raises(ArtifactError, match="SHA-256 differs"):
        ForecastModel.load(saved)


def test_extra_or_missing_files_are_refused(saved, tmp_path):
    (saved / "models" / "stray.txt").write_text("x")
    with pytest.raises(ArtifactError, match="not listed in meta.json"):
        ForecastModel.load(saved)
    (saved / "models" / "stray.txt").unlink()
    (saved / "ood.json").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        ForecastModel.load(saved)


def _rewrite(saved: Path, name: str, edit) -> None:
    """Edit a sidecar and re-seal meta.json, as a careless tool would."""
    payload = json.loads((saved / name).read_text())
    edit(payload)
    (saved / name).write_text(json.dumps(payload))
    meta = json.loads((saved / "meta.json").read_text())
    meta["files"][name] = file_sha256(saved / name)
    if name == "schema.json":
        meta["schema_fingerprint"] = FeatureSchema.model_validate(payload["features"]).fingerprint()
    (saved / "meta.json").write_text(json.dumps(meta))


def test_schema_reordered_on_disk_is_refused(saved):
    def swap(payload):
        names = payload["features"]["feature_names"]
        names[0], names[1] = names[1], names[0]

    _rewrite(saved, "schema.json", swap)
    with pytest.raises(SchemaMismatchError, match="feature_names differ from schema.json at position 0"):
        ForecastModel.load(saved)


def test_calibration_for_other_targets_is_refused(saved):
    def rename(payload):
        payload["targets"][0]["target"] = "bias.gender_skew@1.0"

    _rewrite(saved, "calibration.json", rename)
    with pytest.raises(ArtifactError, match="calibration.json: targets"):
        ForecastModel.load(saved)


def test_unknown_format_version_is_refused(saved):
    meta = json.loads((saved / "meta.json").read_text())
    meta["artifact_format_version"] = "99"
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="artifact_format_version '99' is not supported"):
        ForecastModel.load(saved)


def test_loaded_model_checks_request_schema(saved, fitted):
    _, X_test = fitted
    loaded = ForecastModel.load(saved)
    with pytest.raises(SchemaMismatchError, match=r"feature_names\[0\]"):
        loaded.predict(X_test[:1], feature_names=list(reversed(FEATURES)))
    with pytest.raises(SchemaMismatchError, match="featurizer_version"):
        loaded.predict(X_test[:1], featurizer_version="feat-1")


# ----------------------------------------------------------------- registry
def test_registry_publish_current_and_switch(fitted, tmp_path):
    model, X_test = fitted
    a = model.save(tmp_path / "a", corpus_hash="c1", model_version="2024.1")
    b = model.save(tmp_path / "b", corpus_hash="c2", model_version="2024.2")
    registry = ModelRegistry(tmp_path / "registry")
    assert registry.list() == [] and registry.current() is None
    with pytest.raises(RegistryError, match="no CURRENT"):
        registry.load()
    assert registry.publish(a) == "2024.1"
    assert registry.publish(b, make_current=True) == "2024.2"
    assert registry.list() == ["2024.1", "2024.2"]
    assert registry.current() == "2024.2"
    registry.set_current("2024.1")
    assert registry.current() == "2024.1"
    assert (tmp_path / "registry" / "CURRENT").read_text().strip() == "2024.1"
    assert not [p for p in (tmp_path / "registry").rglob(".*")]  # no temp leftovers
    _assert_same(registry.load().predict(X_test[:5]), model.predict(X_test[:5]))
    with pytest.raises(RegistryError, match="already published"):
        registry.publish(a)
    with pytest.raises(RegistryError, match="not published"):
        registry.set_current("2023.9")
    with pytest.raises(ValueError, match="model version"):
        registry.set_current("../a")


def test_registry_refuses_altered_artifact(fitted, tmp_path):
    model, _ = fitted
    source = model.save(tmp_path / "a", corpus_hash="c1", model_version="v1")
    (source / "calibration.json").write_text("{}")
    with pytest.raises(ArtifactError, match="calibration.json"):
        ModelRegistry(tmp_path / "registry").publish(source)
    assert ModelRegistry(tmp_path / "registry").list() == []
