"""What a run ran on: a readable hardware string for the run record's cost side."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

CPUINFO = Path("/proc/cpuinfo")
CPU_MODEL_KEYS = ("model name", "Hardware", "Processor")


def cpu_model() -> str:
    """The CPU model string from /proc/cpuinfo, else what `platform` knows."""
    if CPUINFO.is_file():
        for line in CPUINFO.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in CPU_MODEL_KEYS and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown cpu"


def hardware_string(device: torch.device) -> str:
    """CUDA device name for GPU runs; CPU model and thread count for CPU runs."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda: {torch.cuda.get_device_name(index)}"
    return f"cpu: {cpu_model()} ({torch.get_num_threads()} threads)"


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` torch CPU threads (None: leave as is), then restore the old count."""
    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
