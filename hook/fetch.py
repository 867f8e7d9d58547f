"""A bounded HTTP GET: the whole exchange, name resolution included, within a time budget.

Okta gives the hook 3 s, so a key fetch must never hold a call long; ``psc-hook
check-token`` reads an org's keys with the same bound.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlsplit

#: The most a fetched document may hold; more is refused, not truncated.
MAX_BYTES = 262_144


class FetchError(Exception):
    """The source could not be read in time or in full; the message says why, for the log."""


def download(
    uri: str, budget_s: float, tls: ssl.SSLContext | None, max_bytes: int = MAX_BYTES
) -> bytes:
    """GET ``uri`` within ``budget_s`` seconds in all, name resolution included.

    Every socket operation times out, and a watchdog shuts the socket down when the
    whole exchange overruns, so a server that trickles bytes cannot hold the caller. The
    resolver has no timeout of its own, so the connection is opened (``getaddrinfo`` and
    ``connect``) by a helper thread (a greenlet under gevent's worker) that the fetch stops
    waiting for at the deadline.
    """
    parts = urlsplit(uri)
    connection = (
        HTTPSConnection(parts.hostname or "", parts.port, timeout=budget_s, context=tls)
        if parts.scheme == "https"
        else HTTPConnection(parts.hostname or "", parts.port, timeout=budget_s)
    )
    expired = threading.Event()
    settled = threading.Event()  # the connection is open, has failed, or the budget is spent

    def expire() -> None:
        expired.set()
        settled.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):  # already closed: the fetch has ended anyway
                connection.sock.shutdown(socket.SHUT_RDWR)

    def open_in_time(
        address: tuple[str, int], timeout: float, source: tuple[str, int] | None = None
    ) -> socket.socket:
        outcome: list[socket.socket | OSError] = []

        def open_socket() -> None:
            try:
                opened = socket.create_connection(address, timeout, source)
            except OSError as error:
                outcome.append(error)
            else:
                outcome.append(opened)
                if expired.is_set():  # too late: nobody will read it
                    opened.close()
            settled.set()

        threading.Thread(target=open_socket, name="jwks-connect", daemon=True).start()
        settled.wait()
        opened = outcome[0] if outcome else TimeoutError()
        if isinstance(opened, OSError):
            raise opened
        if expired.is_set():
            opened.close()
            raise TimeoutError
        return opened

    connection._create_connection = open_in_time  # type: ignore[attr-defined]

    watchdog = threading.Timer(budget_s, expire)
    watchdog.daemon = True
    watchdog.start()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        if expired.is_set():
            raise TimeoutError
        connection.request("GET", target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(max_bytes + 1)
    except (OSError, HTTPException, ValueError) as error:
        if expired.is_set() or isinstance(error, TimeoutError):
            raise FetchError(f"timed out after {budget_s} s") from None
        raise FetchError(f"unreachable ({type(error).__name__})") from None
    finally:
        watchdog.cancel()
        connection.close()
    if response.status != 200:
        raise FetchError(f"answered HTTP {response.status}")
    if len(body) > max_bytes:
        raise FetchError(f"answered more than {max_bytes} bytes")
    return body
