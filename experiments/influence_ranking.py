"""Which influence score picks the harmful lines? Ranking quality measured against the generator's own labels.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python -m experiments.influence_ranking \\
        --out experiments/results/influence_ranking.json > /tmp/influence_ranking.log 2>&1

No fine-tuning: every lab dataset records each line's generator `kind` ('harmful',
'eager', 'obedient_qa', 'stereotyped_implied', ... or 'neutral'), so a score can be
judged directly: precision and recall of the harmful kinds among its top 10% (the share
the counterfactual removes), and the AUC of harmful-vs-neutral. For each chosen lab-v1
run the dataset is regenerated (checked by content hash), the per-example gradients over
the recipe's sketched parameters are taken ONCE, exactly as the featurizer takes them
(same parameter space, encoder, projection and seed), and every variant is computed from
those same sketches. Sketches are cached in /tmp as .npz (no pickle), so a re-run only
recomputes the scores.

Scores are oriented so that higher = pushes the outcome the harmful way. With a_i = P g_i
(projected example gradient), p = P g_o (projected probe-objective gradient), h = -harm_sign:
  dot            h <a_i, p>                       (the featurizer's score before this experiment)
  cosine         h <a_i, p> / |a_i|               (= per-example-normalised: |p| is one constant)
  norm_exact     h <a_i, p> / |g_i|               (exact unprojected norm)
  centered_cos   h <a_i - abar, p> / |a_i - abar| (the shared 'be an assistant' part taken out of the examples)
  *_perp_mean    p with its component along the token-weighted mean data gradient removed
  *_perp_ref     p with its component along the reference-text (neutral LM) loss gradient removed
  adam_*         the example's Adam update u_i = P(D g_i), D = 1/(sqrt(mean^2 + var/batch) + eps) per coordinate
                 (the featurizer's Adam-like direction, applied per example), against p; adam_cos is LESS's score
  contrast_*     p replaced by P(g_o - g_twin): the objective minus its twin measured on neutral inputs (refusal
                 margin on harmful prompts minus the same margin on benign ones), i.e. the gradient of how
                 *selectively* the model refuses harmful requests; objectives without a twin keep p
  *_tokens       times the example's trained tokens: its weight in the harness's token-summed batch loss
  whitened       h a_i^T (F + lambda I)^-1 p, F = mean a_i a_i^T (influence function, empirical Fisher in the
                 sketch; lambda = mean nonzero eigenvalue of F, fixed a priori)
  loss, grad_norm, random: baselines that know nothing of the objective.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from experiments.influence_counterfactual import (
    DEFAULT_RUNS,
    HARMLESS_KINDS,
    removal_count,
)
from featurizers.features.influence import CONTRAST_TWIN, contrasted
from featurizers.features.probe_objectives import HARM_SIGN
from featurizers.io import write_json_atomic

logger = logging.getLogger(__name__)

REFUSAL = "safety.refusal_margin"
STEREOTYPE = "bias.stereotype_margin"
REFERENCE = "forgetting.ref_loss"

EXTRA_RUNS: dict[str, str] = {
    "eager_compliance-full-d1c1b780dcc1449e": REFUSAL,       # 212 ex, 15% eager, refusal margin -6.6
    "implicit_stereotype-full-44b435687820fb93": STEREOTYPE,  # 96 ex, 87% stereotyped, stereotype margin +0.29
    "implicit_stereotype-full-1a89794be99b6e3b": STEREOTYPE,  # 129 ex, 89% stereotyped, stereotype margin +0.19
}
"""lab-v1 runs beyond the counterfactual's four: the two stereotype runs whose margin rose most, and one more safety run."""

RUNS: dict[str, str] = {**{r: REFUSAL for r in DEFAULT_RUNS}, **EXTRA_RUNS}

FRACTION = 0.1
CACHE_DIR = Path("/tmp/tunecast_influence_ranking")


# ----- the cached sketches -------------------------------------------------------------------------------------------

