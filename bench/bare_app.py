"""The yardstick: a bare Flask app, run under the service's own gunicorn configuration.

It checks the same header against the same secrets (with the service's own
:class:`~hook.auth.HeaderAuthenticator`) and answers a constant JSON body of the size the
service answers for the benchmark's sample, so that the service/bare ratio measures what
the hook adds (validation, claims, the log line), and nothing gunicorn or Flask cost both.

gunicorn -c python:hook.gunicorn_conf 'bench.bare_app:create_app(answer_bytes=679)'
"""

from __future__ import annotations

from flask import Flask, Response, request

from hook.auth import AuthFailure, HeaderAuthenticator
from hook.config import Settings, settings_from_environment


def constant_answer(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    frame = b'{"padding": ""}'
    return frame[:-2] + b"x" * max(size - len(frame), 0) + frame[-2:]


def create_app(answer_bytes: int, settings: Settings | None = None) -> Flask:
    """The bare app; settings from the environment unless given (the in-process runs)."""
    settings = settings or settings_from_environment()
    authenticator = HeaderAuthenticator(settings.auth_header, settings.secrets)
    answer = constant_answer(answer_bytes)
    app = Flask(__name__)

    @app.post("/token-hook")
    def token_hook() -> Response:
        try:
            authenticator.authenticate(request.headers)
        except AuthFailure:
            return Response(status=401)
        request.get_data(cache=False)
        return Response(answer, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "ok"}', mimetype="application/json")

    return app
