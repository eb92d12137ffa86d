"""Predicting LightGBM text models with numpy alone, so serving never imports lightgbm.

Importing ``lightgbm`` drags in scikit-learn and SciPy (seconds on a busy
machine); a process that only serves needs nothing but the trees. All trees of
all boosters are compiled into flat node arrays; for each row the split decision
of every node is computed at once, then every (row, tree) pair moves down one
level per numpy step, so a forecast costs a few dozen array operations whatever
the number of trees. Results equal ``lightgbm.Booster.predict``
(raw scores of single-output models): each model's trees are summed in file
order, as LightGBM sums them; see ``tests/surrogate/test_tree_predict.py``.

This evaluator is always there and is the reference; ``CompiledForest.accelerate``
installs the compiled kernels of ``tree_fast`` (numba, when installed: 5-20x faster,
bitwise equal results) in its place, on request and possibly on a background thread.

Parsing, and refusing what cannot be evaluated exactly (categorical splits,
linear trees, multi-output models, transformed objectives), is ``tree_text``'s job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

from surrogate.model.tree_text import (
    DEFAULT_LEFT_BIT,
    MISSING_NONE,
    MISSING_ZERO,
    ParsedModel,
    TreeModelError,
    parse_model_text,
)

if TYPE_CHECKING:
    from surrogate.model.tree_fast import FastForest

logger = logging.getLogger(__name__)

ZERO_THRESHOLD: Final[float] = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold (a C++ float): inputs with |x| <= it are read as 0."""

MAX_CHUNK_CELLS: Final[int] = 1 << 19
"""Rows are evaluated in chunks of at most this many cells of (rows, 2 x nodes), at
least one row: a few bytes of temporaries per cell, so memory stays bounded whatever
the batch size (and measured fastest: one row's decisions stay in cache)."""

# Input variants: a node reads its feature from the copy of X in which the values it
# treats as missing are NaN (``x <= threshold`` is false: they go right) or -inf (true
# for every threshold: they go left). Thresholds may be infinite ("NaN vs the rest").
_NAN_RIGHT, _NAN_LEFT, _ZERO_RIGHT, _ZERO_LEFT = 0, 1, 2, 3


class Acceleration:
    """The compiled evaluator of one forest, installed once, possibly from another thread.

    Requests read ``compiled`` once per call (one reference read), so installing it while
    they run is safe; both evaluators give equal results.
    """

    def __init__(self) -> None:
        self.compiled: FastForest | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = False

    def start(self, forest: CompiledForest, background: bool) -> bool:
        from surrogate.model import tree_fast

        with self._lock:
            started, self._started = self._started, True
        if started:  # a second call: a blocking one waits for the first to finish
            if not background:
                self._done.wait()
            return self.compiled is not None or not self._done.is_set()
        if not tree_fast.numba_available():
            logger.info("numba is not installed: trees are evaluated with numpy")
            self._done.set()
            return False
        if background:
            threading.Thread(target=self._install, args=(forest,), name="tunecast-tree-kernels", daemon=True).start()
            return True
        self._install(forest)
        return self.compiled is not None

    def _install(self, forest: CompiledForest) -> None:
        from surrogate.model import tree_fast

        try:
            self.compiled = tree_fast.prepare(forest)
        except Exception:  # any failure leaves the numpy evaluator serving, never a broken one
            logger.exception("compiled tree kernels failed; trees are evaluated with numpy")
        finally:
            self._done.set()

    def wait(self, timeout: float | None) -> bool:
        if self._started:
            self._done.wait(timeout)
        return self.compiled is not None


