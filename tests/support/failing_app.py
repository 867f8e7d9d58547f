"""Apps that fail under the real gunicorn, to read how the failure is logged: the service
with one function made to raise (``tests.failing_app:failing_hook()``), a bare WSGI
app that raises before it answers (``tests.failing_app:raw_app``), which gunicorn logs, and
an app that fails to load when the test says (``tests.failing_app:failing_on_cue()``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
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


#: The variable naming the directory of ``failing_on_cue``'s named pipes: ``loading``, made by
#: the test, and one per worker, named by its pid.
CUES = "FAILING_APP_CUES"


def failing_on_cue() -> Flask:
    """Fail to load when the test says: write this worker's pid to ``loading``, then wait
    until the test has opened and closed the pipe named by it. The test orders the workers'
    failures with pipes, not with sleeps."""
    cues = Path(os.environ[CUES])
    cue = cues / str(os.getpid())
    os.mkfifo(cue)
    with (cues / "loading").open("w") as loading:
        loading.write(f"{os.getpid()}\n")
    with cue.open() as waiting:  # opening waits for the test to open it, reading to close it
        waiting.read()
    raise RuntimeError("failing on cue")
