"""The featurizer plug-in point of the service, its cache, and the default adapter.

The server never imports torch itself: ``PackageFeaturizer`` imports
``featurizers.features`` on the first request that carries raw data, so a
process that only serves feature vectors stays light.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from server.datasets import DatasetInput
from server.deadline import Deadline
from surrogate.runs import LossPoint
from surrogate.runs.observations import observation_values

logger = logging.getLogger(__name__)

FEATURES_MODULE: Final[str] = "featurizers.features.featurizer"
LOADING_MODULE: Final[str] = "featurizers.loading"


@dataclass(frozen=True)
class FeaturizationJob:
    """Everything that determines a feature vector, as plain JSON-able data.

    ``recipe`` is a validated ``surrogate.runs.Recipe`` dumped to JSON;
    ``observations`` likewise an ``EarlyObservations`` (None before a run starts).
    """

    base_model: str
    recipe: Mapping[str, Any]
    dataset: DatasetInput
    observations: Mapping[str, Any] | None = None

    def cache_key(self, featurizer_version: str) -> str:
        """Same model spec, recipe, dataset content and featurizer: same features.

        Observations are left out: what is cached is the vector featurized without them
        (``without_observations``), and ``with_observations`` fills them in per request,
        so a mid-run re-forecast with new observations hits the cache.
        """
        payload = json.dumps(
            [featurizer_version, self.base_model, self.recipe, self.dataset.content_hash], sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def without_observations(self) -> FeaturizationJob:
        """The job whose features are cached under ``cache_key``."""
        return replace(self, observations=None)


def with_observations(
    features: Mapping[str, float], observations: Mapping[str, Any] | None, recipe: Mapping[str, Any]
) -> dict[str, float]:
    """``features`` with the ``obs.*`` values of ``observations`` (a dumped ``EarlyObservations``)
    filled in, as the full featurizer fills them, but torch-free and without featurizing again.

    ``surrogate.runs.observations`` mirrors ``featurizers.features.observations`` (tests pin the
    two together). Raises ValueError when the step lies outside [1, recipe.steps].
    """
    filled = dict(features)
    if observations is None:
        return filled
    curve = [LossPoint(step=p["step"], loss=p["loss"]) for p in observations["loss_curve"]]
    filled.update(observation_values(observations["step"], recipe["steps"], curve, observations["probe_deltas"]))
    return filled


@dataclass(frozen=True)
class Influence:
    """One example's push on an outcome; higher score is further the harmful way."""

    index: int
    score: float
    cosine: float
    excerpt: str


@dataclass(frozen=True)
class OutcomeExplanation:
    outcome: str
    harmful_direction: str
    examples: tuple[Influence, ...]


@dataclass(frozen=True)
class Explanation:
    outcomes: tuple[OutcomeExplanation, ...]
    n_scored: int
    n_examples: int


class FeaturizerUnavailable(RuntimeError):
    """The featurizer side is not installed or not built yet."""


class Featurizer(ABC):
    """Turns a fine-tune spec into the model's features, and ranks examples by harm."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Featurizer version; must equal the served model's to forecast its features."""

    @abstractmethod
    def featurize(self, job: FeaturizationJob, deadline: Deadline) -> Mapping[str, float]:
        """Feature name -> value for ``job``. The service calls it without observations and
        fills the ``obs.*`` features itself (``with_observations``), so vectors can be cached."""

    @abstractmethod
    def explain(self, job: FeaturizationJob, top_k: int, deadline: Deadline) -> Explanation:
        """The ``top_k`` most harmful examples for every outcome it scores."""

    @property
    def builtin_models(self) -> frozenset[str]:
        """Base-model names accepted as they are; any other spec must be a path inside the data roots."""
        return frozenset()


