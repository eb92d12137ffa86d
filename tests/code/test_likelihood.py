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


@pytest.fixture(scope="module")
def tiny_gpt2_loaded(tiny_loaded):
    """A GPT-2 of a few layers sharing the tiny tokenizer: the other cache layout we must support."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from featurizers.loading import LoadedModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tiny_loaded.tokenizer), n_positions=128, n_embd=32, n_layer=2, n_head=2)
    model = GPT2LMHeadModel(config).eval()
    return LoadedModel(model=model, tokenizer=tiny_loaded.tokenizer, spec=tiny_loaded.spec, device=tiny_loaded.device)


def _shared_pairs() -> list[tuple[str, str]]:
    """Contexts of several lengths, each with several continuations of several lengths, plus singletons."""
    contexts = ["How do I bake bread?", "Tell me a story about a very old lighthouse keeper.", "Why?", "Name a colour"]
    continuations = [" Sure.", " I can't help with that request, sorry.", " Here is how", " No", " Of course, here you go:"]
    pairs = [(c, x) for c in contexts for x in continuations]
    pairs += [("A context used once", " and its only continuation."), ("Another single one", " ok")]
    pairs += [("Two continuations only", " first"), ("Two continuations only", " second, which is longer")]
    return pairs


@pytest.mark.parametrize("fixture", ["tiny_loaded", "tiny_gpt2_loaded"])
def test_shared_context_scoring_equals_scoring_each_pair(fixture, request):
    """The key/value-cache path must give what the plain path gives, pair by pair, in input order."""
    loaded = request.getfixturevalue(fixture)
    pairs = _shared_pairs()
    scorer = LikelihoodScorer(loaded.model, loaded.tokenizer, batch_size=2)
    got = scorer.continuation_logprobs(pairs)
    want = [_manual_continuation_logprob(loaded, c, x) for c, x in pairs]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_shared_path_is_taken_and_falls_back_when_too_long(tiny_loaded, monkeypatch):
    calls: list[int] = []
    scorer = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=4)
    original = scorer._score_shared
    monkeypatch.setattr(scorer, "_score_shared", lambda *a: (calls.append(len(a[1])), original(*a))[1])
    pairs = _shared_pairs()
    scorer.continuation_logprobs(pairs)
    assert calls and calls[0] == 5  # four contexts with five continuations and one with two
    short = LikelihoodScorer(tiny_loaded.model, tiny_loaded.tokenizer, batch_size=4, max_length=20)
    short_calls: list[int] = []
    monkeypatch.setattr(short, "_score_shared", lambda *a: short_calls.append(1))
    got = short.continuation_logprobs(pairs[:5])  # one pair is too long for the context: plain path
    want = short._score([short._truncate(s) for s in _plain_sequences(short, pairs[:5])])
    assert not short_calls
    np.testing.assert_allclose(got, want, rtol=1e-5)


def _plain_sequences(scorer: LikelihoodScorer, pairs):
    from featurizers.likelihood import _Sequence

    out = []
    for context, continuation in pairs:
        ctx = scorer._start + scorer._encode(context)
        cont = scorer._encode(continuation)
        out.append(_Sequence(ids=ctx + cont, n_scored=len(cont)))
    return out
