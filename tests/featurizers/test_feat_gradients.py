"""Per-example gradients: vmap equals a loop, equals plain autograd; first-order estimates predict a real step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from featurizers.features.encoding import TrainingEncoder
from featurizers.features.gradients import PerExampleGradients, pad_batch
from featurizers.features.param_space import build_param_space
from featurizers.features.probe_objectives import (
    OBJECTIVES,
    build_objectives,
    objective_gradient,
)
from featurizers.features.projection import make_projector
from featurizers.features.sketch import compute_data_sketch, compute_probe_bundle
from featurizers.probes.registry import default_registry
from tests.featurizers.feature_data import compliant_dataset, mixed_format_dataset

CPU = torch.device("cpu")


def _batch(loaded, records, max_len=64):
    encoder = TrainingEncoder(loaded.tokenizer, max_len)
    return pad_batch([encoder.encode(r) for r in records], loaded.tokenizer.pad_token_id)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_vmap_per_example_grads_equal_a_loop_of_single_example_grads(tiny_loaded, small_config, method,
                                                                      lora_recipe, full_recipe):
    recipe = lora_recipe if method == "lora" else full_recipe
    space = build_param_space(tiny_loaded.model, recipe, small_config, CPU)
    batch = _batch(tiny_loaded, mixed_format_dataset()[:8])
    assert len(set(batch.lengths)) > 1  # padding is exercised
    batched = PerExampleGradients(space, use_vmap=True).compute(batch)
    looped = PerExampleGradients(space, use_vmap=False).compute(batch)
    assert batched.grads.shape == (8, space.n_params)
    assert batched.grads.abs().sum() > 0
    torch.testing.assert_close(batched.grads, looped.grads, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(batched.losses, looped.losses, rtol=1e-5, atol=1e-6)


def test_per_example_grad_equals_plain_autograd_on_the_harness_loss(tiny_loaded, small_config, full_recipe):
    """Independent check: the model's own forward with attention mask, and mean NLL over trained tokens."""
    space = build_param_space(tiny_loaded.model, full_recipe, small_config, CPU)
    batch = _batch(tiny_loaded, mixed_format_dataset()[:3])
    ours = PerExampleGradients(space).compute(batch)
    named = dict(space.model.named_parameters())
    row, length = 2, batch.lengths[2]
    params = [named[n] for n in space.names]
    for p in params:
        p.requires_grad_(True)
    try:
        ids = batch.ids[row:row + 1, :length]
        labels = ids.masked_fill(~batch.targets[row:row + 1, :length], -100)
        loss = space.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        grads = torch.autograd.grad(loss, params)
    finally:
        for p in params:
            p.requires_grad_(False)
    expected = torch.cat([g.reshape(-1) for g in grads])
    torch.testing.assert_close(ours.grads[row], expected, rtol=1e-4, atol=1e-6)
    assert float(ours.losses[row]) == pytest.approx(float(loss), rel=1e-5)


def test_lora_sketch_covers_b_matrices_whose_step_zero_grads_are_nonzero(tiny_loaded, small_config, lora_recipe):
    space = build_param_space(tiny_loaded.model, lora_recipe, small_config, CPU)
    assert space.names and all("lora_B" in n for n in space.names)
    expected = 2 * len(lora_recipe.target_modules) * lora_recipe.lora_rank * tiny_loaded.model.config.hidden_size
    assert space.n_params == expected  # two layers, square projections of the tiny model
    assert all(float(p.abs().sum()) == 0.0 for p in space.params().values())  # peft's B init
    # the base model is untouched (no adapter injected into it)
    assert not any("lora" in n for n, _ in tiny_loaded.model.named_parameters())


def test_first_order_estimate_predicts_a_small_real_gradient_step(tiny_loaded, small_config, full_recipe):
    """Sign convention: fo = -lr <g_probe, g_data> is the change of the outcome after one step of size lr."""
    space = build_param_space(tiny_loaded.model, full_recipe, small_config, CPU)
    projector = make_projector(space.n_params, small_config.projection_dim, 0, small_config.projection, CPU)
    registry = default_registry()
    probes = compute_probe_bundle(space, tiny_loaded.tokenizer, registry, projector, small_config, 64, CPU, None)
    records = compliant_dataset()
    encoder = TrainingEncoder(tiny_loaded.tokenizer, 64)
    sketch = compute_data_sketch(space, records, list(range(len(records))), encoder, projector, probes, 8,
                                 small_config, CPU, tiny_loaded.tokenizer.pad_token_id)
    batch = pad_batch([encoder.encode(r) for r in records], tiny_loaded.tokenizer.pad_token_id)
    result = PerExampleGradients(space).compute(batch)
    mean = (result.grads * (result.n_targets / result.n_targets.sum())[:, None]).sum(dim=0)
    objective = build_objectives(registry, tiny_loaded.tokenizer, 64, small_config)[OBJECTIVES.index("safety.refusal_margin")]
    lr = 1e-2
    before = objective_gradient(space, objective, tiny_loaded.tokenizer.pad_token_id, 32, CPU).value
    named = dict(space.model.named_parameters())
    saved = {n: named[n].detach().clone() for n in space.names}
    offset = 0
    with torch.no_grad():
        for n in space.names:
            size = named[n].numel()
            named[n] -= lr * mean[offset:offset + size].view_as(named[n])
            offset += size
    try:
        after = objective_gradient(space, objective, tiny_loaded.tokenizer.pad_token_id, 32, CPU).value
    finally:
        with torch.no_grad():
            for n in space.names:
                named[n].copy_(saved[n])
    predicted = -lr * float(sketch.probe_dots[OBJECTIVES.index("safety.refusal_margin")])
    assert abs(predicted) > 1e-4
    assert after - before == pytest.approx(predicted, rel=0.1)
    np.testing.assert_allclose(sketch.mean_grad_norm, float(mean.norm()), rtol=1e-4)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_scored_positions_only_logprobs_equal_full_logits_per_sequence(tiny_loaded, small_config, method,
                                                                       lora_recipe, full_recipe, monkeypatch):
    """Projecting only the scored positions (and the fallback) gives each sequence's plain summed log-prob."""
    from featurizers.features import probe_objectives

    recipe = lora_recipe if method == "lora" else full_recipe
    space = build_param_space(tiny_loaded.model, recipe, small_config, CPU)
    objective = build_objectives(default_registry(), tiny_loaded.tokenizer, 64, small_config)[
        OBJECTIVES.index("forgetting.knowledge_margin")]
    sequences = list(objective.sequences[:6])
    assert len({len(s.ids) for s in sequences}) > 1, "the check needs padding"
    pad = tiny_loaded.tokenizer.pad_token_id
    expected = []
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor([seq.ids])
            logprobs = torch.log_softmax(space.model(input_ids=ids).logits[0, :-1].float(), dim=-1)
            picked = logprobs.gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1)
            expected.append(float(picked[-seq.n_scored:].sum()))
        assert probe_objectives._accepts_logits_to_keep(space.model)
        trimmed = probe_objectives._batched_logprobs(space, space.params(), sequences, pad, CPU)
        monkeypatch.setattr(probe_objectives, "_accepts_logits_to_keep", lambda model: False)
        fallback = probe_objectives._batched_logprobs(space, space.params(), sequences, pad, CPU)
    np.testing.assert_allclose(trimmed.numpy(), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(fallback.numpy(), expected, rtol=1e-5, atol=1e-4)
