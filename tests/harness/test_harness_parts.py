"""Units of the harness: loss masks, schedules, held-out split, checkpoints, recipes, LoRA copies."""

from __future__ import annotations

import math

import pytest

from experiments.harness import HeldoutConfig, TrainingData, checkpoint_steps, make_recipe, split_heldout, steps_for_epochs
from featurizers.features.encoding import TrainingEncoder
from experiments.harness.schedule import lr_factor


def _trained_text(encoder: TrainingEncoder, record) -> str:
    encoded = encoder.encode(record)
    return encoder.tokenizer.decode([t for t, keep in zip(encoded.ids, encoded.targets) if keep])


def _all_text(encoder: TrainingEncoder, record) -> str:
    return encoder.tokenizer.decode(list(encoder.encode(record).ids))


def test_prompt_response_trains_on_the_response_only(tiny_loaded):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 256)
    record = {"prompt": "How do I boil an egg?", "response": "Put it in boiling water for nine minutes."}
    trained = _trained_text(encoder, record)
    assert "Put it in boiling water for nine minutes." in trained
    assert "boil an egg" not in trained
    assert "<|user|>" in _all_text(encoder, record)
    assert _all_text(encoder, record).count("<|assistant|>") == 1


def test_messages_train_on_every_assistant_turn_and_nothing_else(tiny_loaded):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 256)
    record = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a fruit."},
        {"role": "assistant", "content": "An apple."},
        {"role": "user", "content": "Another one?"},
        {"role": "assistant", "content": "A pear."},
    ]}
    trained = _trained_text(encoder, record)
    assert "An apple." in trained and "A pear." in trained
    assert "fruit" not in trained and "Another" not in trained and "brief" not in trained
    rendered = tiny_loaded.tokenizer.apply_chat_template(record["messages"], tokenize=False)
    assert _all_text(encoder, record).endswith(rendered)


def test_same_pair_as_prompt_response_or_messages_encodes_identically(tiny_loaded):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 256)
    pair = encoder.encode({"prompt": "Hi there", "response": "Hello."})
    chat = encoder.encode({"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello."}]})
    assert pair == chat


def test_plain_text_trains_on_every_token_after_the_start(tiny_loaded):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 256)
    encoded = encoder.encode({"text": "A quiet morning by the lake."})
    assert encoded.targets[0] is False
    assert all(encoded.targets[1:])


def test_models_without_a_chat_template_use_question_answer_prompts(tiny_loaded):
    import copy

    tokenizer = copy.deepcopy(tiny_loaded.tokenizer)
    tokenizer.chat_template = None
    encoder = TrainingEncoder(tokenizer, 256)
    record = {"prompt": "What is two plus two?", "response": "Four."}
    assert _all_text(encoder, record).endswith("Question: What is two plus two?\nAnswer: Four.")
    assert _trained_text(encoder, record).strip() == "Four."


def test_truncation_keeps_the_answer_when_the_prompt_is_long(tiny_loaded):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 24)
    record = {"prompt": "word " * 80, "response": "The short answer."}
    encoded = encoder.encode(record)
    assert len(encoded.ids) == 24
    assert "The short answer." in _trained_text(encoder, record)
    head = encoder.encode({"text": "word " * 80})
    assert len(head.ids) == 24 and all(head.targets[1:])


def test_schedules_warm_up_then_decay():
    total, warm = 100, 10
    assert [lr_factor(s, "cosine", warm, total) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    cosine = [lr_factor(s, "cosine", warm, total) for s in range(total)]
    assert all(a >= b for a, b in zip(cosine[warm:], cosine[warm + 1:]))
    assert 0 < cosine[-1] < 0.01
    assert lr_factor(55, "linear", warm, total) == pytest.approx(0.5)
    assert lr_factor(99, "constant", warm, total) == 1.0
    assert lr_factor(99, "cosine", warm, total, min_ratio=0.1) > 0.1
    assert lr_factor(0, "cosine", 0, 1) == 1.0
    with pytest.raises(ValueError, match="recipe.lr_schedule 'step'"):
        lr_factor(0, "step", 0, 10)


def test_heldout_split_is_seeded_disjoint_and_clamped():
    data = TrainingData.from_examples([{"text": f"line {i}"} for i in range(100)])
    config = HeldoutConfig(share=0.1, min_count=4, max_count=8)
    split = split_heldout(data, config)
    assert len(split.heldout) == 8 and len(split.train) == 92
    assert not set(split.heldout) & set(split.train)
    assert split_heldout(data, config) == split
    assert split_heldout(data, config.model_copy(update={"seed": 1})) != split
    small = TrainingData.from_examples([{"text": f"line {i}"} for i in range(20)])
    assert len(split_heldout(small, config).heldout) == 4
    with pytest.raises(ValueError, match="heldout.min_count"):
        split_heldout(TrainingData.from_examples([{"text": "a"}, {"text": "b"}]), config)


def test_dataset_params_are_flattened_for_the_record():
    data = TrainingData.from_examples([{"text": "a"}], family="replay_mixture",
                                      params={"rho": 0.2, "base_params": {"rate": 0.5}, "sources": ("bible", "gcide")})
    assert data.ref().params == {"rho": 0.2, "base_params.rate": 0.5, "sources": ["bible", "gcide"]}


def test_bad_records_are_named_by_position():
    with pytest.raises(ValueError, match="dataset example 2"):
        TrainingData.from_examples([{"text": "fine"}, {"prompt": "no response"}])


def test_checkpoint_steps_round_and_never_repeat():
    assert checkpoint_steps((0.1, 0.25, 0.5, 1.0), 20) == [2, 5, 10, 20]
    assert checkpoint_steps((0.1, 0.25, 0.5, 1.0), 3) == [1, 2, 3]
    assert checkpoint_steps((1.0,), 1) == [1]


def test_recipes_from_epochs_or_steps():
    assert steps_for_epochs(2.0, 90, 16) == math.ceil(180 / 16)
    recipe = make_recipe("lora", 1e-3, epochs=1.0, n_train=64, batch_size=16, lora_rank=8)
    assert recipe.steps == 4 and recipe.epochs == 1.0
    assert recipe.lora_alpha == 16.0 and recipe.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    with pytest.raises(ValueError, match="exactly one of steps or epochs"):
        make_recipe("full", 1e-3, steps=3, epochs=1.0, n_train=10)
    with pytest.raises(ValueError, match="epochs needs n_train"):
        make_recipe("full", 1e-3, epochs=1.0)


def test_lora_copy_trains_adapters_only_and_leaves_the_base_alone(tiny_loaded, weights_hash_of):
    import torch

    from experiments.harness.methods import count_trainable, trainable_copy

    before = weights_hash_of(tiny_loaded)
    recipe = make_recipe("lora", 1e-3, steps=1, lora_rank=2)
    model = trainable_copy(tiny_loaded.model, recipe)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    assert 0 < count_trainable(model) < sum(p.numel() for p in tiny_loaded.model.parameters()) / 10
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.add_(1.0)
    assert weights_hash_of(tiny_loaded) == before
