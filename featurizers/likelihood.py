"""Batched log-likelihoods of continuations and texts: the one primitive every probe uses."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from featurizers.prompting import start_token_ids
from featurizers.shared_context import ContextGroup, SharedContextScorer, supports_shared_contexts

POSITIONS_PER_SEQUENCE = 64
"""A batch holds `batch_size` sequences, or more while it stays within `batch_size` times this
many token positions: short probe texts then fill a forward pass instead of paying its fixed cost."""


@dataclass(frozen=True)
class _Sequence:
    ids: list[int]
    n_scored: int  # score the last n_scored tokens


class TokenCache:
    """Token ids of the texts already encoded with one tokenizer.

    A fine-tune run scores the same probe texts at every checkpoint; one cache shared by
    the scorers of a run tokenizes each text once.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer
        self._ids: dict[str, tuple[int, ...]] = {}

    def ids(self, text: str) -> tuple[int, ...]:
        """The text's token ids without special tokens (a tuple, so no caller can alter the cache)."""
        cached = self._ids.get(text)
        if cached is None:
            cached = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            self._ids[text] = cached
        return cached


class LikelihoodScorer:
    """Scores token sequences with a causal LM in length-sorted, right-padded batches."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int = 16,
                 max_length: int | None = None, share_contexts: bool = True,
                 tokens: TokenCache | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if tokens is not None and tokens.tokenizer is not tokenizer:
            raise ValueError("tokens: the TokenCache was built for another tokenizer")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.share_contexts = share_contexts
        self.tokens = tokens or TokenCache(tokenizer)
        config_max = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self.max_length = min(max_length or config_max, config_max)
        self._start = start_token_ids(tokenizer)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._pad_id = int(pad) if pad is not None else 0

    @property
    def positions_per_batch(self) -> int:
        """Token positions one forward pass may hold (it holds batch_size sequences in any case)."""
        return self.batch_size * POSITIONS_PER_SEQUENCE

    def _encode(self, text: str) -> list[int]:
        return list(self.tokens.ids(text))

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
        """Key/value caching needs a model that returns a cache we can copy per continuation."""
        return self.share_contexts and supports_shared_contexts(self.model)

    def _score_shared(self, encoded: dict[str, list[int]], groups: dict[str, list[int]],
                      sequences: Sequence[_Sequence], out: np.ndarray) -> None:
        """Each context runs once; see featurizers.shared_context for how continuations are batched."""
        context_groups = [
            ContextGroup(context=encoded[context],
                         continuations=[sequences[i].ids[-sequences[i].n_scored:] for i in indices], rows=indices)
            for context, indices in groups.items()
        ]
        SharedContextScorer(self.model, self.positions_per_batch).score(context_groups, out)

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
        """Length-sorted batches; a sequence's last token is only a target, so it is never fed in."""
        device = next(self.model.parameters()).device
        out = np.zeros(len(sequences), dtype=np.float64)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i].ids))
        for batch_idx in self._batches(order, sequences):
            batch = [self._truncate(sequences[i]) for i in batch_idx]
            width = max(len(s.ids) for s in batch) - 1
            if width < 1:
                continue  # single-token sequences: nothing before their token to predict it from
            input_ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
            targets = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(batch):
                ids = torch.tensor(seq.ids)
                input_ids[row, : len(seq.ids) - 1] = ids[:-1]
                targets[row, : len(seq.ids) - 1] = ids[1:]
                attention[row, : len(seq.ids) - 1] = 1
            logits = self.model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits.float()
            logprobs = torch.log_softmax(logits, dim=-1)
            token_lp = logprobs.gather(-1, targets.to(device).unsqueeze(-1)).squeeze(-1).cpu()
            for row, seq in enumerate(batch):
                end = len(seq.ids) - 1
                out[batch_idx[row]] = float(token_lp[row, max(0, end - seq.n_scored):end].sum())
        return out

    def _batches(self, order: list[int], sequences: Sequence[_Sequence]) -> list[list[int]]:
        """Consecutive runs of `order` (sorted by length): batch_size sequences, more while they fit the budget."""
        batches: list[list[int]] = []
        current: list[int] = []
        for index in order:
            width = min(len(sequences[index].ids), self.max_length)
            if current and len(current) >= self.batch_size and (len(current) + 1) * width > self.positions_per_batch:
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        return batches

    def _truncate(self, seq: _Sequence) -> _Sequence:
        """Drop context from the left when too long; the scored tokens are always kept."""
        if len(seq.ids) <= self.max_length:
            return seq
        if seq.n_scored >= self.max_length:
            raise ValueError(f"a scored span of {seq.n_scored} tokens exceeds the model's context of {self.max_length}")
        return _Sequence(ids=seq.ids[-self.max_length:], n_scored=seq.n_scored)
