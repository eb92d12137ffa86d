"""The caller's deadline, carried down to the slow steps (featurization, long batches).

Checking it between steps means a request whose caller has given up stops
using CPU instead of finishing work nobody will read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from server.errors import deadline_exceeded


class _HasTimeRemaining(Protocol):
    def time_remaining(self) -> float | None: ...


@dataclass(frozen=True)
class Deadline:
    """An absolute point on the monotonic clock, or None for "no deadline"."""

    expires_at: float | None

    @classmethod
    def from_context(cls, context: _HasTimeRemaining) -> Deadline:
        remaining = context.time_remaining()
        return cls(None if remaining is None else time.monotonic() + remaining)

    @classmethod
    def none(cls) -> Deadline:
        return cls(None)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - time.monotonic())

    def check(self, before: str) -> None:
        """Raise DEADLINE_EXCEEDED when the caller's deadline has passed."""
        if self.expires_at is not None and time.monotonic() >= self.expires_at:
            raise deadline_exceeded(f"the caller's deadline passed before {before}")
