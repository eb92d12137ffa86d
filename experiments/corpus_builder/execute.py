"""One planned run, executed: generate its dataset, fine-tune, return the record.

Shared by the local loop and the Ray workers, so both engines produce
byte-for-byte the same kind of record from the same config.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from experiments.corpus_builder.sampler import RunConfig
from experiments.harness import HarnessConfig, TrainingData, probe_outcomes, run_finetune
from experiments.lab.datasets import FamilyRegistry, GenContext, JsonlCacheSource, default_registry
from featurizers.loading import LoadedModel
from surrogate.runs import RunRecord

logger = logging.getLogger(__name__)


def make_gen_context(sources_dir: str | Path | None) -> GenContext:
    """Dataset generation context: text-source caches from `sources_dir` (default location if None)."""
    return GenContext.from_repo(JsonlCacheSource(sources_dir) if sources_dir is not None else None)


@dataclass
class RunExecutor:
    """Holds what many runs share: the loaded base, its step-0 outcomes, the family registry."""

    base: LoadedModel
    harness: HarnessConfig
    gen_context: GenContext
    registry: FamilyRegistry = field(default_factory=default_registry)
    _base_outcomes: dict[str, float] | None = field(default=None, repr=False)

    def base_outcomes(self) -> dict[str, float]:
        """Probe outcomes of the base, measured once: every run's step 0 shares them."""
        if self._base_outcomes is None:
            logger.info("measuring the base model %s once for all runs", self.base.spec.name)
            self._base_outcomes = probe_outcomes(self.base, self.harness)
        return dict(self._base_outcomes)

    def training_data(self, config: RunConfig) -> TrainingData:
        examples = self.registry.generate(config.family, config.params, config.dataset_seed, self.gen_context)
        return TrainingData.from_examples(examples, family=config.family, params=config.params,
                                          seed=config.dataset_seed)

    def run(self, config: RunConfig, run_id: str) -> RunRecord:
        return run_finetune(self.base, self.training_data(config), config.recipe, self.harness,
                            run_id=run_id, base_outcomes=self.base_outcomes())
