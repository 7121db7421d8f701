"""Structured (JSON lines) logging. Records never carry secrets: API keys are not logged."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}
_SECRET_WORDS = ("key", "secret", "password", "token", "authorization")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields whose names suggest secrets are masked."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in vars(record).items():
            if k in _RESERVED or k.startswith("_"):
                continue
            if any(w in k.lower() for w in _SECRET_WORDS) and k != "key_id":
                v = "***"
            out[k] = v if isinstance(v, str | int | float | bool | None) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Send provkit's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("provkit")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config`` dictionary for uvicorn: its start-up and error lines as JSON lines
    too, and no plain-text access lines (the service's middleware logs each request once, as
    JSON, without the query string)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
