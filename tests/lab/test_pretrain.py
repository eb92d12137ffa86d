"""Lab pretraining: tokenizer, chat template, loop, exact resume and the exported model folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from experiments.lab.pretrain.checkpoint import (
    OPTIMIZER_FILE,
    _flatten_optimizer,
    _unflatten_optimizer,
    latest_checkpoint,
)
from experiments.lab.pretrain.config import (
    CONFIG_FILENAME,
    SPECIAL_TOKENS,
    ModelConfig,
    PretrainConfig,
    TokenizerConfig,
    TrainConfig,
)
from experiments.lab.pretrain.corpus import iter_documents
from experiments.lab.pretrain.data import BlockSampler, pack_blocks, tokenize_documents
from experiments.lab.pretrain.loop import (
    CHECKPOINT_SUBDIR,
    LOG_FILENAME,
    evaluate,
    learning_rate_at,
    make_optimizer,
    train_step,
)
from experiments.lab.pretrain.model import build_model
from experiments.lab.pretrain.tokenizer import train_tokenizer
from experiments.lab.pretrain.train import SUMMARY_FILENAME, run_pretraining

SUBJECTS = ["the cat", "a dog", "the teacher", "my neighbour", "the engineer", "a child"]
VERBS = ["sat on", "looked at", "walked to", "painted", "found", "cleaned"]
OBJECTS = ["the mat", "a red door", "the old bridge", "the garden", "a small boat", "the kitchen"]


def _write_corpus(folder: Path, n_train: int, n_valid: int, seed: int) -> Path:
    """A tiny, learnable corpus: templated sentences plus a few chat-formatted documents."""
    rng = random.Random(seed)

    def doc() -> str:
        if rng.random() < 0.1:
            return f"<|user|>\nWhere is {rng.choice(OBJECTS)}?<|end|>\n<|assistant|>\nIt is near {rng.choice(OBJECTS)}.<|end|>"
        return " ".join(
            f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
            for _ in range(rng.randint(2, 6))
        )

    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.txt", n_train), ("valid.txt", n_valid)):
        (folder / name).write_text("".join(f"{doc()}\n<|endoftext|>\n" for _ in range(n)), encoding="utf-8")
    return folder


def _tiny_config(total_steps: int) -> PretrainConfig:
    train = TrainConfig(
        seed=7, block_size=32, batch_size=4, learning_rate=3e-3, warmup_steps=2,
        max_tokens=total_steps * 32 * 4, precision="fp32", log_interval=1, eval_interval=4,
        eval_blocks=8, eval_batch_size=8, checkpoint_interval=2, keep_checkpoints=2,
    )
    model = ModelConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    return PretrainConfig(tokenizer=TokenizerConfig(vocab_size=400, model_max_length=64), model=model, train=train)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run faster on one thread, and a shared machine punishes oversubscription."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_corpus(tmp_path_factory.mktemp("corpus"), n_train=400, n_valid=40, seed=3)


@pytest.fixture(scope="module")
def tokenizer(corpus: Path):
    return train_tokenizer(iter_documents(corpus / "train.txt"), TokenizerConfig(vocab_size=400))


@pytest.fixture(scope="module")
def straight_and_resumed(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same 6-step run done straight and as 3 steps + resume + 3 steps."""
    config = _tiny_config(total_steps=6)
    root = tmp_path_factory.mktemp("runs")
    run_pretraining(corpus, root / "out_a", root / "run_a", config)
    first = run_pretraining(corpus, root / "out_b", root / "run_b", config, stop_after_steps=3)
    assert first.step == 3 and first.stop_reason == "step_limit"
    assert not (root / "out_b").exists()
    second = run_pretraining(corpus, root / "out_b", root / "run_b", config, resume=True)
    assert second.step == 6 and second.stop_reason == "token_budget"
    return root, root / "out_a"


def test_documents_split_on_separator_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("one\ntwo\n<|endoftext|>\n\n<|endoftext|>\nthree <|endoftext|> inline\n", encoding="utf-8")
    assert list(iter_documents(path)) == ["one\ntwo", "three <|endoftext|> inline"]


