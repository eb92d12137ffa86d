"""The pretraining loop: AdamW, warm-up + cosine, clipping, periodic validation and checkpoints.

The learning rate is a pure function of the step and the data order a pure function of
(seed, step), so the only state a resume needs is what the checkpoint holds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from experiments.lab.pretrain.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from experiments.lab.pretrain.config import PretrainConfig, TrainConfig, write_text_atomic
from experiments.lab.pretrain.data import BlockSampler

logger = logging.getLogger(__name__)

LOG_FILENAME = "training_log.jsonl"
CHECKPOINT_SUBDIR = "checkpoints"
SECONDS_PER_MINUTE = 60.0
_MIN_WINDOW_SECONDS = 1e-9

StopReason = Literal["token_budget", "time_budget", "step_limit"]


@dataclass(frozen=True)
class LoopResult:
    """Where a call to :func:`run_training` left the run."""

    step: int
    tokens_seen: int
    stop_reason: StopReason
    last_val_loss: float | None
    train_seconds: float


def learning_rate_at(step: int, train: TrainConfig) -> float:
    """Linear warm-up to the peak, then cosine decay to ``min_lr_ratio`` of it at the last step."""
    peak = train.learning_rate
    floor = peak * train.min_lr_ratio
    if train.warmup_steps and step < train.warmup_steps:
        return peak * (step + 1) / train.warmup_steps
    decay_steps = max(1, train.total_steps - train.warmup_steps)
    progress = min(1.0, (step - train.warmup_steps) / decay_steps)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, train: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only; norms' gains are left undecayed."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": train.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=train.learning_rate,
        betas=(train.beta1, train.beta2),
        eps=train.adam_eps,
        foreach=False,
    )


def autocast_context(precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CPU keeps fp32 master weights; fp32 runs plain."""
    if precision == "bf16":
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, ids: torch.Tensor, train: TrainConfig, lr: float
) -> tuple[float, float]:
    """One optimiser step on one batch; returns (loss, pre-clip gradient norm)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    with autocast_context(train.precision):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach()), float(grad_norm)


def resume_fingerprint(config: PretrainConfig) -> str:
    """Config JSON minus the fields that may change between invocations of one run."""
    return config.model_dump_json(exclude={"train": {"max_minutes"}})


@torch.no_grad()
def evaluate(model: torch.nn.Module, blocks: np.ndarray, train: TrainConfig) -> float:
    """Mean next-token loss over the first ``eval_blocks`` validation blocks (a fixed set)."""
    was_training = model.training
    model.eval()
    subset = blocks[: train.eval_blocks]
    total, count = 0.0, 0
    for start in range(0, subset.shape[0], train.eval_batch_size):
        ids = torch.from_numpy(subset[start : start + train.eval_batch_size].astype(np.int64))
        with autocast_context(train.precision):
            loss = model(input_ids=ids, labels=ids).loss
        total += float(loss) * ids.shape[0]
        count += ids.shape[0]
    model.train(was_training)
    return total / count


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop log records past the checkpoint being resumed, so the log matches the weights."""
    if not log_path.is_file():
        return
    kept = [
        line for line in log_path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["step"] <= step
    ]
    write_text_atomic(log_path, "".join(f"{line}\n" for line in kept))


