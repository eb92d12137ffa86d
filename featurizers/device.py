"""Device choice: CUDA when present, CPU otherwise, never a silent surprise."""

from __future__ import annotations

import torch


def resolve_device(device: str = "auto") -> torch.device:
    """Map "auto" to cuda when available; validate explicit names with a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device: unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available on this machine; use 'auto' or 'cpu'")
    return resolved