def test_special_tokens_are_single_tokens(tokenizer) -> None:
    for token in SPECIAL_TOKENS:
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1, token
    assert tokenizer.eos_token == tokenizer.bos_token == tokenizer.pad_token == "<|endoftext|>"
    ids = tokenizer.encode("<|user|>\nhi<|end|>", add_special_tokens=False)
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|user|>")
    assert ids[-1] == tokenizer.convert_tokens_to_ids("<|end|>")


def test_leading_space_words_and_round_trip(tokenizer) -> None:
    text = "The cat sat on the mat. Unseen wørds ✓ too!"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
    pieces = tokenizer.convert_ids_to_tokens(tokenizer.encode(" the cat", add_special_tokens=False))
    assert pieces == ["Ġthe", "Ġcat"]


def test_chat_template_renders_exactly(tokenizer) -> None:
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Where is the mat?"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "<|user|>\nWhere is the mat?<|end|>\n<|assistant|>\n"
    dialogue = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}], tokenize=False
    )
    assert dialogue == "<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n"


def test_tokenized_documents_end_with_eos(corpus: Path, tokenizer) -> None:
    tokens, n_docs = tokenize_documents(corpus / "valid.txt", tokenizer, batch_docs=7)
    assert n_docs == 40
    assert int((tokens == tokenizer.eos_token_id).sum()) == n_docs
    assert tokens[-1] == tokenizer.eos_token_id


def test_learning_rate_warms_up_then_decays_to_floor() -> None:
    train = TrainConfig(learning_rate=1e-3, warmup_steps=10, min_lr_ratio=0.1, batch_size=1, block_size=10,
                        max_tokens=1000)
    lrs = [learning_rate_at(s, train) for s in range(train.total_steps)]
    assert lrs[0] < lrs[5] < lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)


def test_block_sampler_is_a_function_of_step_and_covers_each_epoch() -> None:
    sampler = BlockSampler(n_blocks=10, batch_size=5, seed=1)
    epoch0 = np.concatenate([sampler.batch_indices(0), sampler.batch_indices(1)])
    assert sorted(epoch0.tolist()) == list(range(10))
    fresh = BlockSampler(n_blocks=10, batch_size=5, seed=1)
    assert fresh.batch_indices(3).tolist() == sampler.batch_indices(3).tolist()
    assert BlockSampler(10, 5, seed=2).batch_indices(0).tolist() != sampler.batch_indices(0).tolist()


def test_optimizer_state_survives_flattening(tokenizer) -> None:
    config = _tiny_config(total_steps=2)
    model = build_model(config.model, tokenizer, seed=0)
    optimizer = make_optimizer(model, config.train)
    ids = torch.randint(0, len(tokenizer), (2, 16))
    train_step(model, optimizer, ids, config.train, lr=1e-3)
    tensors, scalars, groups = _flatten_optimizer(optimizer)
    restored = _unflatten_optimizer(tensors, json.loads(json.dumps(scalars)), json.loads(json.dumps(groups)))
    original = optimizer.state_dict()
    assert restored["param_groups"] == original["param_groups"]
    for pid, state in original["state"].items():
        for name, value in state.items():
            assert torch.equal(restored["state"][pid][name], value), (pid, name)
            assert restored["state"][pid][name].dtype == value.dtype


def test_tiny_model_loss_goes_down(corpus: Path, tokenizer) -> None:
    config = _tiny_config(total_steps=20)
    tokens, _ = tokenize_documents(corpus / "train.txt", tokenizer, batch_docs=100)
    blocks = pack_blocks(tokens, config.train.block_size, "train")
    model = build_model(config.model, tokenizer, seed=0)
    optimizer = make_optimizer(model, config.train)
    sampler = BlockSampler(blocks.shape[0], config.train.batch_size, seed=0)
    before = evaluate(model, blocks, config.train)
    for step in range(config.train.total_steps):
        ids = torch.from_numpy(blocks[sampler.batch_indices(step)].astype(np.int64))
        train_step(model, optimizer, ids, config.train, learning_rate_at(step, config.train))
    after = evaluate(model, blocks, config.train)
    assert after < before - 1.0, (before, after)


