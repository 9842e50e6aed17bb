"""structlog set-up: JSON in production, readable in development; secrets never logged."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

SECRET_KEYS = re.compile(r"(password|secret|token|authorization|api_key|signature)", re.I)
BEARER = re.compile(r"(oms_[a-z0-9]{8})_[A-Za-z0-9_-]+")


def redact_secrets(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Blank any value whose key names a secret, and the secret part of API keys in text."""
    for key, value in list(event.items()):
        if SECRET_KEYS.search(key):
            event[key] = "[redacted]"
        elif isinstance(value, str) and "oms_" in value:
            event[key] = BEARER.sub(r"\1_[redacted]", value)
    return event


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Set structlog and the standard library's logging to one format."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # An event below the level is dropped first, before any work is spent on it.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
