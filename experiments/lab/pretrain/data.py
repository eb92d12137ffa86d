"""Token streams for pretraining: tokenise a split once, cache it, pack it into fixed blocks.

The batch order is a pure function of (seed, step), so resuming from a checkpoint needs no
sampler state and reproduces the uninterrupted run exactly.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerFast

from experiments.lab.pretrain.config import apply_default_mode, write_text_atomic
from experiments.lab.pretrain.corpus import file_sha256, iter_documents
from experiments.lab.pretrain.tokenizer import tokenizer_fingerprint

logger = logging.getLogger(__name__)

_UINT16_LIMIT = np.iinfo(np.uint16).max


class TokenCacheMeta(BaseModel):
    """What a cached token file was made from; any mismatch means the cache is stale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_sha256: str
    tokenizer_sha256: str
    n_documents: int
    n_tokens: int
    dtype: str


def token_dtype(vocab_size: int) -> np.dtype:
    """Smallest integer type that holds every id (uint16 for the lab's 4k vocabulary)."""
    return np.dtype(np.uint16) if vocab_size <= _UINT16_LIMIT else np.dtype(np.int32)


def tokenize_documents(
    path: Path, tokenizer: PreTrainedTokenizerFast, batch_docs: int
) -> tuple[np.ndarray, int]:
    """Tokenise every document of a split and join them, each followed by the EOS id."""
    eos_id = tokenizer.eos_token_id
    if eos_id is None:
        raise ValueError("tokenizer has no eos_token_id; documents cannot be separated")
    backend = tokenizer.backend_tokenizer
    dtype = token_dtype(len(tokenizer))
    pieces: list[np.ndarray] = []
    n_docs = 0
    batch: list[str] = []

    def flush() -> None:
        for encoding in backend.encode_batch(batch, add_special_tokens=False):
            pieces.append(np.asarray([*encoding.ids, eos_id], dtype=dtype))
        batch.clear()

    with tqdm(desc=f"tokenising {Path(path).name}", unit="doc", leave=False) as bar:
        for doc in iter_documents(path):
            batch.append(doc)
            n_docs += 1
            if len(batch) >= batch_docs:
                bar.update(len(batch))
                flush()
        bar.update(len(batch))
        flush()
    tokens = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
    return tokens, n_docs


def load_or_tokenize(
    path: Path, tokenizer: PreTrainedTokenizerFast, cache_dir: Path, batch_docs: int
) -> np.ndarray:
    """Tokens of one split, from the cache when it matches the text and tokenizer exactly."""
    path = Path(path)
    cache_dir = Path(cache_dir)
    array_path = cache_dir / f"{path.stem}.npy"
    meta_path = cache_dir / f"{path.stem}.meta.json"
    source_sha = file_sha256(path)
    tok_sha = tokenizer_fingerprint(tokenizer)
    if array_path.is_file() and meta_path.is_file():
        meta = TokenCacheMeta.model_validate(json.loads(meta_path.read_text(encoding="utf-8")))
        if meta.source_sha256 == source_sha and meta.tokenizer_sha256 == tok_sha:
            tokens = np.load(array_path, allow_pickle=False)
            if tokens.shape != (meta.n_tokens,) or str(tokens.dtype) != meta.dtype:
                raise ValueError(
                    f"token cache {array_path} has shape {tokens.shape} dtype {tokens.dtype}, "
                    f"but its meta says ({meta.n_tokens},) {meta.dtype}; delete {cache_dir}"
                )
            logger.info("loaded %d cached tokens for %s", meta.n_tokens, path.name)
            return tokens
        logger.info("token cache for %s is stale; re-tokenising", path.name)
    tokens, n_docs = tokenize_documents(path, tokenizer, batch_docs)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{array_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, tokens, allow_pickle=False)
        apply_default_mode(Path(tmp))
        os.replace(tmp, array_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    meta = TokenCacheMeta(
        source_sha256=source_sha,
        tokenizer_sha256=tok_sha,
        n_documents=n_docs,
        n_tokens=int(tokens.shape[0]),
        dtype=str(tokens.dtype),
    )
    write_text_atomic(meta_path, meta.model_dump_json(indent=2) + "\n")
    logger.info("tokenised %s: %d documents, %d tokens", path.name, n_docs, tokens.shape[0])
    return tokens


def pack_blocks(tokens: np.ndarray, block_size: int, name: str) -> np.ndarray:
    """Cut the joined stream into full blocks of ``block_size`` (the ragged tail is dropped)."""
    n_blocks = tokens.shape[0] // block_size
    if n_blocks == 0:
        raise ValueError(
            f"{name} split has {tokens.shape[0]} tokens, fewer than one block of {block_size}"
        )
    return tokens[: n_blocks * block_size].reshape(n_blocks, block_size)


class BlockSampler:
    """Epoch-wise shuffled order of blocks where each epoch's permutation comes from (seed, epoch)."""

    def __init__(self, n_blocks: int, batch_size: int, seed: int) -> None:
        if n_blocks < 1:
            raise ValueError(f"n_blocks must be positive, got {n_blocks}")
        self.n_blocks = n_blocks
        self.batch_size = batch_size
        self.seed = seed
        self._epoch = -1
        self._perm = np.arange(0)

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n_blocks)
            self._epoch = epoch
        return self._perm

    def batch_indices(self, step: int) -> np.ndarray:
        """Block indices of the batch consumed at optimiser step ``step`` (0-based)."""
        first = step * self.batch_size
        out = np.empty(self.batch_size, dtype=np.int64)
        for j in range(self.batch_size):
            epoch, pos = divmod(first + j, self.n_blocks)
            out[j] = self._permutation(epoch)[pos]
        return out
