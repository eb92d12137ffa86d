"""Pickle-free training checkpoints: weights and optimiser tensors in safetensors, the rest in JSON.

A checkpoint folder appears under its final name only once complete (written beside it, then
renamed), so the latest folder is always safe to resume from.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict
from safetensors.torch import load_file, load_model, save_file, save_model

from experiments.lab.pretrain.config import apply_default_mode, write_text_atomic

logger = logging.getLogger(__name__)

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
_PREFIX = "step-"
_STEP_DIGITS = 8
_TENSOR_SEP = "."


class CheckpointState(BaseModel):
    """Loop position and everything non-tensor needed to continue bit-for-bit."""

    model_config = ConfigDict(extra="forbid")

    step: int
    tokens_seen: int
    train_seconds: float
    torch_rng_state_b64: str
    optimizer_param_groups: list[dict[str, Any]]
    optimizer_scalars: dict[str, dict[str, Any]]
    config_json: str


def checkpoint_dir_name(step: int) -> str:
    return f"{_PREFIX}{step:0{_STEP_DIGITS}d}"


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [
        p for p in root.iterdir()
        if p.is_dir() and p.name.startswith(_PREFIX) and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name[len(_PREFIX):]))


def latest_checkpoint(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1] if found else None


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict, list]:
    """Split an optimiser state dict into tensors (safetensors) and scalars/groups (JSON)."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, per_param in state_dict["state"].items():
        for name, value in per_param.items():
            key = f"{param_id}{_TENSOR_SEP}{name}"
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                tensors[key] = value.detach().contiguous()
            elif isinstance(value, torch.Tensor):
                scalars[key] = {"value": value.item(), "dtype": str(value.dtype).removeprefix("torch.")}
            else:
                scalars[key] = {"value": value, "dtype": None}
    groups = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items()}
        for group in state_dict["param_groups"]
    ]
    return tensors, scalars, groups


def _unflatten_optimizer(
    tensors: dict[str, torch.Tensor], scalars: dict[str, dict[str, Any]], groups: list[dict[str, Any]]
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        param_id, name = key.split(_TENSOR_SEP, 1)
        state.setdefault(int(param_id), {})[name] = tensor
    for key, entry in scalars.items():
        param_id, name = key.split(_TENSOR_SEP, 1)
        value = entry["value"]
        if entry["dtype"] is not None:
            value = torch.tensor(value, dtype=getattr(torch, entry["dtype"]))
        state.setdefault(int(param_id), {})[name] = value
    param_groups = [
        {k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in group.items()}
        for group in groups
    ]
    return {"state": state, "param_groups": param_groups}


def save_checkpoint(
    root: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    step: int,
    tokens_seen: int,
    train_seconds: float,
    config_json: str,
    keep: int,
) -> Path:
    """Write one checkpoint folder atomically and prune all but the newest ``keep``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / checkpoint_dir_name(step)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}."))
    try:
        save_model(model, str(tmp / MODEL_FILE))
        tensors, scalars, groups = _flatten_optimizer(optimizer)
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        rng = base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii")
        state = CheckpointState(
            step=step,
            tokens_seen=tokens_seen,
            train_seconds=train_seconds,
            torch_rng_state_b64=rng,
            optimizer_param_groups=groups,
            optimizer_scalars=scalars,
            config_json=config_json,
        )
        write_text_atomic(tmp / STATE_FILE, state.model_dump_json(indent=1) + "\n")
        apply_default_mode(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(root)[:-keep]:
        shutil.rmtree(old)
    logger.info("saved checkpoint %s", final)
    return final


def load_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, config_json: str
) -> CheckpointState:
    """Restore weights, optimiser and RNG in place; refuse a checkpoint made under another config."""
    path = Path(path)
    state = CheckpointState.model_validate(json.loads((path / STATE_FILE).read_text(encoding="utf-8")))
    if json.loads(state.config_json) != json.loads(config_json):
        raise ValueError(
            f"checkpoint {path} was written under a different pretraining config; "
            "resume with the run dir's own config or start a new run dir"
        )
    missing, unexpected = load_model(model, str(path / MODEL_FILE), strict=True)
    if missing or unexpected:
        raise ValueError(f"checkpoint {path} weights do not match the model: missing={missing} unexpected={unexpected}")
    tensors = load_file(str(path / OPTIMIZER_FILE))
    optimizer.load_state_dict(_unflatten_optimizer(tensors, state.optimizer_scalars, state.optimizer_param_groups))
    rng_bytes = bytearray(base64.b64decode(state.torch_rng_state_b64))
    torch.set_rng_state(torch.frombuffer(rng_bytes, dtype=torch.uint8).clone())
    logger.info("resumed from %s at step %d", path, state.step)
    return state
