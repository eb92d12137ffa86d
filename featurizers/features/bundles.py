"""The two expensive intermediate results, as plain arrays the cache can store without pickle.

`ProbeBundle`: per (model, parameter space) — probe objective values, their gradients
and sketches, suite representations. `DataSketch`: per (dataset, model, parameter space)
— the per-example sketches, losses and norms, plus exact inner products of the mean
data gradient with each probe gradient (plain, sign and Adam-like directions).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


def _to_arrays(obj) -> dict[str, np.ndarray]:
    return {f.name: np.asarray(getattr(obj, f.name)) for f in fields(obj)}


@dataclass
class ProbeBundle:
    """What the base model's probes look like from the sketched parameters."""

    values: np.ndarray            # [n_obj] objective values on the feature halves
    harm_signs: np.ndarray        # [n_obj] +1: rising is harmful, -1: falling is
    grad_norms: np.ndarray        # [n_obj] exact
    grads: np.ndarray             # [n_obj, D] exact probe gradients, float32
    sketches: np.ndarray          # [n_obj, k] projected probe gradients
    suite_hidden: np.ndarray      # [n_suites, H] mean last hidden state per suite
    suite_encoder: np.ndarray     # [n_suites, E] sentence-encoder means (E = 0 when off)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return _to_arrays(self)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "ProbeBundle":
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})


@dataclass
class DataSketch:
    """What a dataset sample's gradients look like, before any learning rate or step count."""

    sample_indices: np.ndarray    # [n] positions in the dataset
    sketches: np.ndarray          # [n, k] projected per-example gradients, float32
    losses: np.ndarray            # [n] mean-token NLL per example
    n_targets: np.ndarray         # [n] predicted target tokens per example
    grad_norms: np.ndarray        # [n] exact per-example gradient norms
    mean_grad_norm: np.ndarray    # [] norm of the token-weighted mean gradient
    probe_dots: np.ndarray        # [n_obj] <g_probe, mean grad>
    probe_cosines: np.ndarray     # [n_obj] cos(g_probe, mean grad)
    sign_dots: np.ndarray         # [n_obj] <g_probe, sign(mean grad)>
    adam_dots: np.ndarray         # [n_obj] <g_probe, mean / sqrt(mean^2 + var/batch)>
    hidden_mean: np.ndarray       # [H] mean last hidden state of the sample
    encoder_mean: np.ndarray      # [E] sentence-encoder mean (E = 0 when off)
    n_params: np.ndarray          # [] sketched parameters

    def to_arrays(self) -> dict[str, np.ndarray]:
        return _to_arrays(self)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "DataSketch":
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})
