"""One canonical log line per request: what was decided, how long it took, nothing personal.

A WSGI middleware around the Flask app rather than Flask's request hooks: it sees every
answer (404s and 500s included), reads the method and path straight from the WSGI
environment, and costs less than half what the hooks cost (docs/performance.md). The
views add what they decided to :func:`facts`; the middleware writes the line once the
answer is ready, and hands them to the observer of the request's path, if any (the
metrics of ``POST /token-hook``).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog
from werkzeug.routing import Map

FACTS_KEY = "psc_token_hook.facts"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+-]{1,128}")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: Sees a request's status, duration in seconds and facts, once it is answered.
Observer = Callable[[int, float, Mapping[str, Any]], None]


def _new_request_id() -> str:
    """32 hex digits. An id to find a line by, not a secret: ``random`` is enough, and
    Python reseeds it in every forked worker, so workers do not repeat each other."""
    return f"{random.getrandbits(128):032x}"


def facts(environ: dict[str, Any]) -> dict[str, Any]:
    """The current request's facts, which its log line will carry."""
    return environ[FACTS_KEY]


class CanonicalLog:
    """Give each request an id (the caller's ``X-Request-Id`` when well-formed), echo it in
    the answer, and log one line when the answer is ready, or when the app raised. A method
    or path the app does not route is logged as "other": it is the caller's text, and could
    hold a name."""

    def __init__(
        self, app: WsgiApp, url_map: Map, observers: Mapping[str, Observer] | None = None
    ) -> None:
        self.app = app
        self.observers = dict(observers or {})
        rules = list(url_map.iter_rules())
        self.paths = frozenset(rule.rule for rule in rules)
        self.methods = frozenset(method for rule in rules for method in rule.methods or ())
        # Bound now, once structlog is configured: a call then skips the lazy proxy.
        self.log = structlog.get_logger("psc_token_hook").bind()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if REQUEST_ID.fullmatch(supplied) else _new_request_id()
        recorded = environ[FACTS_KEY] = {}
        status = "500"  # what the line says if the app raises before it answers

        def start(status_line: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            nonlocal status
            status = status_line
            headers.append(("X-Request-Id", request_id))
            return start_response(status_line, headers, *exc_info)

        try:
            return self.app(environ, start)
        finally:
            elapsed = time.perf_counter() - started
            method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
            code = int(status[:3])
            self.log.info(
                "request",
                request_id=request_id,
                method=method if method in self.methods else "other",
                path=path if path in self.paths else "other",
                status=code,
                duration_ms=round(elapsed * 1000, 3),
                **recorded,
            )
            observe = self.observers.get(path)
            if observe is not None:
                observe(code, elapsed, recorded)
