"""The candidate manifest: named datasets and mixtures in one JSON or YAML file.

Example (paths are relative to the manifest's own folder)::

    datasets:
      - name: support-chat
        path: data/support.jsonl
    mixtures:
      - name: support-plus-code
        seed: 0          # default 0
        size: 500        # optional; see server.scoring.mixing for the default
        components:
          - {path: data/support.jsonl, weight: 0.7}
          - {path: data/code.parquet, weight: 0.3}

Every entry becomes one candidate; names must be unique within the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MANIFEST_SUFFIXES: Final[tuple[str, ...]] = (".json", ".yaml", ".yml")

Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetEntry(_Frozen):
    """One dataset file scored as it is."""

    name: Name
    path: str = Field(min_length=1)


class MixtureComponent(_Frozen):
    path: str = Field(min_length=1)
    weight: float = Field(gt=0, allow_inf_nan=False)


class MixtureEntry(_Frozen):
    """Several files mixed by weight (see ``server.scoring.mixing`` for exactly how)."""

    name: Name
    components: tuple[MixtureComponent, ...] = Field(min_length=1)
    size: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)


class Manifest(_Frozen):
    datasets: tuple[DatasetEntry, ...] = ()
    mixtures: tuple[MixtureEntry, ...] = ()

    @model_validator(mode="after")
    def _names_unique(self) -> Manifest:
        names = [e.name for e in self.datasets] + [m.name for m in self.mixtures]
        if not names:
            raise ValueError("the manifest lists no datasets and no mixtures")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"name {name!r} appears twice; every dataset and mixture needs its own name")
            seen.add(name)
        return self


class ManifestError(ValueError):
    """A manifest that cannot be read or does not validate; the message names the file and field."""


def is_manifest(path: Path) -> bool:
    return path.suffix.lower() in MANIFEST_SUFFIXES


def read_manifest(path: Path) -> Manifest:
    """Parse and validate a manifest file (YAML by suffix, JSON otherwise)."""
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML ({exc})") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ManifestError(f"{path}: {problems}") from None


def resolve_entry_path(manifest_path: Path, entry_path: str) -> Path:
    """Entry paths are relative to the manifest's folder unless absolute."""
    path = Path(entry_path).expanduser()
    return path if path.is_absolute() else manifest_path.parent / path
