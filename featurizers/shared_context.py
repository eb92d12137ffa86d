"""Continuations that share a context, scored with the context run once (key/value cache reuse).

The probes put many continuations after one context (a request and its 16 openings, a
question and its choices), so this is where evaluation spends most of its time. The work
is kept down to the tokens that are actually scored:

- the token prefix every context starts with (a chat template's system turn) runs once;
- each context runs once, and only its last position goes through the output head;
- a continuation's last token is never fed in: nothing after it is scored;
- continuations are batched by token length across contexts, over a right-padded cache
  whose padding slots are masked out, so a batch holds no padding tokens at all.

The result is what scoring each (context + continuation) on its own gives, up to float rounding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer

PREFIX_TOKENS_PER_CHUNK_FACTOR = 2
"""A chunk of contexts holds at most this many batches' worth of context tokens: their
key/value caches are kept while their continuations are scored, so this bounds memory."""


@dataclass(frozen=True)
class ContextGroup:
    """One context (start token included) and the continuations scored after it."""

    context: Sequence[int]
    continuations: Sequence[Sequence[int]]
    rows: Sequence[int]  # where each continuation's log-prob goes in the output


@dataclass(frozen=True)
class _Row:
    context: int  # index of the context within its chunk
    ids: Sequence[int]
    out: int


@dataclass(frozen=True)
class _KeyValues:
    """Per layer, keys and values shaped [batch, heads, tokens, head_dim]."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]

    def cache(self, rows: torch.Tensor | None = None, width: int | None = None, repeat: int = 1) -> DynamicCache:
        """A fresh cache of the given rows (all by default), first `width` tokens, each row repeated."""
        def take(tensor: torch.Tensor) -> torch.Tensor:
            tensor = tensor if rows is None else tensor[rows]
            tensor = tensor if width is None else tensor[:, :, :width]
            return tensor.expand(repeat, -1, -1, -1) if repeat > 1 else tensor
        return DynamicCache(ddp_cache_data=[(take(k), take(v)) for k, v in zip(self.keys, self.values)])


@dataclass(frozen=True)
class _Chunk:
    """A chunk's contexts after their pass: first-token log-probs by output row, padded caches."""

    groups: Sequence[ContextGroup]
    first: dict[int, torch.Tensor]
    kv: _KeyValues
    lengths: torch.Tensor


def supports_shared_contexts(model: PreTrainedModel) -> bool:
    """A model whose cache we can copy row by row: full attention in every layer, cache on.

    Sliding-window or linear-attention layers keep caches this module does not rebuild;
    such models are scored pair by pair instead (same results, slower).
    """
    config = model.config
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    layer_types = getattr(text_config, "layer_types", None) or []
    sliding = (getattr(text_config, "sliding_window", None) is not None
               and getattr(text_config, "use_sliding_window", True))
    return (bool(getattr(config, "use_cache", True)) and hasattr(model, "generate") and not sliding
            and all(kind == "full_attention" for kind in layer_types))


