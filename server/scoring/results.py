"""The on-disk contract of a batch-scoring result directory.

``tunecast score`` writes it and ``tunecast report`` reads it, possibly on
another machine and another day, so it is plain JSON validated by pydantic
(no pickle) plus the ranked table as CSV and Parquet for the data team's own
tools. Layout of ``RESULTS_DIR``:

- ``results.json``: one ``BatchResults`` (everything the report needs);
- ``ranking.csv`` / ``ranking.parquet``: one row per scored candidate, best
  (least harmful) last, with point, interval, risk level and OOD flag columns;
- ``report.html``: the self-contained risk report (written by the report module).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RESULTS_FILE = "results.json"
RANKING_CSV = "ranking.csv"
RANKING_PARQUET = "ranking.parquet"
REPORT_FILE = "report.html"
RESULTS_SCHEMA_VERSION = 1

RiskLevel = Literal["low", "moderate", "high"]
HEADLINES: tuple[str, ...] = ("forgetting_risk", "bias_drift_potential", "safety_erosion")
"""The three headline risks of a forecast card, in display order."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interval(_Frozen):
    level: float = Field(gt=0, lt=1)
    lower: float
    upper: float


class TargetForecast(_Frozen):
    """One outcome at one checkpoint (``fraction`` of the run, 1.0 = end of run)."""

    outcome: str
    fraction: float = Field(gt=0, le=1)
    point: float
    intervals: tuple[Interval, ...]


class Risk(_Frozen):
    """A headline risk: which outcome drives it, its harm-side bound and the level it maps to.

    ``harm`` is the forecast change in the outcome's harmful direction (positive =
    harm), ``harm_upper`` the same at the harmful end of the ``level`` interval.
    """

    headline: str
    outcome: str
    harm: float
    harm_upper: float
    level: float
    risk: RiskLevel
    thresholds: tuple[float, float]
    heldout_coverage: float | None = None


class InfluentialExample(_Frozen):
    index: int
    score: float
    text: str


class OutcomeInfluence(_Frozen):
    outcome: str
    harmful_direction: str
    examples: tuple[InfluentialExample, ...]


class SourceFile(_Frozen):
    path: str
    weight: float = 1.0
    n_examples: int


class CandidateResult(_Frozen):
    """Everything known about one scored candidate dataset."""

    candidate_id: str
    name: str
    sources: tuple[SourceFile, ...]
    n_examples: int
    dataset_hash: str
    forecasts: tuple[TargetForecast, ...]
    risks: tuple[Risk, ...]
    ood: bool
    ood_features: tuple[str, ...] = ()
    influence: tuple[OutcomeInfluence, ...] = ()
    dataset_stats: dict[str, float] = Field(default_factory=dict)
    featurize_seconds: float
    cache_hit: bool
    harm_score: float | None = None
    """The ranking key (``server.scoring.risk.harm_score``): sum over the headline risks of the
    harm-side bound divided by its 'high' threshold, negatives counted as 0; higher is worse."""
    rank: int | None = None
    """1 = most harmful candidate of the batch (the order of ``BatchResults.candidates``)."""


class SkippedCandidate(_Frozen):
    """A candidate that could not be scored; ``line`` is 1-based where a line is at fault."""

    name: str
    path: str
    line: int | None = None
    reason: str


class Provenance(_Frozen):
    base_model: str
    base_weights_hash: str
    recipe: dict[str, object]
    meta_model_version: str
    meta_model_dir: str
    corpus_hash: str
    featurizer_version: str
    tunecast_version: str


class BatchResults(_Frozen):
    schema_version: int = RESULTS_SCHEMA_VERSION
    created_at: str
    provenance: Provenance
    levels: tuple[float, ...]
    heldout_coverage: dict[str, float] = Field(default_factory=dict)
    """Measured coverage of the ``max(levels)`` interval per end-of-run outcome on held-out runs
    (from the model's evaluation metrics), so the card can say how honest its intervals were."""
    candidates: tuple[CandidateResult, ...]
    skipped: tuple[SkippedCandidate, ...] = ()
    elapsed_seconds: float
    scoring_config: dict[str, object] = Field(default_factory=dict)
    """The settings the batch was scored with (featurizer config, risk thresholds, levels, top-k,
    engine), saved beside the results they produced."""
