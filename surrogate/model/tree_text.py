"""Reading LightGBM text models into flat numpy arrays, without lightgbm.

Only what prediction needs is read (tree shapes, splits, thresholds, missing-value
rules, leaf values), and everything prediction cannot reproduce exactly is refused
here with the file and tree named: categorical splits, linear trees, multi-output
models, objectives whose prediction is not the raw score. ``tree_predict`` compiles
the result for serving.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np

IDENTITY_OBJECTIVES: Final[frozenset[str]] = frozenset({"regression", "regression_l1", "quantile"})
"""Objectives whose prediction is the raw score (sum of leaf values)."""

_END_OF_TREES: Final[str] = "end of trees"
_CATEGORICAL_BIT: Final[int] = 1
DEFAULT_LEFT_BIT: Final[int] = 2
"""``decision_type`` bits: 1 categorical, 2 missing values go left, (>> 2) & 3 the missing type."""
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2

_TREE_KEYS: Final[tuple[str, ...]] = (
    "num_leaves", "num_cat", "split_feature", "threshold", "decision_type",
    "left_child", "right_child", "leaf_value",
)
_TREE_LINES: Final[re.Pattern[str]] = re.compile(
    r"\nTree=\d+\nnum_leaves=([^\n]*)\nnum_cat=([^\n]*)\nsplit_feature=([^\n]*)\nsplit_gain=[^\n]*"
    r"\nthreshold=([^\n]*)\ndecision_type=([^\n]*)\nleft_child=([^\n]*)\nright_child=([^\n]*)"
    r"\nleaf_value=([^\n]*)\n"
)
"""The lines of one tree we read, in the order LightGBM's ``Tree::ToString`` writes them:
one regex pass over the text finds every tree, several times faster than a pass per key."""


class TreeModelError(ValueError):
    """A LightGBM model text is malformed or uses something this evaluator does not support."""


@dataclass(frozen=True)
class ParsedModel:
    """The trees of one single-output LightGBM model as flat arrays (trees in file order).

    Internal nodes of tree ``t`` are ``node_start[t]:node_start[t + 1]`` of the
    ``split_*``/``threshold``/``decision_type``/child arrays, its leaves
    ``leaf_start[t]:leaf_start[t + 1]`` of ``leaf_value``. Children use
    LightGBM's local numbering: ``>= 0`` an internal node, ``< 0`` leaf ``~c``.
    """

    source: str
    n_features: int
    objective: str
    split_feature: np.ndarray
    threshold: np.ndarray
    decision_type: np.ndarray
    left_child: np.ndarray
    right_child: np.ndarray
    leaf_value: np.ndarray
    node_start: np.ndarray
    leaf_start: np.ndarray

    @property
    def n_trees(self) -> int:
        return int(self.leaf_start.size - 1)


def _header(text: str, source: str) -> dict[str, str]:
    end = text.find("\n\n")
    if not text.startswith("tree\n") or end < 0:
        raise TreeModelError(f"{source}: not a LightGBM text model (no 'tree' header)")
    return dict(line.split("=", 1) for line in text[:end].splitlines()[1:] if "=" in line)


def _numbers(values: list[str], dtype: type, source: str, key: str) -> np.ndarray:
    """All space-separated numbers of ``values`` in one array (one C parse, not one per tree)."""
    joined = " ".join(values)
    if not joined.strip():
        return np.empty(0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # numpy's "could not be read to its end"
        try:
            out = np.fromstring(joined, dtype=dtype, sep=" ")
        except (ValueError, DeprecationWarning):
            raise TreeModelError(f"{source}: {key} holds a value that is not a number") from None
    return out


def _tree_of(position: int, starts: np.ndarray) -> int:
    return int(np.searchsorted(starts, position, side="right") - 1)


def parse_model_text(text: str, source: str) -> ParsedModel:
    """Read every tree of a LightGBM model text, refusing what cannot be evaluated exactly.

    ``source`` (a file path or booster name) prefixes every error message.
    """
    head = _header(text, source)
    for key, wanted in (("num_class", "1"), ("num_tree_per_iteration", "1")):
        if head.get(key, "1") != wanted:
            raise TreeModelError(f"{source}: {key}={head[key]}; only single-output models are supported")
    if "average_output" in head:
        raise TreeModelError(f"{source}: averaged (random forest) output is not supported")
    objective = head.get("objective", "").split(" ")
    if objective[0] not in IDENTITY_OBJECTIVES or len(objective) > 1:
        raise TreeModelError(
            f"{source}: objective {' '.join(objective)!r} is not supported; "
            f"only {sorted(IDENTITY_OBJECTIVES)} without output transforms"
        )
    try:
        n_features = int(head["max_feature_idx"]) + 1
    except (KeyError, ValueError):
        raise TreeModelError(f"{source}: no valid max_feature_idx header line") from None
    end = text.find(_END_OF_TREES)
    if end < 0:
        raise TreeModelError(f"{source}: no '{_END_OF_TREES}' line; the model text is truncated")
    body = text[:end]
    n_trees = body.count("\nTree=")
    if n_trees == 0:
        raise TreeModelError(f"{source}: the model holds no trees")
    trees = _TREE_LINES.findall(body)
    if len(trees) != n_trees:
        raise TreeModelError(
            f"{source}: {len(trees)} of {n_trees} trees have the lines "
            f"{', '.join(_TREE_KEYS)} in the order LightGBM writes them"
        )
    fields = dict(zip(_TREE_KEYS, (list(column) for column in zip(*trees))))
    if body.count("\nis_linear=0\n") != n_trees:
        linear = [i for i, v in enumerate(re.findall(r"\nis_linear=([^\n]*)", body)) if v != "0"]
        where = f"tree {linear[0]} is a linear tree" if linear else "not every tree says is_linear=0"
        raise TreeModelError(f"{source}: {where}; only constant leaves are supported")
    num_cat = _numbers(fields["num_cat"], np.int64, source, "num_cat")
    if num_cat.size != n_trees:
        raise TreeModelError(f"{source}: num_cat must be one count per tree")
    if num_cat.any():
        tree = int(np.flatnonzero(num_cat)[0])
        raise TreeModelError(
            f"{source}: tree {tree} has categorical splits; only numerical splits are supported "
            "(train without categorical_feature)"
        )
    num_leaves = _numbers(fields["num_leaves"], np.int64, source, "num_leaves")
    if num_leaves.size != n_trees or (num_leaves < 1).any():
        raise TreeModelError(f"{source}: num_leaves must be one positive count per tree")
    node_start = np.concatenate([[0], np.cumsum(num_leaves - 1)])
    leaf_start = np.concatenate([[0], np.cumsum(num_leaves)])
    arrays = {
        "split_feature": _numbers(fields["split_feature"], np.int64, source, "split_feature"),
        "threshold": _numbers(fields["threshold"], np.float64, source, "threshold"),
        "decision_type": _numbers(fields["decision_type"], np.int64, source, "decision_type"),
        "left_child": _numbers(fields["left_child"], np.int64, source, "left_child"),
        "right_child": _numbers(fields["right_child"], np.int64, source, "right_child"),
    }
    for key, values in arrays.items():
        if values.size != node_start[-1]:
            raise TreeModelError(f"{source}: {key} has {values.size} values, num_leaves implies {node_start[-1]}")
    leaf_value = _numbers(fields["leaf_value"], np.float64, source, "leaf_value")
    if leaf_value.size != leaf_start[-1]:
        raise TreeModelError(f"{source}: leaf_value has {leaf_value.size} values, num_leaves implies {leaf_start[-1]}")
    model = ParsedModel(source=source, n_features=n_features, objective=objective[0],
                        leaf_value=leaf_value, node_start=node_start, leaf_start=leaf_start, **arrays)
    _check_nodes(model)
    return model


def _check_nodes(model: ParsedModel) -> None:
    """Refuse categorical or unknown decision types, bad thresholds, features or children."""
    source, starts = model.source, model.node_start
    decision = model.decision_type
    bad = np.flatnonzero(decision & _CATEGORICAL_BIT)
    if bad.size:
        raise TreeModelError(
            f"{source}: tree {_tree_of(int(bad[0]), starts)} has a categorical split; only numerical "
            "splits are supported (train without categorical_feature)"
        )
    bad = np.flatnonzero((decision < 0) | (decision > 15) | (((decision >> 2) & 3) > MISSING_NAN))
    if bad.size:
        raise TreeModelError(
            f"{source}: tree {_tree_of(int(bad[0]), starts)} has decision_type {int(decision[bad[0]])}, "
            "which is not a numerical split LightGBM writes"
        )
    bad = np.flatnonzero(np.isnan(model.threshold))
    if bad.size:
        raise TreeModelError(f"{source}: tree {_tree_of(int(bad[0]), starts)} has a NaN threshold")
    bad = np.flatnonzero((model.split_feature < 0) | (model.split_feature >= model.n_features))
    if bad.size:
        raise TreeModelError(
            f"{source}: tree {_tree_of(int(bad[0]), starts)} splits on feature "
            f"{int(model.split_feature[bad[0]])}, outside the model's {model.n_features} features"
        )
    tree = np.repeat(np.arange(model.n_trees), np.diff(starts))
    n_internal = np.diff(starts)[tree]
    n_leaves = np.diff(model.leaf_start)[tree]
    for child in (model.left_child, model.right_child):
        bad = np.flatnonzero((child >= n_internal) | (child < -n_leaves))
        if bad.size:
            raise TreeModelError(f"{source}: tree {_tree_of(int(bad[0]), starts)} has a child index out of range")