class PackageFeaturizer(Featurizer):
    """Adapter to ``featurizers.features``: one loaded base model (and its featurizer) per
    spec, the most recent ``max_models`` kept; calls are serialised, since the model
    and its caches are not meant for concurrent use.

    The deadline is checked before the work starts; a featurization already running
    is not interrupted.
    """

    def __init__(
        self, *, config: Any = None, cache_dir: Path | None = None, device: str = "auto", max_models: int = 1
    ) -> None:
        self.config = config  # a featurizers.features.config.FeaturizerConfig, or None for its defaults
        self.cache_dir = cache_dir
        self.device = device
        self.max_models = max_models
        self._featurizers: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _import(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            raise FeaturizerUnavailable(
                f"{name} is not available in this build, so the server cannot featurize raw "
                "datasets; send a feature vector (candidate.features) instead"
            ) from exc

    @property
    def builtin_models(self) -> frozenset[str]:
        from featurizers.model_spec import BUILTIN_NAMES

        return frozenset(BUILTIN_NAMES)

    @property
    def version(self) -> str:
        import featurizers

        return str(featurizers.FEATURIZER_VERSION)

    def _for_model(self, base_model: str) -> Any:
        cached = self._featurizers.get(base_model)
        if cached is not None:
            self._featurizers.move_to_end(base_model)
            return cached
        features = self._import(FEATURES_MODULE)
        loading = self._import(LOADING_MODULE)
        while len(self._featurizers) >= self.max_models:
            self._featurizers.popitem(last=False)
        logger.info("loading base model %s for featurization", base_model)
        loaded = loading.load_causal_lm(base_model, device=self.device)
        featurizer = features.Featurizer(loaded, self.config, cache_dir=self.cache_dir)
        self._featurizers[base_model] = featurizer
        return featurizer

    def _observations(self, job: FeaturizationJob) -> Any:
        if job.observations is None:
            return None
        schema = self._import("featurizers.features.schema")
        return schema.EarlyObservations.model_validate(dict(job.observations))

    def featurize(self, job: FeaturizationJob, deadline: Deadline) -> Mapping[str, float]:
        with self._lock:
            deadline.check("loading the base model")
            featurizer = self._for_model(job.base_model)
            deadline.check("featurizing")
            vector = featurizer.featurize(list(job.dataset.records), dict(job.recipe), self._observations(job))
        return vector.as_dict()

    def explain(self, job: FeaturizationJob, top_k: int, deadline: Deadline) -> Explanation:
        with self._lock:
            deadline.check("loading the base model")
            featurizer = self._for_model(job.base_model)
            deadline.check("explaining")
            result = featurizer.explain(list(job.dataset.records), dict(job.recipe), top_k=top_k)
        return Explanation(
            outcomes=tuple(
                OutcomeExplanation(
                    outcome=outcome,
                    harmful_direction=result.harmful_direction.get(outcome, ""),
                    examples=tuple(Influence(e.index, e.score, e.cosine, e.excerpt) for e in ranked),
                )
                for outcome, ranked in result.outcomes.items()
            ),
            n_scored=result.n_scored,
            n_examples=result.n_examples,
        )


class FeatureCache:
    """Bounded LRU of feature vectors by content key; thread-safe, counts hits and misses.

    ``get_or_compute`` also coalesces concurrent misses on one key: the first caller
    featurizes, the others wait for its result instead of queueing the same seconds-long
    featurization behind it.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Mapping[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        # key -> the result of the featurization under way; None when that one failed
        self._in_flight: dict[str, Future[Mapping[str, float] | None]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Mapping[str, float] | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: Mapping[str, float]) -> None:
        with self._lock:
            self._store(key, dict(value))

    def get_or_compute(
        self, key: str, compute: Callable[[], Mapping[str, float]], deadline: Deadline, before: str
    ) -> tuple[Mapping[str, float], bool]:
        """(value, hit): the cached value, the result of a computation of ``key`` already under
        way (a hit too: this caller did not compute it), or else ``compute()``.

        A waiter gives up at its own deadline (DEADLINE_EXCEEDED before ``before``). When the
        computing caller fails, its error may be its own (its deadline), so a waiter then
        tries again itself rather than inheriting it.
        """
        while True:
            with self._lock:
                value = self._entries.get(key)
                if value is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return value, True
                pending = self._in_flight.get(key)
                if pending is None:
                    pending = Future()
                    self._in_flight[key] = pending
                    self.misses += 1
                    break
            deadline.check(before)
            try:
                shared = pending.result(timeout=deadline.remaining())
            except TimeoutError:
                continue  # the next round's deadline.check raises
            if shared is not None:
                with self._lock:
                    self.hits += 1
                return shared, True
        try:
            computed = dict(compute())
        except BaseException:
            with self._lock:
                del self._in_flight[key]
            pending.set_result(None)
            raise
        with self._lock:
            self._store(key, computed)
            del self._in_flight[key]
        pending.set_result(computed)
        return computed, False

    def _store(self, key: str, value: Mapping[str, float]) -> None:
        """Insert under the held lock, evicting the least recently used beyond ``max_entries``."""
        if self.max_entries == 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

