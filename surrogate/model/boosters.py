"""Training LightGBM boosters and reading what their model texts claim.

Every booster of a model is kept as LightGBM model text, the same bytes that
go to disk, and predicted by ``surrogate.model.tree_predict`` from that text,
so a freshly fitted model and a loaded one predict identically. ``lightgbm``
is imported only inside the training functions: serving never needs it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from surrogate.model.config import BoosterParams

if TYPE_CHECKING:
    import lightgbm as lgb

BoosterKind = Literal["point", "lower", "upper"]

POINT_OBJECTIVES: Final[dict[str, str]] = {"l2": "regression", "l1": "regression_l1"}
_SEED_MODULUS: Final[int] = 2**31 - 1
_END_OF_TREES: Final[str] = "end of trees"


def derive_seed(seed: int, *parts: str) -> int:
    """A per-booster seed from the model seed and names, stable across runs and platforms."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little") % _SEED_MODULUS


@dataclass(frozen=True)
class BoosterSpec:
    """One trained booster: which target and role it serves, and its model text.

    ``source`` names where the text came from (its artifact file) in error messages.
    """

    target: str
    kind: BoosterKind
    base_level: float | None
    alpha: float | None
    num_iteration: int
    model_text: str
    source: str | None = None

    @property
    def label(self) -> str:
        return self.source or f"{self.kind} booster of {self.target}"


def objective_params(kind: BoosterKind, point_objective: str, alpha: float | None) -> dict[str, object]:
    """LightGBM objective settings for one booster role."""
    if kind == "point":
        return {"objective": POINT_OBJECTIVES[point_objective]}
    return {"objective": "quantile", "alpha": alpha}


def make_dataset(
    X: np.ndarray, y: np.ndarray, feature_names: Sequence[str], params: BoosterParams
) -> lgb.Dataset:
    """A LightGBM dataset whose bins are shared by all boosters of one target."""
    import lightgbm as lgb

    return lgb.Dataset(
        X,
        y,
        feature_name=list(feature_names),
        params={
            "max_bin": params.max_bin,
            "min_data_in_bin": params.min_data_in_bin,
            "feature_pre_filter": False,
            "verbosity": -1,
        },
        free_raw_data=True,
    )


def effective_min_data_in_leaf(params: BoosterParams, n_rows: int) -> int:
    """The configured leaf minimum, shrunk on small targets so trees can still split."""
    cap = max(params.min_data_in_leaf_floor, n_rows // params.small_data_leaf_divisor)
    return min(params.min_data_in_leaf, cap)


def train_booster(
    dataset: lgb.Dataset,
    params: BoosterParams,
    objective: dict[str, object],
    seed: int,
    num_threads: int,
    num_boost_round: int,
    min_data_in_leaf: int,
) -> lgb.Booster:
    """Train deterministically (fixed seed, thread count, row-wise histograms)."""
    import lightgbm as lgb

    lgb_params: dict[str, object] = {
        **objective,
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "max_depth": params.max_depth,
        "min_data_in_leaf": min_data_in_leaf,
        "min_sum_hessian_in_leaf": params.min_sum_hessian_in_leaf,
        "lambda_l2": params.lambda_l2,
        "feature_fraction": params.feature_fraction,
        "bagging_fraction": params.bagging_fraction,
        "bagging_freq": params.bagging_freq,
        "max_bin": params.max_bin,
        "min_data_in_bin": params.min_data_in_bin,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": num_threads,
        "verbosity": -1,
    }
    return lgb.train(lgb_params, dataset, num_boost_round=num_boost_round)


def booster_text(booster: lgb.Booster) -> tuple[str, int]:
    """Model text with every iteration written explicitly, and that iteration count."""
    n = booster.current_iteration()
    return booster.model_to_string(num_iteration=n), n


@dataclass(frozen=True)
class ModelTextInfo:
    """What a LightGBM model text claims about itself, read without building a booster."""

    feature_names: tuple[str, ...]
    objective: str
    num_tree_per_iteration: int
    n_trees: int
    alpha: float | None


_PARAM_LINE: Final[re.Pattern[str]] = re.compile(r"(?m)^\[alpha: ([^\]]*)\]$")


def describe_model_text(text: str) -> ModelTextInfo:
    """Parse the header of a model text; raise ValueError naming the missing key."""
    header_end = text.find("\n\n")
    if not text.startswith("tree\n") or header_end < 0 or _END_OF_TREES not in text:
        raise ValueError("not a LightGBM text model (no 'tree' header or no 'end of trees')")
    keys = dict(line.split("=", 1) for line in text[:header_end].splitlines()[1:] if "=" in line)
    for key in ("feature_names", "num_tree_per_iteration"):
        if key not in keys:
            raise ValueError(f"LightGBM text model has no {key!r} header line")
    alpha_match = _PARAM_LINE.search(text, text.index(_END_OF_TREES))
    return ModelTextInfo(
        feature_names=tuple(keys["feature_names"].split(" ")),
        objective=keys.get("objective", "").split(" ")[0],
        num_tree_per_iteration=int(keys["num_tree_per_iteration"]),
        n_trees=text.count("\nTree=", 0, text.index(_END_OF_TREES)),
        alpha=float(alpha_match.group(1)) if alpha_match else None,
    )
