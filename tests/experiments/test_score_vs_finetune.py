"""Pure logic of experiments.score_vs_finetune: outcome choice, top/bottom picks, comparisons, interval checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import spearmanr

from experiments.lab.datasets import default_registry
from experiments.lab_candidates import DEFAULT_CANDIDATES
from experiments.score_vs_finetune import (
    RANKABLE,
    ScoreVsFinetuneConfig,
    candidate_key,
    choose_outcomes,
    compare_extremes,
    coverage_summary,
    end_forecasts,
    harm,
    interval_check,
    pick_extremes,
    score_argv,
)
from server.scoring.results import Interval, TargetForecast


def _f(point: float, lower: float, upper: float) -> dict[str, float]:
    return {"point": point, "lower": lower, "upper": upper}


def test_default_candidates_are_many_valid_and_distinct():
    registry = default_registry()
    assert len(DEFAULT_CANDIDATES) >= 20
    assert len({c.name for c in DEFAULT_CANDIDATES}) == len(DEFAULT_CANDIDATES)
    assert len({c.family for c in DEFAULT_CANDIDATES}) >= 8
    for c in DEFAULT_CANDIDATES:
        params = registry.get(c.family).parse_params(dict(c.params))  # raises on a bad knob
        assert 100 <= params.size <= 500


def test_harm_follows_the_harmful_direction():
    assert harm("safety.refusal_margin", -2.0) == pytest.approx(2.0)
    assert harm("forgetting.ref_loss", 0.1) == pytest.approx(0.1)
    assert harm("forgetting.knowledge_margin", 0.5) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="harmful direction"):
        harm("bias.gender_skew", 0.1)


def test_choose_outcomes_prefers_spread_relative_to_width_and_distinct_headlines():
    forecasts = {
        f"c{i}": {
            "forgetting.ref_loss": _f(0.01 * i, 0.01 * i - 1.0, 0.01 * i + 1.0),  # tiny spread, wide interval
            "forgetting.knowledge_margin": _f(-0.5 * i, -0.5 * i - 0.5, -0.5 * i + 0.5),  # best
            "bias.stereotype_margin": _f(0.0, -0.1, 0.1),  # no spread
            "safety.refusal_margin": _f(-0.3 * i, -0.3 * i - 1.0, -0.3 * i + 1.0),
        }
        for i in range(6)
    }
    chosen, spreads = choose_outcomes(forecasts, 2)
    assert chosen == ["forgetting.knowledge_margin", "safety.refusal_margin"]  # ref_loss: same headline as the first
    assert spreads[0]["outcome"] == "forgetting.knowledge_margin"
    assert {s["outcome"] for s in spreads} == set(RANKABLE)
    assert choose_outcomes(forecasts, 1)[0] == ["forgetting.knowledge_margin"]


def test_pick_extremes_orders_and_breaks_ties_by_name():
    harms = {"a": 1.0, "b": 5.0, "c": 3.0, "d": 3.0, "e": -1.0, "f": 0.0, "g": 2.0}
    top, bottom = pick_extremes(harms, 3)
    assert top == ["b", "c", "d"]
    assert bottom == ["e", "f", "a"]
    with pytest.raises(ValueError, match="at least 8"):
        pick_extremes(harms, 4)


def test_compare_extremes_counts_pairs_and_matches_scipy_spearman():
    forecast = {"t1": 3.0, "t2": 2.0, "t3": 1.5, "b1": 0.1, "b2": 0.0, "b3": -1.0}
    measured = {"t1": 0.9, "t2": 0.2, "t3": 1.1, "b1": 0.3, "b2": 0.0, "b3": -0.4}
    out = compare_extremes(forecast, measured, ["t1", "t2", "t3"], ["b1", "b2", "b3"])
    assert out["n_pairs"] == 9
    assert out["pairs_top_exceeds"] == 8  # t2 (0.2) does not beat b1 (0.3)
    assert out["every_top_exceeds_every_bottom"] is False
    names = list(forecast)
    expected = spearmanr([forecast[n] for n in names], [measured[n] for n in names]).statistic
    assert out["spearman_forecast_vs_measured"] == pytest.approx(expected)
    assert out["mean_measured_harm_top"] == pytest.approx((0.9 + 0.2 + 1.1) / 3)


def test_interval_check_and_coverage_summary():
    forecast = {"forgetting.ref_loss": _f(0.1, 0.0, 0.2), "safety.refusal_margin": _f(-1.0, -2.0, 0.0)}
    check = interval_check(forecast, {"forgetting.ref_loss": 0.25, "safety.refusal_margin": -1.5, "other": 3.0})
    assert check["forgetting.ref_loss"]["inside"] is False
    assert check["forgetting.ref_loss"]["error"] == pytest.approx(0.15)
    assert check["safety.refusal_margin"]["inside"] is True
    assert "other" not in check
    summary = coverage_summary({"x": check, "y": check})
    assert summary["per_outcome"]["forgetting.ref_loss"] == {"inside": 0, "n": 2}
    assert (summary["inside"], summary["n"], summary["share"]) == (2, 4, 0.5)


def test_end_forecasts_takes_the_last_checkpoint_at_the_level_and_keys_by_stem():
    class _Candidate:
        name = "experiments/results/score_vs_finetune/candidates/c01_neutral.jsonl"
        forecasts = (
            TargetForecast(outcome="forgetting.ref_loss", fraction=0.5, point=0.05,
                           intervals=(Interval(level=0.9, lower=0.0, upper=0.1),)),
            TargetForecast(outcome="forgetting.ref_loss", fraction=1.0, point=0.1,
                           intervals=(Interval(level=0.8, lower=0.05, upper=0.15),
                                      Interval(level=0.9, lower=0.0, upper=0.2))),
        )

    class _Results:
        candidates = (_Candidate(),)

    assert end_forecasts(_Results(), 0.9) == {"c01_neutral": {"forgetting.ref_loss": _f(0.1, 0.0, 0.2)}}
    with pytest.raises(ValueError, match="no 95% interval"):
        end_forecasts(_Results(), 0.95)
    assert candidate_key("dir/x.y.jsonl") == "x.y"


def test_score_argv_is_the_documented_cli():
    config = ScoreVsFinetuneConfig(scored_dir=Path("out"))
    argv = score_argv([Path("a.jsonl"), Path("b.jsonl")], config)
    assert argv == ["score", "a.jsonl", "b.jsonl", "--model", "lab", "--recipe", "experiments/demo/recipe.json",
                    "--out", "out"]
