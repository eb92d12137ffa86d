"""The meta-model estimator: fit/predict contract, real conformal coverage, OOD flags,
mid-run observations, schema checks, and the no-torch / no-pickle rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surrogate.model import (
    BoosterParams,
    CalibrationTooSmallError,
    FeatureSchema,
    ForecastModel,
    ForecastModelConfig,
    NotFittedError,
    SchemaMismatchError,
    parse_target,
    target_name,
)
from surrogate.model.conformal import conformal_rank, min_calibration_size

REPO = Path(__file__).resolve().parents[2]
TARGET = "forgetting.ref_loss@1.0"
N_FEATURES = 6


def _schema(n_features: int = N_FEATURES, extra: tuple[str, ...] = ()) -> FeatureSchema:
    names = tuple(f"f{i}" for i in range(n_features)) + extra
    return FeatureSchema(feature_names=names, featurizer_version="test-1")


def _hetero(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = sin(2 x0) + x1 + noise whose sd grows with |x2| (0.05 to 0.65)."""
    X = rng.uniform(-1.0, 1.0, size=(n, N_FEATURES))
    sd = 0.05 + 0.6 * np.abs(X[:, 2])
    y = np.sin(2.0 * X[:, 0]) + X[:, 1] + rng.normal(size=n) * sd
    return X, y, sd


@pytest.fixture(scope="module")
def hetero():
    """A default-config model on 2,000 heteroscedastic rows, and 2,000 fresh test rows."""
    rng = np.random.default_rng(20240601)
    X, y, _ = _hetero(2000, rng)
    X_test, y_test, sd_test = _hetero(2000, rng)
    model = ForecastModel().fit(X, {TARGET: y}, _schema())
    return model, X_test, y_test, sd_test


def _small_model(**config) -> tuple[ForecastModel, np.ndarray]:
    rng = np.random.default_rng(7)
    X, y, _ = _hetero(300, rng)
    y2 = np.where(rng.random(300) < 0.2, np.nan, 2.0 * X[:, 3] + 0.1 * rng.normal(size=300))
    Y = {TARGET: y, "bias.gender_skew@0.5": y2, "forgetting.ref_loss@0.25": 0.5 * y}
    cfg = ForecastModelConfig(booster=BoosterParams(n_estimators=40), **config)
    return ForecastModel(cfg).fit(X, Y, _schema()), X


# ---------------------------------------------------------------- contract
def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="call fit"):
        ForecastModel().predict(np.zeros((1, N_FEATURES)))


def test_init_only_stores_parameters():
    config = ForecastModelConfig(seed=3)
    model = ForecastModel(config)
    assert model.config is config
    assert not [k for k in vars(model) if k.endswith("_")]


def test_fit_predict_shapes_and_target_order():
    model, X = _small_model()
    forecast = model.predict(X[:17], levels=(0.5, 0.8, 0.9))
    # core outcomes in architecture order, then checkpoints ascending
    assert forecast.targets == ("forgetting.ref_loss@0.25", TARGET, "bias.gender_skew@0.5")
    assert forecast.point.shape == (17, 3)
    assert forecast.lower.shape == forecast.upper.shape == (3, 17, 3)
    assert np.all(forecast.lower <= forecast.upper)
    assert np.isfinite(forecast.point).all()
    # a wider level never gives a narrower interval
    widths = forecast.upper - forecast.lower
    assert np.all(widths[2] >= widths[1] - 1e-12) and np.all(widths[1] >= widths[0] - 1e-12)
    lo, hi = forecast.interval(TARGET, 0.8)
    assert lo.shape == hi.shape == (17,)
    assert forecast.point_of(TARGET).shape == (17,)
    # missing target values were dropped, not trained on
    sizes = model.calibration_sizes()
    assert sizes["bias.gender_skew@0.5"]["pre"] < sizes[TARGET]["pre"]


def test_default_levels_come_from_config():
    model, X = _small_model()
    assert model.predict(X[:2]).levels == model.config_.levels


