"""Training LightGBM boosters and evaluating many of them at once.

Every booster of a model is kept as LightGBM model text, the same bytes that
go to disk, so a freshly fitted model and a loaded one predict identically.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import lightgbm as lgb
import numpy as np

from surrogate.model.config import BoosterParams

BoosterKind = Literal["point", "lower", "upper"]

POINT_OBJECTIVES: Final[dict[str, str]] = {"l2": "regression", "l1": "regression_l1"}
_SEED_MODULUS: Final[int] = 2**31 - 1
_TREE_HEADER: Final[re.Pattern[str]] = re.compile(r"(?m)^Tree=\d+\n")
_END_OF_TREES: Final[str] = "end of trees"
_CONSTANT_ZERO_TREE: Final[str] = (
    "num_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\n"
    "left_child=\nright_child=\nleaf_value=0\nleaf_weight=\nleaf_count=0\ninternal_value=\n"
    "internal_weight=\ninternal_count=\nis_linear=0\nshrinkage=1\n\n\n"
)
"""A one-leaf tree that adds 0: pads boosters that stopped early to a common length."""


def derive_seed(seed: int, *parts: str) -> int:
    """A per-booster seed from the model seed and names, stable across runs and platforms."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little") % _SEED_MODULUS


@dataclass(frozen=True)
class BoosterSpec:
    """One trained booster: which target and role it serves, and its model text."""

    target: str
    kind: BoosterKind
    base_level: float | None
    alpha: float | None
    num_iteration: int
    model_text: str


def objective_params(kind: BoosterKind, point_objective: str, alpha: float | None) -> dict[str, object]:
    """LightGBM objective settings for one booster role."""
    if kind == "point":
        return {"objective": POINT_OBJECTIVES[point_objective]}
    return {"objective": "quantile", "alpha": alpha}


def make_dataset(
    X: np.ndarray, y: np.ndarray, feature_names: Sequence[str], params: BoosterParams
) -> lgb.Dataset:
    """A LightGBM dataset whose bins are shared by all boosters of one target."""
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
        n_trees=len(_TREE_HEADER.findall(text, 0, text.index(_END_OF_TREES))),
        alpha=float(alpha_match.group(1)) if alpha_match else None,
    )


def _tree_bodies(model_text: str) -> list[str]:
    """The text of each tree (without its ``Tree=i`` line), in model order."""
    end = model_text.index(_END_OF_TREES)
    headers = list(_TREE_HEADER.finditer(model_text, 0, end))
    bodies = []
    for i, match in enumerate(headers):
        stop = headers[i + 1].start() if i + 1 < len(headers) else end
        bodies.append(model_text[match.end() : stop])
    return bodies


def fuse_model_texts(texts: Sequence[str], feature_names: Sequence[str]) -> str:
    """One LightGBM model whose k-th output is the raw score of ``texts[k]``.

    Written as a K-output model (K trees per iteration) so a single predict call
    walks every booster: per-call overhead, not tree walking, dominates small
    batches. Raw scores of LightGBM regression/quantile models are their
    predictions (the starting average is folded into the first tree).
    """
    per_model = [_tree_bodies(t) for t in texts]
    n_outputs = len(per_model)
    n_iter = max(len(bodies) for bodies in per_model)
    trees: list[str] = []
    for it in range(n_iter):
        for bodies in per_model:
            body = bodies[it] if it < len(bodies) else _CONSTANT_ZERO_TREE
            trees.append(f"Tree={len(trees)}\n{body}")
    header = [
        "tree",
        "version=v4",
        f"num_class={n_outputs}",
        f"num_tree_per_iteration={n_outputs}",
        "label_index=0",
        f"max_feature_idx={len(feature_names) - 1}",
        "feature_names=" + " ".join(feature_names),
        "feature_infos=" + " ".join(["none"] * len(feature_names)),
        "tree_sizes=" + " ".join(str(len(t.encode())) for t in trees),
        "",
    ]
    return "\n".join(header) + "\n" + "".join(trees) + f"{_END_OF_TREES}\n\npandas_categorical:null\n"


class ForestPredictor:
    """Raw outputs of many boosters as one (rows, boosters) matrix.

    Small batches go through one fused model (one C call); large ones through
    each booster in turn, which keeps each booster's trees hot in cache.
    """

    def __init__(
        self, texts: Sequence[str], feature_names: Sequence[str], fused_max_rows: int, num_threads: int
    ) -> None:
        self.boosters = [lgb.Booster(model_str=t) for t in texts]
        self.fused = (
            lgb.Booster(model_str=fuse_model_texts(texts, feature_names)) if fused_max_rows > 0 else None
        )
        self.fused_max_rows = fused_max_rows
        self.num_threads = num_threads

    def predict(self, X: np.ndarray, *, fused: bool | None = None) -> np.ndarray:
        """``fused`` forces a path (tests compare them); None picks by batch size."""
        use_fused = (X.shape[0] <= self.fused_max_rows) if fused is None else fused
        if use_fused and self.fused is not None:
            out = self.fused.predict(X, raw_score=True, num_threads=self.num_threads)
            return np.asarray(out, dtype=np.float64).reshape(X.shape[0], len(self.boosters))
        out = np.empty((X.shape[0], len(self.boosters)), dtype=np.float64)
        for k, booster in enumerate(self.boosters):
            out[:, k] = booster.predict(X, raw_score=True, num_threads=self.num_threads)
        return out
