"""Batched log-likelihoods of continuations and texts: the one primitive every probe uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from featurizers.prompting import start_token_ids


@dataclass(frozen=True)
class _Sequence:
    ids: list[int]
    n_scored: int  # score the last n_scored tokens


class LikelihoodScorer:
    """Scores token sequences with a causal LM in length-sorted, right-padded batches."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int = 16,
                 max_length: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        config_max = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self.max_length = min(max_length or config_max, config_max)
        self._start = start_token_ids(tokenizer)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._pad_id = int(pad) if pad is not None else 0

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def continuation_logprobs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Sum of log p(continuation tokens | context) for each (context, continuation) pair."""
        sequences = []
        for context, continuation in pairs:
            ctx = self._start + self._encode(context)
            cont = self._encode(continuation)
            if not cont:
                raise ValueError(f"continuation {continuation!r} encodes to no tokens")
            sequences.append(_Sequence(ids=ctx + cont, n_scored=len(cont)))
        return self._score(sequences)

    def text_logprobs(self, texts: Sequence[str]) -> np.ndarray:
        """Sum of log p over every token of each text (after the document-start token)."""
        sequences = []
        for text in texts:
            ids = self._encode(text)
            if not ids:
                raise ValueError(f"text {text[:40]!r} encodes to no tokens")
            sequences.append(_Sequence(ids=self._start + ids, n_scored=len(ids)))
        return self._score(sequences)

    def token_nll(self, texts: Sequence[str]) -> tuple[float, int]:
        """Total NLL and token count over texts, chunked to fit the model's context."""
        chunk = self.max_length - len(self._start)
        sequences = []
        for text in texts:
            ids = self._encode(text)
            for begin in range(0, len(ids), chunk):
                piece = ids[begin:begin + chunk]
                sequences.append(_Sequence(ids=self._start + piece, n_scored=len(piece)))
        if not sequences:
            raise ValueError("token_nll needs at least one non-empty text")
        logprobs = self._score(sequences)
        return float(-logprobs.sum()), int(sum(s.n_scored for s in sequences))

    @torch.no_grad()
    def _score(self, sequences: Sequence[_Sequence]) -> np.ndarray:
        device = next(self.model.parameters()).device
        out = np.zeros(len(sequences), dtype=np.float64)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i].ids))
        for begin in range(0, len(order), self.batch_size):
            batch_idx = order[begin:begin + self.batch_size]
            batch = [self._truncate(sequences[i]) for i in batch_idx]
            width = max(len(s.ids) for s in batch)
            input_ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(batch):
                input_ids[row, : len(seq.ids)] = torch.tensor(seq.ids)
                attention[row, : len(seq.ids)] = 1
            logits = self.model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
            targets = input_ids[:, 1:].to(device)
            token_lp = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1).cpu()
            for row, seq in enumerate(batch):
                end = len(seq.ids) - 1
                out[batch_idx[row]] = float(token_lp[row, end - seq.n_scored:end].sum())
        return out

    def _truncate(self, seq: _Sequence) -> _Sequence:
        """Drop context from the left when too long; the scored tokens are always kept."""
        if len(seq.ids) <= self.max_length:
            return seq
        if seq.n_scored >= self.max_length:
            raise ValueError(f"a scored span of {seq.n_scored} tokens exceeds the model's context of {self.max_length}")
        return _Sequence(ids=seq.ids[-self.max_length:], n_scored=seq.n_scored)
