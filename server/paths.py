"""Resolving caller-supplied paths strictly inside configured roots.

A path from the wire is refused unless its real path (all symlinks resolved)
lies inside a root; ``..`` components are refused outright, before any
filesystem access, so a probe cannot even learn whether a file exists outside.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from server.errors import denied, invalid, not_found

PathKind = Literal["file", "dir"]


def real_roots(roots: Sequence[Path]) -> tuple[Path, ...]:
    """Roots as real absolute paths (a root that is itself a symlink is followed once, here)."""
    return tuple(Path(os.path.realpath(root)) for root in roots)


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_inside(raw: str, roots: Sequence[Path], field: str, kind: PathKind, max_chars: int) -> Path:
    """The real path ``raw`` names inside one of ``roots`` (already real), or a ServiceError.

    Relative paths are tried against each root in order; absolute ones must
    already lie inside a root.
    """
    if not raw:
        raise invalid(field, "is empty: give a path inside the server's data roots")
    if len(raw) > max_chars:
        raise invalid(field, f"is {len(raw)} characters long; the limit is {max_chars}")
    if "\x00" in raw:
        raise invalid(field, "contains a NUL character")
    if not roots:
        raise denied(field, "this server has no roots configured for paths; send the data inline instead")
    if ".." in PurePosixPath(raw).parts or ".." in Path(raw).parts:
        raise denied(field, "'..' components are not allowed; name the file relative to a root")
    given = Path(raw)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    escaped = False
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if not _inside(real, roots):
            if os.path.lexists(candidate) or given.is_absolute():
                escaped = True
            continue
        if (kind == "file" and real.is_file()) or (kind == "dir" and real.is_dir()):
            return real
    if escaped:
        raise denied(field, "resolves outside the configured roots (absolute path or symlink escape)")
    raise not_found(field, f"no {kind} of that name inside the configured roots")


def open_inside(real: Path, roots: Sequence[Path], field: str) -> int:
    """Open ``real`` read-only without following a final symlink and re-check where the
    descriptor points (closes the window between resolving and opening)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise not_found(field, f"cannot be opened: {exc.strerror}") from exc
    proc_link = Path(f"/proc/self/fd/{fd}")
    if proc_link.exists():
        opened = Path(os.readlink(proc_link))
        if not _inside(opened, roots):
            os.close(fd)
            raise denied(field, "changed to point outside the configured roots while being opened")
    return fd
