"""Small, fast settings for harness and corpus-builder tests on the tiny model."""

from __future__ import annotations

import pytest

SMALL_SUITES = ["forgetting.reference"]
DATASET_SIZE = 60


@pytest.fixture(scope="session")
def small_harness():
    """One cheap probe suite, one torch thread (fastest on a shared 2-core box), default checkpoints."""
    from experiments.harness import HarnessConfig, HeldoutConfig
    from featurizers.probes.evaluate import EvaluationConfig

    return HarnessConfig(
        evaluation=EvaluationConfig(suites=SMALL_SUITES),
        heldout=HeldoutConfig(share=0.1, min_count=6, max_count=50),
        device="cpu",
        torch_threads=1,
    )


@pytest.fixture(scope="session")
def tiny_dataset():
    """60 neutral instruction pairs, in the prompt/response format."""
    from experiments.harness import TrainingData
    from experiments.lab.datasets import default_registry

    params = {"size": DATASET_SIZE}
    examples = default_registry().generate("neutral_instruct", params, 0)
    return TrainingData.from_examples(examples, family="neutral_instruct", params=params, seed=0)


@pytest.fixture(scope="session")
def full_recipe():
    from experiments.harness import make_recipe

    return make_recipe("full", 3e-3, steps=20, batch_size=8, warmup_steps=2, max_seq_len=96, seed=1)


@pytest.fixture(scope="session")
def lora_recipe():
    from experiments.harness import make_recipe

    return make_recipe("lora", 1e-2, steps=20, batch_size=8, warmup_steps=2, max_seq_len=96, seed=1, lora_rank=4)


@pytest.fixture(scope="session")
def base_hash_before(tiny_loaded):
    """The tiny base's weights hash before any harness test trains on it."""
    return fresh_weights_hash(tiny_loaded)


@pytest.fixture(scope="session")
def full_record(tiny_loaded, base_hash_before, tiny_dataset, full_recipe, small_harness):
    from experiments.harness import run_finetune

    return run_finetune(tiny_loaded, tiny_dataset, full_recipe, small_harness)


@pytest.fixture(scope="session")
def lora_record(tiny_loaded, base_hash_before, tiny_dataset, lora_recipe, small_harness):
    from experiments.harness import run_finetune

    return run_finetune(tiny_loaded, tiny_dataset, lora_recipe, small_harness)


@pytest.fixture(scope="session")
def weights_hash_of():
    return fresh_weights_hash


def fresh_weights_hash(loaded) -> str:
    """Hash the weights now, bypassing LoadedModel's cached hash."""
    from featurizers.loading import LoadedModel

    return LoadedModel(model=loaded.model, tokenizer=loaded.tokenizer, spec=loaded.spec, device=loaded.device).weights_hash()
