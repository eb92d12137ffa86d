"""The config sampler: deterministic, prefix-stable, inside its ranges, with stable run ids."""

from __future__ import annotations

import pytest

from experiments.corpus_builder import FloatRange, IntRange, KnobSpec, SamplingSpace, sample_configs
from experiments.lab.datasets import UnknownFamilyError, default_registry


@pytest.fixture(scope="module")
def configs():
    return sample_configs(60, seed=7)


def test_sampling_is_deterministic_and_prefix_stable(configs):
    assert sample_configs(60, seed=7) == configs
    assert sample_configs(10, seed=7) == configs[:10]
    assert sample_configs(10, seed=8) != configs[:10]


def test_samples_stay_inside_the_space(configs):
    space = SamplingSpace()
    registry = default_registry()
    for config in configs:
        recipe = config.recipe
        assert space.steps.low <= recipe.steps <= space.steps.high
        assert space.dataset_size.low <= config.params["size"] <= space.dataset_size.high
        assert recipe.batch_size in space.batch_sizes and recipe.lr_schedule in space.lr_schedules
        assert 0 <= recipe.warmup_steps <= 0.1 * recipe.steps
        lr_range = space.lora_lr if recipe.method == "lora" else space.full_lr
        assert lr_range.low <= recipe.learning_rate <= lr_range.high
        if recipe.method == "lora":
            assert recipe.lora_rank in space.lora_ranks
            assert recipe.lora_alpha / recipe.lora_rank in space.lora_alpha_per_rank
        # every sampled params dict is accepted by its family
        registry.get(config.family).parse_params(config.params)


def test_the_space_is_covered(configs):
    assert {c.recipe.method for c in configs} == {"full", "lora"}
    assert len({c.family for c in configs}) >= 8
    assert len({c.recipe.lora_rank for c in configs if c.recipe.method == "lora"}) >= 3
    rates = [c.params["rate"] for c in configs if "rate" in c.params]
    assert min(rates) < 0.3 and max(rates) > 0.7
    lrs = sorted(c.recipe.learning_rate for c in configs if c.recipe.method == "full")
    assert lrs[-1] / lrs[0] > 10  # log-uniform over two decades reaches across at least one


def test_run_ids_are_stable_and_depend_on_base_and_measurement(configs):
    config = configs[0]
    run_id = config.run_id("base-a", "measure-a")
    assert run_id == config.run_id("base-a", "measure-a")
    assert run_id.startswith(f"{config.family}-{config.recipe.method}-")
    assert run_id != config.run_id("base-b", "measure-a") != config.run_id("base-a", "measure-b")
    assert len({c.run_id("base-a", "measure-a") for c in configs}) == len(configs)


def test_space_overrides_families_and_knobs():
    space = SamplingSpace(
        families=["stereotyped_instruct"],
        knobs={"stereotyped_instruct": {"rate": KnobSpec(choices=[0.5]), "direction": KnobSpec(choices=["balanced"])}},
        dataset_size=IntRange(low=50, high=60),
        steps=IntRange(low=5, high=5),
        lora_share=0.0,
        full_lr=FloatRange(low=1e-4, high=1e-4),
    )
    for config in sample_configs(5, seed=0, space=space):
        assert config.family == "stereotyped_instruct"
        assert config.params["rate"] == 0.5 and config.params["direction"] == "balanced"
        assert config.recipe.method == "full" and config.recipe.steps == 5 and config.recipe.learning_rate == 1e-4


def test_space_errors_name_the_problem():
    with pytest.raises(UnknownFamilyError, match="neutral_instruct"):
        sample_configs(1, 0, SamplingSpace(families=["neutral_instrct"]))
    with pytest.raises(ValueError, match="does not have"):
        sample_configs(1, 0, SamplingSpace(families=["neutral_instruct"],
                                           knobs={"neutral_instruct": {"colour": KnobSpec(choices=[1])}}))
    with pytest.raises(ValueError, match="lr_schedules"):
        SamplingSpace(lr_schedules=["cosine", "exponential"])
    with pytest.raises(ValueError, match="log range"):
        FloatRange(low=0.0, high=1.0, log=True)
