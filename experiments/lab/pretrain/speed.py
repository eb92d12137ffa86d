"""Measure pretraining throughput of fp32 against bf16 autocast on this machine.

Both precisions start from the same weights and see the same batches, so their losses after
the same steps show whether bf16 costs accuracy as well as what it gains in speed.

    python -m experiments.lab.pretrain.speed --corpus DIR --out experiments/results/lab_pretrain_speed.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from experiments.lab.pretrain.config import PretrainConfig, write_text_atomic
from experiments.lab.pretrain.corpus import TRAIN_FILENAME, corpus_file, iter_documents, iter_limited
from experiments.lab.pretrain.data import BlockSampler, load_or_tokenize, pack_blocks
from experiments.lab.pretrain.loop import learning_rate_at, make_optimizer, train_step
from experiments.lab.pretrain.model import build_model, count_parameters
from experiments.lab.pretrain.tokenizer import train_tokenizer

logger = logging.getLogger(__name__)

Precision = Literal["fp32", "bf16"]
DEFAULT_OUT = Path("experiments/results/lab_pretrain_speed.json")


class SpeedConfig(BaseModel):
    """How long and how to measure; the model and batch shape come from the default PretrainConfig."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timed_steps: int = Field(60, ge=1)
    untimed_steps: int = Field(3, ge=0, description="Steps run first to warm up kernels and allocator.")
    lr_warmup_steps: int = Field(10, ge=0)
    loss_window: int = Field(10, ge=1, description="Final steps averaged for the loss comparison.")
    comparable_loss_gap: float = Field(
        0.05, ge=0, description="Largest |loss_bf16 - loss_fp32| (nats) still counted as comparable."
    )
    tokenizer_max_chars: int = Field(5_000_000, ge=1)


class PrecisionResult(BaseModel):
    precision: Precision
    tokens_per_s: float
    seconds: float
    timed_steps: int
    tokens: int
    final_loss: float
    load_avg_1m_before: float
    load_avg_1m_after: float


class SpeedReport(BaseModel):
    """Written to experiments/results; read by humans choosing the default precision."""

    machine: str
    torch_version: str
    threads: int
    omp_wait_policy: str | None
    parameters: int
    block_size: int
    batch_size: int
    speed: SpeedConfig
    results: list[PrecisionResult]
    recommended_precision: Precision
    reason: str


def measure_precision(
    precision: Precision, config: PretrainConfig, speed: SpeedConfig, blocks: np.ndarray, tokenizer
) -> PrecisionResult:
    """Train a fresh default model for the configured steps in one precision and time the timed part."""
    n_steps = speed.untimed_steps + speed.timed_steps
    train = config.train.model_copy(
        update={"precision": precision, "warmup_steps": speed.lr_warmup_steps,
                "max_tokens": n_steps * config.train.tokens_per_step}
    )
    model = build_model(config.model, tokenizer, train.seed)
    model.train()
    optimizer = make_optimizer(model, train)
    sampler = BlockSampler(blocks.shape[0], train.batch_size, train.seed)
    losses: list[float] = []
    load_before = os.getloadavg()[0]
    started = 0.0
    for step in tqdm(range(n_steps), desc=f"speed {precision}", unit="step", leave=False):
        if step == speed.untimed_steps:
            started = time.perf_counter()
        ids = torch.from_numpy(blocks[sampler.batch_indices(step)].astype(np.int64))
        loss, _ = train_step(model, optimizer, ids, train, learning_rate_at(step, train))
        losses.append(loss)
    seconds = time.perf_counter() - started
    tokens = speed.timed_steps * train.tokens_per_step
    return PrecisionResult(
        precision=precision, tokens_per_s=tokens / seconds, seconds=seconds, timed_steps=speed.timed_steps,
        tokens=tokens, final_loss=float(np.mean(losses[-speed.loss_window:])),
        load_avg_1m_before=load_before, load_avg_1m_after=os.getloadavg()[0],
    )


def recommend(results: list[PrecisionResult], speed: SpeedConfig) -> tuple[Precision, str]:
    """Pick bf16 only when it is faster and its loss stays within the comparable gap of fp32."""
    by = {r.precision: r for r in results}
    fp32, bf16 = by["fp32"], by["bf16"]
    gap = bf16.final_loss - fp32.final_loss
    ratio = bf16.tokens_per_s / fp32.tokens_per_s
    if ratio > 1.0 and abs(gap) <= speed.comparable_loss_gap:
        return "bf16", f"bf16 is {ratio:.2f}x fp32 throughput with loss gap {gap:+.3f} nats"
    return "fp32", f"bf16 throughput ratio {ratio:.2f}x, loss gap {gap:+.3f} nats: not worth it"


def run_speed(corpus_dir: Path, out_path: Path, speed: SpeedConfig, config: PretrainConfig) -> SpeedReport:
    train_path = corpus_file(corpus_dir, TRAIN_FILENAME)
    tokenizer = train_tokenizer(iter_limited(iter_documents(train_path), speed.tokenizer_max_chars), config.tokenizer)
    with tempfile.TemporaryDirectory() as cache:
        tokens = load_or_tokenize(train_path, tokenizer, Path(cache), config.train.tokenize_batch_docs)
    blocks = pack_blocks(tokens, config.train.block_size, "train")
    results = [measure_precision(p, config, speed, blocks, tokenizer) for p in ("fp32", "bf16")]
    choice, reason = recommend(results, speed)
    report = SpeedReport(
        machine=f"{platform.machine()} {platform.processor() or platform.platform()}",
        torch_version=torch.__version__, threads=torch.get_num_threads(),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
        parameters=count_parameters(build_model(config.model, tokenizer, config.train.seed)),
        block_size=config.train.block_size, batch_size=config.train.batch_size, speed=speed,
        results=results, recommended_precision=choice, reason=reason,
    )
    write_text_atomic(out_path, report.model_dump_json(indent=2) + "\n")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time fp32 vs bf16 pretraining steps of the lab model.")
    parser.add_argument("--corpus", type=Path, required=True, help="folder with train.txt (a stand-in is fine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--config", type=Path, help="PretrainConfig JSON (defaults otherwise)")
    parser.add_argument("--timed-steps", type=int, help="override SpeedConfig.timed_steps")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="torch threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    config = PretrainConfig.load(args.config) if args.config else PretrainConfig()
    speed = SpeedConfig(**({} if args.timed_steps is None else {"timed_steps": args.timed_steps}))
    report = run_speed(args.corpus, args.out, speed, config)
    print(json.dumps([r.model_dump() for r in report.results], indent=2))
    print(f"recommended: {report.recommended_precision} ({report.reason})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
