"""One bounded HTTP exchange, the commands' client for Okta's Management API and for the
hook itself (``psc-hook send``), and the errors it can end in.

Standard library only (urllib: a proxy set in the environment is used). Redirects are never
followed, so credentials cannot be forwarded to another host. The answer is read within a
bound on its size and on the whole exchange's time (:class:`hook.fetch.Deadline`, which the
service's key fetch uses too): a 300 MB answer or a server that trickles one byte a second
cannot hold an operator's terminal. Every failure is an :class:`ExchangeError` whose
message a person can act on and whose ``exit_code`` the command returns; what Okta's error
answers mean is :mod:`hook.cli.okta_errors`.
"""

from __future__ import annotations

import functools
import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from hook.cli.terminal import printable
from hook.fetch import Deadline

#: The most an answer may hold (Okta's pages hold 20 to 1000 objects); more is not read.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: How much of a text the other side wrote (an error summary, a name) is shown.
SHOWN = 300


class ExchangeError(Exception):
    """The exchange, or what its answer means, failed: the message is for a person,
    ``exit_code`` for a shell."""

    exit_code = 1


class Unreachable(ExchangeError):
    """No HTTP answer, or none in time: refused, unknown host, TLS failure, timeout."""

    exit_code = 3


class Malformed(ExchangeError):
    """An answer the other side never sends: too large, or (its readers say) not JSON or
    not the shape documented."""


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
