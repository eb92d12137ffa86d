"""Random projections of gradients to a fixed width: one small interface, two implementations.

A dense Rademacher matrix (entries +-1/sqrt(k)) is the textbook Johnson-Lindenstrauss map
and is kept in memory (int8) when it fits; CountSketch (each coordinate to one bucket
with a random sign) costs O(D) per vector and covers large parameter spaces. Both are
generated block by block from seeds derived from (seed, block index), so the map is the
same however gradients are grouped, and E<Pa, Pb> = <a, b> for both.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Literal

import torch

from featurizers.features.config import ProjectionConfig
from featurizers.features.seeding import derive_torch_seed

ProjectionKind = Literal["rademacher", "countsketch"]


class Projector(ABC):
    """Maps [batch, dim_in] gradients to [batch, dim_out] sketches."""

    kind: ProjectionKind

    def __init__(self, dim_in: int, dim_out: int, seed: int, chunk_rows: int, device: torch.device) -> None:
        if dim_in < 1 or dim_out < 1:
            raise ValueError(f"projection dims must be positive, got dim_in={dim_in} dim_out={dim_out}")
        self.dim_in, self.dim_out, self.seed, self.chunk_rows, self.device = dim_in, dim_out, seed, chunk_rows, device

    def _chunks(self) -> range:
        return range(math.ceil(self.dim_in / self.chunk_rows))

    def _generator(self, chunk: int) -> torch.Generator:
        return torch.Generator(device="cpu").manual_seed(derive_torch_seed(self.seed, self.kind, chunk))

    def _rows(self, chunk: int) -> slice:
        return slice(chunk * self.chunk_rows, min((chunk + 1) * self.chunk_rows, self.dim_in))

    def project(self, grads: torch.Tensor) -> torch.Tensor:
        """Sketch a [batch, dim_in] (or [dim_in]) tensor; float32 out, on the projector's device."""
        single = grads.dim() == 1
        batch = grads.reshape(1, -1) if single else grads
        if batch.shape[1] != self.dim_in:
            raise ValueError(f"projector expects {self.dim_in} coordinates, got {batch.shape[1]}")
        out = self._project(batch.to(self.device, torch.float32))
        return out[0] if single else out

    @abstractmethod
    def _project(self, grads: torch.Tensor) -> torch.Tensor:
        """Project a [batch, dim_in] float32 tensor already on the device."""


class RademacherProjector(Projector):
    """Dense +-1/sqrt(k) matrix, generated per block; kept as int8 when `keep` is true."""

    kind: ProjectionKind = "rademacher"

    def __init__(self, dim_in: int, dim_out: int, seed: int, chunk_rows: int, device: torch.device, keep: bool) -> None:
        super().__init__(dim_in, dim_out, seed, chunk_rows, device)
        self._kept: dict[int, torch.Tensor] = {}
        self._keep = keep

    def _block(self, chunk: int) -> torch.Tensor:
        block = self._kept.get(chunk)
        if block is None:
            rows = self._rows(chunk)
            block = torch.randint(0, 2, (rows.stop - rows.start, self.dim_out), generator=self._generator(chunk),
                                  dtype=torch.int8).to(self.device)
            if self._keep:
                self._kept[chunk] = block
        return block

    def _project(self, grads: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(grads.shape[0], self.dim_out, device=self.device)
        for chunk in self._chunks():
            signs = self._block(chunk).to(torch.float32).mul_(2).sub_(1)
            out.addmm_(grads[:, self._rows(chunk)], signs)
        return out.div_(math.sqrt(self.dim_out))


class CountSketchProjector(Projector):
    """Each coordinate goes to one of k buckets with a random sign: O(D) per vector."""

    kind: ProjectionKind = "countsketch"

    def __init__(self, dim_in: int, dim_out: int, seed: int, chunk_rows: int, device: torch.device) -> None:
        super().__init__(dim_in, dim_out, seed, chunk_rows, device)
        buckets, signs = [], []
        for chunk in self._chunks():
            rows = self._rows(chunk)
            generator = self._generator(chunk)
            size = rows.stop - rows.start
            buckets.append(torch.randint(0, dim_out, (size,), generator=generator, dtype=torch.int32))
            signs.append(torch.randint(0, 2, (size,), generator=generator, dtype=torch.int8))
        self._buckets = torch.cat(buckets).to(device)
        self._signs = torch.cat(signs).to(device)

    def _project(self, grads: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(grads.shape[0], self.dim_out, device=self.device)
        for chunk in self._chunks():
            rows = self._rows(chunk)
            signed = grads[:, rows] * (self._signs[rows].to(torch.float32) * 2 - 1)
            out.index_add_(1, self._buckets[rows].long(), signed)
        return out


def resolve_kind(dim_in: int, dim_out: int, config: ProjectionConfig) -> ProjectionKind:
    """'auto' is dense Rademacher when its matrix fits the memory budget, CountSketch otherwise."""
    if config.kind != "auto":
        return config.kind
    return "rademacher" if dim_in * dim_out <= config.max_dense_entries else "countsketch"


def make_projector(dim_in: int, dim_out: int, seed: int, config: ProjectionConfig, device: torch.device) -> Projector:
    """The configured projector; a dense matrix is kept in memory only when it fits the budget."""
    fits = dim_in * dim_out <= config.max_dense_entries
    if resolve_kind(dim_in, dim_out, config) == "rademacher":
        return RademacherProjector(dim_in, dim_out, seed, config.chunk_rows, device, keep=fits)
    return CountSketchProjector(dim_in, dim_out, seed, config.chunk_rows, device)
