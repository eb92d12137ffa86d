"""Per-example gradients of the fine-tune loss, batched with torch.func (vmap over grad).

Each example's loss is its mean next-token NLL over trained tokens, as in the harness.
Examples are right-padded and run without an attention mask: under causal attention a
real token never sees the padding after it, so padded and unpadded losses agree. The
same function, applied one unpadded example at a time, is the fallback (and the check).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call, grad_and_value, vmap

from featurizers.features.encoding import Encoded
from featurizers.features.param_space import ParamSpace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaddedBatch:
    """Right-padded token ids with the trained-position and real-token masks."""

    ids: torch.Tensor
    targets: torch.Tensor
    real: torch.Tensor

    @property
    def lengths(self) -> list[int]:
        return [int(n) for n in self.real.sum(dim=1)]

    def to(self, device: torch.device) -> "PaddedBatch":
        return PaddedBatch(self.ids.to(device), self.targets.to(device), self.real.to(device))


def pad_batch(encoded: Sequence[Encoded], pad_id: int) -> PaddedBatch:
    if not encoded:
        raise ValueError("pad_batch needs at least one example")
    width = max(len(e.ids) for e in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    targets = torch.zeros((len(encoded), width), dtype=torch.bool)
    real = torch.zeros((len(encoded), width), dtype=torch.bool)
    for row, example in enumerate(encoded):
        n = len(example.ids)
        ids[row, :n] = torch.tensor(example.ids, dtype=torch.long)
        targets[row, :n] = torch.tensor(example.targets, dtype=torch.bool)
        real[row, :n] = True
    return PaddedBatch(ids, targets, real)


@dataclass(frozen=True)
class ExampleGradients:
    """Per example: flattened gradient [B, D], loss [B], predicted targets [B], mean last hidden state [B, H]."""

    grads: torch.Tensor
    losses: torch.Tensor
    n_targets: torch.Tensor
    hidden: torch.Tensor


class PerExampleGradients:
    """Per-example gradients over a ParamSpace; vmap when it works, a loop otherwise."""

    def __init__(self, space: ParamSpace, use_vmap: bool = True) -> None:
        self.space = space
        self.use_vmap = use_vmap
        self._grad_fn = grad_and_value(self._loss, has_aux=True)
        self._batched = vmap(self._grad_fn, in_dims=(None, 0, 0, 0))

    def _loss(self, params: dict[str, torch.Tensor], ids: torch.Tensor, targets: torch.Tensor, real: torch.Tensor):
        out = functional_call(self.space.model, params, args=(),
                              kwargs={"input_ids": ids.unsqueeze(0), "output_hidden_states": True, "use_cache": False})
        logprobs = torch.log_softmax(out.logits[0, :-1].float(), dim=-1)
        token_logprobs = logprobs.gather(-1, ids[1:].unsqueeze(-1)).squeeze(-1)
        weights = targets[1:].to(token_logprobs.dtype)
        n_targets = weights.sum()
        loss = -(token_logprobs * weights).sum() / n_targets.clamp(min=1.0)
        real_weights = real.to(token_logprobs.dtype).unsqueeze(-1)
        hidden = out.hidden_states[-1][0].float()
        mean_hidden = (hidden * real_weights).sum(dim=0) / real_weights.sum().clamp(min=1.0)
        return loss, (loss.detach(), n_targets.detach(), mean_hidden.detach())

    def compute(self, batch: PaddedBatch) -> ExampleGradients:
        params = self.space.params()
        if self.use_vmap:
            try:
                grads, (_, (losses, n_targets, hidden)) = self._batched(params, batch.ids, batch.targets, batch.real)
                return ExampleGradients(self.space.flatten(grads, batched=True).float(), losses, n_targets, hidden)
            except (RuntimeError, NotImplementedError) as exc:
                logger.warning("vmap over per-example gradients failed (%s); falling back to a loop", exc)
                self.use_vmap = False
        return self._loop(params, batch)

    def _loop(self, params: dict[str, torch.Tensor], batch: PaddedBatch) -> ExampleGradients:
        rows = []
        for row, length in enumerate(batch.lengths):
            grads, (_, aux) = self._grad_fn(params, batch.ids[row, :length], batch.targets[row, :length],
                                            batch.real[row, :length])
            rows.append((self.space.flatten(grads, batched=False).float(), *aux))
        return ExampleGradients(
            grads=torch.stack([r[0] for r in rows]),
            losses=torch.stack([r[1] for r in rows]),
            n_targets=torch.stack([r[2] for r in rows]),
            hidden=torch.stack([r[3] for r in rows]),
        )
