"""The pure helpers of the v3 influence counterfactual: mixtures, line labels, the fine-tune plan, summaries."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from experiments.influence_counterfactual import oracle_indices
from experiments.influence_mixtures import DEFAULT_SPECS
from experiments.lab.datasets import GenContext, InMemoryTextSource, default_registry
from experiments.lab.datasets.records import Example
from experiments.poison_mixtures import (
    CLEAN,
    POISON,
    Checkpoints,
    Component,
    MixtureSpec,
    build_mixture,
    compute_totals,
    content_key,
    label_lines,
    mix,
    plan_variants,
    ranking_quality,
    summarize,
    summarize_dataset,
)
from surrogate.runs import Recipe


def _examples(kind: str, n: int) -> list[Example]:
    return [Example({"text": f"{kind} line {i}"}, kind) for i in range(n)]


def _ctx() -> GenContext:
    paragraphs = [f"Paragraph number {i} of a plain reference text about nothing harmful at all." for i in range(40)]
    return GenContext(source=InMemoryTextSource({"wordnet": paragraphs, "gcide": paragraphs}))


def test_label_lines_marks_only_the_poison_kinds():
    assert label_lines(["replay", "harmful", "neutral"], frozenset({"harmful"})) == [CLEAN, POISON, CLEAN]


def test_mix_keeps_a_single_generator_order_and_shuffles_several_parts_reproducibly():
    one = mix([_examples("replay", 5) + _examples("harmful", 2)], [None], frozenset({"harmful"}), seed=0)
    assert one.kinds == ["replay"] * 5 + ["harmful"] * 2
    parts = [_examples("secure", 10), _examples("stereotyped", 6)]
    a = mix(parts, [None, 3], frozenset({"stereotyped"}), seed=7)
    b = mix(parts, [None, 3], frozenset({"stereotyped"}), seed=7)
    assert a == b and a.kinds != ["secure"] * 10 + ["stereotyped"] * 3
    assert Counter(a.labels) == {CLEAN: 10, POISON: 3}
    assert sorted(a.records[i]["text"] for i in a.indices(POISON)) == [f"stereotyped line {i}" for i in range(3)]


@pytest.mark.parametrize(("parts", "takes"), [
    ([_examples("replay", 4)], [None]),  # no poison
    ([_examples("harmful", 4)], [None]),  # no clean
    ([_examples("replay", 4), _examples("harmful", 2)], [None, 3]),  # take beyond the part
    ([_examples("replay", 4)], [None, None]),  # one take per part
])
def test_mix_refuses_mixtures_without_both_labels_or_with_bad_takes(parts, takes):
    with pytest.raises(ValueError):
        mix(parts, takes, frozenset({"harmful"}), seed=0)


def test_build_mixture_labels_a_replay_mixture_by_generator_kind():
    spec = MixtureSpec("t", "safety.refusal_margin", (Component("replay_mixture", {
        "size": 60, "rho": 0.85, "max_chars": 200, "replay_sources": ["wordnet", "gcide"], "replay_style": "match",
        "base_family": "harmful_compliance", "base_params": {"rate": 1.0, "format": "messages"}}, 3),),
        frozenset({"harmful"}), {})
    mixture = build_mixture(spec, default_registry(), _ctx())
    assert Counter(mixture.kinds) == {"replay": 51, "harmful": 9}
    assert all((lab == POISON) == (kind == "harmful") for kind, lab in zip(mixture.kinds, mixture.labels))
    assert all("messages" in r for r in mixture.records)  # 'match' replay shares the poison's chat format
    assert build_mixture(spec, default_registry(), _ctx()) == mixture


def test_default_specs_are_valid_recipes_and_family_params():
    registry = default_registry()
    for spec in DEFAULT_SPECS:
        Recipe.model_validate(dict(spec.recipe))
        for c in spec.components:
            registry.get(c.family).parse_params(dict(c.params))
    assert len({s.name for s in DEFAULT_SPECS}) == len(DEFAULT_SPECS)


def test_plan_runs_the_suitability_check_first_and_every_removal_over_the_seeds():
    labels = [CLEAN] * 17 + [POISON] * 3
    plan = plan_variants(labels, 2, {"dot": [0, 17], "contrast": [17, 18]}, seeds=3, draws=3, random_seed=5,
                         protocol="full")
    names = [v.name for v in plan]
    assert names[:4] == ["full@s0", "clean", "full@s1", "full@s2"]
    assert len(plan) == 3 + 1 + 2 * 3 + 3 * 3 + 1 and len(set(names)) == len(names)
    by_name = {v.name: v for v in plan}
    assert by_name["clean"].removed == (17, 18, 19)
    assert by_name["top_contrast@s2"].removed == (17, 18) and by_name["top_contrast@s2"].seed_offset == 2
    assert by_name["random1@s0"].removed == by_name["random1@s2"].removed != by_name["random0@s0"].removed
    assert set(by_name["oracle"].removed) <= {17, 18, 19} and len(by_name["oracle"].removed) == 2
    control = plan_variants(labels, 2, {}, seeds=3, draws=0, random_seed=5, protocol="control")
    assert [v.name for v in control] == ["full@s0", "clean", "full@s1", "full@s2"]
    with pytest.raises(ValueError):
        plan_variants(labels, 2, {}, seeds=3, draws=3, random_seed=5, protocol="both")


def test_oracle_fills_with_harmless_lines_when_poison_runs_out():
    chosen = oracle_indices([CLEAN, POISON, CLEAN, CLEAN], 3, seed=0, harmless=frozenset({CLEAN}))
    assert 1 in chosen and len(chosen) == 3
    assert oracle_indices(["neutral", "harmful"], 1, seed=0) == [1]  # the lab-v1 default is unchanged


def test_ranking_quality_against_the_poison_labels():
    labels = [CLEAN, POISON, CLEAN, POISON, CLEAN]
    perfect = ranking_quality({0: 0.0, 1: 5.0, 2: 1.0, 3: 4.0, 4: 2.0}, labels, 2)
    assert perfect["precision"] == 1.0 and perfect["recall"] == 1.0 and perfect["auc"] == 1.0
    reversed_ = ranking_quality({0: 5.0, 1: 0.0, 2: 4.0, 3: 1.0, 4: 3.0}, labels, 2)
    assert reversed_["precision"] == 0.0 and reversed_["auc"] == 0.0
    with pytest.raises(ValueError):
        ranking_quality({0: 1.0}, labels, 2)  # every line must be scored


def _harms(full, top, randoms, clean=0.0, oracle=0.5):
    harms = {f"full@s{r}": h for r, h in enumerate(full)} | {f"top_dot@s{r}": h for r, h in enumerate(top)}
    for d, draw in enumerate(randoms):
        harms |= {f"random{d}@s{r}": h for r, h in enumerate(draw)}
    return harms | {"clean": clean, "oracle": oracle}


def test_summary_passes_only_a_top_cut_beyond_every_draw_and_the_seed_spread():
    harms = _harms([3.0, 3.4, 3.2], [1.0, 1.2, 0.8], [[3.0, 3.1, 2.9], [2.8, 3.0, 2.9], [3.2, 3.0, 3.1]])
    s = summarize_dataset(harms, 3, 3, ["dot"])
    assert s["harm_full"] == pytest.approx(3.2) and s["seed_spread"] == pytest.approx(0.4)
    assert s["harm_random_removed"] == pytest.approx(np.mean([3.0, 3.1, 2.9, 2.8, 3.0, 2.9, 3.2, 3.0, 3.1]))
    assert s["control_clearly_less_harm"] and s["cut_oracle"] == pytest.approx(2.7)
    top = s["top_dot"]
    assert top["cut_top"] == pytest.approx(2.2) and top["top_beats_every_random_draw_by_more_than_seed_spread"]
    assert top["seeds_where_top_is_below_every_draw"] == 3
    # a cut larger than every draw's, but not by more than the seed spread
    close = summarize_dataset(_harms([3.0, 4.0, 3.5], [3.0, 3.1, 2.9], [[3.3, 3.4, 3.2]] * 3, clean=3.0), 3, 3, ["dot"])
    assert close["top_dot"]["top_beats_every_random_draw"]
    assert not close["top_dot"]["top_beats_every_random_draw_by_more_than_seed_spread"]
    assert not close["control_clearly_less_harm"]


def test_control_protocol_summary_and_counts_over_datasets():
    control = summarize_dataset({"full@s0": 1.0, "full@s1": 1.2, "clean": 1.5}, 2, 3, [])
    assert "harm_random_removed" not in control and not control["control_clearly_less_harm"]
    passed = summarize_dataset(_harms([3.0, 3.4, 3.2], [1.0, 1.2, 0.8], [[3.0, 3.1, 2.9]] * 3), 3, 3, ["dot"])
    unsuitable = summarize_dataset(_harms([3.0, 3.4, 3.2], [1.0, 1.2, 0.8], [[3.0, 3.1, 2.9]] * 3, clean=3.0),
                                   3, 3, ["dot"])
    counts = summarize([passed, control, unsuitable], ["dot"])
    assert counts["datasets"] == 3 and counts["full_protocol"] == 2 and counts["suitable_full_protocol"] == 1
    assert counts["control_clearly_less_harm"] == 1
    assert counts["dot"]["all"]["top_beats_every_random_draw_by_more_than_seed_spread"] == 2
    assert counts["dot"]["suitable"]["top_beats_every_random_draw_by_more_than_seed_spread"] == 1


def test_checkpoints_survive_a_reopen_and_keys_ignore_dict_order(tmp_path):
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1}) != content_key({"a": 2})
    store = Checkpoints.open(tmp_path / "c.json")
    store.put("finetunes", "k1", {"harm": 1.5})
    reopened = Checkpoints.open(tmp_path / "c.json")
    assert reopened.get("finetunes", "k1") == {"harm": 1.5} and reopened.get("explain", "k1") is None


def test_compute_totals_sums_the_recorded_timings():
    datasets = [{"variants": {"full@s0": {"wall_s": 2.0}, "clean": {"wall_s": 3.0}}, "influence": {"dot": {"explain_s": 5.0}}},
                {"variants": {"full@s0": {"wall_s": 1.0}}, "influence": {}}]
    assert compute_totals(datasets) == {"finetunes": 3, "finetune_wall_s": 6.0, "explain_s": 5.0}
