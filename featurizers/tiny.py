"""Tiny Llama models built from a config: fast, offline stand-ins for tests.

They share the Llama architecture (and so every LoRA target and code path) with
SmolLM2 and the lab model; their tokenizer is a small byte-level BPE trained
deterministically on the probe texts, with the lab chat template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from featurizers.chat_format import DOC_TOKEN, LAB_CHAT_TEMPLATE, SPECIAL_TOKENS


class TinyModelConfig(BaseModel):
    """Shape of a tiny test model; any field can be overridden from a JSON file."""

    model_config = ConfigDict(extra="forbid")

    hidden_size: int = Field(default=64, ge=8)
    num_hidden_layers: int = Field(default=2, ge=1)
    num_attention_heads: int = Field(default=4, ge=1)
    intermediate_size: int = Field(default=128, ge=8)
    max_position_embeddings: int = Field(default=256, ge=16)
    vocab_size: int = Field(default=1024, ge=300)
    seed: int = 0


def tiny_config_from_file(path: str | None) -> TinyModelConfig:
    """Read a tiny-model config JSON, naming the file and field at fault on error."""
    if path is None:
        return TinyModelConfig()
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"tiny config {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return TinyModelConfig.model_validate(data)


def train_tiny_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A deterministic byte-level BPE with the lab special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=DOC_TOKEN, eos_token=DOC_TOKEN, pad_token=DOC_TOKEN, unk_token=None
    )
    fast.chat_template = LAB_CHAT_TEMPLATE
    return fast


def probe_texts() -> list[str]:
    """All text in the bundled probe suites: the tiny tokenizer's training text."""
    from featurizers.probes.registry import default_registry

    texts: list[str] = []
    registry = default_registry()
    for name in registry.names():
        texts.extend(registry.create(name).texts())
    return texts


def build_tiny_model(config: TinyModelConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """A randomly initialised Llama of the given shape, seeded so tests are reproducible."""
    llama_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(config.seed)
        model = LlamaForCausalLM(llama_config)
    finally:
        torch.random.set_rng_state(generator_state)
    return model
