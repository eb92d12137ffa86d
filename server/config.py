"""Typed configuration of the forecasting service: addresses, limits, paths.

Every bound a request is checked against lives here, so the limits a server
enforces can be read (and logged at start) in one place.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIB = 1 << 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RequestLimits(_Frozen):
    """Bounds on what one request may carry; past them the request is refused, naming the field."""

    max_message_bytes: int = Field(default=64 * MIB, ge=1024)
    max_batch_candidates: int = Field(default=10_000, ge=1)
    max_stream_candidates: int = Field(default=200_000, ge=1)
    stream_chunk_candidates: int = Field(default=256, ge=1)
    max_levels: int = Field(default=16, ge=1)
    max_id_chars: int = Field(default=256, ge=1)
    max_name_chars: int = Field(default=256, ge=1)
    max_inline_examples: int = Field(default=20_000, ge=1)
    max_inline_bytes: int = Field(default=16 * MIB, ge=1)
    max_dataset_file_bytes: int = Field(default=256 * MIB, ge=1)
    max_path_chars: int = Field(default=4096, ge=1)
    default_top_k: int = Field(default=10, ge=1)
    max_top_k: int = Field(default=200, ge=1)
    preview_chars: int = Field(default=160, ge=1)

    @model_validator(mode="after")
    def _chunk_fits(self) -> RequestLimits:
        if self.stream_chunk_candidates > self.max_stream_candidates:
            raise ValueError("stream_chunk_candidates exceeds max_stream_candidates")
        return self


class ServerConfig(_Frozen):
    """How one server process runs.

    ``model`` is an artifact directory or a registry root (``CURRENT`` +
    ``models/``). ``model_roots`` bound where ReloadModel may load from (default:
    the registry's models directory, or the parent of the artifact directory).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    model: Path | None = None
    model_roots: tuple[Path, ...] = ()
    data_roots: tuple[Path, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    token_file: Path | None = None
    admin_token_file: Path | None = None
    max_workers: int = Field(default=16, ge=1)
    grace_seconds: float = Field(default=5.0, ge=0.0)
    feature_cache_entries: int = Field(default=512, ge=0)
    latency_buckets_ms: tuple[float, ...] = (
        0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0,
    )
    limits: RequestLimits = RequestLimits()

    @model_validator(mode="after")
    def _consistent(self) -> ServerConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        buckets = self.latency_buckets_ms
        if not buckets or any(b <= a for a, b in zip(buckets, buckets[1:])) or buckets[0] <= 0:
            raise ValueError(f"latency_buckets_ms must be positive and strictly increasing, got {buckets}")
        return self

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"
