"""The HTTP edge: the routes, Flask's request in and the hook's answer out (``errors``
turns what fails on the way into problem+json).

``POST /token-hook`` reads top to bottom as the spec orders it: size and type,
authenticate, validate, then compute claims and build the answer (``answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import structlog
from flask import Blueprint, Flask, Response, current_app, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected

from hook import jsonio, metrics, payload
from hook.answer import build_answer
from hook.auth import AnyOf, AuthFailure, HeaderAuthenticator
from hook.canonical_log import CanonicalLog, facts
from hook.config import Settings
from hook.errors import problem
from hook.okta import HOOK_PATH
from hook.outcomes import Outcome
from hook.tenants import NO_TENANT
from hook.user_ref import UserRef

bp = Blueprint("hook", __name__)
log = structlog.get_logger("psc_token_hook")


@dataclass(frozen=True)
class Service:
    """What the views need, built once by ``create_app``."""

    settings: Settings
    authenticator: AnyOf
    recorder: metrics.Recorder
    #: ``Authorization: Bearer <METRICS_TOKEN>`` when a token is set; None: /metrics is open.
    scraper: HeaderAuthenticator | None = None
    #: The log line's pseudonym of the user, keyed by HOOK_LOG_USER_KEY; None: not logged.
    user_ref: UserRef | None = None


def _service() -> Service:
    return current_app.extensions["psc_token_hook"]


def _unauthorized(service: Service) -> Response:
    headers = {}
    if "oauth" in service.settings.auth_modes:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return problem(
        401, "Unauthorized", "The call could not be authenticated as Okta's.", headers=headers
    )


def _read_body() -> bytes | str:
    """The whole body, or why it could not be read: it ended before its announced length
    (the client went away, or was too slow: hook/worker.py stops reading a request after
    2 s), or its chunked framing is broken."""
    try:
        body = request.get_data(cache=False)  # at most max + 1 bytes: see create_app
    except ClientDisconnected:  # werkzeug's word for a read that failed (a chunked body cut short)
        return "The body ended before all of it arrived."
    except ParseException:  # gunicorn's, on a bad chunk; its text quotes the body: never logged
        return "The body's chunked framing is broken."
    if len(body) < (request.content_length or 0):
        return "The body ended before all of it arrived."
    return body


def _too_large(settings: Settings, recorded: dict[str, object]) -> Response:
    recorded["outcome"] = Outcome.TOO_LARGE
    return problem(413, "Payload Too Large", f"The body exceeds {settings.max_body_bytes} bytes.")


@bp.post(HOOK_PATH)
def token_hook() -> Response:
    service = _service()
    settings = service.settings
    recorded = facts(request.environ)
    if (request.content_length or 0) > settings.max_body_bytes:
        return _too_large(settings, recorded)
    if request.mimetype != "application/json":
        recorded["outcome"] = Outcome.UNSUPPORTED_MEDIA_TYPE
        return problem(415, "Unsupported Media Type", "Send Content-Type: application/json.")

    try:
        recorded["auth_mode"] = service.authenticator.authenticate(request.headers)
    except AuthFailure as failure:
        recorded.update(auth="failed", auth_failure=failure.reason, outcome=Outcome.UNAUTHENTICATED)
        return _unauthorized(service)
    recorded["auth"] = "ok"

    body = _read_body()
    if isinstance(body, str):
        recorded["outcome"] = Outcome.INCOMPLETE_BODY
        return problem(400, "Bad Request", body)
    if len(body) > settings.max_body_bytes:  # a chunked body has no Content-Length
        return _too_large(settings, recorded)
    try:
        hook_request = payload.parse(body, settings.claim_to_read)
    except payload.InvalidPayload as invalid:
        recorded["outcome"] = Outcome.INVALID_PAYLOAD
        return problem(400, "Bad Request", str(invalid), errors=invalid.errors or None)
    recorded.update(
        event_id=hook_request.event_id,
        client_id=hook_request.client_id,
        grant_type=hook_request.grant_type,
    )

    answer = build_answer(hook_request, settings)
    recorded.update(
        outcome=answer.outcome,
        claims=answer.written,
        assurance=answer.assurance,
        amr_rule=answer.amr_rule,
    )
    if answer.context_mismatch:
        recorded["context_user_mismatch"] = True
    recorded["tid"] = answer.tid or NO_TENANT
    if service.user_ref is not None and answer.user_id is not None:
        recorded["user_ref"] = service.user_ref(answer.user_id)
    if answer.body is None:
        return Response(status=answer.status)
    return Response(jsonio.dumps(answer.body), status=answer.status, mimetype="application/json")


@bp.get("/healthz")
def healthz() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")


@bp.get("/readyz")
def readyz() -> Response:
    """Ready or not, nothing more: why the keys do not load is for the log, not for anyone
    who can reach the port."""
    reason = _service().authenticator.ready()
    if reason:
        log.warning("not-ready", reason=reason)
        return problem(503, "Service Unavailable", "The service is not ready.")
    return Response('{"status": "ready"}', mimetype="application/json")


@bp.get("/metrics")
def metrics_text() -> Response:
    service = _service()
    if service.scraper is not None:
        try:
            service.scraper.authenticate(request.headers)
        except AuthFailure as failure:
            facts(request.environ).update(auth="failed", auth_failure=failure.reason)
            return problem(
                401,
                "Unauthorized",
                "Send the metrics token as Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return Response(service.recorder.exposition(), content_type=metrics.CONTENT_TYPE)


@bp.get("/openapi.yaml")
def openapi() -> Response:
    document = resources.files("hook").joinpath("openapi.yaml").read_bytes()
    return Response(document, mimetype="application/yaml")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    observers = {HOOK_PATH: app.extensions["psc_token_hook"].recorder.observe}
    app.wsgi_app = CanonicalLog(app.wsgi_app, app.url_map, observers)  # type: ignore[method-assign]
