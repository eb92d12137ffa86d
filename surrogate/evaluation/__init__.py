"""Honest evaluation of the meta-model: cross-validation with refits inside every fold,
baselines scored in the same folds, held-out scoring of a trained model, and the report.
No torch here or below."""

from surrogate.evaluation.baselines import (
    ABLATION,
    BASELINES,
    MODEL,
    first_order_columns,
)
from surrogate.evaluation.config import INTERVAL_LEVEL, EvaluationConfig
from surrogate.evaluation.cross_validation import EvaluationError
from surrogate.evaluation.evaluate import evaluate, evaluate_heldout
from surrogate.evaluation.folds import (
    Fold,
    FoldError,
    FoldSplitter,
    LeaveOneFamilyOut,
    RandomKFold,
    check_folds,
)
from surrogate.evaluation.metrics import METRIC_NAMES

__all__ = [
    "ABLATION",
    "BASELINES",
    "INTERVAL_LEVEL",
    "METRIC_NAMES",
    "MODEL",
    "EvaluationConfig",
    "EvaluationError",
    "Fold",
    "FoldError",
    "FoldSplitter",
    "LeaveOneFamilyOut",
    "RandomKFold",
    "check_folds",
    "evaluate",
    "evaluate_heldout",
    "first_order_columns",
]
