"""Compiled (numba) kernels of ``tree_fast``: imported only by ``tree_fast.load_kernels``,
never at package import, because importing numba costs about as much as the whole
serving start-up.

Every tree is evaluated QuickScorer-style: each internal node whose split sends the row
right clears, in a 64-bit word of the tree's leaves (numbered left to right), the
leaves of its left subtree; the exit leaf is the lowest bit left set. There is no
data-dependent branch or chain of dependent loads, so many trees (one row) or many rows
(one tree) are evaluated side by side. Each model's leaf values are added tree after
tree in file order starting from 0.0, the order of the numpy evaluator and of LightGBM,
so results are bitwise equal to theirs. ``cache=True`` keeps the machine code on disk
(next to this file, or numba's cache directory), so a process loads rather than
compiles it; ``nogil=True`` lets request threads run while a kernel works.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from surrogate.model.tree_predict import ZERO_THRESHOLD

_ALL_LEAVES = np.uint64(0xFFFFFFFFFFFFFFFF)
_NO_LEAVES = np.uint64(0)


@njit(cache=True, nogil=True)
def _expand_row(x: np.ndarray, n_variants: int, out: np.ndarray) -> None:
    """One row as the nodes read it, once per missing-value variant (as ``CompiledForest._inputs``):
    [as is | NaN -> -inf | NaN and 0 -> NaN | NaN and 0 -> -inf]; |x| <= kZeroThreshold is 0."""
    n = x.size
    for i in range(n):
        v = x[i]
        if abs(v) <= ZERO_THRESHOLD:
            v = 0.0
        missing = np.isnan(v)
        out[i] = v
        out[n + i] = -np.inf if missing else v
        if n_variants > 2:
            zero = missing or v == 0.0
            out[2 * n + i] = np.nan if zero else v
            out[3 * n + i] = -np.inf if zero else v


@njit(cache=True, nogil=True)
def predict_by_row(
    X: np.ndarray,
    n_variants: int,
    column: np.ndarray,
    threshold: np.ndarray,
    clear: np.ndarray,
    leaf_start: np.ndarray,
    leaf_value: np.ndarray,
    model_tree_start: np.ndarray,
    out: np.ndarray,
) -> None:
    """Row after row, all trees side by side: node arrays are (slot, tree), each tree padded
    to the same number of slots with nodes that clear nothing. Fastest for a few rows."""
    n_slots, n_trees = column.shape
    expanded = np.empty(n_variants * X.shape[1])
    alive = np.empty(n_trees, dtype=np.uint64)
    left = np.empty(n_trees, dtype=np.uint8)
    n_models = model_tree_start.size - 1
    for r in range(X.shape[0]):
        _expand_row(X[r], n_variants, expanded)
        alive[:] = _ALL_LEAVES
        for s in range(n_slots):
            col, thr, clr = column[s], threshold[s], clear[s]
            # decisions first, as bytes: fused with the masking, LLVM turns the mask into a
            # branch on the decision, which mispredicts half the time
            for t in range(n_trees):
                left[t] = expanded[col[t]] <= thr[t]
            for t in range(n_trees):
                alive[t] &= clr[t] | (_NO_LEAVES - np.uint64(left[t]))
        for k in range(n_models):
            total = 0.0
            for t in range(model_tree_start[k], model_tree_start[k + 1]):
                total += leaf_value[leaf_start[t] + trailing_zeros(alive[t])]
            out[r, k] = total


@njit(cache=True, nogil=True)
def predict_by_tree(
    X: np.ndarray,
    n_variants: int,
    column: np.ndarray,
    threshold: np.ndarray,
    clear: np.ndarray,
    node_start: np.ndarray,
    leaf_start: np.ndarray,
    leaf_value: np.ndarray,
    model_tree_start: np.ndarray,
    block_rows: int,
    out: np.ndarray,
) -> None:
    """Blocks of rows, tree after tree: the rows of a block are held feature-major, so each
    node is one contiguous, vectorised pass over the block. Fastest for many rows."""
    n_rows, n_features = X.shape
    width = n_variants * n_features
    n_models = model_tree_start.size - 1
    expanded = np.empty(width)
    block = np.empty((width, block_rows))
    alive = np.empty(block_rows, dtype=np.uint64)
    total = np.empty((n_models, block_rows))
    for first in range(0, n_rows, block_rows):
        b = min(block_rows, n_rows - first)
        for r in range(b):
            _expand_row(X[first + r], n_variants, expanded)
            for c in range(width):
                block[c, r] = expanded[c]
        for k in range(n_models):
            acc = total[k]
            acc[:b] = 0.0
            for t in range(model_tree_start[k], model_tree_start[k + 1]):
                alive[:b] = _ALL_LEAVES
                for j in range(node_start[t], node_start[t + 1]):
                    values, thr, clr = block[column[j]], threshold[j], clear[j]
                    for r in range(b):
                        alive[r] &= clr | (_NO_LEAVES - np.uint64(values[r] <= thr))
                leaves = leaf_start[t]
                for r in range(b):
                    acc[r] += leaf_value[leaves + trailing_zeros(alive[r])]
        for r in range(b):
            for k in range(n_models):
                out[first + r, k] = total[k, r]
