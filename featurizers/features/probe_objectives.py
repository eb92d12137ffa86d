"""Probe objectives as differentiable scalars on the suites' `feature` halves, and their gradients.

Each objective is the continuous twin of an outcome (same sign: its gradient points
where the outcome's value rises). Sequences are scored exactly as the probe suites
score them; gradients are accumulated batch by batch through the chain rule
(a no-grad pass gives d objective / d sequence log-prob, a second pass backpropagates
the weighted sum), so memory stays bounded however many sequences a suite has.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call
from transformers import PreTrainedTokenizerBase

from featurizers.features.config import FeaturizerConfig
from featurizers.features.param_space import ParamSpace
from featurizers.features.seeding import derive_seed
from featurizers.probes.registry import SuiteRegistry
from featurizers.prompting import Prompter, start_token_ids

OBJECTIVES: tuple[str, ...] = (
    "forgetting.ref_loss",
    "forgetting.knowledge_margin",
    "bias.stereotype_margin",
    "bias.gender_skew",
    "safety.refusal_margin",
    "safety.over_refusal_margin",
)
HARM_SIGN: dict[str, float] = {
    "forgetting.ref_loss": 1.0,
    "forgetting.knowledge_margin": -1.0,
    "bias.stereotype_margin": 1.0,
    "bias.gender_skew": 0.0,  # harmful direction = away from zero: the sign of the base value
    "safety.refusal_margin": -1.0,
    "safety.over_refusal_margin": 1.0,
}
"""+1: the outcome rising is harmful; -1: falling is harmful."""


@dataclass(frozen=True)
class ScoredSequence:
    ids: tuple[int, ...]
    n_scored: int


@dataclass(frozen=True)
class ProbeObjective:
    """Sequences to score and how their summed log-probs combine into the objective."""

    name: str
    sequences: tuple[ScoredSequence, ...]
    combine: Callable[[torch.Tensor], torch.Tensor]


def log_mean_exp(values: torch.Tensor) -> torch.Tensor:
    """Over the last axis: compares sets of openings of different sizes fairly."""
    return torch.logsumexp(values, dim=-1) - np.log(values.shape[-1])


class _Encoder:
    """Context/continuation and whole-text sequences, joined the way the likelihood scorer joins them."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.start = start_token_ids(tokenizer)
        self.prompter = Prompter.for_tokenizer(tokenizer)

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _fit(self, ids: list[int], n_scored: int) -> ScoredSequence:
        if n_scored < 1:
            raise ValueError("a probe sequence must score at least one token")
        if n_scored >= self.max_length:
            raise ValueError(f"a scored span of {n_scored} tokens exceeds the context of {self.max_length}")
        return ScoredSequence(tuple(ids[-self.max_length:]), n_scored)

    def answer(self, request: str, answer: str) -> ScoredSequence:
        context = self.start + self._ids(self.prompter.context(request))
        cont = self._ids(self.prompter.continuation(answer))
        return self._fit(context + cont, len(cont))

    def text(self, text: str) -> ScoredSequence:
        ids = self._ids(text)
        return self._fit(self.start + ids, len(ids))

    def text_chunks(self, text: str) -> list[ScoredSequence]:
        chunk = self.max_length - len(self.start)
        ids = self._ids(text)
        return [ScoredSequence(tuple(self.start + ids[b:b + chunk]), len(ids[b:b + chunk])) for b in range(0, len(ids), chunk)]


def _subset(items: list, count: int, seed: int, suite: str) -> list:
    if len(items) <= count:
        return items
    rng = np.random.default_rng(derive_seed(seed, "probe-items", suite))
    return [items[i] for i in sorted(rng.choice(len(items), size=count, replace=False))]


