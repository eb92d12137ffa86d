"""JSON-lines log formatting for the server process (access logs and everything else).

Installed by ``serve_command`` only; library code just logs, and tests keep
pytest's own handlers.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Final

ACCESS_LOGGER: Final[str] = "tunecast.access"
FIELDS_ATTR: Final[str] = "fields"
"""Log records may carry a dict under this attribute (``extra={"fields": {...}}``); it is merged into the JSON."""


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, FIELDS_ATTR, None)
        if isinstance(extra, dict):
            payload.update(extra)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Route the root logger to stderr as JSON lines (called by the serve command)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