def _assert_forest_matches_lightgbm(model: ForecastModel, X: np.ndarray) -> None:
    """The numpy evaluator (all boosters at once) equals LightGBM booster by booster."""
    import lightgbm as lgb

    raw = model.forest_.predict(X)
    assert raw.shape == (X.shape[0], len(model.boosters_))
    for k, spec in enumerate(model.boosters_):
        expected = lgb.Booster(model_str=spec.model_text).predict(X, raw_score=True)
        np.testing.assert_allclose(raw[:, k], expected, rtol=1e-9, atol=1e-12, err_msg=spec.label)


def test_same_seed_same_model_and_forest_matches_lightgbm():
    a, X = _small_model()
    b, _ = _small_model()
    fa, fb = a.predict(X), b.predict(X)
    assert np.array_equal(fa.point, fb.point) and np.array_equal(fa.lower, fb.lower)
    _assert_forest_matches_lightgbm(a, X[:50])
    _assert_forest_matches_lightgbm(a, X[:1])


def test_boosters_that_stop_early_are_summed_over_their_own_trees():
    rng = np.random.default_rng(2)
    X, y, _ = _hetero(80, rng)
    Y = {TARGET: y, "bias.gender_skew@1.0": np.full(80, 0.25)}  # constant: no split possible
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=30))
    model = ForecastModel(config).fit(X, Y, _schema())
    iterations = {(s.target, s.kind): s.num_iteration for s in model.boosters_}
    assert iterations[("bias.gender_skew@1.0", "point")] < 30 == iterations[(TARGET, "point")]
    _assert_forest_matches_lightgbm(model, X)
    forecast = model.predict(X[:3])
    assert np.allclose(forecast.point_of("bias.gender_skew@1.0"), 0.25)


@pytest.mark.parametrize("options", [{"interval_method": "split_refit"}, {"point_objective": "l1"},
                                     {"score": "absolute", "base_levels": (0.8, 0.9)}])
def test_options_fit_and_predict(options):
    model, X = _small_model(**options)
    forecast = model.predict(X[:5])
    assert np.all(forecast.lower <= forecast.upper)
    assert np.all(forecast.lower <= forecast.point[None]) and np.all(forecast.point[None] <= forecast.upper)


# ---------------------------------------------------------------- coverage
def test_coverage_is_valid(hetero):
    model, X_test, y_test, _ = hetero
    forecast = model.predict(X_test, levels=(0.8, 0.9))
    lo90, hi90 = forecast.interval(TARGET, 0.9)
    lo80, hi80 = forecast.interval(TARGET, 0.8)
    coverage90 = np.mean((y_test >= lo90) & (y_test <= hi90))
    coverage80 = np.mean((y_test >= lo80) & (y_test <= hi80))
    assert 0.86 <= coverage90 <= 0.94, coverage90
    assert 0.76 <= coverage80 <= 0.84, coverage80


def test_intervals_narrower_where_noise_is_lower(hetero):
    model, X_test, _, sd = hetero
    lo, hi = model.predict(X_test, levels=(0.9,)).interval(TARGET, 0.9)
    width = hi - lo
    quiet, noisy = sd < 0.15, sd > 0.5
    assert width[quiet].mean() < 0.6 * width[noisy].mean()


def test_point_forecast_is_accurate(hetero):
    model, X_test, y_test, sd = hetero
    mse = np.mean((model.predict(X_test).point_of(TARGET) - y_test) ** 2)
    assert mse < 1.3 * np.mean(sd**2)


# -------------------------------------------------------------- calibration
def test_conformal_rank_rule():
    assert min_calibration_size(0.9) == 9
    assert min_calibration_size(0.8) == 4
    assert conformal_rank(9, 0.9) == 9  # 10 * 0.9 is 9.000000000000002 in floats
    assert conformal_rank(8, 0.9) == 9  # > n: level unreachable with 8 rows


