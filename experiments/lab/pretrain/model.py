"""The lab base model: a small ``LlamaForCausalLM``, so every tunecast featurizer treats it like any HF model."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from experiments.lab.pretrain.config import ModelConfig

BYTES_PER_FP32 = 4


def llama_config(config: ModelConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    """Translate the lab model config into a LlamaConfig wired to the tokenizer's special ids."""
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=config.max_position_embeddings,
        rope_theta=config.rope_theta,
        rms_norm_eps=config.rms_norm_eps,
        initializer_range=config.initializer_range,
        tie_word_embeddings=config.tie_word_embeddings,
        attention_dropout=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_model(config: ModelConfig, tokenizer: PreTrainedTokenizerFast, seed: int) -> LlamaForCausalLM:
    """Fresh fp32 model whose initial weights depend only on ``seed``."""
    torch.manual_seed(seed)
    model = LlamaForCausalLM(llama_config(config, tokenizer))
    model.to(torch.float32)
    return model


def count_parameters(model: torch.nn.Module) -> int:
    """Unique parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())
