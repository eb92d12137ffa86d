"""The Featurizer: dataset + recipe (+ early observations) -> one named feature vector.

It holds the base model and, per parameter space (LoRA shape or full subset), the probe
gradients, computed once and kept in memory and in the on-disk cache. Three cache
levels make repeated questions cheap: the whole vector (per recipe), the data sketch
(per dataset and parameter space: a new learning rate reuses it) and the probe bundle
(per model and parameter space: a new dataset reuses it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from featurizers import FEATURIZER_VERSION
from featurizers.device import resolve_device
from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.cache import FeatureCache, cache_key
from featurizers.features.config import FeaturizerConfig
from featurizers.features.dataset_stats import (
    DATASET_FEATURES,
    UNTRUNCATED,
    compute_dataset_stats,
    stats_sample,
)
from featurizers.features.encoding import TrainingEncoder
from featurizers.features.forward_stats import (
    ENCODER_FEATURES,
    LOSS_FEATURES,
    REPRESENTATION_FEATURES,
    distance_features,
    loss_features,
)
from featurizers.features.gradient_features import GRADIENT_FEATURES, gradient_features
from featurizers.features.influence import (
    INFLUENCE_FEATURES,
    explain_sketch,
    influence_features,
)
from featurizers.features.observations import OBSERVATION_FEATURES, observation_features
from featurizers.features.param_space import (
    ParamSpace,
    build_param_space,
    param_space_key,
)
from featurizers.features.projection import make_projector, resolve_kind
from featurizers.features.recipe_features import RECIPE_FEATURES, recipe_features
from featurizers.features.records import content_hash, validate_records
from featurizers.features.schema import (
    EarlyObservations,
    Explanation,
    FeatureSchema,
    FeatureVector,
)
from featurizers.features.seeding import derive_seed
from featurizers.features.sentence_encoder import SentenceEncoder
from featurizers.features.sketch import compute_data_sketch, compute_probe_bundle
from featurizers.loading import LoadedModel
from featurizers.probes.registry import SuiteRegistry, default_registry
from surrogate.runs import Recipe

logger = logging.getLogger(__name__)

SCHEMA_ARRAY = "schema_json"
_SETTINGS_NOT_IN: dict[str, tuple[str, ...]] = {
    "sketch": ("stats", "influence"),
    "probes": ("stats", "influence", "sample_size"),
}


def feature_names(config: FeaturizerConfig) -> tuple[str, ...]:
    """The ordered feature names a config produces (stable across datasets, recipes and models)."""
    encoder = ENCODER_FEATURES if config.forward.use_sentence_encoder else ()
    return (*RECIPE_FEATURES, *DATASET_FEATURES, *LOSS_FEATURES, *REPRESENTATION_FEATURES, *encoder,
            *GRADIENT_FEATURES, *INFLUENCE_FEATURES, *OBSERVATION_FEATURES)


def gradient_sample(n_records: int, sample_size: int, seed: int, dataset_hash: str) -> list[int]:
    """Seeded subset of example indices whose gradients are taken, in dataset order."""
    if n_records <= sample_size:
        return list(range(n_records))
    rng = np.random.default_rng(derive_seed(seed, "gradient-sample", dataset_hash))
    return sorted(int(i) for i in rng.choice(n_records, size=sample_size, replace=False))


def _as_recipe(recipe: Recipe | Mapping[str, Any]) -> Recipe:
    return recipe if isinstance(recipe, Recipe) else Recipe.model_validate(dict(recipe))


class Featurizer:
    """Features of (dataset, recipe) for one base model; reuse one instance for many datasets."""

    def __init__(self, loaded: LoadedModel, config: FeaturizerConfig | None = None, cache_dir: str | Path | None = None,
                 registry: SuiteRegistry | None = None, progress: bool = False) -> None:
        self.loaded = loaded
        self.config = config or FeaturizerConfig()
        self.cache = FeatureCache(cache_dir) if cache_dir is not None else None
        self.registry = registry or default_registry()
        self.progress = progress
        self.device = loaded.device if self.config.device == "auto" else resolve_device(self.config.device)
        self._space: ParamSpace | None = None
        self._probes: dict[str, ProbeBundle] = {}
        self._encoder: SentenceEncoder | None = None

    # ----- public API -------------------------------------------------------------------------------------------

    def featurize(self, examples: Sequence[Mapping[str, Any]], recipe: Recipe | Mapping[str, Any],
                  observations: EarlyObservations | None = None) -> FeatureVector:
        """The feature vector of training `recipe` on `examples` from this base model."""
        records, dataset_hash, recipe = self._inputs(examples, recipe)
        material = self._material("features", dataset_hash, recipe, recipe_fields=recipe.model_dump(mode="json"))
        vector = self._load_vector(material)
        if vector is None:
            vector = self._compute_vector(records, dataset_hash, recipe)
            if self.cache is not None:
                self.cache.store("features", material, {"values": vector.as_array(),
                                                        SCHEMA_ARRAY: np.array(vector.feature_schema.model_dump_json())})
        return self._with_observations(vector, observations, recipe)

    def explain(self, examples: Sequence[Mapping[str, Any]], recipe: Recipe | Mapping[str, Any],
                top_k: int = 10) -> Explanation:
        """Per outcome, the sampled examples that push it furthest in its harmful direction."""
        records, dataset_hash, recipe = self._inputs(examples, recipe)
        probes = self._probe_bundle(recipe)
        sketch = self._data_sketch(records, dataset_hash, recipe, probes)
        return explain_sketch(sketch, probes, records, top_k, self.config.influence.excerpt_chars,
                              self.config.influence.score)

    def schema(self, projection_kind: str) -> FeatureSchema:
        """The schema of this featurizer's vectors (the projection kind depends on the parameter space)."""
        return FeatureSchema(
            feature_names=feature_names(self.config),
            featurizer_version=FEATURIZER_VERSION,
            projection_dim=self.config.projection_dim,
            projection_kind=projection_kind,
            seed=self.config.seed,
            model_weights_hash=self.loaded.weights_hash(),
        )

    # ----- inputs and cache keys --------------------------------------------------------------------------------

    def _inputs(self, examples, recipe) -> tuple[list[Mapping[str, Any]], str, Recipe]:
        records = list(examples)
        validate_records(records)
        return records, content_hash(records), _as_recipe(recipe)

    def _max_len(self, recipe: Recipe) -> int:
        return min(self.config.max_seq_len, recipe.max_seq_len, self.loaded.max_length)

    def _material(self, kind: str, dataset_hash: str | None, recipe: Recipe, **extra: Any) -> dict[str, Any]:
        config = self.config.result_material()
        for name in _SETTINGS_NOT_IN.get(kind, ()):  # intermediate results do not depend on these
            config.pop(name)
        material = {"kind": kind, "featurizer_version": FEATURIZER_VERSION, "model": self.loaded.weights_hash(),
                    "param_space": param_space_key(recipe, self.config), "config": config, **extra}
        if dataset_hash is not None:
            material["dataset"] = dataset_hash
        return material

    # ----- the three levels -------------------------------------------------------------------------------------

    def _load_vector(self, material: dict[str, Any]) -> FeatureVector | None:
        """A cached vector, checked against the schema this featurizer would produce now."""
        arrays = self.cache.load("features", material) if self.cache is not None else None
        if arrays is None:
            return None
        stored = FeatureSchema.model_validate_json(str(arrays[SCHEMA_ARRAY]))
        expected = self.schema(stored.projection_kind)
        expected.check_same(stored)
        return FeatureVector(feature_schema=stored, values=tuple(float(v) for v in arrays["values"]))

    def _compute_vector(self, records: list[Mapping[str, Any]], dataset_hash: str, recipe: Recipe) -> FeatureVector:
        started = time.perf_counter()
        config = self.config
        stats_idx = stats_sample(len(records), config.stats, config.seed, dataset_hash)
        stats_encoder = TrainingEncoder(self.loaded.tokenizer, UNTRUNCATED)
        stats = compute_dataset_stats([records[i] for i in stats_idx], len(records), stats_encoder, config.stats, config.seed)
        logger.info("dataset statistics: %.2fs", time.perf_counter() - started)
        probes = self._probe_bundle(recipe)
        sketch = self._data_sketch(records, dataset_hash, recipe, probes)
        values: dict[str, float] = {}
        values.update(recipe_features(recipe, self.loaded.model, stats.token_lengths))
        values.update(stats.values)
        values.update(loss_features(sketch.losses, sketch.n_targets))
        values.update(distance_features("fwd.repr_dist", sketch.hidden_mean, probes.suite_hidden))
        if config.forward.use_sentence_encoder:
            values.update(distance_features("enc.dist", sketch.encoder_mean, probes.suite_encoder))
        values.update(gradient_features(sketch, probes, recipe))
        values.update(influence_features(sketch, probes, config.influence.tail_quantile))
        values.update(observation_features(None, recipe))
        schema = self.schema(resolve_kind(int(sketch.n_params), config.projection_dim, config.projection))
        logger.info("featurized %d examples in %.2fs", len(records), time.perf_counter() - started)
        return FeatureVector(feature_schema=schema, values=tuple(values[name] for name in schema.feature_names))

    def _with_observations(self, vector: FeatureVector, observations: EarlyObservations | None,
                           recipe: Recipe) -> FeatureVector:
        if observations is None:
            return vector
        filled = vector.as_dict()
        filled.update(observation_features(observations, recipe))
        return vector.model_copy(update={"values": tuple(filled[name] for name in vector.names)})

    def _param_space(self, recipe: Recipe) -> ParamSpace:
        key = param_space_key(recipe, self.config)
        if self._space is None or self._space.key != key:
            self._space = None  # release the previous copy before building the next
            self._space = build_param_space(self.loaded.model, recipe, self.config, self.device)
        return self._space

    def _sentence_encoder(self) -> SentenceEncoder | None:
        if not self.config.forward.use_sentence_encoder:
            return None
        if self._encoder is None:
            self._encoder = SentenceEncoder(self.device, self.config.forward.encoder_batch_size)
        return self._encoder

    def _probe_bundle(self, recipe: Recipe) -> ProbeBundle:
        material = self._material("probes", None, recipe, probe_max_len=self._probe_max_len())
        memo_key = cache_key(material)
        if memo_key in self._probes:
            return self._probes[memo_key]
        arrays = self.cache.load("probes", material) if self.cache is not None else None
        if arrays is not None:
            bundle = ProbeBundle.from_arrays(arrays)
        else:
            started = time.perf_counter()
            space = self._param_space(recipe)
            projector = make_projector(space.n_params, self.config.projection_dim,
                                       derive_seed(self.config.seed, "projection"), self.config.projection, self.device)
            bundle = compute_probe_bundle(space, self.loaded.tokenizer, self.registry, projector, self.config,
                                          self._probe_max_len(), self.device, self._sentence_encoder(), self.progress)
            logger.info("probe gradients (%d parameters): %.2fs", space.n_params, time.perf_counter() - started)
            if self.cache is not None:
                self.cache.store("probes", material, bundle.to_arrays())
        self._probes[memo_key] = bundle
        return bundle

    def _probe_max_len(self) -> int:
        return min(self.config.max_seq_len, self.loaded.max_length)

    def _data_sketch(self, records: list[Mapping[str, Any]], dataset_hash: str, recipe: Recipe,
                     probes: ProbeBundle) -> DataSketch:
        material = self._material("sketch", dataset_hash, recipe, batch_size=recipe.batch_size,
                                  max_len=self._max_len(recipe), probe_max_len=self._probe_max_len())
        arrays = self.cache.load("sketch", material) if self.cache is not None else None
        if arrays is not None:
            return DataSketch.from_arrays(arrays)
        started = time.perf_counter()
        space = self._param_space(recipe)
        projector = make_projector(space.n_params, self.config.projection_dim,
                                   derive_seed(self.config.seed, "projection"), self.config.projection, self.device)
        sample = gradient_sample(len(records), self.config.sample_size, self.config.seed, dataset_hash)
        pad = self.loaded.tokenizer.pad_token_id if self.loaded.tokenizer.pad_token_id is not None else 0
        sketch = compute_data_sketch(space, records, sample, TrainingEncoder(self.loaded.tokenizer, self._max_len(recipe)),
                                     projector, probes, recipe.batch_size, self.config, self.device, pad,
                                     self._sentence_encoder(), self.progress)
        logger.info("data sketch of %d examples: %.2fs", len(sample), time.perf_counter() - started)
        if self.cache is not None:
            self.cache.store("sketch", material, sketch.to_arrays())
        return sketch
