"""Exact and near-duplicate shares: normalized-text hashing plus MinHash with LSH banding.

Duplication changes what a fine-tune does per step (it overfits and forgets faster),
and near duplicates (a word swapped, a number changed) escape exact hashing. Hashes are
stable across processes (blake2b, seeded permutations), never Python's `hash()`.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MERSENNE_PRIME = (1 << 31) - 1
"""Shingle hashes and permutation constants stay below 2**31, so a*x + b fits in uint64."""
_HASH_BYTES = 8
_NORMALIZE_DROP = re.compile(r"[^a-z0-9\s]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: formatting noise does not make text new."""
    return _SPACES.sub(" ", _NORMALIZE_DROP.sub(" ", text.lower())).strip()


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=_HASH_BYTES).digest(), "big")


@dataclass(frozen=True)
class DuplicateShares:
    exact: float
    near: float


class MinHasher:
    """MinHash signatures over word shingles; banded buckets find candidate pairs in O(n)."""

    def __init__(self, n_permutations: int, n_bands: int, shingle_words: int, seed: int) -> None:
        if n_permutations % n_bands:
            raise ValueError(f"n_permutations ({n_permutations}) must be a multiple of n_bands ({n_bands})")
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, _MERSENNE_PRIME, size=n_permutations, dtype=np.uint64)
        self._b = rng.integers(0, _MERSENNE_PRIME, size=n_permutations, dtype=np.uint64)
        self.n_bands = n_bands
        self.rows = n_permutations // n_bands
        self.shingle_words = shingle_words

    def shingles(self, text: str) -> np.ndarray:
        tokens = normalize(text).split()
        width = min(self.shingle_words, max(1, len(tokens)))
        grams = {" ".join(tokens[i:i + width]) for i in range(max(1, len(tokens) - width + 1))}
        return np.array(sorted(_stable_hash(g) % _MERSENNE_PRIME for g in grams), dtype=np.uint64)

    def signature(self, text: str) -> np.ndarray:
        values = self.shingles(text)
        hashed = (self._a[:, None] * values[None, :] + self._b[:, None]) % np.uint64(_MERSENNE_PRIME)
        return hashed.min(axis=1)

    def bands(self, signature: np.ndarray) -> list[bytes]:
        return [signature[i * self.rows:(i + 1) * self.rows].tobytes() for i in range(self.n_bands)]


def duplicate_shares(texts: Sequence[str], hasher: MinHasher, threshold: float) -> DuplicateShares:
    """Shares of examples that repeat an earlier one exactly (after normalizing) or nearly."""
    if not texts:
        raise ValueError("duplicate_shares needs at least one text")
    seen_exact: set[str] = set()
    exact_dups = 0
    near_dups = 0
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    signatures: list[np.ndarray] = []
    for index, text in enumerate(texts):
        key = normalize(text)
        signature = hasher.signature(text)
        signatures.append(signature)
        if key in seen_exact:
            exact_dups += 1
        else:
            seen_exact.add(key)
            candidates = {j for band, digest in enumerate(hasher.bands(signature)) for j in buckets.get((band, digest), [])}
            if any(float(np.mean(signatures[j] == signature)) >= threshold for j in candidates):
                near_dups += 1
        for band, digest in enumerate(hasher.bands(signature)):
            buckets[(band, digest)].append(index)
    return DuplicateShares(exact=exact_dups / len(texts), near=near_dups / len(texts))
