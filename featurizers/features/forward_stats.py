"""Model-forward statistics: how far the data is from what the base model knows.

Loss quantiles come free from the gradient pass. Representation distance compares the
mean last hidden state of the dataset sample with that of each probe suite's feature
texts (cosine distance): data that looks like the safety prompts can move safety more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from featurizers.features.config import FeaturizerConfig
from featurizers.features.seeding import derive_seed
from featurizers.prompting import Prompter, start_token_ids
from featurizers.probes.registry import SuiteRegistry

REPRESENTATION_SUITES: tuple[str, ...] = (
    "forgetting.reference", "forgetting.knowledge", "bias.stereotype", "bias.gender_skew",
    "safety.harmful", "safety.benign",
)
LOSS_QUANTILES = (10, 50, 90)

LOSS_FEATURES: tuple[str, ...] = ("fwd.loss_mean", *(f"fwd.loss_p{q}" for q in LOSS_QUANTILES), "fwd.loss_token_weighted")
REPRESENTATION_FEATURES: tuple[str, ...] = tuple(f"fwd.repr_dist.{s}" for s in REPRESENTATION_SUITES)
ENCODER_FEATURES: tuple[str, ...] = tuple(f"enc.dist.{s}" for s in REPRESENTATION_SUITES)


def suite_texts(registry: SuiteRegistry, tokenizer: PreTrainedTokenizerBase, config: FeaturizerConfig,
                rendered: bool) -> dict[str, list[str]]:
    """Each suite's feature-half texts (a seeded subset); `rendered` puts requests through the prompt format."""
    prompter = Prompter.for_tokenizer(tokenizer)

    def request(text: str) -> str:
        return prompter.context(text) if rendered else text

    out: dict[str, list[str]] = {}
    for name in REPRESENTATION_SUITES:
        items = registry.create(name).items("feature")
        if len(items) > config.probes.items_per_suite:
            rng = np.random.default_rng(derive_seed(config.seed, "probe-items", name))
            items = [items[i] for i in sorted(rng.choice(len(items), size=config.probes.items_per_suite, replace=False))]
        if name == "forgetting.reference":
            out[name] = [item.text for item in items]
        elif name == "forgetting.knowledge":
            out[name] = [request(item.question) for item in items]
        elif name == "bias.stereotype":
            out[name] = [t for item in items for t in (item.stereotyped, item.anti_stereotyped)]
        else:
            out[name] = [request(item.prompt) for item in items]
    return out


@torch.no_grad()
def mean_hidden_state(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                      max_length: int, batch_size: int, device: torch.device) -> np.ndarray:
    """Mean over texts of each text's mean last hidden state (right padding, causal: no mask needed)."""
    start = start_token_ids(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    encoded = [(start + list(tokenizer(t, add_special_tokens=False)["input_ids"]))[:max_length] for t in texts]
    encoded.sort(key=len)
    means = []
    for begin in range(0, len(encoded), batch_size):
        batch = encoded[begin:begin + batch_size]
        width = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        real = torch.zeros((len(batch), width, 1), dtype=torch.float32)
        for row, seq in enumerate(batch):
            ids[row, :len(seq)] = torch.tensor(seq)
            real[row, :len(seq)] = 1.0
        hidden = model(input_ids=ids.to(device), output_hidden_states=True, use_cache=False).hidden_states[-1].float().cpu()
        means.append((hidden * real).sum(dim=1) / real.sum(dim=1))
    return torch.cat(means).mean(dim=0).numpy().astype(np.float64)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(1.0 - np.dot(a, b) / denominator) if denominator > 0 else float("nan")


def loss_features(losses: np.ndarray, n_targets: np.ndarray) -> dict[str, float]:
    """Per-example mean-token losses summarised; the token-weighted mean is what training sees."""
    values = {"fwd.loss_mean": float(losses.mean())}
    for q in LOSS_QUANTILES:
        values[f"fwd.loss_p{q}"] = float(np.percentile(losses, q))
    values["fwd.loss_token_weighted"] = float((losses * n_targets).sum() / max(n_targets.sum(), 1.0))
    return {name: values[name] for name in LOSS_FEATURES}


def distance_features(prefix: str, data_mean: np.ndarray, suite_means: np.ndarray) -> dict[str, float]:
    """Cosine distance between the data mean and each suite mean (rows in REPRESENTATION_SUITES order)."""
    return {f"{prefix}.{name}": cosine_distance(data_mean, suite_means[i]) for i, name in enumerate(REPRESENTATION_SUITES)}