def build_objectives(registry: SuiteRegistry, tokenizer: PreTrainedTokenizerBase, max_length: int,
                     config: FeaturizerConfig) -> list[ProbeObjective]:
    """The objectives of OBJECTIVES, in that order, on seeded subsets of each suite's feature half."""
    enc = _Encoder(tokenizer, max_length)
    count, seed = config.probes.items_per_suite, config.seed

    def items(suite_name: str) -> list:
        return _subset(registry.create(suite_name).items("feature"), count, seed, suite_name)

    reference = [s for item in items("forgetting.reference") for s in enc.text_chunks(item.text)]
    n_ref_tokens = float(sum(s.n_scored for s in reference))

    knowledge = items("forgetting.knowledge")
    widths = [len(item.choices) for item in knowledge]
    answers = [item.answer for item in knowledge]

    def knowledge_margin(scores: torch.Tensor) -> torch.Tensor:
        margins, cursor = [], 0
        for width, answer in zip(widths, answers):
            block = scores[cursor:cursor + width]
            cursor += width
            wrong = torch.cat([block[:answer], block[answer + 1:]])
            margins.append(block[answer] - torch.logsumexp(wrong, dim=0))
        return torch.stack(margins).mean()

    stereo = items("bias.stereotype")
    roles = items("bias.gender_skew")
    role_widths = [(len(r.male), len(r.female)) for r in roles]

    def gender_skew(scores: torch.Tensor) -> torch.Tensor:
        skews, cursor = [], 0
        for n_male, n_female in role_widths:
            skews.append(log_mean_exp(scores[cursor:cursor + n_male])
                         - log_mean_exp(scores[cursor + n_male:cursor + n_male + n_female]))
            cursor += n_male + n_female
        return torch.stack(skews).mean()

    harmful_suite = registry.create("safety.harmful")
    openings = harmful_suite.openings
    n_refusal, n_openings = len(openings.refusal), len(openings.refusal) + len(openings.compliance)

    def refusal_margin(scores: torch.Tensor) -> torch.Tensor:
        grid = scores.reshape(-1, n_openings)
        return (log_mean_exp(grid[:, :n_refusal]) - log_mean_exp(grid[:, n_refusal:])).mean()

    def safety_sequences(suite_name: str) -> tuple[ScoredSequence, ...]:
        return tuple(enc.answer(item.prompt, text) for item in items(suite_name)
                     for text in (*openings.refusal, *openings.compliance))

    objectives = [
        ProbeObjective("forgetting.ref_loss", tuple(reference), lambda s: -s.sum() / n_ref_tokens),
        ProbeObjective("forgetting.knowledge_margin",
                       tuple(enc.answer(item.question, choice) for item in knowledge for choice in item.choices),
                       knowledge_margin),
        ProbeObjective("bias.stereotype_margin",
                       tuple(enc.text(t) for item in stereo for t in (item.stereotyped, item.anti_stereotyped)),
                       lambda s: (s[0::2] - s[1::2]).mean()),
        ProbeObjective("bias.gender_skew",
                       tuple(enc.answer(r.prompt, t) for r in roles for t in (*r.male, *r.female)), gender_skew),
        ProbeObjective("safety.refusal_margin", safety_sequences("safety.harmful"), refusal_margin),
        ProbeObjective("safety.over_refusal_margin", safety_sequences("safety.benign"), refusal_margin),
    ]
    if tuple(o.name for o in objectives) != OBJECTIVES:
        raise RuntimeError("probe objectives out of step with OBJECTIVES")
    return objectives


def _accepts_logits_to_keep(model: torch.nn.Module) -> bool:
    """Whether the causal LM can project only chosen positions onto the vocabulary (HF >= 4.50 models can)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(inner.forward).parameters


def _batched_logprobs(space: ParamSpace, params: dict[str, torch.Tensor], sequences: Sequence[ScoredSequence],
                      pad_id: int, device: torch.device) -> torch.Tensor:
    """Summed log-probs of the scored tail of each right-padded sequence (causal: no mask needed).

    Only the positions that predict a scored token are projected onto the vocabulary: on a
    49k-token vocabulary the full [batch, length, vocab] logits (kept for backward) are what
    made SmolLM2's probe pass need gigabytes, while the scored tails are a fraction of them.
    """
    width = max(len(s.ids) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    keep = torch.zeros((len(sequences), width), dtype=torch.bool)
    for row, seq in enumerate(sequences):
        ids[row, :len(seq.ids)] = torch.tensor(seq.ids)
        end = len(seq.ids) - 1
        keep[row, end - seq.n_scored:end] = True
    ids, keep = ids.to(device), keep.to(device)
    targets = ids[:, 1:][keep[:, :-1]]
    rows = torch.arange(len(sequences), device=device).unsqueeze(1).expand_as(keep)[keep]
    kwargs = {"input_ids": ids, "use_cache": False}
    if _accepts_logits_to_keep(space.model):
        logits = functional_call(space.model, params, args=(), kwargs={**kwargs, "logits_to_keep": keep}).logits
        logits = logits.reshape(-1, logits.shape[-1])
    else:
        logits = functional_call(space.model, params, args=(), kwargs=kwargs).logits[keep]
    token_logprobs = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return torch.zeros(len(sequences), dtype=token_logprobs.dtype, device=device).index_add(0, rows, token_logprobs)


@dataclass(frozen=True)
class ObjectiveGradient:
    name: str
    value: float
    grad: torch.Tensor  # [D], float32, in ParamSpace order


def objective_gradient(space: ParamSpace, objective: ProbeObjective, pad_id: int, batch_size: int,
                       device: torch.device) -> ObjectiveGradient:
    """Value and gradient of one objective w.r.t. the sketched parameters."""
    order = sorted(range(len(objective.sequences)), key=lambda i: len(objective.sequences[i].ids))
    batches = [order[b:b + batch_size] for b in range(0, len(order), batch_size)]
    params = space.params()
    scores = torch.zeros(len(order), dtype=torch.float32)
    with torch.no_grad():
        for batch in batches:
            scores[batch] = _batched_logprobs(space, params, [objective.sequences[i] for i in batch], pad_id, device).cpu()
    leaf = scores.clone().requires_grad_(True)
    value = objective.combine(leaf)
    (weights,) = torch.autograd.grad(value, leaf)
    live = {name: t.detach().requires_grad_(True) for name, t in params.items()}
    total = {name: torch.zeros_like(t, dtype=torch.float32) for name, t in params.items()}
    for batch in batches:
        batch_scores = _batched_logprobs(space, live, [objective.sequences[i] for i in batch], pad_id, device)
        grads = torch.autograd.grad((batch_scores * weights[batch].to(device)).sum(), list(live.values()),
                                    allow_unused=True)
        for name, g in zip(live, grads):
            if g is not None:
                total[name] += g.float()
    return ObjectiveGradient(objective.name, float(value.detach()), space.flatten(total, batched=False))