@dataclass(frozen=True)
class CompiledForest:
    """Many single-output models evaluated together: ``predict(X)`` is (rows, models).

    Nodes are numbered internal first, then leaves, then one zero-valued padding
    leaf. For each row, the decision of every internal node ``n`` (does its
    split send the row left?) is computed at once from ``column[n]`` and
    ``threshold[n]`` and stored at position ``2 n``; a (row, tree) pair at node
    ``n`` is held as ``2 n``, and ``child[2 n + goes_left]`` is ``2 *`` the next
    node. A leaf is its own child, so a pair that reached its leaf stays there.
    Trees are sorted by depth, deepest first, so level ``d`` moves only the
    first ``active[d]`` trees. ``gather[i, k]`` is the sorted position of the
    ``i``-th tree of model ``k`` (the padding leaf past its last tree), so each
    model's trees are summed in file order, one after another, as LightGBM does.
    """

    n_features: int
    n_variants: int
    column: np.ndarray
    threshold: np.ndarray
    child: np.ndarray
    leaf_value: np.ndarray
    roots: np.ndarray
    active: tuple[int, ...]
    gather: np.ndarray
    models: tuple[ParsedModel, ...] = field(default=(), compare=False, repr=False)
    acceleration: Acceleration = field(default_factory=lambda: Acceleration(), compare=False, repr=False)

    @property
    def n_models(self) -> int:
        return int(self.gather.shape[1])

    @property
    def n_trees(self) -> int:
        return int(self.roots.size - 1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw scores, one column per model, for every row of a 2-D float array: with the
        compiled kernels once :meth:`accelerate` installed them, else with numpy (equal results)."""
        compiled = self.acceleration.compiled
        if compiled is not None:
            X = self._checked(X)
            return compiled.predict(X)
        return self.predict_numpy(X)

    def accelerate(self, *, background: bool = False) -> bool:
        """Install the compiled evaluator (``tree_fast``; needs numba) for later predictions.

        Returns whether it is installed, or with ``background`` whether it is being
        prepared on a daemon thread (numpy serves meanwhile): importing numba and loading
        its cached kernels takes longer than a server may take to start.
        """
        return self.acceleration.start(self, background)

    def wait_accelerated(self, timeout: float | None = None) -> bool:
        """Wait for :meth:`accelerate` to finish; whether the compiled evaluator is installed."""
        return self.acceleration.wait(timeout)

    def _checked(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must be (rows, {self.n_features}), got shape {X.shape}")
        return X

    def predict_numpy(self, X: np.ndarray) -> np.ndarray:
        """:meth:`predict` with the numpy evaluator whatever is installed (the reference)."""
        X = self._checked(X)
        out = np.empty((X.shape[0], self.n_models), dtype=np.float64)
        chunk = max(1, MAX_CHUNK_CELLS // self.child.size)
        for start in range(0, X.shape[0], chunk):
            out[start : start + chunk] = self._predict_rows(X[start : start + chunk])
        return out

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """X as LightGBM reads it, once per variant of missing-value handling, side by side."""
        X = np.where(np.abs(X) <= ZERO_THRESHOLD, 0.0, X)
        parts = [X, np.where(np.isnan(X), -np.inf, X)]
        if self.n_variants > 2:
            zero = np.isnan(X) | (X == 0.0)
            parts += [np.where(zero, np.nan, X), np.where(zero, -np.inf, X)]
        return np.concatenate(parts, axis=1)

    def _predict_rows(self, X: np.ndarray) -> np.ndarray:
        n_rows, n_internal = X.shape[0], self.column.size
        goes_left = np.empty((n_rows, self.child.size), dtype=bool)
        goes_left[:, 2 * n_internal :] = False
        np.less_equal(
            np.take(self._inputs(X), self.column, axis=1), self.threshold, out=goes_left[:, 0 : 2 * n_internal : 2]
        )
        flat = goes_left.ravel()
        offsets = (np.arange(n_rows, dtype=np.intp) * self.child.size)[:, None] if n_rows > 1 else None
        state = np.repeat(self.roots[None, :], n_rows, axis=0)
        # np.take: much faster than fancy indexing with 2-D index arrays
        for n_active in self.active:
            at = state[:, :n_active]
            at += np.take(flat, at if offsets is None else at + offsets)
            state[:, :n_active] = np.take(self.child, at)
        values = np.take(np.take(self.leaf_value, state), self.gather, axis=1)
        # over the middle axis numpy adds tree after tree; a lone model needs cumsum for that order
        return values.sum(axis=1) if values.shape[2] > 1 else np.cumsum(values, axis=1)[:, -1]


@dataclass(frozen=True)
class _Trees:
    """The trees of many models in file order, in LightGBM's local node numbering."""

    n_internal: np.ndarray
    internal_tree: np.ndarray
    internal_local: np.ndarray
    leaf_tree: np.ndarray
    leaf_local: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def n_leaves(self) -> np.ndarray:
        return self.n_internal + 1


@dataclass(frozen=True)
class _Layout:
    """Global node numbers (internal nodes, then leaves) for trees placed in a given order."""

    left: np.ndarray
    right: np.ndarray
    roots: np.ndarray
    internal_id: np.ndarray
    leaf_id: np.ndarray


def _exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)


