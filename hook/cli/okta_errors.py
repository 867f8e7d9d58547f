"""What Okta's error answers mean: the error each stands for, with what to do about it
(:func:`error_for`), Okta's texts bounded and made printable."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message
from typing import Protocol

from hook.cli.http_exchange import SHOWN, ExchangeError, Reply
from hook.cli.terminal import printable


class ApiError(ExchangeError):
    """Okta's API said no, or answered what cannot be followed."""


class Unauthorized(ApiError):
    """401 or 403: the credentials are wrong or expired, or lack a permission or scope."""

    exit_code = 4


class Forbidden(Unauthorized):
    """403: the credentials are good, but their permission or scope does not cover it."""


class NotFound(ApiError):
    """404: nothing in this org has that id (the message is Okta's)."""


class RateLimited(ApiError):
    """429: Okta's rate limit for this endpoint is spent until ``reset``."""

    exit_code = 5

    def __init__(self, message: str, reset: datetime | None) -> None:
        super().__init__(message)
        self.reset = reset


class Refusals(Protocol):
    """What a 401 or a 403 means for the credentials that were refused."""

    def rejected(self, detail: str) -> str:
        """What a 401 means and what to check."""
        ...

    def forbidden(self, detail: str, scope: str | None) -> str:
        """What a 403 means (``scope`` when Okta named a missing one) and what to do."""
        ...


#: The parameters of a ``WWW-Authenticate`` challenge, ``name="value"`` (RFC 9110).
CHALLENGE = re.compile(r'([A-Za-z_]+)="([^"]*)"')


def _okta_error(reply: Reply) -> str:
    """Okta's error answer in one line, each of its texts bounded and made printable."""
    body = reply.json()
    if not isinstance(body, dict) or "errorSummary" not in body:
        return f"HTTP {reply.status} without an Okta error body"
    code, summary = (printable(str(body.get(key) or ""), SHOWN)
                     for key in ("errorCode", "errorSummary"))  # fmt: skip
    text = f"HTTP {reply.status} {code}: {summary}"
    causes = body.get("errorCauses")
    found = [
        printable(str(cause["errorSummary"]), SHOWN)
        for cause in (causes if isinstance(causes, list) else [])[:10]
        if isinstance(cause, dict) and cause.get("errorSummary")
    ]
    if found:
        text += " (" + "; ".join(found) + ")"
    if body.get("errorId"):
        text += f" [errorId {printable(str(body['errorId']), 40)}]"
    return text


def missing_scope(reply: Reply) -> str | None:
    """The scope a 403 names as missing (Okta's ``WWW-Authenticate: ...
    error="insufficient_scope", scope="okta.x.read"``, its body then empty)."""
    challenge = dict(CHALLENGE.findall(reply.headers.get("WWW-Authenticate", "")))
    if challenge.get("error") != "insufficient_scope" or not challenge.get("scope"):
        return None
    return printable(challenge["scope"], 100)


def rate_limit_reset(headers: Message) -> datetime | None:
    """When Okta's window resets, from ``X-Rate-Limit-Reset`` (epoch seconds)."""
    try:
        return datetime.fromtimestamp(int(headers.get("X-Rate-Limit-Reset", "")), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def error_for(reply: Reply, credentials: Refusals) -> ApiError:
    """The error an Okta error answer stands for, with what to do about it."""
    detail = _okta_error(reply)
    if reply.status == 401:
        return Unauthorized(credentials.rejected(detail))
    if reply.status == 403:
        scope = missing_scope(reply)
        if scope is not None:
            detail = f"HTTP 403 insufficient_scope: the token lacks {scope}"
        return Forbidden(credentials.forbidden(detail, scope))
    if reply.status == 429:
        reset = rate_limit_reset(reply.headers)
        when = "later"
        if reset is not None:
            wait = max(0, round((reset - datetime.now(UTC)).total_seconds()))
            when = f"after {reset:%Y-%m-%d %H:%M:%S} UTC (in {wait} s)"
        return RateLimited(f"Okta's rate limit is reached ({detail}). Retry {when}.", reset)
    if reply.status == 404:
        return NotFound(f"Okta found nothing there ({detail}).")
    return ApiError(f"Okta refused the request ({detail}).")
