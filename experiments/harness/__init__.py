"""The fine-tune harness: real fine-tunes of a base model, measured into run records.

Names are resolved lazily (PEP 562), so importing a torch-free submodule such as
`experiments.harness.names` does not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_LORA_TARGETS": "experiments.harness.names",
    "LR_SCHEDULES": "experiments.harness.names",
    "HarnessConfig": "experiments.harness.config",
    "HeldoutConfig": "experiments.harness.config",
    "OptimizerConfig": "experiments.harness.config",
    "TrainingData": "experiments.harness.data",
    "split_heldout": "experiments.harness.data",
    "make_recipe": "experiments.harness.recipes",
    "steps_for_epochs": "experiments.harness.recipes",
    "RunFailedError": "experiments.harness.runner",
    "TrainingDivergedError": "experiments.harness.runner",
    "checkpoint_steps": "experiments.harness.runner",
    "probe_outcomes": "experiments.harness.runner",
    "run_finetune": "experiments.harness.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'experiments.harness' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
