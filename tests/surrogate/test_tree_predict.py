"""The numpy evaluator of LightGBM text models: equal to ``lightgbm.Booster.predict`` on
random rows with NaN, zeros and values exactly at thresholds, for every missing-value
rule; clear refusals of what it does not support."""

from __future__ import annotations

import re

import lightgbm as lgb
import numpy as np
import pytest

from surrogate.model import tree_predict
from surrogate.model.tree_predict import compile_model_texts
from surrogate.model.tree_text import TreeModelError, parse_model_text

N_FEATURES = 5
RTOL = 1e-9
ATOL = 1e-12


def _training_data(rng: np.random.Generator, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Features with NaN and exact zeros whose presence moves the target, so trees learn
    where missing values go."""
    X = rng.normal(size=(n, N_FEATURES))
    X[rng.random((n, N_FEATURES)) < 0.15] = np.nan
    X[rng.random((n, N_FEATURES)) < 0.08] = 0.0
    y = (
        np.nan_to_num(X[:, 0], nan=2.0)
        + np.sin(np.nan_to_num(X[:, 1], nan=-1.0))
        + 1.5 * np.isnan(X[:, 2])
        + (X[:, 3] == 0.0)
        + 0.3 * rng.normal(size=n)
    )
    return X, y


# (objective settings, extra LightGBM settings): regression and quantile as served, and
# the three missing-value rules LightGBM writes (NaN, Zero via zero_as_missing, None).
BOOSTER_SETTINGS = [
    ({"objective": "regression"}, {}),
    ({"objective": "quantile", "alpha": 0.1}, {}),
    ({"objective": "quantile", "alpha": 0.9}, {"num_leaves": 31, "min_data_in_leaf": 3}),
    ({"objective": "regression_l1"}, {}),
    ({"objective": "regression"}, {"zero_as_missing": True}),
    ({"objective": "quantile", "alpha": 0.5}, {"use_missing": False}),
]


@pytest.fixture(scope="module")
def boosters() -> list[lgb.Booster]:
    rng = np.random.default_rng(11)
    X, y = _training_data(rng)
    out = []
    for i, (objective, extra) in enumerate(BOOSTER_SETTINGS):
        params = {
            **objective, "num_leaves": 7, "min_data_in_leaf": 5, "learning_rate": 0.1,
            "seed": i, "num_threads": 1, "deterministic": True, "verbosity": -1, **extra,
        }
        out.append(lgb.train(params, lgb.Dataset(X, y), num_boost_round=40 + 10 * i))
    return out


def _texts(boosters: list[lgb.Booster]) -> list[str]:
    return [b.model_to_string(num_iteration=b.current_iteration()) for b in boosters]


def _test_rows(texts: list[str], rng: np.random.Generator) -> np.ndarray:
    """Random rows, rows made of the models' own thresholds (ties go left), NaN, zeros,
    values LightGBM reads as zero, and values far outside the training range."""
    thresholds = np.concatenate([parse_model_text(t, "t").threshold for t in texts])
    finite = thresholds[np.isfinite(thresholds)]
    X = rng.normal(size=(1200, N_FEATURES))
    X[:300] = rng.choice(finite, size=(300, N_FEATURES))
    X[300:400] = np.nextafter(X[:100], np.inf)
    X[400:1200][rng.random((800, N_FEATURES)) < 0.2] = np.nan
    X[400:1200][rng.random((800, N_FEATURES)) < 0.1] = 0.0
    X[1000:1050, 1] = 1e-36
    X[1050:1100, 2] = -1e-40
    X[1100:1150] = rng.normal(scale=1e3, size=(50, N_FEATURES))
    X[1150:1160] = np.nan
    return X


def _lightgbm(boosters: list[lgb.Booster], X: np.ndarray) -> np.ndarray:
    return np.stack([b.predict(X, raw_score=True, num_threads=1) for b in boosters], axis=1)


def test_equals_lightgbm_on_nan_zeros_and_thresholds(boosters):
    texts = _texts(boosters)
    forest = compile_model_texts(texts, [f"booster{i}" for i in range(len(texts))])
    X = _test_rows(texts, np.random.default_rng(3))
    expected = _lightgbm(boosters, X)
    np.testing.assert_allclose(forest.predict(X), expected, rtol=RTOL, atol=ATOL)
    for row in (0, 350, 1155):  # one row at a time: the serving case
        np.testing.assert_allclose(forest.predict(X[row : row + 1]), expected[row : row + 1], rtol=RTOL, atol=ATOL)
    # the test exercises every missing-value rule, both default directions and infinite thresholds
    parsed = [parse_model_text(t, "t") for t in texts]
    decisions = np.concatenate([p.decision_type for p in parsed])
    assert {0, 1, 2} <= set(((decisions >> 2) & 3).tolist())
    assert {0, 2} <= set((decisions & 2).tolist())
    assert np.isinf(np.concatenate([p.threshold for p in parsed])).any()


def test_each_booster_alone_and_in_small_row_chunks(boosters, monkeypatch):
    texts = _texts(boosters)
    X = _test_rows(texts, np.random.default_rng(4))[:400]
    monkeypatch.setattr(tree_predict, "MAX_CHUNK_CELLS", 1)  # one row per chunk
    for booster, text in zip(boosters, texts):
        forest = compile_model_texts([text], ["alone"])
        assert forest.n_models == 1 and forest.n_trees == booster.num_trees()
        np.testing.assert_allclose(
            forest.predict(X)[:, 0], booster.predict(X, raw_score=True), rtol=RTOL, atol=ATOL
        )


def test_one_leaf_trees_and_models_of_different_lengths():
    rng = np.random.default_rng(5)
    X, y = _training_data(rng, 200)
    constant = lgb.train({"objective": "regression", "verbosity": -1}, lgb.Dataset(X, np.full(200, 0.25)), 10)
    fitted = lgb.train({"objective": "quantile", "alpha": 0.2, "verbosity": -1, "num_leaves": 4},
                       lgb.Dataset(X, y), 25)
    assert constant.num_trees() < fitted.num_trees()
    forest = compile_model_texts(_texts([constant, fitted]), ["constant", "fitted"])
    np.testing.assert_allclose(forest.predict(X), _lightgbm([constant, fitted], X), rtol=RTOL, atol=ATOL)


def test_wrong_input_shape_is_refused(boosters):
    forest = compile_model_texts(_texts(boosters[:1]), ["b"])
    with pytest.raises(ValueError, match=rf"X must be \(rows, {N_FEATURES}\)"):
        forest.predict(np.zeros((2, N_FEATURES + 1)))


def test_categorical_splits_are_refused_naming_file_and_tree():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.integers(0, 6, size=400).astype(float), rng.normal(size=400)])
    y = (X[:, 0] % 2) * 3.0 + X[:, 1]
    booster = lgb.train({"objective": "regression", "verbosity": -1, "min_data_per_group": 5, "cat_smooth": 1},
                        lgb.Dataset(X, y, categorical_feature=[0]), 5)
    with pytest.raises(TreeModelError, match=r"^models/t000-point\.txt: tree 0 has categorical splits"):
        parse_model_text(booster.model_to_string(), "models/t000-point.txt")


def test_unsupported_models_are_refused(boosters):
    rng = np.random.default_rng(7)
    X, y = _training_data(rng, 300)
    binary = lgb.train({"objective": "binary", "verbosity": -1}, lgb.Dataset(X, (y > 1).astype(float)), 3)
    with pytest.raises(TreeModelError, match="objective 'binary"):
        parse_model_text(binary.model_to_string(), "binary.txt")
    multi = lgb.train({"objective": "multiclass", "num_class": 3, "verbosity": -1},
                      lgb.Dataset(X, np.digitize(y, [0.5, 1.5]).astype(float)), 2)
    with pytest.raises(TreeModelError, match="single-output"):
        parse_model_text(multi.model_to_string(), "multi.txt")
    linear = lgb.train({"objective": "regression", "linear_tree": True, "verbosity": -1},
                       lgb.Dataset(np.nan_to_num(X), y), 3)
    with pytest.raises(TreeModelError, match=r"linear\.txt: tree 0 is a linear tree"):
        parse_model_text(linear.model_to_string(), "linear.txt")


def test_malformed_texts_are_refused(boosters):
    text = _texts(boosters[:1])[0]
    with pytest.raises(TreeModelError, match="not a LightGBM text model"):
        parse_model_text("hello\n\nworld", "x.txt")
    with pytest.raises(TreeModelError, match="truncated"):
        parse_model_text(text[: text.index("end of trees")], "x.txt")
    bad_child = re.sub(r"(?m)^left_child=(-?\d+)", "left_child=99", text, count=1)
    with pytest.raises(TreeModelError, match="x.txt: tree 0 has a child index out of range"):
        parse_model_text(bad_child, "x.txt")
    bad_number = re.sub(r"(?m)^threshold=\S+", "threshold=abc", text, count=1)
    with pytest.raises(TreeModelError, match="threshold holds a value that is not a number"):
        parse_model_text(bad_number, "x.txt")
    # a child pointing back to the root: every node must hang under its root exactly once
    cycle = re.sub(r"(?m)^right_child=(-?\d+)", "right_child=0", text, count=1)
    with pytest.raises(TreeModelError, match="more than one node"):
        compile_model_texts([cycle], ["x.txt"])
