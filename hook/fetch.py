"""A bounded HTTP GET: the whole exchange, name resolution included, within a time budget.

Okta gives the hook 3 s, so a key fetch must never hold a call long; ``psc-hook
check-token`` reads an org's keys with the same bound, and the commands' HTTP exchanges
(:func:`hook.cli.http_exchange.exchange`: urllib, proxies and any method) hold their
connections to a :class:`Deadline`.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from types import TracebackType
from urllib.parse import urlsplit

#: The most a fetched document may hold; more is refused, not truncated.
MAX_BYTES = 262_144


class FetchError(Exception):
    """The source could not be read in time or in full; the message says why, for the log."""


class Deadline:
    """One exchange's time budget, for every connection it :meth:`watch`-es.

    Every socket operation times out, and a watchdog shuts the sockets down when the whole
    exchange overruns, so a server that trickles bytes cannot hold the caller. The resolver
    has no timeout of its own, so each connection is opened (``getaddrinfo`` and
    ``connect``) by a helper thread (a greenlet under gevent's worker) that the exchange
    stops waiting for at the deadline.
    """

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.expired = threading.Event()
        self._sockets: list[socket.socket] = []
        self._opening: list[threading.Event] = []
        self._watchdog = threading.Timer(budget_s, self._expire)
        self._watchdog.daemon = True

    def __enter__(self) -> Deadline:
        self._watchdog.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._watchdog.cancel()

    def watch(self, connection: HTTPConnection) -> HTTPConnection:
        """``connection``, opened within the budget and shut down when it is spent: its
        sockets are kept here, since a response outlives its connection's ``sock`` (urllib
        lets go of it once the head is read) and TLS wraps the socket in another."""
        connection._create_connection = self._open_in_time  # type: ignore[attr-defined]
        connect = connection.connect

        def connect_watched() -> None:
            connect()
            self._keep(connection.sock)

        connection.connect = connect_watched  # type: ignore[method-assign]
        return connection

    def _keep(self, sock: socket.socket) -> None:
        self._sockets.append(sock)
        if self.expired.is_set():  # spent while it was being opened
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed, or wrapped by TLS: the exchange has ended
            sock.shutdown(socket.SHUT_RDWR)

    def _expire(self) -> None:
        self.expired.set()
        for settled in self._opening:
            settled.set()
        for sock in self._sockets:
            self._shut(sock)

    def _open_in_time(
        self, address: tuple[str, int], timeout: float, source: tuple[str, int] | None = None
    ) -> socket.socket:
        outcome: list[socket.socket | OSError] = []
        settled = threading.Event()  # the connection is open, has failed, or the budget is spent
        self._opening.append(settled)
        if self.expired.is_set():  # spent before this connection was even tried
            raise TimeoutError

        def open_socket() -> None:
            try:
                opened = socket.create_connection(address, timeout, source)
            except OSError as error:
                outcome.append(error)
            else:
                outcome.append(opened)
                if self.expired.is_set():  # too late: nobody will read it
                    opened.close()
            settled.set()

        threading.Thread(target=open_socket, name="bounded-connect", daemon=True).start()
        settled.wait()
        opened = outcome[0] if outcome else TimeoutError()
        if isinstance(opened, OSError):
            raise opened
        if self.expired.is_set():
            opened.close()
            raise TimeoutError
        self._keep(opened)
        return opened


def download(
    uri: str, budget_s: float, tls: ssl.SSLContext | None, max_bytes: int = MAX_BYTES
) -> bytes:
    """GET ``uri`` within ``budget_s`` seconds in all, name resolution included."""
    parts = urlsplit(uri)
    connection = (
        HTTPSConnection(parts.hostname or "", parts.port, timeout=budget_s, context=tls)
        if parts.scheme == "https"
        else HTTPConnection(parts.hostname or "", parts.port, timeout=budget_s)
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with Deadline(budget_s) as deadline:
        deadline.watch(connection)
        try:
            connection.connect()
            if deadline.expired.is_set():
                raise TimeoutError
            connection.request("GET", target, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read(max_bytes + 1)
        except (OSError, HTTPException, ValueError) as error:
            if deadline.expired.is_set() or isinstance(error, TimeoutError):
                raise FetchError(f"timed out after {budget_s} s") from None
            raise FetchError(f"unreachable ({type(error).__name__})") from None
        finally:
            connection.close()
    if response.status != 200:
        raise FetchError(f"answered HTTP {response.status}")
    if len(body) > max_bytes:
        raise FetchError(f"answered more than {max_bytes} bytes")
    return body
