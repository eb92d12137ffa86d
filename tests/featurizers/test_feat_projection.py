"""Random projections: inner products survive (JL), the map is fixed by the seed, grouping does not matter."""

from __future__ import annotations

import math

import pytest
import torch

from featurizers.features.config import ProjectionConfig
from featurizers.features.projection import CountSketchProjector, RademacherProjector, make_projector

CPU = torch.device("cpu")
DIM_IN, DIM_OUT, CHUNK = 6000, 1024, 1000


def _projectors(seed: int = 0):
    return [RademacherProjector(DIM_IN, DIM_OUT, seed, CHUNK, CPU, keep=True),
            RademacherProjector(DIM_IN, DIM_OUT, seed, CHUNK, CPU, keep=False),
            CountSketchProjector(DIM_IN, DIM_OUT, seed, CHUNK, CPU)]


def _correlated_vectors(n: int = 12) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    shared = torch.randn(DIM_IN, generator=g)
    return torch.stack([shared * (i / n) + torch.randn(DIM_IN, generator=g) for i in range(n)])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_inner_products_are_preserved_within_the_jl_tolerance(index):
    projector = _projectors()[index]
    x = _correlated_vectors()
    exact = x @ x.T
    sketched = projector.project(x)
    approx = sketched @ sketched.T
    norms = x.norm(dim=1)
    scale = norms[:, None] * norms[None, :]
    error = ((approx - exact) / scale).abs()
    tolerance = 5.0 / math.sqrt(DIM_OUT)  # ~5 standard deviations of the JL error
    assert float(error.max()) < tolerance, float(error.max())
    assert float(error.mean()) < 1.5 / math.sqrt(DIM_OUT)


def test_same_seed_same_map_regardless_of_grouping_and_memory_mode():
    x = _correlated_vectors()
    kept, regenerated, _ = _projectors(seed=3)
    whole = kept.project(x)
    torch.testing.assert_close(whole, regenerated.project(x))
    torch.testing.assert_close(whole, torch.cat([kept.project(x[:5]), kept.project(x[5:])]))
    torch.testing.assert_close(whole[0], kept.project(x[0]), rtol=1e-4, atol=1e-4)  # 1-row matmul rounds differently
    other = RademacherProjector(DIM_IN, DIM_OUT, 4, CHUNK, CPU, keep=True).project(x)
    assert not torch.allclose(whole, other)


def test_auto_picks_countsketch_when_the_dense_matrix_would_not_fit():
    small = make_projector(100, 16, 0, ProjectionConfig(max_dense_entries=100 * 16), CPU)
    large = make_projector(100, 16, 0, ProjectionConfig(max_dense_entries=100 * 16 - 1), CPU)
    assert small.kind == "rademacher" and large.kind == "countsketch"
    with pytest.raises(ValueError, match="expects 100 coordinates"):
        small.project(torch.zeros(3, 99))
