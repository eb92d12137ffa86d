"""Fast probe scoring keeps its results: shared-context batching and per-run reuse of the probes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from featurizers.likelihood import LikelihoodScorer
from featurizers.prompting import Prompter, start_token_ids
from featurizers.shared_context import ContextGroup, SharedContextScorer


def _pair_logprob(loaded, context_ids: list[int], cont_ids: list[int]) -> float:
    with torch.no_grad():
        logits = loaded.model(torch.tensor([context_ids + cont_ids])).logits[0]
    logp = torch.log_softmax(logits.double(), dim=-1)
    return float(sum(logp[len(context_ids) - 1 + i, t] for i, t in enumerate(cont_ids)))


def _chat_pairs(loaded) -> list[tuple[str, str]]:
    """Chat contexts (a long common prefix) of many lengths; continuations of 1 to many tokens."""
    prompter = Prompter.for_tokenizer(loaded.tokenizer)
    requests = ["Hi", "How do I bake bread?", "Tell me a story about a very old lighthouse keeper.", "Why?",
                "Name a colour", "What is the capital of France, and why is it there?"]
    openings = ["I", "Sure.", "I can't help with that request, sorry.", "Here is how", "No", "Of course, here you go:"]
    return [(prompter.context(r), prompter.continuation(o)) for r in requests for o in openings]


@pytest.mark.parametrize("batch_size", [1, 2, 16])
def test_shared_scoring_matches_each_pair_scored_alone(tiny_loaded, batch_size):
    """Small batch sizes force several chunks, sub-batches and padded caches: results must not move."""
    pairs = _chat_pairs(tiny_loaded)
    got = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=batch_size).continuation_logprobs(pairs)
    tok = tiny_loaded.tokenizer
    start = start_token_ids(tok)
    want = [_pair_logprob(tiny_loaded, start + tok(c, add_special_tokens=False)["input_ids"],
                          tok(x, add_special_tokens=False)["input_ids"]) for c, x in pairs]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)  # float32 sums of ~100 nats


def test_shared_scoring_feeds_no_padding_and_no_last_tokens(tiny_loaded):
    """Every position fed is one that is needed: the common prefix once, each context's own
    tokens once, and each continuation minus its last token."""
    groups = [
        ContextGroup(context=[0, 5, 6, 7], continuations=[[9], [10, 11], [12, 13, 14]], rows=[0, 1, 2]),
        ContextGroup(context=[0, 5, 6, 8, 8, 8], continuations=[[10, 11], [12, 13, 14, 15]], rows=[3, 4]),
        ContextGroup(context=[0, 5, 6, 9, 9], continuations=[[9], [12, 13, 14]], rows=[5, 6]),
    ]
    fed: list[int] = []
    handle = tiny_loaded.model.register_forward_pre_hook(
        lambda module, args, kwargs: fed.append(int(kwargs["input_ids"].numel())), with_kwargs=True)
    try:
        out = np.zeros(7)
        SharedContextScorer(tiny_loaded.model, positions_per_batch=64).score(groups, out)
    finally:
        handle.remove()
    common, own = 3, (4 - 3) + (6 - 3) + (5 - 3)
    continuation_inputs = sum(len(c) - 1 for g in groups for c in g.continuations)
    assert sum(fed) == common + own + continuation_inputs
    want = [_pair_logprob(tiny_loaded, list(g.context), list(c)) for g in groups for c in g.continuations]
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-5)


def test_evaluator_reuses_suites_and_tokens_across_models(tiny_loaded, fresh_tiny, monkeypatch):
    """A run's evaluator tokenizes the probes once; later checkpoints score with no tokenizer call."""
    from featurizers.probes.evaluate import EvaluationConfig, ProbeEvaluator, evaluate_model

    config = EvaluationConfig(suites=["bias.gender_skew", "forgetting.knowledge"])
    evaluator = ProbeEvaluator(tiny_loaded.tokenizer, config)
    first = evaluator.evaluate(tiny_loaded.model)
    tokenizer_type = type(tiny_loaded.tokenizer)

    def no_tokenizing(*args, **kwargs):
        raise AssertionError("the tokenizer was called again on a later checkpoint")

    monkeypatch.setattr(tokenizer_type, "__call__", no_tokenizing)
    monkeypatch.setattr(tokenizer_type, "apply_chat_template", no_tokenizing)
    with torch.no_grad():
        for parameter in fresh_tiny.model.parameters():
            parameter.mul_(1.01)
    again = evaluator.evaluate(tiny_loaded.model)
    moved = evaluator.evaluate(fresh_tiny.model)
    monkeypatch.undo()
    outcomes = [k for k in first if not k.startswith("seconds.")]
    assert all(again[k] == first[k] for k in outcomes)
    alone = evaluate_model(fresh_tiny, config)
    assert all(moved[k] == alone[k] for k in outcomes)
    assert any(moved[k] != first[k] for k in outcomes)
