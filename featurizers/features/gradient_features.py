"""Gradient-sketch features and the first-order outcome estimates.

Sign convention: g_o is the gradient of outcome o's *value* (e.g. the refusal margin),
so one SGD step of size lr on the mean data gradient g changes o by about -lr <g_o, g>.
fo.<o> = -lr * steps * <g_o, g>: positive means the outcome is predicted to rise.
fo_sign.<o> uses sign(g) (Adam's first steps move every coordinate by about lr);
fo_adam.<o> uses g / sqrt(g^2 + var/batch), Adam's steady direction under minibatch noise.
All three are computed exactly in the unprojected parameter space.
"""

from __future__ import annotations

import math

import numpy as np

from featurizers.features.bundles import DataSketch, ProbeBundle
from featurizers.features.probe_objectives import OBJECTIVES
from surrogate.runs import Recipe

NORM_TAIL_QUANTILE = 90
PER_OBJECTIVE = ("probe.{o}.value", "probe.{o}.grad_norm", "align.{o}.dot", "align.{o}.cos",
                 "fo.{o}", "fo_sign.{o}", "fo_adam.{o}")
SKETCH_FEATURES: tuple[str, ...] = (
    "grad.n_params", "grad.log10_n_params", "grad.norm_mean", "grad.norm_std", "grad.norm_cv",
    f"grad.norm_p{NORM_TAIL_QUANTILE}", "grad.mean_norm", "grad.coherence",
    "grad.sketch_top1_share", "grad.sketch_effective_rank", "grad.sketch_mean_cos",
)
GRADIENT_FEATURES: tuple[str, ...] = (
    *SKETCH_FEATURES,
    *(template.format(o=o) for o in OBJECTIVES for template in PER_OBJECTIVE),
)


def _spectrum_features(sketches: np.ndarray) -> dict[str, float]:
    """How many directions the per-example gradients span: one shared direction vs many."""
    s = sketches.astype(np.float64)
    n = s.shape[0]
    eigen = np.clip(np.linalg.eigvalsh(s @ s.T), 0.0, None)
    total = eigen.sum()
    if total <= 0:
        return {"grad.sketch_top1_share": float("nan"), "grad.sketch_effective_rank": float("nan"),
                "grad.sketch_mean_cos": float("nan")}
    share = eigen / total
    nonzero = share[share > 0]
    effective_rank = math.exp(float(-(nonzero * np.log(nonzero)).sum()))
    norms = np.linalg.norm(s, axis=1)
    unit = s / np.where(norms > 0, norms, 1.0)[:, None]
    cos = unit @ unit.T
    mean_cos = float((cos.sum() - np.trace(cos)) / (n * (n - 1))) if n > 1 else float("nan")
    return {"grad.sketch_top1_share": float(share.max()), "grad.sketch_effective_rank": effective_rank / n,
            "grad.sketch_mean_cos": mean_cos}


def gradient_features(sketch: DataSketch, probes: ProbeBundle, recipe: Recipe) -> dict[str, float]:
    norms = sketch.grad_norms
    mean_norm = float(sketch.mean_grad_norm)
    mean_sq_norm = float((norms ** 2).mean())
    values: dict[str, float] = {
        "grad.n_params": float(sketch.n_params),
        "grad.log10_n_params": math.log10(max(float(sketch.n_params), 1.0)),
        "grad.norm_mean": float(norms.mean()),
        "grad.norm_std": float(norms.std()),
        "grad.norm_cv": float(norms.std() / norms.mean()) if norms.mean() > 0 else float("nan"),
        f"grad.norm_p{NORM_TAIL_QUANTILE}": float(np.percentile(norms, NORM_TAIL_QUANTILE)),
        "grad.mean_norm": mean_norm,
        "grad.coherence": mean_norm ** 2 / mean_sq_norm if mean_sq_norm > 0 else float("nan"),
        **_spectrum_features(sketch.sketches),
    }
    scale = -recipe.learning_rate * recipe.steps
    for j, o in enumerate(OBJECTIVES):
        values[f"probe.{o}.value"] = float(probes.values[j])
        values[f"probe.{o}.grad_norm"] = float(probes.grad_norms[j])
        values[f"align.{o}.dot"] = float(sketch.probe_dots[j])
        values[f"align.{o}.cos"] = float(sketch.probe_cosines[j])
        values[f"fo.{o}"] = scale * float(sketch.probe_dots[j])
        values[f"fo_sign.{o}"] = scale * float(sketch.sign_dots[j])
        values[f"fo_adam.{o}"] = scale * float(sketch.adam_dots[j])
    return {name: values[name] for name in GRADIENT_FEATURES}
