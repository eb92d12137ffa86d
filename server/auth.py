"""Bearer-token checks: a caller token for the service, an admin token for admin RPCs.

Tokens are compared in constant time against both secrets on every call, so
timing reveals neither a token's prefix nor which of the two it matched.
"""

from __future__ import annotations

import hmac
import logging
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import grpc

from server.errors import ServiceError

logger = logging.getLogger(__name__)

AUTH_HEADER: Final[str] = "authorization"
BEARER: Final[str] = "bearer "
MIN_TOKEN_CHARS: Final[int] = 16
_NO_SECRET: Final[bytes] = b"\x00" * 32


def read_token(path: Path, flag: str) -> str:
    """The token in ``path`` (surrounding whitespace dropped); warns when others can read it."""
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{flag} {path}: cannot be read ({exc.strerror})") from exc
    if not token:
        raise ValueError(f"{flag} {path}: the file is empty; put the token on its first line")
    if any(ch.isspace() for ch in token):
        raise ValueError(f"{flag} {path}: the token contains whitespace; one token per file")
    if len(token) < MIN_TOKEN_CHARS:
        logger.warning("%s %s: token is shorter than %d characters", flag, path, MIN_TOKEN_CHARS)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("%s %s: readable by group or others; chmod 600 it", flag, path)
    return token


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of the first ``authorization: Bearer <token>`` entry, if any."""
    for key, value in metadata or ():
        if key.lower() != AUTH_HEADER:
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if text[: len(BEARER)].lower() == BEARER:
            return text[len(BEARER):].strip()
        return ""
    return None


def _matches(presented: bytes, secret: str | None) -> bool:
    expected = secret.encode("utf-8") if secret is not None else _NO_SECRET
    return hmac.compare_digest(presented, expected) and secret is not None


class TokenPolicy:
    """Which calls need which token. Open methods (health checks) need none."""

    def __init__(
        self,
        token: str | None,
        admin_token: str | None,
        admin_methods: frozenset[str],
        open_methods: frozenset[str],
    ) -> None:
        self._token = token
        self._admin_token = admin_token
        self.admin_methods = admin_methods
        self.open_methods = open_methods

    @property
    def requires_token(self) -> bool:
        return self._token is not None

    def check(self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None) -> ServiceError | None:
        """None when the call may proceed, else the refusal to send."""
        if method in self.open_methods:
            return None
        presented = bearer_token(metadata)
        raw = (presented or "").encode("utf-8")
        is_user = _matches(raw, self._token)
        is_admin = _matches(raw, self._admin_token)
        if method in self.admin_methods:
            if self._admin_token is None:
                return ServiceError(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "admin RPCs are disabled on this server; start it with --admin-token-file",
                )
            if is_admin:
                return None
            if not presented:
                return ServiceError(grpc.StatusCode.UNAUTHENTICATED, "admin RPC: send 'authorization: Bearer <admin token>'")
            return ServiceError(grpc.StatusCode.PERMISSION_DENIED, "this RPC needs the admin token")
        if self._token is None or is_user or is_admin:
            return None
        if not presented:
            return ServiceError(grpc.StatusCode.UNAUTHENTICATED, "missing metadata 'authorization: Bearer <token>'")
        return ServiceError(grpc.StatusCode.UNAUTHENTICATED, "the bearer token is not valid")
