"""The log's format, configured once, for the service's own events and for gunicorn's.

JSON lines, or console when a person watches; gunicorn's go through the stdlib bridge.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog

from hook import gunicorn_logs, jsonio
from hook.config import Settings

_LEVELS = logging.getLevelNamesMapping()


def _rendering(log_format: str) -> list[Any]:
    """The last processors: an exception as data (its type, message and frames: file, line,
    function), never its frames' local values, which hold a call's headers and body (rich's
    traceback, the console's default, would show them)."""
    if log_format == "console":
        plain = structlog.dev.plain_traceback
        return [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=plain)]
    return [
        structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        ),
        structlog.processors.JSONRenderer(serializer=jsonio.dumps_text),
    ]


class _Timestamp:
    """A structlog processor: ``timestamp``, ISO 8601 in UTC to the microsecond, as
    ``TimeStamper(fmt="iso", utc=True)`` writes it, at half the cost (the date and the
    seconds are formatted once a second): it was a quarter of the canonical line's cost."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, _logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        second, micro = divmod(self._clock() // 1000, 1_000_000)
        cached, prefix = self._second
        if second != cached:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, prefix)
        event["timestamp"] = f"{prefix}.{micro:06d}Z" if micro else f"{prefix}Z"
        return event


_SHARED = (structlog.processors.add_log_level, _Timestamp())


def configure(settings: Settings) -> None:
    """Configure structlog for this process; called by ``create_app`` and gunicorn's config."""
    structlog.configure(
        processors=[*_SHARED, *_rendering(settings.log_format)],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level.upper()]),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def stdlib_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that renders stdlib records (gunicorn's) like ours,
    without what a caller sent (hook/gunicorn_logs.py)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"without_caller_text": {"()": gunicorn_logs.WithoutCallerText}},
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_rendering(settings.log_format),
                ],
                "foreign_pre_chain": [
                    *_SHARED,
                    structlog.stdlib.add_logger_name,
                    structlog.stdlib.ExtraAdder(allow=("error",)),
                ],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structlog",
                "filters": ["without_caller_text"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level.upper()},
        "loggers": {
            "gunicorn.error": {
                "handlers": ["stderr"],
                "level": settings.log_level.upper(),
                "propagate": False,
            },
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
