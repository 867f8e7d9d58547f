"""structlog, configured once: JSON lines (or console when a person watches), one renderer
for the service's own events and for gunicorn's, which go through the stdlib bridge."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from hook import jsonio
from hook.config import Settings

_LEVELS = logging.getLevelNamesMapping()


def _renderer(log_format: str) -> Any:
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(serializer=jsonio.dumps_text)


_SHARED = (
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
)


def configure(settings: Settings) -> None:
    """Configure structlog for this process; called by ``create_app`` and gunicorn's config."""
    structlog.configure(
        processors=[*_SHARED, _renderer(settings.log_format)],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level.upper()]),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def stdlib_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that renders stdlib records (gunicorn's) like ours."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _renderer(settings.log_format),
                ],
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.add_logger_name],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structlog",
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