def test_calibration_too_small_at_fit():
    rng = np.random.default_rng(1)
    X, y, _ = _hetero(60, rng)
    config = ForecastModelConfig(calibration_fraction=0.1, booster=BoosterParams(n_estimators=5))
    with pytest.raises(CalibrationTooSmallError, match=r"6 calibration rows.*at least 9"):
        ForecastModel(config).fit(X, {TARGET: y}, _schema())


def test_calibration_too_small_at_predict(hetero):
    model, X_test, _, _ = hetero
    with pytest.raises(CalibrationTooSmallError, match=r"level 0.999.*at least 999 rows"):
        model.predict(X_test[:3], levels=(0.999,))


def test_invalid_inputs_are_named():
    model, X = _small_model()
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        model.predict(X[:2], levels=(1.0,))
    with pytest.raises(ValueError, match="2-D"):
        model.predict(X[0])
    bad = X[:2].copy()
    bad[1, 4] = np.inf
    with pytest.raises(ValueError, match=r"X\[1, 4\] \(feature 'f4'\) is infinite"):
        model.predict(bad)
    with pytest.raises(ValueError, match="canonical"):
        ForecastModel().fit(X, {"forgetting.ref_loss@1": X[:, 0]}, _schema())
    with pytest.raises(ValueError, match=r"shape \(299,\)"):
        ForecastModel().fit(X, {TARGET: X[:-1, 0]}, _schema())
    assert parse_target(target_name("bias.gender_skew", 0.25)) == ("bias.gender_skew", 0.25)


# ------------------------------------------------------------------ schema
def test_schema_mismatch_refused():
    model, X = _small_model()
    names = list(model.schema_.feature_names)
    with pytest.raises(SchemaMismatchError, match=r"feature_names\[0\] is 'f5'"):
        model.predict(X[:1], feature_names=names[::-1])
    with pytest.raises(SchemaMismatchError, match="unknown.*'g9'"):
        model.predict(X[:1], feature_names=[*names[:-1], "g9"])
    with pytest.raises(SchemaMismatchError, match="featurizer_version"):
        model.predict(X[:1], featurizer_version="test-2")
    with pytest.raises(SchemaMismatchError, match="5 columns"):
        model.predict(X[:1, :5])
    forecast = model.predict(X[:1], feature_names=names, featurizer_version="test-1")
    assert forecast.point.shape == (1, 3)


def test_matrix_from_rows_orders_and_refuses_unknown():
    schema = _schema(3)
    X = schema.matrix_from_rows([{"f2": 2.0, "f0": 0.5}, {"f1": None}])
    assert np.array_equal(X[0], [0.5, np.nan, 2.0], equal_nan=True)
    assert np.isnan(X[1]).all()
    with pytest.raises(SchemaMismatchError, match=r"rows\[0\]: feature 'zz'"):
        schema.matrix_from_rows([{"zz": 1.0}])


# --------------------------------------------------------------------- OOD
def test_ood_flags_name_the_feature_at_fault(hetero):
    model, X_test, _, _ = hetero
    rows = X_test[:3].copy()
    rows[1, 3] = 5.0  # training range of f3 is [-1, 1]
    rows[2, 0] = -4.0
    rows[2, 5] = 3.0
    report = model.predict(rows).ood
    assert report.features_at_fault(0) == ()
    assert report.features_at_fault(1) == ("f3",)
    assert report.features_at_fault(2) == ("f0", "f5")
    assert report.flagged.tolist() == [False, True, True]
    assert report.distance[1] > report.distance[0]
    alone = model.check_ood(rows)  # the same findings without a forecast
    np.testing.assert_array_equal(alone.out_of_range, report.out_of_range)
    np.testing.assert_array_equal(alone.distance, report.distance)


def test_ood_in_distribution_rows_rarely_flagged(hetero):
    model, X_test, _, _ = hetero
    report = model.predict(X_test[:500]).ood
    assert report.flagged.mean() < 0.05
    far = model.predict(np.full((1, N_FEATURES), 0.99)).ood  # a corner, inside the ranges
    assert far.features_at_fault(0) == ()