def _append_log(log_path: Path, record: dict[str, Any]) -> None:
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def run_training(
    config: PretrainConfig,
    model: torch.nn.Module,
    train_blocks: np.ndarray,
    valid_blocks: np.ndarray,
    run_dir: Path,
    *,
    resume: bool,
    stop_after_steps: int | None = None,
) -> LoopResult:
    """Train until the token budget, the time budget or ``stop_after_steps`` (this call) runs out."""
    train = config.train
    run_dir = Path(run_dir)
    ckpt_root = run_dir / CHECKPOINT_SUBDIR
    log_path = run_dir / LOG_FILENAME
    fingerprint = resume_fingerprint(config)
    optimizer = make_optimizer(model, train)
    sampler = BlockSampler(train_blocks.shape[0], train.batch_size, train.seed)

    step, tokens_seen, prior_seconds = 0, 0, 0.0
    latest = latest_checkpoint(ckpt_root)
    if resume and latest is not None:
        state = load_checkpoint(latest, model, optimizer, fingerprint)
        step, tokens_seen, prior_seconds = state.step, state.tokens_seen, state.train_seconds
        _truncate_log(log_path, step)
    elif resume:
        logger.warning("--resume given but %s holds no checkpoint; starting at step 0", ckpt_root)
    elif latest is not None:
        raise FileExistsError(
            f"{ckpt_root} already holds checkpoints (latest {latest.name}); pass --resume or use a new run dir"
        )
    else:
        log_path.unlink(missing_ok=True)

    total_steps = train.total_steps
    budget_s = None if train.max_minutes is None else train.max_minutes * SECONDS_PER_MINUTE
    started = time.monotonic()
    first_step = step
    model.train()
    last_val: float | None = None
    stop_reason: StopReason = "token_budget"
    window_loss, window_steps, window_start = 0.0, 0, time.monotonic()

    def elapsed() -> float:
        return time.monotonic() - started

    saved_step, eval_step = step, step

    def validate() -> None:
        nonlocal last_val, eval_step
        last_val = evaluate(model, valid_blocks, train)
        eval_step = step
        _append_log(log_path, {"step": step, "tokens": tokens_seen, "val_loss": last_val})
        logger.info("step %d: validation loss %.4f", step, last_val)

    def checkpoint() -> None:
        nonlocal saved_step
        saved_step = step
        save_checkpoint(
            ckpt_root, model, optimizer, step=step, tokens_seen=tokens_seen,
            train_seconds=prior_seconds + elapsed(), config_json=fingerprint, keep=train.keep_checkpoints,
        )

    bar = tqdm(total=total_steps, initial=step, desc="pretraining", unit="step", dynamic_ncols=True)
    try:
        while step < total_steps:
            if stop_after_steps is not None and step - first_step >= stop_after_steps:
                stop_reason = "step_limit"
                break
            if budget_s is not None and elapsed() >= budget_s:
                stop_reason = "time_budget"
                break
            lr = learning_rate_at(step, train)
            ids = torch.from_numpy(train_blocks[sampler.batch_indices(step)].astype(np.int64))
            loss, grad_norm = train_step(model, optimizer, ids, train, lr)
            step += 1
            tokens_seen += train.tokens_per_step
            window_loss += loss
            window_steps += 1
            bar.update(1)

            if step % train.log_interval == 0 or step == total_steps:
                window_s = time.monotonic() - window_start
                tok_s = window_steps * train.tokens_per_step / max(window_s, _MIN_WINDOW_SECONDS)
                record = {
                    "step": step, "tokens": tokens_seen, "loss": window_loss / window_steps,
                    "lr": lr, "grad_norm": grad_norm, "tokens_per_s": tok_s,
                    "elapsed_s": prior_seconds + elapsed(),
                }
                _append_log(log_path, record)
                bar.set_postfix(loss=f"{record['loss']:.3f}", tok_s=f"{tok_s:,.0f}", lr=f"{lr:.2e}")
                window_loss, window_steps, window_start = 0.0, 0, time.monotonic()
            if step % train.eval_interval == 0 or step == total_steps:
                validate()
            if step % train.checkpoint_interval == 0 or step == total_steps:
                checkpoint()
    finally:
        bar.close()
    if eval_step != step or last_val is None:
        validate()
    if step > first_step and saved_step != step:
        checkpoint()
    return LoopResult(
        step=step, tokens_seen=tokens_seen, stop_reason=stop_reason,
        last_val_loss=last_val, train_seconds=prior_seconds + elapsed(),
    )
