"""The one interface every probe suite implements, and the context it scores with."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from featurizers.likelihood import LikelihoodScorer
from featurizers.probes.schema import Split
from featurizers.prompting import Prompter

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
        chosen = [item for item in self._items if item.split == split]
        if not chosen:
            raise ValueError(f"suite {self.name}: no items in split {split!r}")
        return chosen

    def cap_split(self, split: Split, max_items: int) -> None:
        """Keep at most `max_items` items of one split, spread evenly over the file order.

        Suite files are grouped by category, so evenly spaced picks keep every
        category represented; the choice is deterministic, so every checkpoint of
        a run (and every run of a corpus) scores the same subset.
        """
        if max_items < 1:
            raise ValueError(f"suite {self.name}: max_items must be >= 1, got {max_items}")
        chosen = [i for i, item in enumerate(self._items) if item.split == split]
        if len(chosen) <= max_items:
            return
        keep = {chosen[int(k)] for k in np.linspace(0, len(chosen) - 1, max_items).round().astype(int)}
        self._items = [item for i, item in enumerate(self._items) if item.split != split or i in keep]

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
