"""Deterministic data order and padded batches, plus the masked token loss they feed.

The order is a fresh seeded permutation per epoch, drawn from a private
`random.Random`, so the same recipe seed gives the same batches anywhere.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from featurizers.features.encoding import Encoded

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Batch:
    """Right-padded ids, attention mask and labels (IGNORE_INDEX where no loss is taken)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor

    @property
    def n_tokens(self) -> int:
        """Real (non-pad) tokens fed to the model."""
        return int(self.attention_mask.sum())

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device))


def collate(examples: Sequence[Encoded], pad_id: int) -> Batch:
    width = max(len(e.ids) for e in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.ids)
        ids = torch.tensor(example.ids, dtype=torch.long)
        input_ids[row, :n] = ids
        attention[row, :n] = 1
        labels[row, :n] = torch.where(torch.tensor(example.targets), ids, torch.full_like(ids, IGNORE_INDEX))
    return Batch(input_ids, attention, labels)


def batch_order(n_examples: int, batch_size: int, steps: int, seed: int) -> Iterator[list[int]]:
    """`steps` batches of indices; epochs are consecutive seeded permutations, batches may span two."""
    if n_examples < 1:
        raise ValueError("batch_order needs at least one training example")
    rng = random.Random(seed)
    pool: list[int] = []
    for _ in range(steps):
        while len(pool) < batch_size:
            epoch = list(range(n_examples))
            rng.shuffle(epoch)
            pool.extend(epoch)
        yield pool[:batch_size]
        del pool[:batch_size]


def token_loss_sum(model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
    """Summed next-token NLL over target tokens and their count (the mean is sum / count)."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    shift_logits = logits[:, :-1].float()
    shift_labels = batch.labels[:, 1:]
    total = torch.nn.functional.cross_entropy(
        shift_logits.reshape(-1, shift_logits.shape[-1]), shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="sum",
    )
    return total, int((shift_labels != IGNORE_INDEX).sum())


@torch.no_grad()
def mean_token_loss(model: torch.nn.Module, examples: Sequence[Encoded], pad_id: int, batch_size: int,
                    device: torch.device) -> float:
    """Token-weighted mean loss over examples (eval mode; length-sorted batches for speed)."""
    was_training = model.training
    model.eval()
    try:
        order = sorted(range(len(examples)), key=lambda i: len(examples[i].ids))
        total, count = 0.0, 0
        for begin in range(0, len(order), batch_size):
            batch = collate([examples[i] for i in order[begin:begin + batch_size]], pad_id).to(device)
            loss_sum, n = token_loss_sum(model, batch)
            total += float(loss_sum)
            count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("held-out slice has no target tokens to score")
    return total / count
