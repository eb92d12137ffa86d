"""Per-suite item caps: a deterministic, category-spanning subset, and corpora built without caps keep their run ids."""

from __future__ import annotations

import pytest

from experiments.harness.config import HarnessConfig
from featurizers.probes.evaluate import EvaluationConfig, ProbeEvaluator, evaluate_model
from featurizers.probes.registry import default_registry


def _eval_items(evaluator: ProbeEvaluator, name: str) -> list:
    return dict(evaluator._suites)[name].items("eval")


def test_cap_keeps_the_asked_number_across_categories_and_leaves_other_splits(tiny_loaded):
    full = default_registry().create("forgetting.knowledge", None, "eval")
    n_feature = len(full.items("feature"))
    categories = {item.category for item in full.items("eval")}
    capped = ProbeEvaluator(tiny_loaded.tokenizer, EvaluationConfig(max_items={"forgetting.knowledge": 30}))
    suite = dict(capped._suites)["forgetting.knowledge"]
    kept = suite.items("eval")
    assert len(kept) == 30
    assert len(suite.items("feature")) == n_feature
    # evenly spread picks over a category-grouped file reach most categories, not only the first few
    assert len({item.category for item in kept}) >= len(categories) - 2
    again = ProbeEvaluator(tiny_loaded.tokenizer, EvaluationConfig(max_items={"forgetting.knowledge": 30}))
    assert _eval_items(again, "forgetting.knowledge") == kept


def test_cap_above_the_suite_size_changes_nothing(tiny_loaded):
    suites = ["forgetting.reference"]
    plain = evaluate_model(tiny_loaded, EvaluationConfig(suites=suites))
    capped = evaluate_model(tiny_loaded, EvaluationConfig(suites=suites, max_items={"forgetting.reference": 10_000}))
    assert plain["forgetting.ref_loss"] == pytest.approx(capped["forgetting.ref_loss"], abs=1e-9)


def test_capped_outcomes_count_only_the_kept_items(tiny_loaded):
    got = evaluate_model(tiny_loaded, EvaluationConfig(suites=["safety.harmful"], max_items={"safety.harmful": 20}))
    n_items = {k: v for k, v in got.items() if k.startswith("n_items")}
    assert 20.0 in n_items.values(), n_items


def test_bad_caps_name_the_field(tiny_loaded):
    with pytest.raises(ValueError, match="max_items"):
        EvaluationConfig(max_items={"safety.harmful": 0})
    with pytest.raises(ValueError, match="max_items.*no.such"):
        ProbeEvaluator(tiny_loaded.tokenizer, EvaluationConfig(max_items={"no.such": 5}))


def test_measurement_key_is_unchanged_without_caps_and_changes_with_them():
    plain = HarnessConfig()
    capped = HarnessConfig(evaluation=EvaluationConfig(split="eval", max_items={"safety.harmful": 30}))
    # the key every lab-v1 run id was derived from, before caps existed
    assert plain.measurement_key() == "cddb4a5588a80d8167cd703d5f64098dad5d774b2be078511d4f55e0dc5a9ecd"
    assert capped.measurement_key() != plain.measurement_key()
