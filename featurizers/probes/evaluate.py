"""Score a model on probe suites: one flat dict of dotted outcome names to floats."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from featurizers.likelihood import LikelihoodScorer, TokenCache
from featurizers.loading import LoadedModel
from featurizers.probes.base import ProbeSuite, ScoringContext
from featurizers.probes.registry import SuiteRegistry, default_registry
from featurizers.probes.schema import Split
from featurizers.prompting import Prompter

logger = logging.getLogger(__name__)


class EvaluationConfig(BaseModel):
    """What to score and how; saved beside any result it produced."""

    model_config = ConfigDict(extra="forbid")

    suites: list[str] = Field(default_factory=list, description="suite names or family prefixes; empty = all")
    split: Split = "eval"
    batch_size: int = Field(default=16, ge=1)
    user_files: dict[str, str] = Field(default_factory=dict, description="suite name -> user data file")
    max_items: dict[str, int] = Field(
        default_factory=dict,
        description="suite name -> at most this many items of the scored split, evenly spread (default: all). "
        "Trades measurement noise for time on models too slow to score every item at every checkpoint",
    )

    @field_validator("max_items")
    @classmethod
    def _caps_positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {name: cap for name, cap in value.items() if cap < 1}
        if bad:
            raise ValueError(f"max_items: caps must be >= 1, got {bad}")
        return value


class ProbeEvaluator:
    """The selected suites, loaded once, scoring any number of models that share a tokenizer.

    A fine-tune run measures the same probes at every checkpoint: keeping one evaluator per
    run reads the suite files, renders the prompts and tokenizes the probe texts once
    instead of at every checkpoint. Results equal `evaluate_model`'s.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, config: EvaluationConfig | None = None,
                 registry: SuiteRegistry | None = None) -> None:
        self.config = config or EvaluationConfig()
        registry = registry or default_registry()
        names = registry.resolve(self.config.suites)
        unknown_files = set(self.config.user_files) - set(names)
        if unknown_files:
            raise ValueError(f"user_files: suite(s) {sorted(unknown_files)} are not among the selected suites {names}")
        self.tokenizer = tokenizer
        unknown_caps = set(self.config.max_items) - set(names)
        if unknown_caps:
            raise ValueError(f"max_items: suite(s) {sorted(unknown_caps)} are not among the selected suites {names}")
        self._suites: list[tuple[str, ProbeSuite]] = [
            (name, registry.create(name, self.config.user_files.get(name), self.config.split)) for name in names
        ]
        for name, suite in self._suites:
            if name in self.config.max_items:
                suite.cap_split(self.config.split, self.config.max_items[name])
        self._prompter = Prompter.for_tokenizer(tokenizer)
        self._tokens = TokenCache(tokenizer)

    def evaluate(self, model: PreTrainedModel, progress: bool = False, share_contexts: bool = True) -> dict[str, float]:
        """Score every selected suite; deterministic (no sampling), batched."""
        ctx = ScoringContext(
            scorer=LikelihoodScorer(model, self.tokenizer, batch_size=self.config.batch_size,
                                    share_contexts=share_contexts, tokens=self._tokens),
            prompter=self._prompter,
        )
        results: dict[str, float] = {}
        was_training = model.training
        model.eval()
        try:
            for name, suite in tqdm(self._suites, desc="probe suites", disable=not progress):
                started = time.perf_counter()
                results.update(suite.evaluate(ctx, self.config.split))
                results[f"seconds.{name}"] = time.perf_counter() - started
        finally:
            model.train(was_training)
        return results


def evaluate_model(loaded: LoadedModel, config: EvaluationConfig | None = None,
                   registry: SuiteRegistry | None = None, progress: bool = False,
                   share_contexts: bool = True) -> dict[str, float]:
    """Score every selected suite of one model; deterministic (no sampling), batched.

    share_contexts=False scores every (context, continuation) pair on its own: same results,
    slower; kept for the timing comparison in experiments/bench/evaluate_timing.py.
    """
    evaluator = ProbeEvaluator(loaded.tokenizer, config, registry)
    return evaluator.evaluate(loaded.model, progress=progress, share_contexts=share_contexts)


def headline(results: Mapping[str, float]) -> dict[str, float]:
    """The headline outcomes (no breakdowns, counts or timings)."""
    return {k: v for k, v in results.items() if k.count(".") == 1 and not k.startswith(("n_items", "n_tokens", "seconds"))}


def user_file_arg(values: list[str]) -> dict[str, str]:
    """Parse CLI `SUITE=FILE` arguments, naming the bad one."""
    parsed: dict[str, str] = {}
    for value in values:
        if "=" not in value:
            raise ValueError(f"--data {value!r}: expected SUITE=FILE, e.g. bias.stereotype=pairs.csv")
        suite, path = value.split("=", 1)
        if not Path(path).is_file():
            raise ValueError(f"--data {value!r}: file {path} does not exist")
        parsed[suite] = path
    return parsed
