"""Computing the two bundles: probe gradients once per model, data sketches once per dataset.

Exact inner products (mean data gradient with each probe gradient, and its sign and
Adam-like versions) use running sums in the unprojected space, which cost O(D) memory;
the per-example gradients are projected group by group and never held all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.config import FeaturizerConfig
from featurizers.features.encoding import TrainingEncoder
from featurizers.features.forward_stats import REPRESENTATION_SUITES, mean_hidden_state, suite_texts
from featurizers.features.gradients import PerExampleGradients, pad_batch
from featurizers.features.param_space import ParamSpace
from featurizers.features.probe_objectives import HARM_SIGN, build_objectives, objective_gradient
from featurizers.features.projection import Projector
from featurizers.features.records import record_text
from featurizers.features.sentence_encoder import SentenceEncoder
from featurizers.probes.registry import SuiteRegistry

logger = logging.getLogger(__name__)

BYTES_PER_FLOAT = 4
MEGABYTE = 1 << 20


def compute_probe_bundle(space: ParamSpace, tokenizer: PreTrainedTokenizerBase, registry: SuiteRegistry,
                         projector: Projector, config: FeaturizerConfig, max_length: int, device: torch.device,
                         encoder: SentenceEncoder | None, progress: bool = False) -> ProbeBundle:
    """Gradients of every probe objective w.r.t. the sketched parameters, and suite representations."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    objectives = build_objectives(registry, tokenizer, max_length, config)
    values, grads = [], []
    for objective in tqdm(objectives, desc="probe gradients", disable=not progress):
        result = objective_gradient(space, objective, pad, config.probes.batch_size, device)
        values.append(result.value)
        grads.append(result.grad)
    stacked = torch.stack(grads)
    values_arr = np.array(values, dtype=np.float64)
    signs = np.array([HARM_SIGN[o.name] if HARM_SIGN[o.name] else (1.0 if v >= 0 else -1.0)
                      for o, v in zip(objectives, values_arr)], dtype=np.float64)
    rendered = suite_texts(registry, tokenizer, config, rendered=True)
    hidden = np.stack([mean_hidden_state(space.model, tokenizer, rendered[name], max_length,
                                         config.probes.batch_size, device) for name in REPRESENTATION_SUITES])
    if encoder is not None:
        raw = suite_texts(registry, tokenizer, config, rendered=False)
        encoded = np.stack([encoder.mean_embedding(raw[name]) for name in REPRESENTATION_SUITES])
    else:
        encoded = np.zeros((len(REPRESENTATION_SUITES), 0))
    return ProbeBundle(
        values=values_arr,
        harm_signs=signs,
        grad_norms=stacked.norm(dim=1).double().cpu().numpy(),
        grads=stacked.cpu().numpy().astype(np.float32),
        sketches=projector.project(stacked).cpu().numpy().astype(np.float32),
        suite_hidden=hidden,
        suite_encoder=encoded,
    )


class _Accumulator:
    """Running sums in the unprojected space: token-weighted mean, and per-coordinate moments."""

    def __init__(self, dim: int, device: torch.device) -> None:
        self.weighted = torch.zeros(dim, dtype=torch.float64, device=device)
        self.total = torch.zeros(dim, dtype=torch.float64, device=device)
        self.squares = torch.zeros(dim, dtype=torch.float64, device=device)
        self.tokens = 0.0
        self.count = 0

    def add(self, grads: torch.Tensor, n_targets: torch.Tensor) -> None:
        g = grads.double()
        self.weighted += (g * n_targets.double().unsqueeze(1)).sum(dim=0)
        self.total += g.sum(dim=0)
        self.squares += (g * g).sum(dim=0)
        self.tokens += float(n_targets.sum())
        self.count += grads.shape[0]

    def mean(self) -> torch.Tensor:
        """Token-weighted mean gradient: what a full-batch step of the harness loss follows."""
        return self.weighted / max(self.tokens, 1.0)

    def variance(self) -> torch.Tensor:
        mean = self.total / self.count
        return (self.squares / self.count - mean * mean).clamp(min=0.0)


