"""A WSGI app whose ``/held`` call never ends on its own, to test how a worker stops: under
``gunicorn -c python:hook.gunicorn_conf tests.held_app:app``, with the hook's worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gevent

#: Longer than any stop a test makes: only the worker's stop ends the call.
HELD_S = 600
HELD_FIRST_LINE = b"held\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/held":
        return _held()
    return iter([b"ok\n"])


def _held() -> Iterator[bytes]:
    yield HELD_FIRST_LINE  # the client knows the call is in flight
    gevent.sleep(HELD_S)
    yield b"released\n"
