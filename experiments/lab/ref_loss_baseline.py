"""Unigram baseline for `forgetting.ref_loss`: what a model that knows only token
frequencies scores on the held-out reference text, with the same tokenizer and tokens.

The lab model must beat it clearly, or its reference loss measures nothing worth forgetting.

    python -m experiments.lab.ref_loss_baseline --model experiments/lab/model \
        --corpus experiments/lab/build/corpus --out experiments/results/lab_ref_loss_baseline.json
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from pathlib import Path
from typing import Sequence

from pydantic import BaseModel, ConfigDict
from tqdm.auto import tqdm

from featurizers.chat_format import DOC_TOKEN
from featurizers.io import write_json_atomic


class BaselineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    corpus: str
    split: str = "eval"
    smoothing: float = 1.0  # add-k smoothing so unseen tokens get finite loss
    chunk_chars: int = 1_000_000


def unigram_nll(config: BaselineConfig) -> dict[str, float]:
    from transformers import AutoTokenizer

    from featurizers.loading import load_causal_lm
    from featurizers.probes.evaluate import EvaluationConfig, evaluate_model
    from featurizers.probes.registry import default_registry

    tokenizer = AutoTokenizer.from_pretrained(config.model)
    counts: Counter[int] = Counter()
    text = (Path(config.corpus) / "train.txt").read_text(encoding="utf-8").replace(DOC_TOKEN, "")
    for begin in tqdm(range(0, len(text), config.chunk_chars), desc="counting tokens"):
        counts.update(tokenizer(text[begin:begin + config.chunk_chars], add_special_tokens=False)["input_ids"])
    total = sum(counts.values()) + config.smoothing * len(tokenizer)
    items = default_registry().create("forgetting.reference").items(config.split)  # type: ignore[arg-type]
    nll, n = 0.0, 0
    for item in items:
        for token in tokenizer(item.text, add_special_tokens=False)["input_ids"]:
            nll -= math.log((counts[token] + config.smoothing) / total)
            n += 1
    model_loss = evaluate_model(load_causal_lm(config.model, device="cpu"),
                                EvaluationConfig(suites=["forgetting.reference"], split=config.split))
    return {"unigram_ref_loss": nll / n, "model_ref_loss": model_loss["forgetting.ref_loss"], "n_tokens": float(n),
            "unigram_train_tokens": float(sum(counts.values()))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="experiments/lab/model")
    parser.add_argument("--corpus", default="experiments/lab/build/corpus")
    parser.add_argument("--out", default="experiments/results/lab_ref_loss_baseline.json")
    args = parser.parse_args(argv)
    config = BaselineConfig(model=args.model, corpus=args.corpus)
    result = unigram_nll(config)
    write_json_atomic(args.out, {"config": config.model_dump(), "results": result})
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
