"""In-process cost of one call: the Flask app's WSGI callable, with no socket and no gunicorn.

A timed call is everything the service does for Okta: authenticate, parse and validate,
compute the claims, serialise the answer, and write the canonical log line (to
/dev/null here). With OAuth the bearer is a real RS256 token, checked against a key set
the app fetched at start from a JWKS server on loopback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

from werkzeug.test import EnvironBuilder

from bench import bare_app as bare
from hook import create_app
from hook.config import load_settings
from tests.support import jwks_server

WARM_UP_CALLS = 200


def quantile(ordered: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the sorted values fall (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_calls(app: Callable[..., Any], body: bytes, headers: Mapping[str, str], calls: int):
    """Median and p99, in ms, of ``calls`` POSTs of ``body``; every answer must be a 200."""
    base = EnvironBuilder(
        path="/token-hook",
        method="POST",
        data=body,
        headers=dict(headers),
        content_type="application/json",
    ).get_environ()
    statuses: set[str] = set()

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.add(status)

    durations = []
    for call in range(WARM_UP_CALLS + calls):
        environ = {**base, "wsgi.input": io.BytesIO(body)}
        started = time.perf_counter()
        b"".join(app(environ, start_response))
        if call >= WARM_UP_CALLS:
            durations.append(time.perf_counter() - started)
    if statuses != {"200 OK"}:
        raise RuntimeError(f"in-process calls answered {sorted(statuses)}, not only 200")
    durations.sort()
    return {
        "calls": calls,
        "median_ms": round(quantile(durations, 0.5) * 1000, 4),
        "p99_ms": round(quantile(durations, 0.99) * 1000, 4),
    }


@functools.cache
def _sink() -> TextIO:
    """/dev/null, opened once and left open: structlog's cached loggers keep writing to it."""
    return open(os.devnull, "w")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The apps' log lines go to /dev/null: they are written, not shown."""
    with contextlib.redirect_stderr(_sink()):
        yield


def answer_size(app: Callable[..., Any], body: bytes, headers: Mapping[str, str]) -> int:
    environ = EnvironBuilder(
        path="/token-hook", method="POST", data=body, headers=dict(headers),
        content_type="application/json",
    ).get_environ()  # fmt: skip
    return len(b"".join(app(environ, lambda *_: None)))


def measure(environment: Mapping[str, str], body: bytes, secret: str, calls: int) -> dict:
    """Header auth and OAuth auth, each on its own app built from ``environment``, and the
    bare app (the same header check, an answer of the same size) as the yardstick."""
    with _quiet():
        settings = load_settings(environment)
        header_app = create_app(settings)
        auth = {"Authorization": secret}
        header = time_calls(header_app, body, auth, calls)
        bare_app = bare.create_app(answer_size(header_app, body, auth), settings)
        yardstick = time_calls(bare_app, body, auth, calls)
        keys = jwks_server.JwksServer([jwks_server.signing_key(jwks_server.FIRST_KID)])
        try:
            oauth_env = {**environment, **jwks_server.oauth_environment(keys)}
            oauth_app = create_app(load_settings(oauth_env))
            token = jwks_server.mint(keys.keys[0])
            oauth = time_calls(oauth_app, body, jwks_server.bearer(token), calls)
        finally:
            keys.close()
    return {"header": header, "oauth": oauth, "bare": yardstick}
