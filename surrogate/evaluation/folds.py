"""Fold splitters for cross-validating the meta-model: seeded random K-fold and
leave-one-family-out. Every fold is checked before use, so no method ever scores a
run its fold trained on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class FoldError(ValueError):
    """Folds that would leak a training run into scoring, or that cannot be formed."""


@dataclass(frozen=True)
class Fold:
    """Row indices a fold trains on and scores; ``name`` labels it in outputs (e.g. the family)."""

    name: str
    train: np.ndarray
    test: np.ndarray


class FoldSplitter(ABC):
    """Turns a table's rows (and their families) into folds."""

    kind: str

    @abstractmethod
    def split(self, n_rows: int, families: Sequence[str]) -> list[Fold]:
        """Folds whose test parts partition the rows."""


class RandomKFold(FoldSplitter):
    """K folds of a seeded permutation; fold sizes differ by at most one row."""

    kind = "random"

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.seed = seed

    def split(self, n_rows: int, families: Sequence[str]) -> list[Fold]:
        if self.k < 2:
            raise FoldError(f"folds={self.k}: cross-validation needs at least 2 folds")
        if n_rows < self.k:
            raise FoldError(f"{n_rows} runs cannot fill {self.k} folds; lower --folds or add runs")
        order = np.random.default_rng(self.seed).permutation(n_rows)
        everything = np.arange(n_rows)
        folds = []
        for i, test in enumerate(np.array_split(order, self.k)):
            test = np.sort(test)
            folds.append(Fold(name=f"fold{i}", train=np.setdiff1d(everything, test), test=test))
        return folds


class LeaveOneFamilyOut(FoldSplitter):
    """One fold per dataset family: train on every other family, score the one left out."""

    kind = "leave_family_out"

    def split(self, n_rows: int, families: Sequence[str]) -> list[Fold]:
        if len(families) != n_rows:
            raise FoldError(f"{len(families)} family labels for {n_rows} runs")
        labels = np.asarray(families, dtype=object)
        names = sorted(set(families))
        if len(names) < 2:
            raise FoldError(f"leave-one-family-out needs at least 2 dataset families, the corpus has {names}")
        return [
            Fold(name=name, train=np.flatnonzero(labels != name), test=np.flatnonzero(labels == name))
            for name in names
        ]


def check_folds(folds: Sequence[Fold], n_rows: int) -> None:
    """Refuse folds that overlap train and test, or whose test parts do not partition the rows
    (a run scored twice or never would bias the pooled metrics)."""
    if not folds:
        raise FoldError("the splitter returned no folds")
    seen = np.zeros(n_rows, dtype=np.int64)
    for fold in folds:
        train, test = np.asarray(fold.train), np.asarray(fold.test)
        for part, idx in (("train", train), ("test", test)):
            if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
                raise FoldError(f"fold {fold.name!r}: {part} indices fall outside the {n_rows} runs")
            if np.unique(idx).size != idx.size:
                raise FoldError(f"fold {fold.name!r}: a run appears twice in its {part} part")
        leak = np.intersect1d(train, test)
        if leak.size:
            raise FoldError(
                f"fold {fold.name!r}: {leak.size} run(s) are in both the training and the test part "
                f"(e.g. row {int(leak[0])}); a fold must never score a run it trained on"
            )
        if test.size == 0:
            raise FoldError(f"fold {fold.name!r} has no test runs")
        if train.size == 0:
            raise FoldError(f"fold {fold.name!r} has no training runs")
        seen[test] += 1
    if not np.all(seen == 1):
        bad = int(np.flatnonzero(seen != 1)[0])
        raise FoldError(f"run row {bad} is scored {int(seen[bad])} times; test parts must partition the runs")
