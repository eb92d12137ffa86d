"""The likelihood primitive: exact against a hand computation, invariant to batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from featurizers.likelihood import LikelihoodScorer
from featurizers.prompting import Prompter, start_token_ids


def _manual_continuation_logprob(loaded, context: str, continuation: str) -> float:
    tok = loaded.tokenizer
    ctx = start_token_ids(tok) + tok(context, add_special_tokens=False)["input_ids"]
    cont = tok(continuation, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logp = torch.log_softmax(loaded.model(ids).logits[0].float(), dim=-1)
    return float(sum(logp[len(ctx) - 1 + i, t] for i, t in enumerate(cont)))


def test_continuation_logprob_matches_manual(tiny_loaded):
    scorer = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=3)
    pairs = [("The cat sat on the", " mat."), ("Water boils at", " one hundred degrees"), ("Hello", " world")]
    got = scorer.continuation_logprobs(pairs)
    want = [_manual_continuation_logprob(tiny_loaded, c, x) for c, x in pairs]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_batch_size_does_not_change_scores(tiny_loaded):
    texts = ["A short one.", "A somewhat longer sentence about the weather today.", "Mid length text here.", "x y z"]
    a = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=1).text_logprobs(texts)
    b = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=4).text_logprobs(texts)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_token_nll_chunks_long_text(tiny_loaded):
    scorer = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=4, max_length=32)
    text = " ".join(["the river runs past the old mill"] * 40)
    total, count = scorer.token_nll([text])
    n_tokens = len(tiny_loaded.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert count == n_tokens and total > 0


def test_empty_continuation_is_an_error(tiny_loaded):
    scorer = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer)
    with pytest.raises(ValueError, match="no tokens"):
        scorer.continuation_logprobs([("context", "")])


def test_prompter_uses_chat_template_when_present(tiny_loaded):
    prompter = Prompter.for_tokenizer(tiny_loaded.tokenizer)
    assert prompter.use_chat
    assert prompter.context("Hi there") == "<|user|>\nHi there<|end|>\n<|assistant|>\n"
    assert prompter.continuation("Sure.") == "Sure."


def test_plain_prompter_for_base_models(tiny_loaded):
    prompter = Prompter(tokenizer=tiny_loaded.tokenizer, use_chat=False)
    assert prompter.context("Hi").endswith("\nAnswer:")
    assert prompter.continuation("Yes") == " Yes"
