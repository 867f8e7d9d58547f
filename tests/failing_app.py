"""Apps that fail under the real gunicorn, to read how the failure is logged: the service
with one function made to raise (``tests.failing_app:failing_hook()``), and a bare WSGI
app that raises before it answers (``tests.failing_app:raw_app``), which gunicorn logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

import hook.views
from hook import create_app

#: Held in a local variable of each failing frame: no log line may carry it.
SECRET_IN_A_LOCAL = "local-secret-0123456789-abcdefghijklmnopqrst"


def _explode(*_args: object) -> None:
    secret = SECRET_IN_A_LOCAL
    raise RuntimeError(f"answer failed ({len(secret)} characters)")


def failing_hook() -> Flask:
    """The service, its answer's builder raising: an error the service did not expect."""
    hook.views.build_answer = _explode
    return create_app()


def raw_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Up on /healthz (the tests wait for it), raising on every other path."""
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    secret = SECRET_IN_A_LOCAL
    raise LookupError(f"raw app failed ({len(secret)} characters)")
