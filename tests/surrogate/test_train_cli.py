"""`tunecast train` -> `tunecast evaluate-model` on a synthetic featurized corpus, the embedded
default model (present and absent), the report and the gain importance it plots."""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from surrogate import default_model
from surrogate.default_model import (
    DefaultModelMissingError,
    default_model_dir,
    resolve_model_dir,
)
from surrogate.evaluation import BASELINES
from surrogate.evaluation.importance import model_importance, split_gains
from surrogate.evaluation.report import main as report_main
from surrogate.model import ForecastModel, read_meta, read_training_provenance
from surrogate.runs.training_table import load_training_table
from tests.surrogate.eval_synthetic import (
    FAMILIES,
    FEATURES,
    OUTCOMES,
    SCHEMA,
    synthetic_corpus,
)
from tunecast.cli import main

REPO = Path(__file__).resolve().parents[2]
CONFIG = {"booster": {"n_estimators": 10}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 60-run corpus, a model trained (and evaluated) on it, and a newer 24-run corpus."""
    root = tmp_path_factory.mktemp("train")
    corpus = synthetic_corpus(root / "corpus", n=60, seed=0, prefix="old")
    newer = synthetic_corpus(root / "newer", n=24, seed=50, prefix="new", offset=1)
    config = root / "config.json"
    config.write_text(json.dumps(CONFIG))
    model = root / "model"
    assert main(["train", "--corpus", str(corpus), "--out", str(model), "--config", str(config),
                 "--version", "test-v1", "--evaluate", "--folds", "3",
                 "--evaluation-out", str(root / "train_evaluation.json")]) == 0
    return {"root": root, "corpus": corpus, "newer": newer, "model": model, "config": config}


@pytest.fixture(scope="module")
def evaluated(trained):
    """`evaluate-model --json --out FILE` of the trained model's configuration: (stdout, file)."""
    out = trained["root"] / "evaluation.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["evaluate-model", "--model", str(trained["model"]), "--corpus", str(trained["corpus"]),
                     "--folds", "3", "--json", "--out", str(out)])
    assert code == 0
    return json.loads(printed.getvalue()), out


def test_train_saves_model_with_corpus_hash_schema_and_metrics(trained):
    table = load_training_table([trained["corpus"]])
    meta = read_meta(trained["model"])
    assert meta.model_version == "test-v1" and meta.corpus_hash == table.corpus_hash
    assert meta.config.booster.n_estimators == CONFIG["booster"]["n_estimators"]
    model = ForecastModel.load(trained["model"])
    assert model.schema_.feature_names == tuple(SCHEMA["feature_names"])  # served layout, obs.* included
    assert model.schema_.featurizer_version == SCHEMA["featurizer_version"]
    assert {t.split("@")[1] for t in model.targets_} == {"0.1", "0.25", "0.5", "1.0"}
    metrics = json.loads((trained["model"] / "metrics.json").read_text())
    assert set(metrics["random"]["baselines"]) == set(BASELINES)
    assert "predictions" not in metrics["random"] and "per_family" in metrics["leave_family_out"]
    assert metrics["corpus_hash"] == table.corpus_hash
    full = json.loads((trained["root"] / "train_evaluation.json").read_text())
    assert "predictions" in full["random"] and full["random"]["model"] == metrics["random"]["model"]
    forecast = model.predict(np.zeros((2, model.schema_.n_features)))
    assert forecast.point.shape == (2, len(model.targets_))
    provenance = read_training_provenance(trained["model"])
    assert provenance is not None and provenance.n_runs == table.n_runs == 60
    assert [(b.name, b.weights_hash) for b in provenance.base_models] == list(table.base_models)
    assert provenance.base_models and set(provenance.families) == set(table.families)
    assert provenance.featurizer_config == table.featurizer_config


def test_train_refuses_an_existing_directory(trained, capsys):
    assert main(["train", "--corpus", str(trained["corpus"]), "--out", str(trained["model"])]) == 2
    assert "already exists" in capsys.readouterr().err


def test_evaluate_model_cross_validates_the_artifacts_configuration(evaluated):
    printed, out = evaluated
    assert printed == json.loads(out.read_text())
    assert printed["config"]["model"]["booster"]["n_estimators"] == CONFIG["booster"]["n_estimators"]
    assert len(printed["random"]["folds"]) == 3
    assert {f["name"] for f in printed["leave_family_out"]["folds"]} == set(FAMILIES)
    assert set(printed["random"]["model"]) == set(OUTCOMES)
    assert printed["n_runs"] == 60 and "early_run" in printed


def test_evaluate_model_heldout_scores_runs_the_model_never_saw(trained, capsys):
    assert main(["evaluate-model", "--model", str(trained["model"]), "--corpus", str(trained["corpus"]),
                 "--heldout", str(trained["newer"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "random" not in result and result["n_runs"] == 24
    assert result["model_version"] == "test-v1"
    assert set(result["heldout"]["baselines"]) == set(BASELINES)
    assert result["heldout"]["model"]["forgetting.ref_loss"]["n"] == 24
    # the training corpus itself is not held out
    assert main(["evaluate-model", "--model", str(trained["model"]), "--corpus", str(trained["corpus"]),
                 "--heldout", str(trained["corpus"])]) == 2
    assert "never saw" in capsys.readouterr().err


def test_missing_default_model_says_how_to_train_one(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(default_model, "default_model_dir", lambda: tmp_path / "models" / "default")
    with pytest.raises(DefaultModelMissingError, match="tunecast train"):
        resolve_model_dir(None)
    assert main(["evaluate-model", "--corpus", str(trained["corpus"])]) == 2
    err = capsys.readouterr().err
    assert "embedded default meta-model is absent" in err
    assert "tunecast train --corpus" in err and "--out surrogate/models/default" in err


def test_default_model_is_used_when_model_is_omitted(trained, tmp_path, monkeypatch, capsys):
    default = tmp_path / "models" / "default"
    shutil.copytree(trained["model"], default)
    monkeypatch.setattr(default_model, "default_model_dir", lambda: default)
    assert resolve_model_dir(None) == default
    assert main(["evaluate-model", "--corpus", str(trained["corpus"]), "--heldout", str(trained["newer"]),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == "test-v1"


def test_default_model_ships_as_package_data(trained):
    assert default_model_dir() == REPO / "surrogate" / "models" / "default"
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["surrogate"]
    files = [p.relative_to(trained["model"]).as_posix() for p in trained["model"].rglob("*") if p.is_file()]
    for rel in files:
        assert any(fnmatch.fnmatch(f"models/default/{rel}", pattern) for pattern in patterns), rel


def test_report_writes_plots_importance_and_metrics(trained, evaluated, tmp_path):
    evaluation = evaluated[1]
    out = tmp_path / "report"
    assert report_main(["--evaluation", str(evaluation), "--model", str(trained["model"]),
                        "--corpus", str(trained["corpus"]), "--out", str(out)]) == 0
    for name in ("predicted_vs_actual_random.png", "predicted_vs_actual_leave_family_out.png",
                 "coverage_calibration.png", "feature_importance.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    markdown = (out / "metrics.md").read_text()
    assert "| forgetting.ref_loss | model |" in markdown and "| forgetting.ref_loss | knn |" in markdown
    assert "per held-out family" in markdown and "| stereo_a | bias.stereotype_pref |" in markdown
    assert "the lexicon-free family `implicit_stereotype` left out" in markdown
    importance = json.loads((out / "feature_importance.json").read_text())
    assert 0 < len(importance["overall"]) <= 25
    assert sum(importance["by_group"].values()) == pytest.approx(1.0)
    assert not list(out.glob(".*.tmp*"))  # atomic writes leave no temp files
    # an evaluation of another corpus is refused
    assert report_main(["--evaluation", str(evaluation), "--model", str(trained["model"]),
                        "--corpus", str(trained["newer"]), "--out", str(out)]) == 2


def test_gain_importance_matches_lightgbm(trained):
    import lightgbm as lgb

    model = ForecastModel.load(trained["model"])
    for spec in model.boosters_[:6]:
        ours = split_gains(spec.model_text)
        theirs = lgb.Booster(model_str=spec.model_text).feature_importance(importance_type="gain")
        np.testing.assert_allclose(ours.gain, theirs, rtol=1e-6, atol=1e-9)
    importance = model_importance(model, top=3)
    assert len(importance["overall"]) <= 3
    assert set(importance["targets"]) == {f"{o}@1.0" for o in OUTCOMES}
    assert {r["feature"] for r in importance["overall"]} <= set(model.schema_.feature_names)
    assert set(FEATURES) <= set(model.schema_.feature_names)
