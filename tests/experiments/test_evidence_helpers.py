"""Pure helpers of the featurizer-evidence scripts: sign conventions, removal sets, recipe medians."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.featurize_cost import median_recipe, nearest, ratio
from experiments.first_order_signal import (
    ESTIMATORS,
    OBJECTIVE_OUTCOMES,
    estimate_feature,
)
from experiments.influence_counterfactual import (
    OUTCOME_OF_OBJECTIVE,
    SUITES_OF_OBJECTIVE,
    compare_harms,
    harm,
    random_indices,
    removal_count,
    top_indices,
)
from experiments.lexicon_free import recipe_residuals
from featurizers.features.gradient_features import GRADIENT_FEATURES
from featurizers.features.probe_objectives import OBJECTIVES
from surrogate.runs import CORE_OUTCOMES


def test_every_objective_maps_to_real_outcomes_and_features():
    assert set(OBJECTIVE_OUTCOMES) == set(OBJECTIVES) == set(OUTCOME_OF_OBJECTIVE) == set(SUITES_OF_OBJECTIVE)
    for objective, outcomes in OBJECTIVE_OUTCOMES.items():
        assert {o for o, _ in outcomes} == set(OUTCOME_OF_OBJECTIVE[objective])
        assert all(o in CORE_OUTCOMES for o, _ in outcomes)
        assert all(estimate_feature(e, objective) in GRADIENT_FEATURES for e in ESTIMATORS)
    with pytest.raises(ValueError, match="estimator"):
        estimate_feature("fo_lion", "forgetting.ref_loss")


def test_harm_follows_each_outcomes_harmful_direction():
    assert harm("safety.refusal_margin", -3.0) == pytest.approx(3.0)  # refusing less is harm
    assert harm("forgetting.ref_loss", 0.2) == pytest.approx(0.2)  # reference loss rising is harm
    assert harm("forgetting.knowledge_margin", 0.5) == pytest.approx(-0.5)
    assert harm("bias.gender_skew", -0.1, base_value=-0.5) == pytest.approx(0.1)  # further from zero
    assert harm("bias.gender_skew", -0.1, base_value=0.5) == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="base value"):
        harm("bias.gender_skew", 0.1)


def test_removal_sets():
    assert removal_count(176, 0.1) == 18 and removal_count(3, 0.1) == 1
    scores = {0: 0.5, 1: 3.0, 2: -1.0, 3: 2.0, 4: 2.0}
    assert top_indices(scores, 5, 2) == [1, 3]  # ties broken by index
    with pytest.raises(ValueError, match="scored 5 of 6"):
        top_indices(scores, 6, 2)
    draw = random_indices(100, 10, seed=4)
    assert draw == random_indices(100, 10, seed=4) and len(set(draw)) == 10
    assert draw != random_indices(100, 10, seed=5)


def test_compare_harms_needs_a_real_cut_beyond_random_noise():
    # removing the top examples left harm above the full run's, yet below both random removals
    weak = compare_harms(4.25, 4.44, [4.52, 5.03])
    assert weak["top_cut_exceeds_every_random_cut"] and not weak["top_cut_positive"]
    assert not weak["top_cut_clearly_larger"]
    clear = compare_harms(4.0, 1.0, [3.9, 4.1])
    assert clear["top_cut_clearly_larger"] and clear["cut_top"] == pytest.approx(3.0)
    assert clear["harm_random_removed"] == pytest.approx(4.0) and clear["random_spread"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="random"):
        compare_harms(1.0, 0.5, [])


def test_median_recipe_snaps_to_used_values():
    recipes = [
        {"method": "full", "steps": 20, "batch_size": 4, "learning_rate": 1e-4, "lora_rank": None},
        {"method": "full", "steps": 60, "batch_size": 16, "learning_rate": 3e-4, "lora_rank": None},
        {"method": "lora", "steps": 40, "batch_size": 8, "learning_rate": 1e-3, "lora_rank": 4},
        {"method": "lora", "steps": 100, "batch_size": 16, "learning_rate": 3e-3, "lora_rank": 16},
    ]
    median = median_recipe(recipes)
    assert median["steps"] == 50 and median["batch_size"] == 8  # median 12 snaps to the nearest used size, 8
    assert median["learning_rate"]["full"] == pytest.approx(2e-4)
    assert median["lora_rank"] == 4 and (median["min_steps"], median["max_steps"]) == (20, 100)
    assert nearest(10.0, [16, 4, 8]) == 8 and ratio(1.0, 0.0) is None


def test_recipe_residuals_remove_run_size_and_method():
    rng = np.random.default_rng(0)
    log_size = rng.uniform(-3, 0, size=40)
    lora = (np.arange(40) % 2).astype(float)
    values = 1.0 + 2.0 * log_size + lora * (0.5 - 1.0 * log_size)
    values[3] = np.nan
    resid = recipe_residuals(values, log_size, lora, np.ones(40, dtype=bool))
    assert np.isnan(resid[3])
    assert np.nanmax(np.abs(resid)) < 1e-9


def test_previous_lab_part_keeps_only_the_lab_rows(tmp_path):
    import json

    from experiments.featurize_cost import previous_lab_part

    out = tmp_path / "cost.json"
    with pytest.raises(SystemExit, match="earlier result"):
        previous_lab_part(out)
    out.write_text(json.dumps({"rows": [{"model": "smollm2-135m-instruct"}], "median_ratio_lab": None}))
    with pytest.raises(SystemExit, match="no lab part"):
        previous_lab_part(out)
    out.write_text(json.dumps({
        "created_at": "t0", "median_ratio_lab": 0.5, "lab": {"median_recipe": {"steps": 49}},
        "rows": [{"model": "lab", "ratio": 0.5}, {"model": "smollm2-135m-instruct", "ratio": 2.0}],
    }))
    lab = previous_lab_part(out)
    assert lab["rows"] == [{"model": "lab", "ratio": 0.5}]
    assert lab["median_ratio"] == 0.5 and lab["median_recipe"] == {"steps": 49} and lab["created_at"] == "t0"