def _local_index(counts: np.ndarray) -> np.ndarray:
    """0..counts[i]-1 for each i, concatenated."""
    return np.arange(int(counts.sum()), dtype=np.intp) - np.repeat(_exclusive_cumsum(counts), counts)


def _layout(trees: _Trees, order: np.ndarray) -> _Layout:
    """Number the nodes with trees placed in ``order``; ``roots`` stays indexed by file order."""
    position = np.argsort(order)
    n_internal_total = int(trees.n_internal.sum())
    n_nodes = n_internal_total + int(trees.n_leaves.sum())
    internal_base = _exclusive_cumsum(trees.n_internal[order])[position]
    leaf_base = n_internal_total + _exclusive_cumsum(trees.n_leaves[order])[position]
    internal_id = internal_base[trees.internal_tree] + trees.internal_local
    leaf_id = leaf_base[trees.leaf_tree] + trees.leaf_local
    tree = trees.internal_tree

    def to_global(local: np.ndarray) -> np.ndarray:
        return np.where(local >= 0, internal_base[tree] + local, leaf_base[tree] + ~local)

    left = np.arange(n_nodes, dtype=np.intp)
    right = left.copy()
    left[internal_id] = to_global(trees.left)
    right[internal_id] = to_global(trees.right)
    roots = np.where(trees.n_internal > 0, internal_base, leaf_base)
    return _Layout(left=left, right=right, roots=roots, internal_id=internal_id, leaf_id=leaf_id)


def _depths(layout: _Layout, source: str) -> np.ndarray:
    """Depth of every node (root 0), walking all trees level by level; refuses nodes that
    are not reached exactly once from a root, so a malformed file cannot misroute a row."""
    n_nodes = layout.left.size
    internal = layout.internal_id
    reached = np.concatenate([layout.roots, layout.left[internal], layout.right[internal]])
    indegree = np.bincount(reached, minlength=n_nodes)
    if (indegree != 1).any():
        raise TreeModelError(f"{source}: a tree node is the child of more than one node, or of none")
    is_internal = np.zeros(n_nodes, dtype=bool)
    is_internal[internal] = True
    depth = np.full(n_nodes, -1, dtype=np.int64)
    frontier, level = layout.roots, 0
    while frontier.size:
        depth[frontier] = level
        inner = frontier[is_internal[frontier]]
        frontier = np.concatenate([layout.left[inner], layout.right[inner]])
        level += 1
    if (depth < 0).any():
        raise TreeModelError(f"{source}: some tree nodes are not reachable from their root")
    return depth


def node_columns(models: Sequence[ParsedModel]) -> tuple[np.ndarray, np.ndarray, int]:
    """(column, threshold, number of input variants) of every internal node in file order:
    the node reads input column ``column`` (its feature in the copy of X that treats its
    missing values as it does, see ``CompiledForest._inputs``) and goes left when <= threshold."""
    n_features = models[0].n_features
    split_feature = np.concatenate([m.split_feature for m in models])
    threshold = np.concatenate([m.threshold for m in models])
    decision = np.concatenate([m.decision_type for m in models])
    missing = (decision >> 2) & 3
    default_left = (decision & DEFAULT_LEFT_BIT) != 0
    nan_left = np.where(missing == MISSING_NONE, threshold >= 0.0, default_left)
    variant = np.where(
        missing == MISSING_ZERO,
        np.where(default_left, _ZERO_LEFT, _ZERO_RIGHT),
        np.where(nan_left, _NAN_LEFT, _NAN_RIGHT),
    )
    n_variants = 4 if (missing == MISSING_ZERO).any() else 2
    return (variant * n_features + split_feature).astype(np.intp), threshold.astype(np.float64), n_variants