class SharedContextScorer:
    """Sums log p(continuation | context) for groups of continuations sharing a context."""

    def __init__(self, model: PreTrainedModel, positions_per_batch: int) -> None:
        if positions_per_batch < 1:
            raise ValueError(f"positions_per_batch must be >= 1, got {positions_per_batch}")
        self.model = model
        self.positions_per_batch = positions_per_batch
        self.device = next(model.parameters()).device

    @torch.no_grad()
    def score(self, groups: Sequence[ContextGroup], out: np.ndarray) -> None:
        """Write each continuation's summed log-prob into `out` at its row."""
        ordered = sorted(groups, key=lambda g: len(g.context))
        common = _common_prefix_length([g.context for g in ordered])
        prefix = self._run_prefix(ordered[0].context[:common]) if common else None
        for groups_of_chunk in self._chunks(ordered):
            chunk = self._run_contexts(groups_of_chunk, prefix, common)
            by_length: dict[int, list[_Row]] = defaultdict(list)
            for index, group in enumerate(chunk.groups):
                for ids, row in zip(group.continuations, group.rows):
                    by_length[len(ids)].append(_Row(context=index, ids=ids, out=row))
            for row in by_length.pop(1, []):
                out[row.out] = float(chunk.first[row.out])
            for length, rows in sorted(by_length.items()):
                per_batch = max(1, self.positions_per_batch // (length - 1))
                for begin in range(0, len(rows), per_batch):
                    self._score_rows(rows[begin:begin + per_batch], chunk, out)

    def _chunks(self, ordered: Sequence[ContextGroup]) -> Iterator[list[ContextGroup]]:
        budget = self.positions_per_batch * PREFIX_TOKENS_PER_CHUNK_FACTOR
        chunk: list[ContextGroup] = []
        tokens = 0
        for group in ordered:
            if chunk and tokens + len(group.context) > budget:
                yield chunk
                chunk, tokens = [], 0
            chunk.append(group)
            tokens += len(group.context)
        if chunk:
            yield chunk

    def _run_prefix(self, ids: Sequence[int]) -> _KeyValues:
        """The tokens every context starts with, run once for all of them."""
        result = self.model(input_ids=torch.tensor([list(ids)], dtype=torch.long, device=self.device),
                            use_cache=True, logits_to_keep=1)
        layers = _cache_layers(result.past_key_values)
        return _KeyValues(keys=[layer.keys for layer in layers], values=[layer.values for layer in layers])

    def _run_contexts(self, groups: Sequence[ContextGroup], prefix: _KeyValues | None, common: int) -> _Chunk:
        """Run each context once after the shared prefix (equal lengths batched, no padding)."""
        lengths = torch.tensor([len(g.context) for g in groups], dtype=torch.long)
        width = int(lengths.max())
        first: dict[int, torch.Tensor] = {}
        keys: list[torch.Tensor] = []
        values: list[torch.Tensor] = []
        buckets: dict[int, list[int]] = defaultdict(list)
        for index, group in enumerate(groups):
            buckets[len(group.context)].append(index)
        for length, members in buckets.items():
            per_batch = max(1, self.positions_per_batch // (length - common))
            for begin in range(0, len(members), per_batch):
                batch = members[begin:begin + per_batch]
                own = [list(groups[i].context[common:]) for i in batch]
                ids = torch.tensor(own, dtype=torch.long, device=self.device)
                cache = prefix.cache(repeat=len(batch)) if prefix is not None else None
                result = self.model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
                last = torch.log_softmax(result.logits[:, -1].float(), dim=-1).cpu()
                for position, index in enumerate(batch):
                    for cont, row in zip(groups[index].continuations, groups[index].rows):
                        first[row] = last[position, cont[0]]
                layers = _cache_layers(result.past_key_values)
                if not keys:
                    keys = [_padded(layer.keys, len(groups), width) for layer in layers]
                    values = [_padded(layer.values, len(groups), width) for layer in layers]
                where = torch.tensor(batch, dtype=torch.long, device=self.device)
                for layer, k, v in zip(layers, keys, values):
                    k[where, :, :length] = layer.keys
                    v[where, :, :length] = layer.values
        return _Chunk(groups=groups, first=first, kv=_KeyValues(keys=keys, values=values), lengths=lengths)

    def _score_rows(self, rows: Sequence[_Row], chunk: _Chunk, out: np.ndarray) -> None:
        """One forward over continuations of equal length, each after its own context's cache."""
        contexts = torch.tensor([row.context for row in rows], dtype=torch.long)
        context_lengths = chunk.lengths[contexts]
        width = int(context_lengths.max())
        steps = len(rows[0].ids) - 1
        cache = chunk.kv.cache(rows=contexts.to(self.device), width=width)
        slots = torch.arange(width + steps)
        # Cache slots past a context's own length are padding: masked, and positions restart after the context.
        mask = ((slots < context_lengths[:, None]) | (slots >= width)).long()
        positions = context_lengths[:, None] + torch.arange(steps)
        inputs = torch.tensor([list(row.ids[:-1]) for row in rows], dtype=torch.long)
        targets = torch.tensor([list(row.ids[1:]) for row in rows], dtype=torch.long)
        logits = self.model(input_ids=inputs.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device), past_key_values=cache, use_cache=True).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        later = logprobs.gather(-1, targets.to(self.device).unsqueeze(-1)).squeeze(-1).cpu()
        for index, row in enumerate(rows):
            out[row.out] = float(chunk.first[row.out] + later[index].sum())


def _common_prefix_length(contexts: Sequence[Sequence[int]]) -> int:
    """Tokens all contexts start with, leaving each at least one token of its own (its last logits)."""
    limit = min(len(c) for c in contexts) - 1
    length = 0
    while length < limit and all(c[length] == contexts[0][length] for c in contexts):
        length += 1
    return length


def _cache_layers(cache: object) -> list[DynamicLayer]:
    """The cache's layers, checked to be plain full-attention layers we can slice and rebuild."""
    layers = list(getattr(cache, "layers", []))
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        raise RuntimeError(
            f"context sharing needs a cache of full-attention DynamicLayers, got {type(cache).__name__}; "
            "score with share_contexts=False for this model"
        )
    return layers


def _padded(like: torch.Tensor, rows: int, width: int) -> torch.Tensor:
    """Zeros shaped like a layer's keys or values, for `rows` contexts of up to `width` tokens."""
    return torch.zeros((rows, like.shape[1], width, like.shape[3]), dtype=like.dtype, device=like.device)
