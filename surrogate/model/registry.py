"""A model registry on disk: immutable versions and one atomically switched pointer.

Layout: ``<root>/models/<version>/`` (artifact directories) and ``<root>/CURRENT``
(the served version's name). A server hot-swaps by re-reading CURRENT; the
pointer is replaced with ``os.replace`` so readers see the old or the new name,
never a torn one.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Final

from surrogate.model.artifact import check_version, verify_artifact
from surrogate.model.errors import ArtifactError
from surrogate.model.estimator import ForecastModel

logger = logging.getLogger(__name__)

MODELS_SUBDIR: Final[str] = "models"
CURRENT_FILE: Final[str] = "CURRENT"


class RegistryError(ValueError):
    """A registry operation would break an invariant (duplicate or unknown version)."""


class ModelRegistry:
    """Published model versions under ``root`` and the pointer to the served one."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def models_dir(self) -> Path:
        return self.root / MODELS_SUBDIR

    def path(self, version: str) -> Path:
        """Directory of a published version (refuses names that are not plain)."""
        check_version(version)
        return self.models_dir / version

    def list(self) -> list[str]:
        """Published versions, sorted by name (temporary copies are skipped)."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p.name for p in self.models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def publish(self, model_dir: str | os.PathLike[str], *, make_current: bool = False) -> str:
        """Copy a verified artifact in as ``models/<its model_version>/``; return the version."""
        source = Path(model_dir)
        meta = verify_artifact(source)
        version = meta.model_version
        dest = self.path(version)
        if dest.exists():
            raise RegistryError(f"version {version!r} is already published at {dest}; versions are immutable")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        temp = self.models_dir / f".{version}.tmp-{uuid.uuid4().hex}"
        try:
            shutil.copytree(source, temp)
            verify_artifact(temp)
            os.rename(temp, dest)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            if dest.exists():
                raise RegistryError(f"version {version!r} was published concurrently at {dest}") from exc
            raise
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        logger.info("published model %s", version)
        if make_current:
            self.set_current(version)
        return version

    def current(self) -> str | None:
        """The served version, or None when nothing was made current yet."""
        pointer = self.root / CURRENT_FILE
        try:
            version = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        try:
            check_version(version)
        except ValueError as exc:
            raise RegistryError(f"{pointer} holds {version!r}, not a version name") from exc
        if not self.path(version).is_dir():
            raise RegistryError(f"{pointer} points at {version!r}, which is not in {self.models_dir}")
        return version

    def set_current(self, version: str) -> None:
        """Point CURRENT at a published, verified version (atomic replace)."""
        check_version(version)
        if version not in self.list():
            raise RegistryError(f"version {version!r} is not published; known: {self.list()[-5:]}")
        try:
            verify_artifact(self.path(version))
        except ArtifactError as exc:
            raise RegistryError(f"version {version!r} failed verification: {exc}") from exc
        pointer = self.root / CURRENT_FILE
        temp = self.root / f".{CURRENT_FILE}.tmp-{uuid.uuid4().hex}"
        with temp.open("w", encoding="utf-8") as handle:
            handle.write(version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, pointer)
        logger.info("current model is now %s", version)

    def load(self, version: str | None = None) -> ForecastModel:
        """Load ``version``, or the current one when None."""
        chosen = version if version is not None else self.current()
        if chosen is None:
            raise RegistryError(f"{self.root} has no CURRENT version; publish one and call set_current")
        if chosen not in self.list():
            raise RegistryError(f"version {chosen!r} is not published in {self.models_dir}")
        return ForecastModel.load(self.path(chosen))
