"""Batched log-likelihoods of continuations and texts: the one primitive every probe uses."""

from __future__ import annotations

from collections import defaultdict
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
                 max_length: int | None = None, share_contexts: bool = True) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.share_contexts = share_contexts
        config_max = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self.max_length = min(max_length or config_max, config_max)
        self._start = start_token_ids(tokenizer)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._pad_id = int(pad) if pad is not None else 0

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def continuation_logprobs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Sum of log p(continuation tokens | context) for each (context, continuation) pair.

        Pairs that share a context (a prompt and its 16 openings, a question and its choices)
        run the context once and reuse its key/value cache for every continuation: the probes
        spend most of their time on such groups, and the result is the same as scoring each
        pair on its own (up to float rounding).
        """
        encoded: dict[str, list[int]] = {}
        sequences = []
        for context, continuation in pairs:
            if context not in encoded:
                encoded[context] = self._start + self._encode(context)
            cont = self._encode(continuation)
            if not cont:
                raise ValueError(f"continuation {continuation!r} encodes to no tokens")
            sequences.append(_Sequence(ids=encoded[context] + cont, n_scored=len(cont)))
        groups: dict[str, list[int]] = defaultdict(list)
        for index, (context, _) in enumerate(pairs):
            groups[context].append(index)
        shared = {c: idx for c, idx in groups.items() if len(idx) > 1 and self._fits(sequences, idx)}
        out = np.zeros(len(sequences), dtype=np.float64)
        if shared and self._can_share():
            self._score_shared(encoded, shared, sequences, out)
            rest = [i for c, idx in groups.items() if c not in shared for i in idx]
        else:
            rest = list(range(len(sequences)))
        if rest:
            out[rest] = self._score([sequences[i] for i in rest])
        return out

    def _fits(self, sequences: Sequence[_Sequence], indices: list[int]) -> bool:
        return all(len(sequences[i].ids) <= self.max_length for i in indices)

    def _can_share(self) -> bool:
        """Key/value caching needs a model that returns a cache we can repeat per continuation."""
        return (self.share_contexts and bool(getattr(self.model.config, "use_cache", True))
                and hasattr(self.model, "generate"))

    @torch.no_grad()
    def _score_shared(self, encoded: dict[str, list[int]], groups: dict[str, list[int]],
                      sequences: Sequence[_Sequence], out: np.ndarray) -> None:
        """Contexts of equal token length and equal continuation count are batched without padding."""
        device = next(self.model.parameters()).device
        buckets: dict[tuple[int, int], list[str]] = defaultdict(list)
        for context, indices in groups.items():
            buckets[(len(encoded[context]), len(indices))].append(context)
        for (_, n_cont), contexts in sorted(buckets.items()):
            per_batch = max(1, self.batch_size * 4 // n_cont)
            for begin in range(0, len(contexts), per_batch):
                chunk = contexts[begin:begin + per_batch]
                prefix = torch.tensor([encoded[c] for c in chunk], dtype=torch.long, device=device)
                result = self.model(input_ids=prefix, use_cache=True)
                cache = result.past_key_values
                last = torch.log_softmax(result.logits[:, -1].float(), dim=-1)
                rows = [i for c in chunk for i in groups[c]]
                conts = [sequences[i].ids[-sequences[i].n_scored:] for i in rows]
                width = max(len(c) for c in conts)
                # Right padding needs no mask: causal attention never lets a real token see a pad.
                cont_ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
                for row, ids in enumerate(conts):
                    cont_ids[row, : len(ids)] = torch.tensor(ids)
                cache.batch_repeat_interleave(n_cont)
                logits = self.model(input_ids=cont_ids.to(device), past_key_values=cache, use_cache=True).logits
                logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
                first = last.repeat_interleave(n_cont, dim=0).gather(-1, cont_ids[:, :1].to(device)).squeeze(-1)
                later = logprobs.gather(-1, cont_ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1).cpu()
                first = first.cpu()
                for row, (index, ids) in enumerate(zip(rows, conts)):
                    out[index] = float(first[row] + later[row, : len(ids) - 1].sum())

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
