"""How many passes a recipe makes over a dataset, counted the way the run corpus counts them.

The harness holds out a slice of every candidate dataset (for ``task.heldout_loss``) and
records ``recipe.epochs`` as the passes its ``steps`` batches make over the rest. A forecast
for a dataset of another size must count epochs the same way, or the ``recipe.epochs``
feature means something else than it meant in training. The rule is mirrored here without
torch (``experiments.harness.data.heldout_count``); a test keeps the two equal.
"""

from __future__ import annotations

import math
from typing import Final

HELDOUT_SHARE: Final[float] = 0.1
HELDOUT_MIN: Final[int] = 8
HELDOUT_MAX: Final[int] = 200


def heldout_examples(n_examples: int) -> int:
    """Examples the harness holds out of ``n_examples``: 10 %, rounded half up, clamped to [8, 200]."""
    return min(max(math.floor(HELDOUT_SHARE * n_examples + 0.5), HELDOUT_MIN), HELDOUT_MAX)


def corpus_epochs(n_examples: int, steps: int, batch_size: int) -> float:
    """Passes over the training split; a dataset too small to split counts as its own training set."""
    n_train = n_examples - heldout_examples(n_examples)
    if n_train < 1:
        n_train = max(n_examples, 1)
    return steps * batch_size / n_train
