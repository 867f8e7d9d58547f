"""Every error the service itself answers becomes RFC 9457 problem+json, never a trace."""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response; ``errors`` carries field-level messages."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def _http_error(error: HTTPException) -> Response:
    headers = {"Allow": error.get_response().headers["Allow"]} if error.code == 405 else None
    return problem(error.code or 500, error.name, error.description or error.name, headers=headers)


def _unexpected(error: Exception) -> Response:
    structlog.get_logger().error("unhandled-error", exc_info=error)  # frames, not their locals
    fallback = InternalServerError()
    return problem(500, fallback.name, "The service failed to handle the request.")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
