"""JSON logs that carry the correlation id of the request or event being handled."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import sys

import orjson

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

# What a caller may choose as its correlation id: it is copied into logs and every event the
# request causes, so it is short and plain (a UUID, a trace id, `req-42`).
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


def valid_correlation_id(value: str | None) -> str | None:
    """`value` if it is an acceptable correlation id, else None (the caller makes a fresh one)."""
    return value if value is not None and _CORRELATION_ID.fullmatch(value) else None

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own lines ("Started server process", errors) in the same format: its loggers
    # hand their records to the root handler instead of printing plain text themselves.
    # (The app factory runs before uvicorn logs its first line, so this catches all of them.)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.disabled = False  # a fileConfig (alembic's) in the same process disables existing loggers
        logger.setLevel(logging.NOTSET)  # LOG_LEVEL (the root's) rules, not uvicorn's --log-level
    # one access line per request comes from RequestContextMiddleware (with the correlation id)
    for noisy in ("uvicorn.access", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def uvicorn_log_config(service: str, level: str = "INFO") -> dict:
    """A `log_config` for uvicorn.run: its lines as JSON from the first one on."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }
