"""The compiled tree evaluator: the numpy evaluator's results, 5-20x faster (numba).

``tree_predict.CompiledForest`` evaluates with numpy until ``accelerate`` installs a
``FastForest`` from here. This module imports no numba itself (importing it costs
about as much as a whole server start-up): ``prepare`` loads ``tree_kernels`` when it
runs, and returns None, leaving numpy in charge, when numba is absent or a tree has
more leaves than a 64-bit leaf mask holds. Before it is installed, a ``FastForest``
must reproduce the numpy evaluator exactly on probe rows (zeros, NaN, values at and
just past the split thresholds), both kernels.

The layout (see ``tree_kernels`` for the algorithm): the internal nodes of every tree
in file order, each with the input column and threshold of ``tree_predict.node_columns``
and the mask of leaves its split keeps when the row goes right; leaves numbered left
to right within their tree.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Final

import numpy as np

from surrogate.model.tree_predict import node_columns
from surrogate.model.tree_text import ParsedModel

if TYPE_CHECKING:
    from surrogate.model.tree_predict import CompiledForest

logger = logging.getLogger(__name__)

MAX_LEAVES: Final[int] = 64
"""Leaves per tree a uint64 leaf mask holds; a model with bigger trees stays on numpy."""

BY_TREE_MIN_ROWS: Final[int] = 7
"""From this many rows on, ``predict_by_tree`` (blocks of rows, tree after tree) beats
``predict_by_row`` (all trees of one row side by side); measured on the default model
(``experiments/bench/forecast_path.py``)."""

BLOCK_ROWS: Final[int] = 128
"""Rows per block of ``predict_by_tree``: the block's inputs (2-4 x features x rows
doubles) stay in the L2 cache; measured fastest among 32-512 on the default model."""


def numba_available() -> bool:
    """Whether numba can be imported, without importing it."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # blocked, or a None placeholder in sys.modules
        return False


def numba_version() -> str | None:
    """numba's installed version, read from its metadata (no import), or None."""
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:
        return None


def load_kernels() -> ModuleType | None:
    """``tree_kernels`` (imports numba and loads or compiles the cached kernels), or None."""
    try:
        from surrogate.model import tree_kernels
    except ImportError as exc:
        logger.info("compiled tree kernels unavailable (%s): trees are evaluated with numpy", exc)
        return None
    return tree_kernels


@dataclass(frozen=True)
class FastLayout:
    """Node, leaf and model arrays of the kernels (see the module docstring).

    Nodes are laid out twice: flat in file order (``column``/``threshold``/``clear``,
    tree ``t`` owning ``node_start[t]:node_start[t + 1]``) for ``predict_by_tree``, and
    as (slot, tree) matrices padded with nodes that clear nothing (``slot_*``) for
    ``predict_by_row``. Tree ``t``'s leaf ``i`` (left to right) is
    ``leaf_value[leaf_start[t] + i]``; model ``k`` owns trees
    ``model_tree_start[k]:model_tree_start[k + 1]``.
    """

    n_features: int
    n_variants: int
    column: np.ndarray
    threshold: np.ndarray
    clear: np.ndarray
    node_start: np.ndarray
    slot_column: np.ndarray
    slot_threshold: np.ndarray
    slot_clear: np.ndarray
    leaf_start: np.ndarray
    leaf_value: np.ndarray
    model_tree_start: np.ndarray

    @property
    def n_models(self) -> int:
        return int(self.model_tree_start.size - 1)


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def build_layout(models: tuple[ParsedModel, ...]) -> FastLayout | None:
    """The kernels' arrays for ``models`` (trees already checked by ``compile_forest``);
    None when a tree has more than ``MAX_LEAVES`` leaves."""
    n_internal = np.concatenate([np.diff(m.node_start) for m in models]).astype(np.int64)
    if n_internal.size and int(n_internal.max()) + 1 > MAX_LEAVES:
        return None
    node_start, leaf_start = _starts(n_internal), _starts(n_internal + 1)
    tree = np.repeat(np.arange(n_internal.size), n_internal)
    left = np.concatenate([m.left_child for m in models])
    right = np.concatenate([m.right_child for m in models])
    left_inner, right_inner = left >= 0, right >= 0
    left_node = np.where(left_inner, node_start[tree] + left, 0)
    right_node = np.where(right_inner, node_start[tree] + right, 0)
    n_nodes = tree.size
    # leaves under each node, bottom-up: one pass per level until nothing changes
    below = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        updated = np.where(left_inner, below[left_node], 1) + np.where(right_inner, below[right_node], 1)
        if np.array_equal(updated, below):
            break
        below = updated
    left_leaves = np.where(left_inner, below[left_node], 1)
    # rank (within its tree, left to right) of each node's first leaf, top-down
    first = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        updated = first.copy()
        updated[left_node[left_inner]] = first[left_inner]
        updated[right_node[right_inner]] = (first + left_leaves)[right_inner]
        if np.array_equal(updated, first):
            break
        first = updated
    rank = np.zeros(int(leaf_start[-1]), dtype=np.int64)  # a one-leaf tree: its leaf, rank 0
    leaf_base = leaf_start[tree]
    rank[(leaf_base + ~left)[~left_inner]] = first[~left_inner]
    rank[(leaf_base + ~right)[~right_inner]] = (first + left_leaves)[~right_inner]
    leaf_tree = np.repeat(np.arange(n_internal.size), n_internal + 1)
    leaf_value = np.empty(int(leaf_start[-1]), dtype=np.float64)
    leaf_value[leaf_start[leaf_tree] + rank] = np.concatenate([m.leaf_value for m in models])
    left_mask = np.left_shift(np.uint64(1), left_leaves.astype(np.uint64)) - np.uint64(1)
    clear = ~np.left_shift(left_mask, first.astype(np.uint64))
    column, threshold, n_variants = node_columns(models)
    n_slots = int(n_internal.max(initial=0))
    slot = np.arange(n_nodes) - node_start[tree]
    slot_column = np.zeros((n_slots, n_internal.size), dtype=np.uint32)
    slot_threshold = np.zeros((n_slots, n_internal.size), dtype=np.float64)
    slot_clear = np.full((n_slots, n_internal.size), np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    slot_column[slot, tree] = column
    slot_threshold[slot, tree] = threshold
    slot_clear[slot, tree] = clear
    layout = FastLayout(
        n_features=models[0].n_features, n_variants=n_variants,
        column=column.astype(np.uint32), threshold=threshold, clear=clear, node_start=node_start,
        slot_column=slot_column, slot_threshold=slot_threshold, slot_clear=slot_clear,
        leaf_start=leaf_start, leaf_value=leaf_value,
        model_tree_start=_starts(np.array([m.n_trees for m in models], dtype=np.int64)),
    )
    for array in vars(layout).values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)  # shared by every request thread
    return layout


@dataclass(frozen=True)
class FastForest:
    """A layout and the kernels that evaluate it; ``predict`` as ``CompiledForest.predict``."""

    layout: FastLayout
    kernels: ModuleType

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (rows, models) of a C-contiguous float64 (rows, features) array."""
        lay = self.layout
        out = np.empty((X.shape[0], lay.n_models), dtype=np.float64)
        if X.shape[0] < BY_TREE_MIN_ROWS:
            self.kernels.predict_by_row(
                X, lay.n_variants, lay.slot_column, lay.slot_threshold, lay.slot_clear,
                lay.leaf_start, lay.leaf_value, lay.model_tree_start, out,
            )
        else:
            self.kernels.predict_by_tree(
                X, lay.n_variants, lay.column, lay.threshold, lay.clear, lay.node_start,
                lay.leaf_start, lay.leaf_value, lay.model_tree_start, BLOCK_ROWS, out,
            )
        return out


def probe_rows(layout: FastLayout) -> np.ndarray:
    """Rows that take many paths: zeros, NaN, and each feature at (and just past) the
    median threshold it is split on; enough rows for both kernels."""
    n = layout.n_features
    feature = layout.column % n
    at = np.full(n, np.nan)
    finite = np.isfinite(layout.threshold)
    for f in np.unique(feature[finite]):
        at[f] = np.median(layout.threshold[finite & (feature == f)])
    base = np.stack([np.zeros(n), np.full(n, np.nan), at, np.nextafter(at, np.inf), np.where(np.isnan(at), 0.0, at)])
    return np.ascontiguousarray(np.resize(base, (BY_TREE_MIN_ROWS + base.shape[0], n)))


def prepare(forest: CompiledForest) -> FastForest | None:
    """A checked ``FastForest`` for ``forest``, or None (numba absent, trees too big, or a
    probe row predicted differently from numpy, which is logged as an error)."""
    if not forest.models:
        return None
    start = time.perf_counter()
    kernels = load_kernels()
    if kernels is None:
        return None
    layout = build_layout(forest.models)
    if layout is None:
        logger.info("a tree has more than %d leaves: trees are evaluated with numpy", MAX_LEAVES)
        return None
    fast = FastForest(layout=layout, kernels=kernels)
    rows = probe_rows(layout)
    for X in (rows[:1], rows):  # one row per kernel: loads (or compiles) both
        expected, got = forest.predict_numpy(X), fast.predict(X)
        if not np.array_equal(expected, got):
            worst = float(np.max(np.abs(expected - got)))
            logger.error("compiled tree kernels differ from numpy by up to %g; trees are evaluated with numpy", worst)
            return None
    logger.info("compiled tree kernels ready in %.0f ms", (time.perf_counter() - start) * 1e3)
    return fast
