"""Derived seeds: each random choice (sample, projection block, LoRA init) gets its own stream.

Deriving from (root seed, labels) by hash keeps one choice stable when another changes,
and never touches a global random state.
"""

from __future__ import annotations

import hashlib

_SEED_BYTES = 8
TORCH_SEED_MASK = (1 << 63) - 1
"""torch.Generator.manual_seed takes a signed 64-bit integer."""


def derive_seed(seed: int, *labels: object) -> int:
    """A 64-bit seed that depends only on `seed` and the ordered `labels`."""
    material = repr((int(seed), *(str(label) for label in labels))).encode("utf-8")
    return int.from_bytes(hashlib.sha256(material).digest()[:_SEED_BYTES], "big")


def derive_torch_seed(seed: int, *labels: object) -> int:
    return derive_seed(seed, *labels) & TORCH_SEED_MASK
