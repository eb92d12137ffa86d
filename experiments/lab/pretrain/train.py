"""Pretrain the lab base model end to end: tokenizer, token cache, training loop, exported model.

    python -m experiments.lab.pretrain.train --corpus experiments/lab/build/corpus \
        --out experiments/lab/model --run-dir experiments/lab/build/pretrain-run [--resume] [--max-minutes M]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict
from transformers import PreTrainedTokenizerFast

from experiments.lab.pretrain.checkpoint import latest_checkpoint
from experiments.lab.pretrain.config import (
    CONFIG_FILENAME,
    PretrainConfig,
    apply_default_mode,
    write_text_atomic,
)
from experiments.lab.pretrain.corpus import (
    TRAIN_FILENAME,
    VALID_FILENAME,
    corpus_file,
    file_sha256,
    iter_documents,
    iter_limited,
)
from experiments.lab.pretrain.data import load_or_tokenize, pack_blocks
from experiments.lab.pretrain.loop import (
    CHECKPOINT_SUBDIR,
    LOG_FILENAME,
    LoopResult,
    resume_fingerprint,
    run_training,
)
from experiments.lab.pretrain.model import BYTES_PER_FP32, build_model, count_parameters
from experiments.lab.pretrain.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer

logger = logging.getLogger(__name__)

DEFAULT_CORPUS = Path("experiments/lab/build/corpus")
DEFAULT_OUT = Path("experiments/lab/model")
DEFAULT_RUN_DIR = Path("experiments/lab/build/pretrain-run")
TOKENIZER_SUBDIR = "tokenizer"
TOKEN_CACHE_SUBDIR = "tokens"
TOKENIZER_META = "lab_tokenizer_meta.json"
SUMMARY_FILENAME = "pretrain_summary.json"
MAX_OUTPUT_BYTES = 20 * 1024 * 1024
# Tokenizer, configs and log on top of the weights; generous so the pre-flight check is safe.
OUTPUT_OVERHEAD_BYTES = 2 * 1024 * 1024


class TokenizerMeta(BaseModel):
    """Ties a cached tokenizer to the corpus text and settings it was trained on."""

    model_config = ConfigDict(extra="forbid")

    train_sha256: str
    tokenizer_config: dict


class PretrainSummary(BaseModel):
    """Headline facts about an exported model, for reports and for the corpus builder."""

    model_config = ConfigDict(extra="forbid")

    parameters: int
    steps: int
    total_steps: int
    tokens_seen: int
    stop_reason: str
    final_val_loss: float | None
    train_seconds: float
    train_sha256: str
    valid_sha256: str


def prepare_tokenizer(
    config: PretrainConfig, train_path: Path, run_dir: Path, *, must_reuse: bool
) -> PreTrainedTokenizerFast:
    """Reuse the run's tokenizer when it was trained on this exact text and settings, else train one.

    ``must_reuse`` (a resume with checkpoints) turns a mismatch into an error: weights trained
    with one tokenizer must never continue under another.
    """
    tok_dir = run_dir / TOKENIZER_SUBDIR
    meta = TokenizerMeta(train_sha256=file_sha256(train_path), tokenizer_config=config.tokenizer.model_dump())
    meta_path = tok_dir / TOKENIZER_META
    saved = (
        TokenizerMeta.model_validate_json(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else None
    )
    if saved == meta:
        logger.info("reusing tokenizer from %s", tok_dir)
        return load_tokenizer(tok_dir)
    if must_reuse:
        raise ValueError(
            f"{train_path} or the tokenizer settings changed since {run_dir} started "
            f"(tokenizer meta {meta_path} does not match); resume with the original corpus or start a new run dir"
        )
    logger.info("training tokenizer on %s", train_path)
    docs = iter_limited(iter_documents(train_path), config.tokenizer.max_train_chars)
    tokenizer = train_tokenizer(docs, config.tokenizer)
    if tok_dir.exists():
        shutil.rmtree(tok_dir)
    save_tokenizer(tokenizer, tok_dir)
    write_text_atomic(meta_path, meta.model_dump_json(indent=2) + "\n")
    return tokenizer


def export_model(
    out_dir: Path,
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerFast,
    config: PretrainConfig,
    log_path: Path,
    summary: PretrainSummary,
) -> None:
    """Write model + tokenizer + log + configs into a sibling temp dir, then swap it into place."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        model.save_pretrained(str(tmp))
        save_tokenizer(tokenizer, tmp)
        shutil.copyfile(log_path, tmp / LOG_FILENAME)
        config.save(tmp / CONFIG_FILENAME)
        write_text_atomic(tmp / SUMMARY_FILENAME, summary.model_dump_json(indent=2) + "\n")
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        if size > MAX_OUTPUT_BYTES:
            raise ValueError(f"exported model is {size} bytes, over the {MAX_OUTPUT_BYTES}-byte limit")
        apply_default_mode(tmp)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("exported model (%d bytes) to %s", size, out_dir)


def check_resume_config(run_dir: Path, config: PretrainConfig, resume: bool) -> None:
    """Refuse to resume a run under settings other than its own (the time budget may change)."""
    saved_path = run_dir / CONFIG_FILENAME
    if resume and saved_path.is_file():
        saved = PretrainConfig.load(saved_path)
        if resume_fingerprint(saved) != resume_fingerprint(config):
            raise ValueError(
                f"config differs from the one saved in {saved_path}; resume without overrides "
                "other than --max-minutes, or start a new run dir"
            )


