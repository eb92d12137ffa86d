"""Pure logic of experiments.bench.scoring: candidate sets, phase timing, per-setting figures and scaling."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from experiments.bench.scoring import (
    PhaseTimer,
    ScoringBenchConfig,
    bench_candidates,
    in_scoring_order,
    scaling,
    score_argv,
    setting_summary,
)
from experiments.lab.datasets import default_registry
from experiments.lab_candidates import DEFAULT_CANDIDATES


def test_bench_candidates_are_seeded_sized_and_valid():
    first = bench_candidates(30, seed=0, size_low=100, size_high=500)
    assert first == bench_candidates(30, seed=0, size_low=100, size_high=500)
    assert first != bench_candidates(30, seed=1, size_low=100, size_high=500)
    assert len({c.name for c in first}) == 30 and len({c.seed for c in first}) == 30
    assert [c.family for c in first[:len(DEFAULT_CANDIDATES)]] == [c.family for c in DEFAULT_CANDIDATES]
    sizes = [c.params["size"] for c in first]
    assert all(100 <= s <= 500 for s in sizes) and len(set(sizes)) > 10
    registry = default_registry()
    for c in first:
        registry.get(c.family).parse_params(dict(c.params))
    assert bench_candidates(5, 0, 100, 500)[:3] == first[:3]  # smaller sets are prefixes: same candidates
    with pytest.raises(ValueError, match="exceeds"):
        bench_candidates(3, 0, 500, 100)


class _Thing:
    def work(self, x: int) -> int:
        return x + 1


class _Child(_Thing):
    pass


def test_phase_timer_counts_calls_and_restores_the_originals():
    module = types.SimpleNamespace(helper=lambda: 7)
    original_work = _Thing.work
    with PhaseTimer({"work": (_Child, "work"), "helper": (module, "helper")}) as timer:
        assert _Child().work(1) == 2 and _Child().work(2) == 3
        assert module.helper() == 7
        assert _Thing().work(0) == 1  # the parent is not wrapped
    assert timer.calls == {"work": 2, "helper": 1}
    assert timer.seconds["work"] >= 0.0 and timer.cpu_seconds["work"] >= 0.0
    assert "work" not in vars(_Child) and _Thing.work is original_work  # inherited attribute removed, not shadowed
    assert module.helper() == 7


def test_phase_timer_restores_after_an_error():
    original = _Thing.work
    with pytest.raises(RuntimeError), PhaseTimer({"work": (_Thing, "work")}):
        raise RuntimeError("boom")
    assert _Thing.work is original


def test_setting_summary_splits_time_and_per_candidate_cost():
    row = setting_summary(10, "cold", total_s=100.0, cpu_s=90.0, base_load_s=5.0,
                          phases={"featurize": 60.0, "predict": 1.0, "explain": 20.0, "meta_model_load": 2.0},
                          featurize_each=[15.0, 5.0, 5.0, 6.0], cache_hits=0, n_scored=10, n_skipped=0)
    assert row["per_candidate_s"] == pytest.approx(10.0)
    assert row["per_candidate_s_excl_model_load"] == pytest.approx(9.5)
    assert row["phases_s"]["other"] == pytest.approx(12.0)
    assert row["featurize_first_s"] == 15.0 and row["featurize_median_rest_s"] == 5.0
    assert setting_summary(1, "warm", 1.0, 1.0, 2.0, {}, [], 0, 0, 1)["phases_s"]["other"] == 0.0
    cpu = setting_summary(2, "cold", 50.0, 30.0, 5.0, {"featurize": 40.0}, [], 0, 2, 0, base_load_cpu_s=3.0,
                          phases_cpu={"featurize": 20.0})
    assert cpu["phases_cpu_s"] == {"base_model_load": 3.0, "featurize": 20.0, "other": pytest.approx(7.0)}
    assert cpu["per_candidate_cpu_s"] == pytest.approx(15.0)


def test_scaling_is_large_over_small_per_cache_state():
    rows = [setting_summary(n, cache, total, total, load, {}, [], 0, n, 0)
            for n, cache, total, load in [(1, "cold", 20.0, 4.0), (100, "cold", 1000.0, 4.0),
                                          (10, "cold", 110.0, 4.0), (1, "warm", 6.0, 4.0), (100, "warm", 300.0, 4.0)]]
    out = scaling(rows)
    assert out["cold"]["n_small"] == 1 and out["cold"]["n_large"] == 100
    assert out["cold"]["ratio"] == pytest.approx(10.0 / 20.0)
    assert out["cold"]["ratio_excl_model_load"] == pytest.approx(9.96 / 16.0)
    assert out["warm"]["ratio"] == pytest.approx(3.0 / 6.0)
    assert out["cold"]["cpu_ratio"] == pytest.approx(10.0 / 20.0)  # cpu_s = total in these rows
    assert scaling(rows[:1]) == {}


def test_score_argv_uses_the_cache_and_skips_the_report():
    argv = score_argv([Path("a.jsonl")], ScoringBenchConfig(), Path("out"), Path("cache"))
    assert argv[:2] == ["score", "a.jsonl"]
    assert argv[argv.index("--cache-dir") + 1] == "cache"
    assert "--no-report" in argv and "--no-progress" in argv


def test_in_scoring_order_follows_the_files_not_the_ranking():
    files = [Path("c/a.jsonl"), Path("c/b.jsonl"), Path("c/c.jsonl")]
    ranked = {"c/c.jsonl": 3.0, "c/a.jsonl": 30.0, "c/b.jsonl": 2.0}  # results come most harmful first
    assert in_scoring_order(ranked, files) == [30.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="not among"):
        in_scoring_order({"other.jsonl": 1.0}, files)
