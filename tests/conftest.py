"""Shared fixtures: a tiny Llama model with the lab chat format, built once per session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_loaded():
    from featurizers.loading import load_causal_lm

    return load_causal_lm("tiny", device="cpu")


@pytest.fixture()
def fresh_tiny(tiny_loaded):
    """A copy of the tiny model that a test may train without affecting others."""
    import copy

    from featurizers.loading import LoadedModel

    return LoadedModel(model=copy.deepcopy(tiny_loaded.model), tokenizer=tiny_loaded.tokenizer,
                       spec=tiny_loaded.spec, device=tiny_loaded.device)