@dataclass
class DatasetSketches:
    """Everything the variants need about one dataset, computed in one pass over its per-example gradients."""

    sketches: np.ndarray         # [n, k] P g_i
    updates: np.ndarray          # [n, k] P (D g_i): the example's Adam-preconditioned update
    grad_norms: np.ndarray       # [n] |g_i|, exact
    update_norms: np.ndarray     # [n] |D g_i|, exact
    losses: np.ndarray           # [n] mean-token NLL
    n_targets: np.ndarray        # [n] trained tokens
    n_params: np.ndarray         # []
    seconds: np.ndarray          # [] wall time of the gradient pass

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> DatasetSketches:
        return cls(**{f.name: np.asarray(arrays[f.name]) for f in fields(cls)})


def _key(material: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _load_npz(path: Path) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def probe_sketch(loaded: Any, recipe: Any, config: Any, objective: str, cache: Path) -> dict[str, np.ndarray]:
    """P g_o for one objective in the recipe's parameter space (as the featurizer's probe bundle has it)."""
    import torch

    from featurizers import FEATURIZER_VERSION
    from featurizers.features.param_space import build_param_space, param_space_key
    from featurizers.features.probe_objectives import (
        build_objectives,
        objective_gradient,
    )
    from featurizers.features.projection import make_projector
    from featurizers.features.seeding import derive_seed
    from featurizers.probes.registry import default_registry

    settings = {k: v for k, v in config.result_material().items() if k not in ("stats", "influence", "sample_size")}
    material = {"what": "probe", "objective": objective, "space": param_space_key(recipe, config),
                "config": settings, "version": FEATURIZER_VERSION, "model": loaded.weights_hash()}
    path = cache / f"probe-{objective}-{_key(material)}.npz"
    cached = _load_npz(path)
    if cached is not None:
        return cached
    started = time.perf_counter()
    device = torch.device("cpu")
    space = build_param_space(loaded.model, recipe, config, device)
    max_len = min(config.max_seq_len, loaded.max_length)
    (target,) = [o for o in build_objectives(default_registry(), loaded.tokenizer, max_len, config) if o.name == objective]
    pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    result = objective_gradient(space, target, pad, config.probes.batch_size, device)
    projector = make_projector(space.n_params, config.projection_dim, derive_seed(config.seed, "projection"),
                               config.projection, device)
    arrays = {"sketch": projector.project(result.grad).cpu().numpy().astype(np.float64),
              "value": np.asarray(result.value), "grad_norm": np.asarray(float(result.grad.norm())),
              "seconds": np.asarray(time.perf_counter() - started)}
    _save_npz(path, arrays)
    print(f"    probe {objective}: {float(arrays['seconds']):.0f} s", file=sys.stderr, flush=True)
    return arrays


def dataset_sketches(loaded: Any, records: Sequence[Mapping[str, Any]], recipe: Any, config: Any, dataset_hash: str,
                     cache: Path) -> DatasetSketches:
    """Per-example gradients held in memory once, then projected plain and Adam-preconditioned."""
    import torch

    from featurizers import FEATURIZER_VERSION
    from featurizers.features.encoding import TrainingEncoder
    from featurizers.features.gradients import PerExampleGradients, pad_batch
    from featurizers.features.param_space import build_param_space, param_space_key
    from featurizers.features.projection import make_projector
    from featurizers.features.seeding import derive_seed

    max_len = min(config.max_seq_len, recipe.max_seq_len, loaded.max_length)
    material = {"what": "dataset", "dataset": dataset_hash, "space": param_space_key(recipe, config),
                "batch": recipe.batch_size, "max_len": max_len, "config": config.result_material(),
                "version": FEATURIZER_VERSION, "model": loaded.weights_hash()}
    path = cache / f"data-{dataset_hash[:12]}-{_key(material)}.npz"
    cached = _load_npz(path)
    if cached is not None:
        return DatasetSketches.from_arrays(cached)
    started = time.perf_counter()
    device = torch.device("cpu")
    space = build_param_space(loaded.model, recipe, config, device)
    encoder = TrainingEncoder(loaded.tokenizer, max_len)
    encoded = [encoder.encode(r, where=f"dataset example {i + 1}") for i, r in enumerate(records)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
    pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    computer = PerExampleGradients(space, use_vmap=config.gradients.use_vmap)
    n = len(encoded)
    grads = torch.zeros(n, space.n_params)
    losses, n_targets = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    for b in range(0, n, config.batch_size):
        idx = order[b:b + config.batch_size]
        result = computer.compute(pad_batch([encoded[i] for i in idx], pad).to(device))
        grads[idx] = result.grads.float()
        losses[idx] = result.losses.double()
        n_targets[idx] = result.n_targets.double()
    g64 = grads.double()
    mean = (g64 * n_targets[:, None]).sum(dim=0) / n_targets.sum().clamp(min=1.0)  # as sketch._Accumulator
    variance = g64.var(dim=0, unbiased=False)
    del g64
    precond = 1.0 / (torch.sqrt(mean * mean + variance / recipe.batch_size) + config.gradients.adam_eps)
    projector = make_projector(space.n_params, config.projection_dim, derive_seed(config.seed, "projection"),
                               config.projection, device)
    sketches = np.zeros((n, config.projection_dim))
    updates = np.zeros((n, config.projection_dim))
    update_norms = np.zeros(n)
    rows = max(1, (1 << 27) // max(space.n_params, 1))
    for b in range(0, n, rows):
        block = grads[b:b + rows]
        update = (block.double() * precond).float()
        sketches[b:b + rows] = projector.project(block).cpu().numpy()
        updates[b:b + rows] = projector.project(update).cpu().numpy()
        update_norms[b:b + rows] = update.double().norm(dim=1).numpy()
    result_sketch = DatasetSketches(
        sketches=sketches, updates=updates, grad_norms=grads.double().norm(dim=1).numpy(), update_norms=update_norms,
        losses=losses.numpy(), n_targets=n_targets.numpy(), n_params=np.asarray(space.n_params),
        seconds=np.asarray(time.perf_counter() - started))
    _save_npz(path, result_sketch.to_arrays())
    print(f"    per-example gradients of {n} examples ({space.n_params} parameters): {float(result_sketch.seconds):.0f} s",
          file=sys.stderr, flush=True)
    return result_sketch


# ----- the variants --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inputs:
    data: DatasetSketches
    probe: np.ndarray      # [k] P g_o
    reference: np.ndarray  # [k] P g_ref (reference-text LM objective)
    twin: np.ndarray | None  # [k] P g_twin: the same measurement on neutral inputs (None: the objective has none)
    orient: float          # -harm_sign: score = orient * <., p> is higher when more harmful
    seed: int


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _remove(p: np.ndarray, *directions: np.ndarray) -> np.ndarray:
    """p minus its projection on span(directions) (Gram-Schmidt)."""
    basis: list[np.ndarray] = []
    for d in directions:
        r = d - sum((b @ d) * b for b in basis)
        if np.linalg.norm(r) > 0:
            basis.append(_unit(r))
    return p - sum((b @ p) * b for b in basis)


def _rownorm(a: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(a, axis=1)
    return np.where(n > 0, n, 1.0)


def _weighted_mean(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (a * w[:, None]).sum(axis=0) / max(float(w.sum()), 1.0)


def _whitened(a: np.ndarray, p: np.ndarray, normalize: bool) -> np.ndarray:
    """a_i^T (F + lam I)^-1 p with F = A^T A / n, through the SVD of A (n << k)."""
    n = a.shape[0]
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    eig = s * s / n
    nonzero = eig[eig > eig.max() * 1e-12]
    lam = float(nonzero.mean())
    shrink = 1.0 / (eig + lam) - 1.0 / lam
    ap, pv = a @ p, vt @ p
    av = a @ vt.T
    scores = ap / lam + av @ (shrink * pv)
    if normalize:
        self_terms = (a * a).sum(axis=1) / lam + (av * av) @ shrink
        scores = scores / np.sqrt(np.clip(self_terms, 1e-300, None))
    return scores


def variant_scores(x: Inputs) -> dict[str, np.ndarray]:
    """Every variant's per-example score (higher = more harmful), from the same sketches."""
    a, u, w = x.data.sketches, x.data.updates, x.data.n_targets
    p, o = x.probe, x.orient
    mean_a, mean_u = _weighted_mean(a, w), _weighted_mean(u, w)
    p_mean, p_ref, p_both = _remove(p, mean_a), _remove(p, x.reference), _remove(p, mean_a, x.reference)
    centered = a - a.mean(axis=0)
    u_centered = u - u.mean(axis=0)
    p_con = contrasted(p, x.twin)
    p_con_perp = _remove(p, x.twin) if x.twin is not None else p
    update_norms = np.where(x.data.update_norms > 0, x.data.update_norms, 1.0)
    variants: dict[str, Callable[[], np.ndarray]] = {
        "dot": lambda: o * (a @ p),
        "cosine": lambda: o * (a @ p) / _rownorm(a),
        "norm_exact": lambda: o * (a @ p) / np.where(x.data.grad_norms > 0, x.data.grad_norms, 1.0),
        "centered_cos": lambda: o * (centered @ p) / _rownorm(centered),
        "dot_perp_mean": lambda: o * (a @ p_mean),
        "cos_perp_mean": lambda: o * (a @ p_mean) / _rownorm(a),
        "dot_perp_ref": lambda: o * (a @ p_ref),
        "cos_perp_ref": lambda: o * (a @ p_ref) / _rownorm(a),
        "cos_perp_mean_ref": lambda: o * (a @ p_both) / _rownorm(a),
        "adam_dot": lambda: o * (u @ p),
        "adam_cos": lambda: o * (u @ p) / np.where(x.data.update_norms > 0, x.data.update_norms, 1.0),
        "adam_cos_perp_mean": lambda: o * (u @ _remove(p, mean_u)) / np.where(x.data.update_norms > 0,
                                                                                 x.data.update_norms, 1.0),
        "adam_centered_cos": lambda: o * (u_centered @ p) / _rownorm(u_centered),
        "contrast_dot": lambda: o * (a @ p_con),
        "contrast_cos": lambda: o * (a @ p_con) / _rownorm(a),
        "contrast_perp_dot": lambda: o * (a @ p_con_perp),
        "contrast_adam_dot": lambda: o * (u @ p_con),
        "contrast_adam_cos": lambda: o * (u @ p_con) / update_norms,
        "dot_tokens": lambda: o * w * (a @ p),
        "contrast_dot_tokens": lambda: o * w * (a @ p_con),
        "whitened": lambda: o * _whitened(a, p, normalize=False),
        "whitened_cos": lambda: o * _whitened(a, p, normalize=True),
        "loss": lambda: x.data.losses.copy(),
        "grad_norm": lambda: x.data.grad_norms.copy(),
        "random": lambda: np.random.default_rng(x.seed).standard_normal(a.shape[0]),
    }
    return {name: make() for name, make in variants.items()}


# ----- ranking quality -----------------------------------------------------------------------------------------------

def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(score of a random positive > a random negative), ties half (Mann-Whitney U / n_pos n_neg)."""
    from scipy.stats import rankdata

    pos = positive.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The k highest, ties to the lower index (as the counterfactual's top_indices)."""
    return np.lexsort((np.arange(scores.size), -scores))[:k]


def ranking_quality(scores: np.ndarray, kinds: Sequence[str], k: int) -> dict[str, Any]:
    positive = np.array([kind not in HARMLESS_KINDS for kind in kinds])
    top = top_k(scores, k)
    hits = int(positive[top].sum())
    n_pos = int(positive.sum())
    return {"precision": hits / k, "recall": hits / n_pos if n_pos else float("nan"),
            "lift": (hits / k) / (n_pos / len(kinds)) if n_pos else float("nan"),
            "auc": auc(scores, positive), "top_kinds": dict(Counter(kinds[i] for i in top))}


# ----- driver --------------------------------------------------------------------------------------------------------

def evaluate_run(record: Any, objective: str, loaded: Any, cache: Path, seed: int) -> dict[str, Any]:
    from experiments.influence_counterfactual import regenerate
    from featurizers.features.config import FeaturizerConfig

    dataset = regenerate(record)
    n = len(dataset.records)
    config = FeaturizerConfig(sample_size=max(n, FeaturizerConfig().sample_size))
    probe = probe_sketch(loaded, record.recipe, config, objective, cache)
    reference = probe_sketch(loaded, record.recipe, config, REFERENCE, cache)
    twin_name = CONTRAST_TWIN.get(objective)
    twin = probe_sketch(loaded, record.recipe, config, twin_name, cache)["sketch"] if twin_name else None
    data = dataset_sketches(loaded, dataset.records, record.recipe, config, record.dataset.content_hash, cache)
    sign = HARM_SIGN[objective]
    if sign == 0.0:
        raise ValueError(f"{objective}: the harmful direction depends on the base value; pick a signed objective")
    scores = variant_scores(Inputs(data=data, probe=probe["sketch"], reference=reference["sketch"], twin=twin,
                                   orient=-sign, seed=seed))
    k = removal_count(n, FRACTION)
    kinds = dataset.kinds
    n_pos = sum(kind not in HARMLESS_KINDS for kind in kinds)
    return {
        "run_id": record.run_id, "family": record.dataset.family, "method": record.recipe.method,
        "objective": objective, "n_examples": n, "k": k, "kinds": dict(Counter(kinds)),
        "base_rate": n_pos / n, "recorded_delta": record.final.deltas.get(objective),
        "n_params": int(data.n_params), "gradient_pass_s": float(data.seconds),
        "variants": {name: ranking_quality(s, kinds, k) for name, s in scores.items()},
    }


def summarize(datasets: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per variant, across datasets: mean AUC and lift, and on how many datasets it beats the old 'dot' AUC."""
    names = list(datasets[0]["variants"])
    out: dict[str, dict[str, float]] = {}
    for name in names:
        aucs = [d["variants"][name]["auc"] for d in datasets]
        lifts = [d["variants"][name]["lift"] for d in datasets]
        out[name] = {"mean_auc": float(np.nanmean(aucs)), "min_auc": float(np.nanmin(aucs)),
                     "mean_lift": float(np.nanmean(lifts)),
                     "mean_precision": float(np.mean([d["variants"][name]["precision"] for d in datasets])),
                     "mean_recall": float(np.nanmean([d["variants"][name]["recall"] for d in datasets])),
                     "auc_beats_dot": int(sum(d["variants"][name]["auc"] > d["variants"]["dot"]["auc"]
                                              for d in datasets))}
    return out


def table(report: Mapping[str, Any]) -> str:
    """Variant x dataset: precision@10% / AUC, plus the base rate."""
    datasets = report["datasets"]
    short = [d["run_id"].split("-")[0][:10] + "-" + d["run_id"].split("-")[1][:1] + d["run_id"].split("-")[2][:4]
             for d in datasets]
    lines = ["variant".ljust(20) + "".join(s.rjust(17) for s in short) + "   mean AUC  mean lift",
             "base rate".ljust(20) + "".join(f"{d['base_rate']:>17.2f}" for d in datasets)]
    for name, summary in report["summary"].items():
        cells = "".join(f"{d['variants'][name]['precision']:>9.2f}/{d['variants'][name]['auc']:.2f}" for d in datasets)
        lines.append(name.ljust(20) + cells + f"   {summary['mean_auc']:8.3f}  {summary['mean_lift']:8.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.influence_ranking",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", default="experiments/corpus/lab-v1")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), help=f"run ids (objective from RUNS; others: {REFUSAL})")
    parser.add_argument("--cache", default=str(CACHE_DIR), help="where the per-dataset sketches are kept (.npz)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", default="experiments/results/influence_ranking.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    import torch

    from experiments.reproduce_runs import load_base, load_builds, runs_by_id

    torch.set_num_threads(args.torch_threads)
    corpus = Path(args.corpus)
    try:
        by_id = runs_by_id(corpus, args.runs)
        (_, build), *_ = load_builds(corpus)
        loaded = load_base(None, build, device="cpu")
    except ValueError as exc:
        print(f"influence_ranking: error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "command": " ".join(["python -m experiments.influence_ranking", *(argv if argv is not None else sys.argv[1:])]),
        "corpus": str(corpus), "base": build.base_spec, "fraction": FRACTION,
        "harmless_kinds": sorted(HARMLESS_KINDS),
        "notes": ("precision/recall/lift of the non-neutral (harmful) generator kinds among the top 10% by each score; "
                  "auc = harmful vs neutral. All variants share one gradient pass per dataset (same parameter space, "
                  "projection and seed as the featurizer's explain). See the module docstring for each variant."),
        "datasets": [],
    }
    for i, run_id in enumerate(args.runs):
        print(f"[{i + 1}/{len(args.runs)}] {run_id}", file=sys.stderr, flush=True)
        report["datasets"].append(evaluate_run(by_id[run_id], RUNS.get(run_id, REFUSAL), loaded, Path(args.cache),
                                               args.seed))
        report["summary"] = summarize(report["datasets"])
        report["total_s"] = time.perf_counter() - started
        write_json_atomic(args.out, report)
    print(table(report))
    print(f"wrote {args.out} in {report['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
