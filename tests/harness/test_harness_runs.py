"""The harness end to end on the tiny model: valid records, learning, determinism, base untouched."""

from __future__ import annotations

import math

import pytest

from surrogate.runs import RunRecord, RunStore


def _mean(values):
    return sum(values) / len(values)


def test_full_run_is_a_valid_record_with_all_checkpoints(full_record, full_recipe, tiny_dataset, tiny_loaded):
    record = RunRecord.model_validate_json(full_record.model_dump_json())
    assert [c.step for c in record.checkpoints] == [0, 2, 5, 10, 20]
    assert [c.fraction for c in record.checkpoints] == [0.0, 0.1, 0.25, 0.5, 1.0]
    first = record.checkpoints[0]
    assert {"forgetting.ref_loss", "task.heldout_loss"} <= set(first.outcomes)
    assert not any(name.startswith(("seconds.", "n_items.", "n_tokens.")) for name in first.outcomes)
    assert all(v == 0.0 for v in first.deltas.values())
    last = record.final
    for name, value in last.outcomes.items():
        assert last.deltas[name] == pytest.approx(value - first.outcomes[name])
    assert record.base.weights_hash == tiny_loaded.weights_hash()
    assert record.dataset.family == "neutral_instruct"
    assert record.dataset.n_examples == len(tiny_dataset.records)
    assert record.dataset.format == "prompt_response"
    assert record.dataset.content_hash == tiny_dataset.content_hash()
    # epochs are the passes actually made over the training split (60 - 6 held out)
    assert record.recipe.epochs == pytest.approx(full_recipe.steps * full_recipe.batch_size / 54)
    assert record.recipe.model_dump(exclude={"epochs"}) == full_recipe.model_dump(exclude={"epochs"})
    timing = record.timing
    assert timing.tokens_seen > full_recipe.steps * full_recipe.batch_size
    assert timing.finetune_s > 0 and timing.eval_s > 0
    assert timing.wall_s >= timing.finetune_s + timing.eval_s * 0.5
    assert timing.device == "cpu" and timing.hardware.startswith("cpu: ")


def test_loss_curve_falls_and_heldout_loss_drops(full_record):
    losses = [p.loss for p in full_record.loss_curve]
    assert [p.step for p in full_record.loss_curve] == list(range(1, 21))
    assert all(math.isfinite(v) for v in losses)
    assert _mean(losses[-5:]) < _mean(losses[:5]) - 0.3
    heldout = [c.deltas["task.heldout_loss"] for c in full_record.checkpoints]
    assert heldout[-1] < -0.3
    assert heldout[-1] < heldout[1]


def test_lora_run_learns(lora_record, lora_recipe):
    assert lora_record.recipe.method == "lora"
    assert lora_record.recipe.lora_rank == 4
    assert lora_record.recipe.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    losses = [p.loss for p in lora_record.loss_curve]
    assert _mean(losses[-5:]) < _mean(losses[:5])
    assert lora_record.final.deltas["task.heldout_loss"] < 0
    assert [c.step for c in lora_record.checkpoints] == [0, 2, 5, 10, 20]


def test_runs_never_change_the_base_weights(full_record, lora_record, tiny_loaded, base_hash_before, weights_hash_of):
    assert weights_hash_of(tiny_loaded) == base_hash_before
    assert full_record.base.weights_hash == base_hash_before == lora_record.base.weights_hash
    assert not tiny_loaded.model.training


def test_same_seed_gives_identical_outcomes(full_record, tiny_loaded, tiny_dataset, full_recipe, small_harness):
    """Rerun with the step-0 outcomes measured separately (the builder's shortcut): nothing may differ."""
    from experiments.harness import probe_outcomes, run_finetune

    step0 = probe_outcomes(tiny_loaded, small_harness)
    again = run_finetune(tiny_loaded, tiny_dataset, full_recipe, small_harness, base_outcomes=step0)
    assert again.run_id == full_record.run_id
    assert [c.outcomes for c in again.checkpoints] == [c.outcomes for c in full_record.checkpoints]
    assert again.loss_curve == full_record.loss_curve
    assert again.timing.tokens_seen == full_record.timing.tokens_seen


def test_another_seed_gives_another_run(full_record, tiny_loaded, tiny_dataset, full_recipe, small_harness):
    from experiments.harness import run_finetune

    recipe = full_recipe.model_copy(update={"seed": 2, "steps": 4})
    other = run_finetune(tiny_loaded, tiny_dataset, recipe, small_harness)
    assert other.run_id != full_record.run_id
    assert [p.loss for p in other.loss_curve] != [p.loss for p in full_record.loss_curve[:4]]


def test_record_round_trips_through_the_run_store(tmp_path, full_record, lora_record):
    store = RunStore(tmp_path / "store")
    store.append([full_record])
    store.append([lora_record])
    assert store.read() == [full_record, lora_record]


def test_text_records_and_a_spec_string_base(small_harness):
    """A base given as a spec string is loaded by the harness; plain text trains on every token."""
    from experiments.harness import make_recipe, run_finetune

    texts = [{"text": f"The river number {i} runs past the old mill and the green hill."} for i in range(30)]
    recipe = make_recipe("full", 3e-3, steps=3, batch_size=4, max_seq_len=48)
    harness = small_harness.model_copy(update={"checkpoint_fractions": (1.0,)})
    record = run_finetune("tiny", texts, recipe, harness)
    assert record.dataset.format == "text" and record.dataset.family == "custom"
    assert [c.step for c in record.checkpoints] == [0, 3]


def test_bad_recipe_fields_are_named(tiny_loaded, tiny_dataset, full_recipe, small_harness):
    from experiments.harness import run_finetune
    from surrogate.runs import Recipe

    bad_schedule = Recipe.model_validate({**full_recipe.model_dump(), "lr_schedule": "cosinus"})
    with pytest.raises(ValueError, match="recipe.lr_schedule 'cosinus'"):
        run_finetune(tiny_loaded, tiny_dataset, bad_schedule, small_harness)
    bad_optimizer = Recipe.model_validate({**full_recipe.model_dump(), "optimizer": "sgd"})
    with pytest.raises(ValueError, match="recipe.optimizer 'sgd'"):
        run_finetune(tiny_loaded, tiny_dataset, bad_optimizer, small_harness)
    bad_targets = Recipe.model_validate({**full_recipe.model_dump(), "method": "lora", "lora_rank": 2,
                                         "lora_alpha": 4.0, "lora_dropout": 0.0, "target_modules": ("qkv",)})
    with pytest.raises(ValueError, match=r"recipe.target_modules \['qkv'\]"):
        run_finetune(tiny_loaded, tiny_dataset, bad_targets, small_harness)
