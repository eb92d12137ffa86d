"""Request counts and latency histograms per method, readable as a reply or as Prometheus text.

One instance per server (no module-level registry), guarded by one lock:
an observation is a few integer increments, cheap next to any RPC.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

PROMETHEUS_PREFIX = "tunecast_server"


@dataclass
class _MethodRecord:
    buckets: list[int]
    codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count: int = 0
    latency_sum_ms: float = 0.0


@dataclass(frozen=True)
class MethodSnapshot:
    """A consistent copy of one method's figures."""

    method: str
    count: int
    codes: dict[str, int]
    bucket_upper_ms: tuple[float, ...]
    bucket_counts: tuple[int, ...]
    latency_sum_ms: float

    def quantile_ms(self, q: float) -> float:
        """Latency quantile estimated from the histogram (linear within a bucket;
        the overflow bucket reports its lower bound)."""
        if self.count == 0:
            return 0.0
        rank = q * self.count
        seen = 0
        lower = 0.0
        for upper, n in zip(self.bucket_upper_ms, self.bucket_counts):
            if seen + n >= rank and n > 0:
                return lower + (upper - lower) * (rank - seen) / n
            seen += n
            lower = upper
        return lower


class ServerMetrics:
    """Counts by method and status code, latency histograms by method."""

    def __init__(self, bucket_upper_ms: Sequence[float]) -> None:
        self.bucket_upper_ms = tuple(bucket_upper_ms)
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._methods: dict[str, _MethodRecord] = {}

    def observe(self, method: str, code: str, latency_ms: float) -> None:
        slot = bisect.bisect_left(self.bucket_upper_ms, latency_ms)
        with self._lock:
            record = self._methods.get(method)
            if record is None:
                record = self._methods[method] = _MethodRecord(buckets=[0] * (len(self.bucket_upper_ms) + 1))
            record.buckets[slot] += 1
            record.codes[code] += 1
            record.count += 1
            record.latency_sum_ms += latency_ms

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started

    def snapshot(self) -> list[MethodSnapshot]:
        with self._lock:
            return [
                MethodSnapshot(
                    method=name, count=r.count, codes=dict(r.codes),
                    bucket_upper_ms=self.bucket_upper_ms + (float("inf"),),
                    bucket_counts=tuple(r.buckets), latency_sum_ms=r.latency_sum_ms,
                )
                for name, r in sorted(self._methods.items())
            ]

    def prometheus_text(self, gauges: dict[str, float] | None = None) -> str:
        """The figures in the Prometheus text exposition format (version 0.0.4)."""
        p = PROMETHEUS_PREFIX
        lines = [
            f"# HELP {p}_requests_total RPCs handled, by method and status code.",
            f"# TYPE {p}_requests_total counter",
        ]
        snaps = self.snapshot()
        for s in snaps:
            for code, n in sorted(s.codes.items()):
                lines.append(f'{p}_requests_total{{method="{s.method}",code="{code}"}} {n}')
        lines += [
            f"# HELP {p}_latency_ms Server-side latency of RPCs in milliseconds.",
            f"# TYPE {p}_latency_ms histogram",
        ]
        for s in snaps:
            cumulative = 0
            for upper, n in zip(s.bucket_upper_ms, s.bucket_counts):
                cumulative += n
                le = "+Inf" if upper == float("inf") else repr(upper)
                lines.append(f'{p}_latency_ms_bucket{{method="{s.method}",le="{le}"}} {cumulative}')
            lines.append(f'{p}_latency_ms_sum{{method="{s.method}"}} {s.latency_sum_ms}')
            lines.append(f'{p}_latency_ms_count{{method="{s.method}"}} {s.count}')
        for name, value in sorted((gauges or {}).items()):
            lines += [f"# TYPE {p}_{name} gauge", f"{p}_{name} {value}"]
        return "\n".join(lines) + "\n"
