"""The corpus builder: sampled run configs, run by the harness, appended to a RunStore.

Names are resolved lazily (PEP 562): `experiments.corpus_builder.cli` must import
without torch, because the `tunecast` parser registers its subcommands on every call.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BuildConfig": "experiments.corpus_builder.builder",
    "BuildSummary": "experiments.corpus_builder.builder",
    "build_corpus": "experiments.corpus_builder.builder",
    "plan_runs": "experiments.corpus_builder.builder",
    "RunConfig": "experiments.corpus_builder.sampler",
    "sample_configs": "experiments.corpus_builder.sampler",
    "FloatRange": "experiments.corpus_builder.space",
    "IntRange": "experiments.corpus_builder.space",
    "KnobSpec": "experiments.corpus_builder.space",
    "SamplingSpace": "experiments.corpus_builder.space",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'experiments.corpus_builder' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
