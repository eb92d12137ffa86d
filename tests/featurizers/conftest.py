"""Fixtures for the featurizer tests: small configs and recipes.

Configs are scaled down (few probe items, narrow projection) so every test runs in
seconds on the tiny model; the code paths are the same as with the defaults.
"""

from __future__ import annotations

import pytest
import torch

from featurizers.features.config import FeaturizerConfig, ProbeObjectiveConfig
from surrogate.runs import Recipe
from tests.featurizers.feature_data import make_recipe


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """One intra-op thread: the machine is shared, and thread contention makes small ops slow."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def small_config() -> FeaturizerConfig:
    return FeaturizerConfig(sample_size=24, projection_dim=256, batch_size=8, max_seq_len=64,
                            probes=ProbeObjectiveConfig(items_per_suite=4))


@pytest.fixture(scope="session")
def lora_recipe() -> Recipe:
    return make_recipe("lora")


@pytest.fixture(scope="session")
def full_recipe() -> Recipe:
    return make_recipe("full")


SAFETY_TUNING_STEPS = 100


@pytest.fixture(scope="session")
def safety_tuned(tiny_loaded):
    """The tiny model after a miniature safety tuning, so refusal has something to erode."""
    import copy

    from featurizers.loading import LoadedModel
    from tests.featurizers.feature_data import safety_tuning_texts
    from tests.helpers import train_on_texts

    loaded = LoadedModel(model=copy.deepcopy(tiny_loaded.model), tokenizer=tiny_loaded.tokenizer,
                         spec=tiny_loaded.spec, device=tiny_loaded.device)
    train_on_texts(loaded, safety_tuning_texts(), steps=SAFETY_TUNING_STEPS)
    return loaded


@pytest.fixture(scope="session")
def tuned_featurizer(safety_tuned, small_config):
    from featurizers.features.featurizer import Featurizer

    return Featurizer(safety_tuned, small_config)


@pytest.fixture(scope="session")
def tiny_featurizer(tiny_loaded, small_config):
    from featurizers.features.featurizer import Featurizer

    return Featurizer(tiny_loaded, small_config)
