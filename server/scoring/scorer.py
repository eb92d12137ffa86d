"""One candidate through the whole chain: featurize -> forecast -> explain -> statistics -> risks.

A ``CandidateScorer`` holds one loaded base model (inside its featurizer) and one meta-model,
and serves every candidate of a batch; the local engine makes one, each Ray worker its own.
``featurizers`` (torch) is imported only inside ``build_scorer``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from server.scoring.candidates import Candidate
from server.scoring.meta_model import check_featurizer_match
from server.scoring.results import (
    CandidateResult,
    InfluentialExample,
    Interval,
    OutcomeInfluence,
    TargetForecast,
)
from server.scoring.risk import RiskConfig, headline_risks
from surrogate.model import Forecast, ForecastModel, parse_target
from surrogate.runs import Recipe
from surrogate.runs.epochs import corpus_epochs

FEATURES_KIND = "features"
"""The feature-cache level that holds whole vectors: a hit there means nothing was recomputed."""


class ScoreSettings(BaseModel):
    """What every scorer of a batch must agree on (sent as JSON to Ray workers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: tuple[float, ...] = Field(min_length=1)
    top_k: int = Field(ge=1)
    risk: RiskConfig = RiskConfig()

    @property
    def judged_level(self) -> float:
        """Risks are judged on the widest requested interval."""
        return max(self.levels)


class CountingCache:
    """The featurizer's on-disk cache, counting whole-vector hits so a result can say it was cached."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.feature_hits = 0

    @property
    def root(self) -> Path:
        return self.inner.root

    def path(self, kind: str, key: str) -> Path:
        return self.inner.path(kind, key)

    def load(self, kind: str, material: dict[str, Any]) -> Any:
        arrays = self.inner.load(kind, material)
        if arrays is not None and kind == FEATURES_KIND:
            self.feature_hits += 1
        return arrays

    def store(self, kind: str, material: dict[str, Any], arrays: dict[str, Any]) -> Path:
        return self.inner.store(kind, material, arrays)


def target_forecasts(forecast: Forecast, row: int = 0) -> tuple[TargetForecast, ...]:
    out = []
    for t, target in enumerate(forecast.targets):
        outcome, fraction = parse_target(target)
        intervals = tuple(
            Interval(level=level, lower=float(forecast.lower[li, row, t]), upper=float(forecast.upper[li, row, t]))
            for li, level in enumerate(forecast.levels)
        )
        out.append(TargetForecast(outcome=outcome, fraction=fraction, point=float(forecast.point[row, t]),
                                  intervals=intervals))
    return tuple(out)


def end_of_run(forecasts: tuple[TargetForecast, ...]) -> dict[str, TargetForecast]:
    """Per outcome, the forecast at its last checkpoint (1.0 in a corpus that measured the end)."""
    last: dict[str, TargetForecast] = {}
    for f in forecasts:
        if f.outcome not in last or f.fraction > last[f.outcome].fraction:
            last[f.outcome] = f
    return last


def recipe_for(recipe: Recipe, n_examples: int) -> Recipe:
    """``recipe`` with ``epochs`` counted for this candidate as the corpus counts them: a batch
    shares one recipe (steps, batch size), but the passes it makes depend on each dataset's size."""
    epochs = corpus_epochs(n_examples, recipe.steps, recipe.batch_size)
    return Recipe.model_validate({**recipe.model_dump(), "epochs": epochs})


class CandidateScorer:
    """Scores candidates with one featurizer (base model + cache) and one meta-model."""

    def __init__(self, featurizer: Any, cache: CountingCache, model: ForecastModel, recipe: Recipe,
                 settings: ScoreSettings, coverage: Mapping[str, float],
                 dataset_feature_names: tuple[str, ...]) -> None:
        self.featurizer = featurizer
        self.cache = cache
        self.model = model
        self.recipe = recipe
        self.settings = settings
        self.coverage = dict(coverage)
        self.dataset_feature_names = dataset_feature_names

    def score(self, candidate: Candidate) -> CandidateResult:
        from featurizers.features.records import content_hash

        records = candidate.records
        recipe = recipe_for(self.recipe, len(records))
        hits = self.cache.feature_hits
        started = time.perf_counter()
        vector = self.featurizer.featurize(records, recipe)
        seconds = time.perf_counter() - started
        forecast = self.model.predict(vector.as_array()[None, :], self.settings.levels, feature_names=vector.names,
                                      featurizer_version=vector.feature_schema.featurizer_version)
        forecasts = target_forecasts(forecast)
        explanation = self.featurizer.explain(records, recipe, top_k=self.settings.top_k)
        values = vector.as_dict()
        stats = {n: float(values[n]) for n in self.dataset_feature_names if n in values and math.isfinite(values[n])}
        risks = headline_risks(end_of_run(forecasts), self.settings.risk, self.settings.judged_level, self.coverage)
        return CandidateResult(
            candidate_id=candidate.candidate_id,
            name=candidate.name,
            sources=candidate.sources,
            n_examples=len(records),
            dataset_hash=content_hash(records),
            forecasts=forecasts,
            risks=risks,
            ood=bool(np.asarray(forecast.ood.flagged)[0]),
            ood_features=forecast.ood.features_at_fault(0),
            influence=tuple(
                OutcomeInfluence(
                    outcome=outcome,
                    harmful_direction=explanation.harmful_direction.get(outcome, ""),
                    examples=tuple(InfluentialExample(index=e.index, score=e.score, text=e.excerpt) for e in ranked),
                )
                for outcome, ranked in explanation.outcomes.items()
            ),
            dataset_stats=stats,
            featurize_seconds=seconds,
            cache_hit=self.cache.feature_hits > hits,
        )


def featurizer_config(config: Mapping[str, Any], device: str) -> Any:
    """A ``FeaturizerConfig`` from plain settings, on ``device``."""
    from featurizers.features.config import FeaturizerConfig

    return FeaturizerConfig.model_validate({**dict(config), "device": device})


def build_scorer(loaded: Any, config: Mapping[str, Any], device: str, cache_dir: str | Path, model: ForecastModel,
                 recipe: Recipe, settings: ScoreSettings, coverage: Mapping[str, float]) -> CandidateScorer:
    """A scorer around an already loaded base model; refuses a meta-model the featurizer cannot feed."""
    from featurizers import FEATURIZER_VERSION
    from featurizers.features.cache import FeatureCache
    from featurizers.features.dataset_stats import DATASET_FEATURES
    from featurizers.features.featurizer import Featurizer, feature_names

    resolved = featurizer_config(config, device)
    check_featurizer_match(model, feature_names(resolved), FEATURIZER_VERSION)
    featurizer = Featurizer(loaded, resolved)
    cache = CountingCache(FeatureCache(cache_dir))
    featurizer.cache = cache
    return CandidateScorer(featurizer, cache, model, recipe, settings, coverage, tuple(DATASET_FEATURES))
