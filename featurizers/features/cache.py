"""On-disk feature cache: one .npz per key, written to a temp file and renamed into place.

The key is the sha256 of canonical JSON describing everything the entry depends on
(dataset hash, weights hash, the recipe fields that matter, featurizer version, config).
That JSON is stored inside the entry and compared on every read: a mismatch means a
collision, a hand-edited file or a bug, and is an error, never a silent mix. Entries
hold only arrays and text (no pickle); concurrent writers of one key write equal bytes,
and the rename makes whichever lands last complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

META_KEY = "__meta__"
KEY_PREFIX_CHARS = 2


class CacheMismatchError(ValueError):
    """A cache entry whose stored description differs from the one it was looked up with."""


def canonical_json(material: dict[str, Any]) -> str:
    return json.dumps(material, sort_keys=True, separators=(",", ":"), allow_nan=False)


def cache_key(material: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def _first_difference(stored: Any, expected: Any, path: str = "") -> str:
    if isinstance(stored, dict) and isinstance(expected, dict):
        for key in sorted(set(stored) | set(expected)):
            if stored.get(key) != expected.get(key):
                return _first_difference(stored.get(key), expected.get(key), f"{path}.{key}" if path else key)
    return f"{path or '(root)'}: stored {stored!r}, expected {expected!r}"


class FeatureCache:
    """Entries by kind ('features', 'sketch', 'probes') under one root directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:KEY_PREFIX_CHARS] / f"{key}.npz"

    def load(self, kind: str, material: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """The arrays stored for `material`, or None on a miss; raises CacheMismatchError on a bad entry."""
        path = self.path(kind, cache_key(material))
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored = json.loads(str(data[META_KEY]))
                arrays = {name: data[name] for name in data.files if name != META_KEY}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise CacheMismatchError(f"cache entry {path} cannot be read ({exc}); delete it to recompute") from exc
        expected = json.loads(canonical_json(material))
        if stored != expected:
            raise CacheMismatchError(
                f"cache entry {path} was written for different inputs ({_first_difference(stored, expected)}); "
                "delete it to recompute"
            )
        logger.info("cache hit: %s", path)
        return arrays

    def store(self, kind: str, material: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
        """Write atomically: a temp file in the target directory, then os.replace."""
        if META_KEY in arrays:
            raise ValueError(f"array name {META_KEY!r} is reserved for the entry's metadata")
        pickled = [name for name, array in arrays.items() if np.asarray(array).dtype.hasobject]
        if pickled:
            raise ValueError(f"cache arrays {pickled} hold Python objects, which would need pickle; store numbers or text")
        path = self.path(kind, cache_key(material))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **{META_KEY: np.array(canonical_json(material))}, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