def compile_forest(models: Sequence[ParsedModel]) -> CompiledForest:
    """Lay out the trees of ``models`` (same feature count) for :meth:`CompiledForest.predict`."""
    if not models:
        raise ValueError("compile_forest needs at least one model")
    n_features = models[0].n_features
    for m in models:
        if m.n_features != n_features:
            raise TreeModelError(f"{m.source}: {m.n_features} features, {models[0].source} has {n_features}")
    n_internal = np.concatenate([np.diff(m.node_start) for m in models])
    n_trees = n_internal.size
    trees = _Trees(
        n_internal=n_internal,
        internal_tree=np.repeat(np.arange(n_trees), n_internal),
        internal_local=_local_index(n_internal),
        leaf_tree=np.repeat(np.arange(n_trees), n_internal + 1),
        leaf_local=_local_index(n_internal + 1),
        left=np.concatenate([m.left_child for m in models]),
        right=np.concatenate([m.right_child for m in models]),
    )
    sources = ", ".join(m.source for m in models[:3]) + (" ..." if len(models) > 3 else "")
    in_file_order = _layout(trees, np.arange(n_trees))
    depth = _depths(in_file_order, sources)
    tree_depth = np.zeros(n_trees, dtype=np.int64)
    np.maximum.at(tree_depth, trees.leaf_tree, depth[in_file_order.leaf_id])
    order = np.argsort(-tree_depth, kind="stable")
    layout = _layout(trees, order)

    file_column, threshold, n_variants = node_columns(models)
    n_internal_total = int(n_internal.sum())
    column = np.empty(n_internal_total, dtype=np.intp)
    column[layout.internal_id] = file_column
    node_threshold = np.empty(n_internal_total, dtype=np.float64)
    node_threshold[layout.internal_id] = threshold
    pad = layout.left.size  # a zero leaf: the "tree" summed into models with fewer trees
    child = np.empty(2 * (pad + 1), dtype=np.intp)
    child[0::2] = 2 * np.append(layout.right, pad)
    child[1::2] = 2 * np.append(layout.left, pad)
    leaf_value = np.zeros(2 * (pad + 1), dtype=np.float64)
    leaf_value[2 * layout.leaf_id] = np.concatenate([m.leaf_value for m in models])

    sorted_depth = tree_depth[order]
    active = tuple(int((sorted_depth > level).sum()) for level in range(int(sorted_depth.max(initial=0))))
    position = np.argsort(order)
    counts = [m.n_trees for m in models]
    gather = np.full((max(counts), len(models)), n_trees, dtype=np.intp)
    for k, (start, count) in enumerate(zip(_exclusive_cumsum(np.asarray(counts)), counts)):
        gather[:count, k] = position[start : start + count]
    roots = 2 * np.append(layout.roots[order], pad)
    for array in (column, node_threshold, child, leaf_value, roots, gather):
        array.setflags(write=False)  # shared by every request thread
    return CompiledForest(
        n_features=n_features, n_variants=n_variants,
        column=column, threshold=node_threshold, child=child, leaf_value=leaf_value,
        roots=roots, active=active, gather=gather, models=tuple(models),
    )


def compile_model_texts(texts: Sequence[str], sources: Sequence[str]) -> CompiledForest:
    """Parse and compile many model texts; ``sources`` name them in errors."""
    if len(texts) != len(sources):
        raise ValueError(f"{len(texts)} model texts but {len(sources)} source names")
    return compile_forest([parse_model_text(t, s) for t, s in zip(texts, sources)])