def test_resume_gives_identical_weights(straight_and_resumed: tuple[Path, Path]) -> None:
    root, _ = straight_and_resumed
    weights_a = load_file(str(root / "out_a" / "model.safetensors"))
    weights_b = load_file(str(root / "out_b" / "model.safetensors"))
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        assert torch.equal(weights_a[name], weights_b[name]), name
    opt_a = load_file(str(latest_checkpoint(root / "run_a" / CHECKPOINT_SUBDIR) / OPTIMIZER_FILE))
    opt_b = load_file(str(latest_checkpoint(root / "run_b" / CHECKPOINT_SUBDIR) / OPTIMIZER_FILE))
    assert all(torch.equal(opt_a[k], opt_b[k]) for k in opt_a)
    steps_b = [json.loads(line)["step"] for line in (root / "run_b" / LOG_FILENAME).read_text().splitlines()]
    assert steps_b == sorted(steps_b) and steps_b[-1] == 6


def test_different_seed_gives_different_weights(corpus: Path, straight_and_resumed, tmp_path: Path) -> None:
    root, _ = straight_and_resumed
    base = _tiny_config(total_steps=6)
    other = base.model_copy(update={"train": base.train.model_copy(update={"seed": 8})})
    run_pretraining(corpus, tmp_path / "out", tmp_path / "run", other)
    weights_a = load_file(str(root / "out_a" / "model.safetensors"))
    weights_c = load_file(str(tmp_path / "out" / "model.safetensors"))
    assert any(not torch.equal(weights_a[k], weights_c[k]) for k in weights_a)


def test_run_dir_guards(corpus: Path, straight_and_resumed: tuple[Path, Path]) -> None:
    root, _ = straight_and_resumed
    config = _tiny_config(total_steps=6)
    with pytest.raises(FileExistsError, match="--resume"):
        run_pretraining(corpus, root / "out_x", root / "run_a", config)
    changed = config.model_copy(update={"train": config.train.model_copy(update={"learning_rate": 1e-2})})
    with pytest.raises(ValueError, match="differs"):
        run_pretraining(corpus, root / "out_x", root / "run_a", changed, resume=True)


def test_resume_refuses_a_changed_corpus(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus", n_train=120, n_valid=20, seed=5)
    config = _tiny_config(total_steps=4)
    run_pretraining(corpus, tmp_path / "out", tmp_path / "run", config, stop_after_steps=1)
    with (corpus / "train.txt").open("a", encoding="utf-8") as handle:
        handle.write("A new document.\n<|endoftext|>\n")
    with pytest.raises(ValueError, match="changed since"):
        run_pretraining(corpus, tmp_path / "out", tmp_path / "run", config, resume=True)


def test_exported_folder_loads_with_auto_classes(straight_and_resumed: tuple[Path, Path]) -> None:
    _, out = straight_and_resumed
    model = AutoModelForCausalLM.from_pretrained(str(out))
    tok = AutoTokenizer.from_pretrained(str(out))
    assert model.config.tie_word_embeddings and model.config.num_hidden_layers == 2
    assert model.config.eos_token_id == tok.eos_token_id
    prompt = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|user|>\nHi<|end|>\n<|assistant|>\n"
    ids = tok(prompt, return_tensors="pt").input_ids
    generated = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert generated.shape[1] > ids.shape[1]
    assert (out / LOG_FILENAME).is_file() and (out / CONFIG_FILENAME).is_file()
    assert PretrainConfig.load(out / CONFIG_FILENAME) == _tiny_config(total_steps=6)
    summary = json.loads((out / SUMMARY_FILENAME).read_text())
    assert summary["steps"] == 6 and summary["final_val_loss"] is not None
    assert "chat_template" in json.loads((out / "tokenizer_config.json").read_text())
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 20 * 1024 * 1024
