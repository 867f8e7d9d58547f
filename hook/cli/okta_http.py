"""One HTTP exchange with Okta (or with the hook, for ``psc-hook send``), and the errors
it can end in, Okta's error answers read among them (:func:`error_for`).

Standard library only (urllib: a proxy set in the environment is used). Redirects are never
followed, so credentials cannot be forwarded to another host. The answer is read within a
bound on its size and on the whole exchange's time (:class:`hook.fetch.Deadline`): a
300 MB answer or a server that trickles one byte a second cannot hold an operator's
terminal. Every failure is an :class:`ApiError` whose message a person can act on and
whose ``exit_code`` the command returns.
"""

from __future__ import annotations

import functools
import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any, Protocol
from urllib.parse import urlsplit

from hook.cli.terminal import printable
from hook.fetch import Deadline

#: The most an answer may hold (Okta's pages hold 20 to 1000 objects); more is not read.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: How much of a text the other side wrote (an error summary, a name) is shown.
SHOWN = 300


class ApiError(Exception):
    """Okta (or the network) said no; the message is for a person, ``exit_code`` for a shell."""

    exit_code = 1


class Unreachable(ApiError):
    """No HTTP answer, or none in time: refused, unknown host, TLS failure, timeout."""

    exit_code = 3


class Unauthorized(ApiError):
    """401 or 403: the credentials are wrong or expired, or lack a permission or scope."""

    exit_code = 4


class Forbidden(Unauthorized):
    """403: the credentials are good, but their permission or scope does not cover it."""


class NotFound(ApiError):
    """404: nothing in this org has that id (the message is Okta's)."""


class Malformed(ApiError):
    """An answer Okta's API never sends: not JSON, not the shape documented, too large."""


class RateLimited(ApiError):
    """429: Okta's rate limit for this endpoint is spent until ``reset``."""

    exit_code = 5

    def __init__(self, message: str, reset: datetime | None) -> None:
        super().__init__(message)
        self.reset = reset


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON (nested past Python's
        recursion limit included)."""
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, RecursionError):
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _watched(kind: type[http.client.HTTPConnection], deadline: Deadline, host: str,
             **kwargs: Any) -> http.client.HTTPConnection:  # fmt: skip
    return deadline.watch(kind(host, **kwargs))


class _Http(urllib.request.HTTPHandler):
    """urllib's handler (proxies included), its connections held to one :class:`Deadline`."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connect = functools.partial(_watched, http.client.HTTPConnection, self.deadline)
        return self.do_open(connect, req)


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connect = functools.partial(_watched, http.client.HTTPSConnection, self.deadline)
        return self.do_open(connect, req, context=self._context)  # type: ignore[attr-defined]


def _read(answer: Any, where: str, limit: int) -> bytes:
    """The whole body, or :class:`Malformed` past ``limit`` bytes (read no further)."""
    length = answer.headers.get("Content-Length", "")
    too_large = Malformed(f"{where} answered more than {limit // 2**20} MiB: not read further")
    if length.isdigit() and int(length) > limit:
        raise too_large
    data = answer.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if length.isdigit() and len(data) < int(length):  # the connection closed before the end
        raise http.client.IncompleteRead(data, int(length) - len(data))
    return data


def exchange(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    limit: int = MAX_ANSWER_BYTES,
) -> Reply:
    """One HTTP exchange within ``timeout`` seconds in all (a server that trickles its
    answer is cut off), its answer within ``limit`` bytes: any status is a :class:`Reply`;
    no whole answer in time is :class:`Unreachable`, a larger one :class:`Malformed`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - scheme checked above
    where = origin(url)
    started = time.perf_counter()
    with Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_NoRedirect, _Http(deadline), _Https(deadline))
        try:
            try:
                answer = opener.open(request, timeout=timeout)
            except urllib.error.HTTPError as error:
                answer = error  # a status that is not 2xx: still Okta's answer
            with answer:
                status, answer_headers = answer.status, answer.headers
                data = _read(answer, where, limit)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise Unreachable(f"cannot reach {where}: {_why(error, deadline, timeout)}") from None
        if deadline.expired.is_set():  # the watchdog cut the answer short
            raise Unreachable(f"cannot reach {where}: no answer within {timeout:g} s")
    return Reply(status, answer_headers, data, (time.perf_counter() - started) * 1000)


def _why(error: Exception, deadline: Deadline, timeout: float) -> str:
    reason = getattr(error, "reason", error)
    if deadline.expired.is_set() or isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, http.client.HTTPException):
        return f"its answer is not HTTP, or was cut short ({type(reason).__name__})"
    return printable(str(reason), SHOWN)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
