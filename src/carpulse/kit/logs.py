"""structlog JSON lines that Cloud Logging reads: `severity`, `message`, `timestamp`.

Every line carries the request id and passes through the privacy mask; records from the
standard library (uvicorn, SQLAlchemy, ...) go through the same pipeline.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from asgi_correlation_id import correlation_id
from structlog.types import EventDict, Processor, WrappedLogger

from carpulse.kit.privacy import mask_mapping

_SEVERITY = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
}


def _add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id and "request_id" not in event:
        event["request_id"] = request_id
    return event


def _add_severity(_: WrappedLogger, method_name: str, event: EventDict) -> EventDict:
    level = event.pop("level", method_name)
    event["severity"] = _SEVERITY.get(str(level).lower(), "DEFAULT")
    return event


def _mask(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    return mask_mapping(event)


def _drop_color_message(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    # uvicorn duplicates the message with ANSI colours in `color_message`.
    event.pop("color_message", None)
    return event


def _shared_processors(foreign: bool) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder() if foreign else structlog.stdlib.PositionalArgumentsFormatter(),
        _drop_color_message,
        _add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.format_exc_info,
        _mask,
    ]


def build_formatter(json_lines: bool = True) -> logging.Formatter:
    """The formatter every handler uses; tests attach it to capture exactly what we print."""
    renderer: list[Processor]
    if json_lines:
        renderer = [
            _add_severity,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=False)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(foreign=True),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )


def configure_logging(level: str = "INFO", json_lines: bool = True, stream: TextIO | None = None) -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(foreign=False),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(build_formatter(json_lines))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_carpulse", False):
            root.removeHandler(existing)
    handler._carpulse = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # We log each request ourselves (with masking); uvicorn's access line would duplicate it.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request URL at INFO; our clients log their own calls, masked.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def get_logger(name: str, **bound: Any) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name, **bound)
    return logger
