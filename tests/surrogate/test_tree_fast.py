"""The compiled tree evaluator (numba) equals the numpy evaluator, bitwise, on fitted
models with NaN, zeros, zero-as-missing and ties at thresholds, through both kernels and
across row blocks, and on the embedded default model; without numba, or when it would
disagree, numpy stays in charge."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from surrogate.default_model import default_model_dir
from surrogate.model import ForecastModel, tree_fast
from surrogate.model.tree_predict import compile_model_texts
from surrogate.model.tree_text import parse_model_text

pytest.importorskip("numba")

REPO = Path(__file__).resolve().parents[2]
N_FEATURES = 6


def _data(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Features with NaN and exact zeros whose presence moves the target."""
    X = rng.normal(size=(n, N_FEATURES))
    X[rng.random(X.shape) < 0.15] = np.nan
    X[rng.random(X.shape) < 0.08] = 0.0
    y = (np.nan_to_num(X[:, 0], nan=2.0) + np.sin(np.nan_to_num(X[:, 1], nan=-1.0)) + 1.5 * np.isnan(X[:, 2])
         + (X[:, 3] == 0.0) + 0.3 * rng.normal(size=n))
    return X, y


SETTINGS = [
    {"objective": "regression"},
    {"objective": "quantile", "alpha": 0.1},
    {"objective": "quantile", "alpha": 0.9, "num_leaves": 31, "min_data_in_leaf": 3},
    {"objective": "regression_l1", "num_leaves": 64, "min_data_in_leaf": 2},
    {"objective": "regression", "zero_as_missing": True},
    {"objective": "quantile", "alpha": 0.5, "use_missing": False},
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    X, y = _data(np.random.default_rng(21))
    out = []
    for i, params in enumerate(SETTINGS):
        booster = lgb.train(
            {"num_leaves": 7, "min_data_in_leaf": 5, "learning_rate": 0.1, "seed": i, "num_threads": 1,
             "deterministic": True, "verbosity": -1, **params},
            lgb.Dataset(X, y), num_boost_round=30 + 7 * i,
        )
        out.append(booster.model_to_string(num_iteration=booster.current_iteration()))
    return out


def _rows(texts: list[str], rng: np.random.Generator, n: int = 700) -> np.ndarray:
    """Random rows, rows made of the models' thresholds and just past them, NaN, zeros,
    values LightGBM reads as zero, and values far outside the training range."""
    thresholds = np.concatenate([parse_model_text(t, "t").threshold for t in texts])
    finite = thresholds[np.isfinite(thresholds)]
    X = rng.normal(size=(n, N_FEATURES))
    X[:150] = rng.choice(finite, size=(150, N_FEATURES))
    X[150:250] = np.nextafter(X[:100], np.inf)
    X[250:][rng.random((n - 250, N_FEATURES)) < 0.2] = np.nan
    X[250:][rng.random((n - 250, N_FEATURES)) < 0.1] = 0.0
    X[500:540, 1] = 1e-36
    X[540:580, 2] = -1e-40
    X[580:620] = rng.normal(scale=1e3, size=(40, N_FEATURES))
    X[620:630] = np.nan
    return X


def test_compiled_equals_numpy_for_every_missing_rule_and_row_count(texts):
    forest = compile_model_texts(texts, [f"b{i}" for i in range(len(texts))])
    assert forest.accelerate()
    assert forest.acceleration.compiled is not None
    X = _rows(texts, np.random.default_rng(5))
    expected = forest.predict_numpy(X)
    # one row, a few rows (by-row kernel), just enough for the by-tree kernel, several blocks
    for n in (1, 2, tree_fast.BY_TREE_MIN_ROWS - 1, tree_fast.BY_TREE_MIN_ROWS, tree_fast.BLOCK_ROWS + 3, X.shape[0]):
        np.testing.assert_array_equal(forest.predict(X[:n]), expected[:n])
    for row in (0, 160, 520, 625):
        np.testing.assert_array_equal(forest.predict(X[row : row + 1]), expected[row : row + 1])
    # the models exercise every missing-value rule and a 64-leaf tree (the mask's limit)
    parsed = [parse_model_text(t, "t") for t in texts]
    decisions = np.concatenate([p.decision_type for p in parsed])
    assert {0, 1, 2} <= set(((decisions >> 2) & 3).tolist())
    assert max(int(np.diff(p.leaf_start).max()) for p in parsed) == tree_fast.MAX_LEAVES


def test_compiled_equals_lightgbm_per_model(texts):
    X = _rows(texts, np.random.default_rng(6))
    for text in texts:
        forest = compile_model_texts([text], ["alone"])
        assert forest.accelerate()
        booster = lgb.Booster(model_str=text)
        np.testing.assert_allclose(forest.predict(X)[:, 0], booster.predict(X, raw_score=True), rtol=1e-9, atol=1e-12)


def test_one_leaf_trees_and_models_of_different_lengths():
    rng = np.random.default_rng(7)
    X, y = _data(rng, 200)
    constant = lgb.train({"objective": "regression", "verbosity": -1}, lgb.Dataset(X, np.full(200, 0.25)), 10)
    fitted = lgb.train({"objective": "quantile", "alpha": 0.2, "verbosity": -1, "num_leaves": 4},
                       lgb.Dataset(X, y), 25)
    forest = compile_model_texts(
        [b.model_to_string(num_iteration=b.current_iteration()) for b in (constant, fitted)], ["c", "f"]
    )
    expected = forest.predict_numpy(X)
    assert forest.accelerate()
    np.testing.assert_array_equal(forest.predict(X), expected)
    np.testing.assert_array_equal(forest.predict(X[:1]), expected[:1])


def test_trees_with_more_leaves_than_the_mask_stay_on_numpy():
    X, y = _data(np.random.default_rng(8), 900)
    big = lgb.train({"objective": "regression", "num_leaves": 80, "min_data_in_leaf": 2, "verbosity": -1},
                    lgb.Dataset(X, y), 3)
    text = big.model_to_string()
    assert int(np.diff(parse_model_text(text, "big").leaf_start).max()) > tree_fast.MAX_LEAVES
    forest = compile_model_texts([text], ["big"])
    assert tree_fast.build_layout(forest.models) is None
    assert not forest.accelerate()
    np.testing.assert_array_equal(forest.predict(X), forest.predict_numpy(X))


def test_a_disagreeing_kernel_is_not_installed(texts, monkeypatch, caplog):
    forest = compile_model_texts(texts[:2], ["a", "b"])
    real = tree_fast.FastForest.predict
    monkeypatch.setattr(tree_fast.FastForest, "predict", lambda self, X: real(self, X) + 1e-12)
    with caplog.at_level(logging.ERROR, logger="surrogate.model.tree_fast"):
        assert not forest.accelerate()
    assert forest.acceleration.compiled is None
    assert "differ from numpy" in caplog.text


def test_default_model_compiled_equals_numpy_and_forecasts_are_unchanged():
    model = ForecastModel.load(default_model_dir())
    stats = model.feature_stats_
    rng = np.random.default_rng(9)
    X = stats.median + rng.normal(size=(300, stats.median.size)) * stats.scale
    X[rng.random(X.shape) < 0.05] = np.nan
    X[:150, model.schema_.observation_indices] = np.nan
    X[:5] = 0.0
    before = model.predict(X)
    assert model.accelerate(background=True)
    assert model.forest_.wait_accelerated(timeout=600)
    after = model.predict(X)
    np.testing.assert_array_equal(model.forest_.predict(X), model.forest_.predict_numpy(X))
    for name in ("point", "lower", "upper", "observed"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
    np.testing.assert_array_equal(model.predict(X[7:8]).point, before.point[7:8])


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_without_numba_numpy_serves():
    """numba made unimportable in a fresh process: accelerate says no, predictions work."""
    result = _run(
        """
        import importlib.abc, sys

        class NoNumba(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "numba" or name.startswith("numba."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, NoNumba())
        import numpy as np
        from surrogate.default_model import default_model_dir
        from surrogate.model import ForecastModel, tree_fast

        model = ForecastModel.load(default_model_dir())
        X = np.asarray(model.feature_stats_.median)[None, :].repeat(3, axis=0)
        before = model.predict(X).point
        assert not tree_fast.numba_available()
        assert tree_fast.load_kernels() is None
        assert model.accelerate() is False and model.accelerate(background=True) is False
        assert model.forest_.acceleration.compiled is None
        assert np.array_equal(model.predict(X).point, before)
        assert "numba" not in sys.modules
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
