"""Small training loop for behaviour tests: enough to move a tiny model, nothing more."""

from __future__ import annotations

import random

import torch


def train_on_texts(loaded, texts: list[str], steps: int, lr: float = 3e-3, batch_size: int = 16, seed: int = 0,
                   max_len: int = 96) -> list[float]:
    """Full-parameter AdamW on random batches of `texts` (each prefixed by the document token)."""
    from featurizers.prompting import start_token_ids

    tok = loaded.tokenizer
    start = start_token_ids(tok)
    encoded = [start + tok(t, add_special_tokens=False)["input_ids"][: max_len - 1] for t in texts]
    rng = random.Random(seed)
    torch.manual_seed(seed)
    model = loaded.model
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    pad = tok.pad_token_id
    for _ in range(steps):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(b) for b in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses
