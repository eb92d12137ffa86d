"""The one interface every probe suite implements, and the context it scores with."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

import numpy as np

from featurizers.likelihood import LikelihoodScorer
from featurizers.prompting import Prompter
from featurizers.probes.schema import Split

ItemT = TypeVar("ItemT")

DATA_DIR_NAME = "data"


@dataclass(frozen=True)
class ScoringContext:
    """What a suite needs to score a model: likelihoods and how to phrase a request."""

    scorer: LikelihoodScorer
    prompter: Prompter


class ProbeSuite(ABC, Generic[ItemT]):
    """A named set of probe items split into `feature` and `eval` halves."""

    name: str

    def __init__(self, items: Sequence[ItemT]) -> None:
        if not items:
            raise ValueError(f"suite {self.name}: no items")
        self._items = list(items)

    def items(self, split: Split | None = None) -> list[ItemT]:
        """Items of one split (or all); raises if the split is empty so nothing is scored on nothing."""
        if split is None:
            return list(self._items)
        chosen = [item for item in self._items if getattr(item, "split") == split]
        if not chosen:
            raise ValueError(f"suite {self.name}: no items in split {split!r}")
        return chosen

    @abstractmethod
    def evaluate(self, ctx: ScoringContext, split: Split) -> dict[str, float]:
        """Score the model on one split; keys are dotted outcome names."""

    @abstractmethod
    def texts(self) -> list[str]:
        """Every string of the suite (used e.g. to train a tiny test tokenizer)."""


def log_mean_exp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(mean(exp(x))): compares sets of openings of different sizes fairly."""
    peak = np.max(values, axis=axis, keepdims=True)
    return (peak + np.log(np.mean(np.exp(values - peak), axis=axis, keepdims=True))).squeeze(axis)


def percent(flags: np.ndarray) -> float:
    return float(100.0 * np.mean(flags)) if flags.size else float("nan")


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
