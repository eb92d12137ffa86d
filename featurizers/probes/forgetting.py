"""Forgetting probes: reference-text NLL and knowledge multiple choice."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from featurizers.probes.base import ProbeSuite, ScoringContext, percent, slug
from featurizers.probes.schema import KnowledgeItem, ReferenceItem, Split


class ReferenceSuite(ProbeSuite[ReferenceItem]):
    """Mean token NLL on general text no fine-tune dataset contains."""

    name = "forgetting.reference"

    def evaluate(self, ctx: ScoringContext, split: Split) -> dict[str, float]:
        items = self.items(split)
        total, count = ctx.scorer.token_nll([item.text for item in items])
        return {"forgetting.ref_loss": total / count, "n_items.forgetting.reference": float(len(items)),
                "n_tokens.forgetting.reference": float(count)}

    def texts(self) -> list[str]:
        return [item.text for item in self.items()]


ANSWER_FRAME = "The answer is"


class KnowledgeSuite(ProbeSuite[KnowledgeItem]):
    """Multiple choice by log-likelihood: the option the model finds likeliest is its answer.

    Options are scored after a fixed answer frame ("The answer is"), so they compete with each
    other rather than with the many other ways an answer could begin.
    """

    name = "forgetting.knowledge"

    def __init__(self, items, answer_frame: str = ANSWER_FRAME) -> None:
        super().__init__(items)
        self.answer_frame = answer_frame

    def evaluate(self, ctx: ScoringContext, split: Split) -> dict[str, float]:
        items = self.items(split)
        pairs = []
        for index, item in enumerate(items):
            context = ctx.prompter.context(item.question, self.answer_frame)
            for choice in item.choices:
                pairs.append((context, ctx.prompter.continuation(choice, after_frame=bool(self.answer_frame))))
        scores = ctx.scorer.continuation_logprobs(pairs)
        correct = np.zeros(len(items), dtype=bool)
        margins = np.zeros(len(items))
        cursor = 0
        for index, item in enumerate(items):
            item_scores = scores[cursor:cursor + len(item.choices)]
            cursor += len(item.choices)
            wrong = np.delete(item_scores, item.answer)
            margins[index] = item_scores[item.answer] - wrong.max()
            correct[index] = margins[index] > 0
        result = {"forgetting.knowledge_acc": percent(correct), "forgetting.knowledge_margin": float(margins.mean()),
                  "n_items.forgetting.knowledge": float(len(items))}
        by_category: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            by_category[item.category].append(index)
        for category, indices in sorted(by_category.items()):
            result[f"forgetting.knowledge_acc.by_category.{slug(category)}"] = percent(correct[indices])
        return result

    def texts(self) -> list[str]:
        out = []
        for item in self.items():
            out.append(item.question)
            out.extend(item.choices)
            out.extend(item.facts)
        return out