def run_pretraining(
    corpus_dir: Path,
    out_dir: Path,
    run_dir: Path,
    config: PretrainConfig,
    *,
    resume: bool = False,
    stop_after_steps: int | None = None,
    init_from: Path | None = None,
) -> LoopResult:
    """Whole pipeline; exports the model only when the token budget or time budget ended the run.

    ``init_from`` starts from an exported model (weights and tokenizer) instead of a random init:
    the second, annealing stage continues the first stage's model on a knowledge-dense mix.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    check_resume_config(run_dir, config, resume)
    train_path = corpus_file(corpus_dir, TRAIN_FILENAME)
    valid_path = corpus_file(corpus_dir, VALID_FILENAME)
    has_checkpoints = latest_checkpoint(run_dir / CHECKPOINT_SUBDIR) is not None
    if init_from is not None:
        tokenizer = load_tokenizer(Path(init_from))
    else:
        tokenizer = prepare_tokenizer(config, train_path, run_dir, must_reuse=resume and has_checkpoints)
    cache_dir = run_dir / TOKEN_CACHE_SUBDIR
    block = config.train.block_size
    batch_docs = config.train.tokenize_batch_docs
    train_blocks = pack_blocks(load_or_tokenize(train_path, tokenizer, cache_dir, batch_docs), block, "train")
    valid_blocks = pack_blocks(load_or_tokenize(valid_path, tokenizer, cache_dir, batch_docs), block, "valid")
    if init_from is not None:
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM.from_pretrained(str(init_from), dtype=torch.float32)
    else:
        model = build_model(config.model, tokenizer, config.train.seed)
    n_params = count_parameters(model)
    if n_params * BYTES_PER_FP32 + OUTPUT_OVERHEAD_BYTES > MAX_OUTPUT_BYTES:
        raise ValueError(
            f"model has {n_params} parameters; its fp32 export would exceed {MAX_OUTPUT_BYTES} bytes"
        )
    logger.info(
        "model: %d parameters; train %d blocks (%d tokens), valid %d blocks; %d steps of %d tokens",
        n_params, train_blocks.shape[0], train_blocks.size, valid_blocks.shape[0],
        config.train.total_steps, config.train.tokens_per_step,
    )
    config.save(run_dir / CONFIG_FILENAME)
    result = run_training(
        config, model, train_blocks, valid_blocks, run_dir, resume=resume, stop_after_steps=stop_after_steps
    )
    if result.stop_reason == "step_limit":
        return result
    summary = PretrainSummary(
        parameters=n_params, steps=result.step, total_steps=config.train.total_steps,
        tokens_seen=result.tokens_seen, stop_reason=result.stop_reason, final_val_loss=result.last_val_loss,
        train_seconds=result.train_seconds, train_sha256=file_sha256(train_path),
        valid_sha256=file_sha256(valid_path),
    )
    export_model(out_dir, model, tokenizer, config, run_dir / LOG_FILENAME, summary)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Pretrain the tunecast lab base model on CPU.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with train.txt and valid.txt")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="exported model folder")
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="checkpoints, caches and log")
    parser.add_argument("--config", type=Path, help="PretrainConfig JSON (defaults otherwise)")
    parser.add_argument("--resume", action="store_true", help="continue from the run dir's latest checkpoint")
    parser.add_argument("--max-minutes", type=float, help="wall-clock budget of this invocation")
    parser.add_argument("--max-tokens", type=int, help="token budget (sets the schedule length)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], help="override train.precision")
    parser.add_argument("--seed", type=int, help="override train.seed")
    parser.add_argument(
        "--threads", type=int, default=len(os.sched_getaffinity(0)),
        help="torch intra-op threads (default: the cores this process may use)",
    )
    parser.add_argument("--init-from", type=Path, help="start from this exported model (annealing stage)")
    parser.add_argument("--stop-after-steps", type=int, help="stop (with a checkpoint, no export) after N steps")
    return parser


def config_from_args(args: argparse.Namespace) -> PretrainConfig:
    """Defaults, or --config, or (on --resume) the run dir's saved config; then the CLI overrides."""
    saved = args.run_dir / CONFIG_FILENAME
    if args.config:
        base = PretrainConfig.load(args.config)
    elif args.resume and saved.is_file():
        base = PretrainConfig.load(saved)
    else:
        base = PretrainConfig()
    overrides = {
        "max_minutes": args.max_minutes, "max_tokens": args.max_tokens,
        "precision": args.precision, "seed": args.seed,
    }
    update = {k: v for k, v in overrides.items() if v is not None}
    train = base.train.model_validate({**base.train.model_dump(), **update})
    return PretrainConfig(tokenizer=base.tokenizer, model=base.model, train=train)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    config = config_from_args(args)
    result = run_pretraining(
        args.corpus, args.out, args.run_dir, config, resume=args.resume, stop_after_steps=args.stop_after_steps,
        init_from=args.init_from,
    )
    print(json.dumps({"step": result.step, "tokens_seen": result.tokens_seen,
                      "stop_reason": result.stop_reason, "val_loss": result.last_val_loss}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
