"""The embedded default meta-model: a model artifact shipped inside the installed package,
so every command that takes a meta-model ``--model DIR`` works without one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from surrogate.model.artifact import META_FILE

DEFAULT_MODEL_SUBDIR: Final[tuple[str, ...]] = ("models", "default")
TRAIN_HINT: Final[str] = (
    "train one with `tunecast train --corpus experiments/corpus/lab-v1 --out surrogate/models/default` "
    "(then reinstall the package), or pass --model DIR"
)


class DefaultModelMissingError(FileNotFoundError):
    """No ``--model`` was given and the package ships no default model."""


def default_model_dir() -> Path:
    """Where the embedded default model lives: ``surrogate/models/default/`` (package data)."""
    return Path(__file__).resolve().parent.joinpath(*DEFAULT_MODEL_SUBDIR)


def resolve_model_dir(model: str | os.PathLike[str] | None) -> Path:
    """``model`` when given, else the embedded default; a clear error when that is absent."""
    if model is not None:
        return Path(model)
    directory = default_model_dir()
    if not (directory / META_FILE).is_file():
        raise DefaultModelMissingError(
            f"no --model given and the embedded default meta-model is absent ({directory} holds no "
            f"{META_FILE}); {TRAIN_HINT}"
        )
    return directory
