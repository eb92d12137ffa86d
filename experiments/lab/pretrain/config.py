"""Typed configuration of lab pretraining, saved next to every run and every output model.

Every size, rate and interval used by the tokenizer, model and loop lives here, so a model
directory says exactly how it was made.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from featurizers.io import FILE_MODE, write_text_atomic

EOS_TOKEN = "<|endoftext|>"
USER_TOKEN = "<|user|>"
ASSISTANT_TOKEN = "<|assistant|>"
END_TOKEN = "<|end|>"
SPECIAL_TOKENS: tuple[str, ...] = (EOS_TOKEN, USER_TOKEN, ASSISTANT_TOKEN, END_TOKEN)
DOCUMENT_SEPARATOR = EOS_TOKEN
BYTE_ALPHABET_SIZE = 256

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

CONFIG_FILENAME = "pretrain_config.json"
DIR_MODE = 0o755


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenizerConfig(_Strict):
    """Byte-level BPE settings; a small vocabulary keeps the embedding table a small share of params."""

    vocab_size: int = Field(4096, ge=BYTE_ALPHABET_SIZE + len(SPECIAL_TOKENS))
    min_frequency: int = Field(2, ge=1)
    max_train_chars: int | None = Field(
        None, ge=1, description="Cap on corpus characters fed to the BPE trainer (None: all)."
    )
    model_max_length: int = Field(256, ge=1)


class ModelConfig(_Strict):
    """LlamaConfig fields that define the lab architecture (~3.4M parameters by default)."""

    hidden_size: int = Field(192, ge=8)
    num_hidden_layers: int = Field(6, ge=1)
    num_attention_heads: int = Field(4, ge=1)
    num_key_value_heads: int = Field(4, ge=1)
    intermediate_size: int = Field(512, ge=1)
    max_position_embeddings: int = Field(256, ge=1)
    rope_theta: float = Field(10000.0, gt=0)
    rms_norm_eps: float = Field(1e-5, gt=0)
    initializer_range: float = Field(0.02, gt=0)
    tie_word_embeddings: bool = True

    @model_validator(mode="after")
    def _heads_divide(self) -> ModelConfig:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"model.hidden_size={self.hidden_size} is not divisible by "
                f"model.num_attention_heads={self.num_attention_heads}"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"model.num_attention_heads={self.num_attention_heads} is not divisible by "
                f"model.num_key_value_heads={self.num_key_value_heads}"
            )
        return self


class TrainConfig(_Strict):
    """Optimiser, schedule, budgets and bookkeeping intervals of the pretraining loop."""

    seed: int = 0
    block_size: int = Field(256, ge=2)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(2e-3, gt=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    warmup_steps: int = Field(200, ge=0)
    weight_decay: float = Field(0.1, ge=0)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.95, ge=0, lt=1)
    adam_eps: float = Field(1e-8, gt=0)
    grad_clip: float = Field(1.0, gt=0)
    max_tokens: int = Field(
        12_000_000, ge=1, description="Token budget; fixes the number of steps of the cosine schedule."
    )
    max_minutes: float | None = Field(
        None, gt=0, description="Wall-clock cap for one invocation; a checkpoint is written on stop."
    )
    precision: Literal["fp32", "bf16"] = "bf16"
    log_interval: int = Field(10, ge=1)
    eval_interval: int = Field(250, ge=1)
    eval_blocks: int = Field(64, ge=1, description="Validation blocks scored at each evaluation.")
    eval_batch_size: int = Field(32, ge=1)
    checkpoint_interval: int = Field(250, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    tokenize_batch_docs: int = Field(2000, ge=1)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.block_size

    @property
    def total_steps(self) -> int:
        """Optimiser steps the token budget buys (at least one)."""
        return max(1, self.max_tokens // self.tokens_per_step)


class PretrainConfig(_Strict):
    """Everything that decides what a pretraining run produces."""

    tokenizer: TokenizerConfig = TokenizerConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()

    @model_validator(mode="after")
    def _block_fits(self) -> PretrainConfig:
        if self.train.block_size > self.model.max_position_embeddings:
            raise ValueError(
                f"train.block_size={self.train.block_size} exceeds "
                f"model.max_position_embeddings={self.model.max_position_embeddings}"
            )
        return self

    def save(self, path: Path) -> None:
        write_text_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> PretrainConfig:
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


def apply_default_mode(path: Path) -> None:
    """Give temp files and folders (mkstemp/mkdtemp make them owner-only) ordinary permissions."""
    path = Path(path)
    entries = [path, *path.rglob("*")] if path.is_dir() else [path]
    for entry in entries:
        os.chmod(entry, DIR_MODE if entry.is_dir() else FILE_MODE)
