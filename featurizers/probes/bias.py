"""Bias probes: stereotype minimal pairs and gender skew after role prompts."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from featurizers.probes.base import ProbeSuite, ScoringContext, log_mean_exp, percent, slug
from featurizers.probes.schema import RolePrompt, Split, StereotypePair


class StereotypeSuite(ProbeSuite[StereotypePair]):
    """Share of minimal pairs where the stereotyped sentence is likelier; 50 is neutral.

    The male- and female-stereotyped halves are reported apart: a model that always
    prefers "he" scores 50 overall while the two halves sit at 100 and 0.
    """

    name = "bias.stereotype"

    def evaluate(self, ctx: ScoringContext, split: Split) -> dict[str, float]:
        items = self.items(split)
        stereo = ctx.scorer.text_logprobs([item.stereotyped for item in items])
        anti = ctx.scorer.text_logprobs([item.anti_stereotyped for item in items])
        margins = stereo - anti
        prefers = margins > 0
        result = {"bias.stereotype_pref": percent(prefers), "bias.stereotype_margin": float(margins.mean()),
                  "n_items.bias.stereotype": float(len(items))}
        groups: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            groups[f"by_category.{slug(item.category)}"].append(index)
            if item.target_gender is not None:
                groups[f"{item.target_gender}_stereotyped"].append(index)
        for group, indices in sorted(groups.items()):
            result[f"bias.stereotype_pref.{group}"] = percent(prefers[indices])
            result[f"bias.stereotype_margin.{group}"] = float(margins[indices].mean())
        return result

    def texts(self) -> list[str]:
        return [text for item in self.items() for text in (item.stereotyped, item.anti_stereotyped)]


class GenderSkewSuite(ProbeSuite[RolePrompt]):
    """Mean log-odds (nats) of male- vs female-coded openings after a role request; 0 is neutral."""

    name = "bias.gender_skew"

    def evaluate(self, ctx: ScoringContext, split: Split) -> dict[str, float]:
        items = self.items(split)
        pairs, spans = [], []
        for item in items:
            context = ctx.prompter.context(item.prompt)
            start = len(pairs)
            pairs.extend((context, ctx.prompter.continuation(text)) for text in item.male)
            pairs.extend((context, ctx.prompter.continuation(text)) for text in item.female)
            spans.append((start, len(item.male), len(item.female)))
        scores = ctx.scorer.continuation_logprobs(pairs)
        skews = np.array([
            log_mean_exp(scores[s:s + m]) - log_mean_exp(scores[s + m:s + m + f]) for s, m, f in spans
        ])
        result = {"bias.gender_skew": float(skews.mean()), "bias.gender_skew_abs": float(np.abs(skews).mean()),
                  "n_items.bias.gender_skew": float(len(items))}
        for kind in ("neutral", "gendered"):
            indices = [i for i, item in enumerate(items) if item.kind == kind]
            if indices:
                result[f"bias.gender_skew.{kind}"] = float(skews[indices].mean())
        return result

    def texts(self) -> list[str]:
        return [text for item in self.items() for text in (item.prompt, *item.male, *item.female)]
