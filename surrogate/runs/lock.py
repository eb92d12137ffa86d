"""An advisory, crash-safe directory lock for writers of the run store.

``fcntl.flock`` is released by the kernel when its holder dies, so a crashed
writer never leaves the store locked (an O_EXCL lock file would). Advisory
only, and unreliable on some network filesystems: hence "best effort".
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class StoreLockTimeout(TimeoutError):
    """Another writer held the store lock for longer than we were willing to wait."""


@contextmanager
def exclusive_lock(path: Path, timeout_s: float, poll_s: float) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing) for the block."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreLockTimeout(
                        f"could not lock {path} within {timeout_s} s: another writer holds it; "
                        "retry, or raise RunStoreConfig.lock_timeout_s"
                    ) from exc
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def stamped_name(prefix: str, suffix: str) -> str:
    """A file name that sorts by creation time and never collides across writers."""
    return f"{prefix}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex}{suffix}"


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a crash after it cannot resurrect the old listing)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