def test_ood_distance_flags_unusual_combinations():
    rng = np.random.default_rng(3)
    t = rng.uniform(-1, 1, size=1000)
    X = np.column_stack([t, t + 0.01 * rng.normal(size=1000), rng.uniform(-1, 1, size=(1000, 4))])
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=5))
    model = ForecastModel(config).fit(X, {TARGET: t}, _schema())
    row = np.array([[0.9, -0.9, 0.0, 0.0, 0.0, 0.0]])  # each value in range, the pair never seen
    report = model.predict(row).ood
    assert report.features_at_fault(0) == ()
    assert report.distance_flagged[0] and report.flagged[0]


def test_ood_unseen_missing_is_flagged(hetero):
    model, X_test, _, _ = hetero
    row = X_test[:1].copy()
    row[0, 2] = np.nan  # never missing in training: LightGBM would silently read it as 0
    report = model.predict(row).ood
    assert report.features_at_fault(0) == ("f2",)
    assert report.unseen_missing[0, 2]


def test_ood_config_requires_a_rule():
    from surrogate.model import OODConfig

    with pytest.raises(ValueError, match="enable at least one"):
        OODConfig(range_margin=None, robust_z_max=None)
    model, X = _small_model(ood=OODConfig(range_margin=None, robust_z_max=4.0))
    row = X[:1].copy()
    row[0, 1] = 30.0
    assert model.predict(row).ood.features_at_fault(0) == ("f1",)


# ---------------------------------------------------------------- mid-run
def _mid_run(n: int, rng: np.random.Generator, observed_share: float):
    """The outcome depends on a latent z that only an early observation reveals."""
    X = rng.uniform(-1.0, 1.0, size=(n, N_FEATURES))
    z = rng.normal(size=n)
    y = X[:, 0] + 1.5 * z + 0.2 * rng.normal(size=n)
    obs = z + 0.1 * rng.normal(size=n)
    obs[rng.random(n) >= observed_share] = np.nan
    return np.column_stack([X, obs]), y


def test_mid_run_observation_improves_forecast():
    rng = np.random.default_rng(11)
    schema = _schema(extra=("obs.ref_loss@0.1",))
    X, y = _mid_run(1500, rng, observed_share=0.6)
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=150))
    model = ForecastModel(config).fit(X, {TARGET: y}, schema)
    X_test, y_test = _mid_run(600, rng, observed_share=1.0)
    blind = X_test.copy()
    blind[:, -1] = np.nan
    with_obs = model.predict(X_test, levels=(0.9,))
    without = model.predict(blind, levels=(0.9,))
    assert with_obs.observed.all() and not without.observed.any()
    mse_with = np.mean((with_obs.point_of(TARGET) - y_test) ** 2)
    mse_without = np.mean((without.point_of(TARGET) - y_test) ** 2)
    assert mse_with < 0.3 * mse_without, (mse_with, mse_without)
    lo_w, hi_w = with_obs.interval(TARGET, 0.9)
    lo_b, hi_b = without.interval(TARGET, 0.9)
    assert np.mean(hi_w - lo_w) < 0.5 * np.mean(hi_b - lo_b)
    # each regime keeps its own calibration, so both stay honest
    assert np.mean((y_test >= lo_w) & (y_test <= hi_w)) > 0.85
    assert np.mean((y_test >= lo_b) & (y_test <= hi_b)) > 0.85
    # missing observations are the pre-run regime, never an OOD flag
    assert not without.ood.unseen_missing.any()


# ----------------------------------------------------------- package rules
def test_import_does_not_pull_torch():
    code = "import sys, surrogate.model; sys.exit(1 if 'torch' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, "importing surrogate.model imported torch\n" + result.stderr


def test_no_pickle_in_package():
    pattern = re.compile(
        r"\bimport\s+(c?pickle|dill|joblib|cloudpickle)\b|\bfrom\s+(c?pickle|dill|joblib|cloudpickle)\b"
        r"|allow_pickle\s*=\s*True|\btorch\.(save|load)\b|\bimport\s+torch\b|\bfrom\s+torch\b"
    )
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "surrogate").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