def compute_data_sketch(space: ParamSpace, records: Sequence[Mapping[str, Any]], sample: Sequence[int],
                        encoder: TrainingEncoder, projector: Projector, probes: ProbeBundle, recipe_batch_size: int,
                        config: FeaturizerConfig, device: torch.device, pad_id: int,
                        sentence_encoder: SentenceEncoder | None = None, progress: bool = False) -> DataSketch:
    """Per-example gradients of the sampled examples, projected, with exact alignment to the probes."""
    if not sample:
        raise ValueError("compute_data_sketch: the sample is empty; the dataset needs at least one example")
    encoded = [encoder.encode(records[i], where=f"dataset example {i + 1}") for i in sample]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
    computer = PerExampleGradients(space, use_vmap=config.gradients.use_vmap)
    dim = space.n_params
    acc = _Accumulator(dim, device)
    n = len(encoded)
    sketches = torch.zeros(n, config.projection_dim)
    losses, n_targets, norms = torch.zeros(n), torch.zeros(n), torch.zeros(n)
    hidden_sum = torch.zeros(0, dtype=torch.float64)
    group_limit = max(1, config.gradients.group_memory_mb * MEGABYTE // (BYTES_PER_FLOAT * dim))
    pending: list[tuple[list[int], torch.Tensor]] = []

    def flush() -> None:
        if not pending:
            return
        rows = [i for idx, _ in pending for i in idx]
        sketches[rows] = projector.project(torch.cat([g for _, g in pending])).cpu()
        pending.clear()

    batches = [order[b:b + config.batch_size] for b in range(0, n, config.batch_size)]
    for batch_idx in tqdm(batches, desc="per-example gradients", disable=not progress):
        batch = pad_batch([encoded[i] for i in batch_idx], pad_id).to(device)
        result = computer.compute(batch)
        acc.add(result.grads, result.n_targets)
        losses[batch_idx] = result.losses.float().cpu()
        n_targets[batch_idx] = result.n_targets.float().cpu()
        norms[batch_idx] = result.grads.norm(dim=1).float().cpu()
        batch_hidden = result.hidden.double().sum(dim=0).cpu()
        hidden_sum = batch_hidden if hidden_sum.numel() == 0 else hidden_sum + batch_hidden
        pending.append((batch_idx, result.grads))
        if sum(len(idx) for idx, _ in pending) >= group_limit:
            flush()
    flush()
    probe_grads = torch.from_numpy(probes.grads).to(device).double()
    mean = acc.mean()
    adam_direction = mean / (torch.sqrt(mean * mean + acc.variance() / recipe_batch_size) + config.gradients.adam_eps)
    mean_norm = float(mean.norm())
    dots = (probe_grads @ mean).cpu().numpy()
    denominators = probes.grad_norms * mean_norm
    cosines = np.divide(dots, denominators, out=np.full_like(dots, np.nan), where=denominators > 0)
    encoder_mean = np.zeros(0)
    if sentence_encoder is not None:
        texts = [record_text(records[i]).full for i in sample][:config.forward.encoder_max_texts]
        encoder_mean = sentence_encoder.mean_embedding(texts)
    return DataSketch(
        sample_indices=np.asarray(sample, dtype=np.int64),
        sketches=sketches.numpy().astype(np.float32),
        losses=losses.double().numpy(),
        n_targets=n_targets.double().numpy(),
        grad_norms=norms.double().numpy(),
        mean_grad_norm=np.asarray(mean_norm),
        probe_dots=dots,
        probe_cosines=cosines,
        sign_dots=(probe_grads @ torch.sign(mean)).cpu().numpy(),
        adam_dots=(probe_grads @ adam_direction).cpu().numpy(),
        hidden_mean=(hidden_sum / n).numpy(),
        encoder_mean=encoder_mean,
        n_params=np.asarray(dim),
    )
