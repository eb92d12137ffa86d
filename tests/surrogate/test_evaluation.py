"""Cross-validation of the meta-model: folds that never leak, metrics checked by hand, the
exact JSON shape with every baseline, held-out scoring, and real coverage of the 90%
intervals on a table with a known noise model."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surrogate.evaluation import (
    ABLATION,
    BASELINES,
    METRIC_NAMES,
    EvaluationConfig,
    EvaluationError,
    Fold,
    FoldError,
    FoldSplitter,
    LeaveOneFamilyOut,
    RandomKFold,
    check_folds,
    evaluate,
    evaluate_heldout,
    first_order_columns,
)
from surrogate.evaluation.methods import Method, MethodSpec, residual_quantile
from surrogate.evaluation.metrics import rankdata, score
from surrogate.model import BoosterParams, ForecastModelConfig
from surrogate.training import design_matrix, train_model
from tests.surrogate.eval_synthetic import FAMILIES, OUTCOMES, synthetic_table

REPO = Path(__file__).resolve().parents[2]
SMALL = ForecastModelConfig(booster=BoosterParams(n_estimators=25))

evaluate_module = sys.modules["surrogate.evaluation.evaluate"]


@pytest.fixture(scope="module")
def table():
    return synthetic_table(n=120, seed=0)


@pytest.fixture(scope="module")
def result(table):
    return evaluate(table, SMALL, EvaluationConfig(folds=4))


# ----------------------------------------------------------------- metrics
def test_metrics_on_a_hand_made_example():
    actual = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    point = np.array([1.0, 3.0, 2.0, 5.0, 7.0])
    lower = np.array([0.0, 2.5, 2.5, 3.0, 0.0])
    upper = np.array([2.0, 3.5, 3.5, 4.5, 9.0])
    m = score(actual, point, lower, upper)
    assert set(m) == set(METRIC_NAMES)
    assert m["n"] == 4  # the unmeasured run is not scored
    assert m["spearman"] == pytest.approx(0.8)  # 1 - 6 * (0 + 1 + 1 + 0) / (4 * 15)
    assert m["r2"] == pytest.approx(1 - 3 / 5)
    assert m["mae"] == pytest.approx(0.75)
    assert m["coverage_90"] == pytest.approx(0.75)  # 2 lies outside [2.5, 3.5]
    assert m["width_90"] == pytest.approx((2 + 1 + 1 + 1.5) / 4)


def test_metric_edge_cases():
    assert rankdata(np.array([3.0, 1.0, 1.0, 2.0])).tolist() == [4.0, 1.5, 1.5, 3.0]
    constant = score(np.ones(5), np.arange(5.0), np.zeros(5), np.full(5, 2.0))
    assert math.isnan(constant["spearman"]) and math.isnan(constant["r2"])
    unreachable = score(np.arange(5.0), np.arange(5.0), np.full(5, np.nan), np.full(5, np.nan))
    assert math.isnan(unreachable["coverage_90"]) and math.isnan(unreachable["width_90"])
    assert unreachable["mae"] == 0.0


def test_residual_quantile_follows_the_conformal_rank():
    residuals = np.arange(1.0, 10.0)  # 9 rows: rank ceil(10 * 0.9) = 9
    assert residual_quantile(residuals, 0.9) == 9.0
    assert residual_quantile(residuals, 0.5) == 5.0
    assert math.isnan(residual_quantile(residuals[:8], 0.9))  # ceil(9 * 0.9) = 9 > 8


# ------------------------------------------------------------------- folds
def test_random_k_fold_partitions_the_runs():
    folds = RandomKFold(4, seed=3).split(10, ["a"] * 10)
    check_folds(folds, 10)
    assert sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(10))
    assert sorted(f.test.size for f in folds) == [2, 2, 3, 3]
    assert [f.test.tolist() for f in RandomKFold(4, seed=3).split(10, [])] == [f.test.tolist() for f in folds]
    with pytest.raises(FoldError, match="cannot fill"):
        RandomKFold(5, 0).split(3, ["a"] * 3)


def test_leave_one_family_out_holds_out_exactly_one_family_per_fold():
    families = ["b", "a", "c", "a", "b", "a"]
    folds = LeaveOneFamilyOut().split(6, families)
    check_folds(folds, 6)
    assert [f.name for f in folds] == ["a", "b", "c"]
    for fold in folds:
        assert {families[i] for i in fold.test} == {fold.name}
        assert fold.name not in {families[i] for i in fold.train}
        assert sorted([*fold.train, *fold.test]) == list(range(6))
    with pytest.raises(FoldError, match="at least 2"):
        LeaveOneFamilyOut().split(3, ["a"] * 3)


def test_check_folds_refuses_leaks_and_gaps():
    with pytest.raises(FoldError, match="both the training and the test"):
        check_folds([Fold("x", np.array([0, 1]), np.array([1, 2])), Fold("y", np.array([1, 2]), np.array([0]))], 3)
    with pytest.raises(FoldError, match="scored 0 times"):
        check_folds([Fold("x", np.array([0]), np.array([1]))], 3)


class _RecordingSplitter(FoldSplitter):
    """The real splitter, with every fold it hands out kept for inspection."""

    def __init__(self, inner: FoldSplitter) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.folds: list[Fold] = []

    def split(self, n_rows, families):
        self.folds = self.inner.split(n_rows, families)
        return self.folds


class _Spy(Method):
    def __init__(self, inner: Method, name: str, log: list) -> None:
        self.inner, self.name, self.log = inner, name, log

    def fit(self, X, Y):
        self.log.append((self.name, "fit", X.copy()))
        self.inner.fit(X, Y)
        return self

    def predict(self, X, levels):
        self.log.append((self.name, "predict", X.copy()))
        return self.inner.predict(X, levels)


def _row_index(matrix: np.ndarray) -> dict[bytes, int]:
    index = {np.nan_to_num(row, nan=-999.0).tobytes(): i for i, row in enumerate(matrix)}
    assert len(index) == matrix.shape[0], "synthetic rows must be unique to be traced"
    return index


def test_cross_validation_never_scores_a_run_its_fold_trained_on(monkeypatch):
    table = synthetic_table(n=80, seed=5)  # 2 folds of 40: 10 calibration rows, enough for 0.9
    log: list = []
    specs_seen: dict[str, MethodSpec] = {}
    real_build = evaluate_module.build_methods

    def spying_build(*args, **kwargs):
        specs = real_build(*args, **kwargs)
        for name, spec in specs.items():
            specs_seen[name] = spec
            specs[name] = MethodSpec(name, lambda s=spec, n=name: _Spy(s.factory(), n, log), spec.columns,
                                     spec.supports, spec.early_run)
        return specs

    monkeypatch.setattr(evaluate_module, "build_methods", spying_build)
    splitters = [_RecordingSplitter(RandomKFold(2, seed=1)), _RecordingSplitter(LeaveOneFamilyOut())]
    evaluate(table, ForecastModelConfig(booster=BoosterParams(n_estimators=2)), EvaluationConfig(), splitters=splitters)

    assert set(specs_seen) == {"model", *BASELINES}
    folds = [f for s in splitters for f in s.folds]
    assert len(folds) == 2 + len(FAMILIES)
    def key(row: np.ndarray) -> bytes:
        return np.nan_to_num(row, nan=-999.0).tobytes()

    for name, spec in specs_seen.items():
        fitted = _row_index(design_matrix(table, spec.columns, observations=True))
        pre_run = _row_index(design_matrix(table, spec.columns, observations=False))
        fold_i, train_rows = -1, set()
        pre_scored: list[list[int]] = [[] for _ in folds]
        for n, kind, X in log:
            if n != name:
                continue
            if kind == "fit":
                fold_i += 1
                train_rows = {fitted[key(r)] for r in X}
                assert train_rows == set(folds[fold_i].train.tolist()), (name, folds[fold_i].name)
                continue
            is_pre = all(key(r) in pre_run for r in X)
            rows = [pre_run[key(r)] if is_pre else fitted[key(r)] for r in X]
            assert not set(rows) & train_rows, f"{name} scored a run of its own training fold"
            assert set(rows) <= set(folds[fold_i].test.tolist())
            if is_pre:
                pre_scored[fold_i].extend(rows)
        assert fold_i == len(folds) - 1, f"{name} was not refitted in every fold"
        # pre-run forecasts: each split scores every run exactly once
        for split in (pre_scored[:2], pre_scored[2:]):
            assert sorted(r for rows in split for r in rows) == list(range(table.n_runs)), name


def test_a_leaky_splitter_is_refused(table):
    class Leaky(FoldSplitter):
        kind = "random"

        def split(self, n_rows, families):
            everything = np.arange(n_rows)
            return [Fold("all", everything, everything)]

    with pytest.raises(FoldError, match="never score a run it trained on"):
        evaluate(table, SMALL, EvaluationConfig(), splitters=[Leaky()])


# ------------------------------------------------------------ result shape
def test_result_has_the_exact_shape_with_every_baseline(result, table):
    json.dumps(result, allow_nan=False)  # plain JSON: NaN became null
    assert {"random", "leave_family_out", "early_run", "n_runs", "corpus_hash"} <= set(result)
    assert result["n_runs"] == table.n_runs and result["corpus_hash"] == table.corpus_hash
    for split in ("random", "leave_family_out"):
        block = result[split]
        assert set(block["model"]) == set(OUTCOMES)
        assert set(block["baselines"]) == set(BASELINES)
        for metrics in block["model"].values():
            assert set(metrics) == set(METRIC_NAMES) and metrics["n"] == table.n_runs
        for name, per_outcome in block["baselines"].items():
            assert set(per_outcome) == set(OUTCOMES), name
            for outcome, metrics in per_outcome.items():
                if name == "first_order" and outcome == "task.heldout_loss":
                    assert metrics is None  # no first-order feature: absent, not zero
                else:
                    assert set(metrics) == set(METRIC_NAMES), (name, outcome)
        assert set(block["gap"]) == set(OUTCOMES)
        gap = block["gap"]["forgetting.ref_loss"]
        assert gap["ablation_mae"] == block["baselines"][ABLATION]["forgetting.ref_loss"]["mae"]
        assert gap["model_mae"] == block["model"]["forgetting.ref_loss"]["mae"]
        preds = block["predictions"]
        assert preds["run_ids"] == list(table.run_ids)
        assert len(preds["model"]["bias.stereotype_pref"]["point"]) == table.n_runs
    lofo = result["leave_family_out"]
    assert set(lofo["per_family"]) == set(FAMILIES) == set(lofo["per_family_gap"])
    assert [f["name"] for f in lofo["folds"]] == sorted(FAMILIES)
    for fold in lofo["folds"]:
        assert fold["n_test"] == table.families.count(fold["name"])
        assert lofo["per_family"][fold["name"]]["forgetting.ref_loss"]["n"] == fold["n_test"]
    assert "per_family" not in result["random"]


def test_model_learns_the_synthetic_outcomes(result):
    model = result["random"]["model"]
    assert model["forgetting.ref_loss"]["spearman"] > 0.9
    assert model["task.heldout_loss"]["spearman"] > 0.9
    # the stereotype signal needs fwd.loss_mean: the ablation cannot see it, the model can
    gap = result["random"]["gap"]["bias.stereotype_pref"]
    assert gap["mae_reduction_share"] > 0.2


def test_first_order_baseline_uses_the_outcome_or_its_continuous_twin():
    names = ("fo.forgetting.ref_loss", "fo_adam.forgetting.ref_loss", "fo.bias.stereotype_margin", "fo.x.y.z")
    assert first_order_columns("forgetting.ref_loss", names) == names[:2]
    assert first_order_columns("bias.stereotype_pref", names) == ("fo.bias.stereotype_margin",)
    assert first_order_columns("task.heldout_loss", names) == ()


def test_early_run_compares_mid_run_with_pre_run_forecasts(result, table):
    early = result["early_run"]
    observed = int((~np.isnan(table.early_observations)).any(axis=1).sum())
    assert early["n_runs_with_observations"] == observed
    for split in ("random", "leave_family_out"):
        block = early[split]
        assert set(block["with_observations"]) == set(block["without"]) == set(OUTCOMES)
        assert block["with_observations"]["forgetting.ref_loss"]["n"] == observed
    # the 10% delta is 0.1 x the outcome plus small noise: observations must help
    block = early["random"]
    assert block["with_observations"]["bias.stereotype_pref"]["mae"] < block["without"]["bias.stereotype_pref"]["mae"]


# ----------------------------------------------------------------- coverage
def test_ninety_percent_intervals_cover_about_ninety_percent():
    """y = f(x) + N(0, 0.3^2): pooled out-of-fold coverage of every interval method ~ 0.9."""
    table = synthetic_table(n=600, seed=11, noise_sd=0.3)
    out = evaluate(table, ForecastModelConfig(booster=BoosterParams(n_estimators=40)),
                   EvaluationConfig(folds=5, leave_family_out=False, early_run=False))
    block = out["random"]
    for name, per_outcome in {"model": block["model"], **block["baselines"]}.items():
        for outcome, metrics in per_outcome.items():
            if metrics is None:
                continue
            assert 0.85 <= metrics["coverage_90"] <= 0.95, (name, outcome, metrics["coverage_90"])
    curve = block["coverage_curve"]["model"]["forgetting.ref_loss"]
    assert list(curve) == ["0.5", "0.6", "0.7", "0.8", "0.9", "0.95"]
    assert abs(curve["0.5"] - 0.5) < 0.1 and curve["0.95"] >= 0.9


# ------------------------------------------------------------------ heldout
def test_heldout_scores_the_trained_model_on_unseen_runs(table):
    model = train_model(table, SMALL)
    heldout = synthetic_table(n=40, seed=99, prefix="new", corpus_hash="newer")
    out = evaluate_heldout(model, heldout, table, EvaluationConfig(), model_corpus_hash=table.corpus_hash)
    json.dumps(out, allow_nan=False)
    assert out["n_runs"] == 40 and out["corpus_hash"] == "newer"
    block = out["heldout"]
    assert set(block["model"]) == set(OUTCOMES) and set(block["baselines"]) == set(BASELINES)
    assert block["baselines"]["first_order"]["task.heldout_loss"] is None
    assert block["model"]["forgetting.ref_loss"]["spearman"] > 0.8
    assert block["early_run"]["n_runs_with_observations"] > 0
    assert block["predictions"]["run_ids"] == list(heldout.run_ids)
    assert block["ood"]["n"] == 40 and 0 <= block["ood"]["flagged"] <= 40
    with pytest.raises(EvaluationError, match="never saw"):
        evaluate_heldout(model, table, table, model_corpus_hash="other")
    with pytest.raises(EvaluationError, match="held-out corpus itself"):
        evaluate_heldout(model, heldout, table, model_corpus_hash="newer")


def test_ood_summary_counts_flagged_runs_and_names_the_features_at_fault():
    from surrogate.evaluation.evaluate import ood_summary
    from surrogate.model import OODReport

    out_of_range = np.zeros((4, 3), dtype=bool)
    out_of_range[0, 1] = out_of_range[2, 1] = out_of_range[2, 2] = True
    report = OODReport(
        feature_names=("a", "b", "c"), out_of_range=out_of_range, unseen_missing=np.zeros((4, 3), dtype=bool),
        distance=np.array([0.5, 3.0, 1.0, 0.2]), distance_flagged=np.array([False, True, False, False]),
    )
    summary = ood_summary(report)
    assert summary["n"] == 4 and summary["flagged"] == 3 and summary["distance_flagged"] == 1
    assert summary["median_distance"] == pytest.approx(0.75)
    assert summary["features_most_at_fault"] == [{"feature": "b", "runs": 2}, {"feature": "c", "runs": 1}]


# ------------------------------------------------------------------ imports
def test_no_torch_in_the_evaluation_modules():
    modules = "surrogate.evaluation, surrogate.evaluation.report, surrogate.evaluation.importance, " \
              "surrogate.cli, surrogate.training, surrogate.default_model"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {modules}"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    imported = [line.split("|")[-1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert not [m for m in imported if m == "torch" or m.startswith("torch.")]
    assert "matplotlib" not in imported  # nothing is plotted at import
