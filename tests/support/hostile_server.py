"""A loopback server that answers what Okta never would: a huge body, a trickle, bytes that
are not HTTP or not JSON. It stands in for a compromised proxy or a wrong ``--org``, so
that the commands' bounds are tried against real sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType

#: Whatever it is told to send, the server stops after this many bytes of body.
MAX_SENT = 300 * 1024 * 1024
#: Between two bytes of a trickle (each read the client makes gets something).
TRICKLE_PAUSE_S = 0.05
#: A trickle ends after this many bytes (about 10 s): a client without a deadline on the
#: whole exchange waits that long, one with it gives up long before.
TRICKLE_BYTES = 200

Answer = Callable[[socket.socket, "HostileServer"], None]


def json_head(length: int | None = None, status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + "\r\n").encode()


class HostileServer:
    """Accepts connections on loopback and gives each one to ``answer`` (in a thread)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.sent = 0  # body bytes the answers managed to send, in all
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self.stopped.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.settimeout(5)
            connection.recv(65536)  # the request (its head is all the answers need)
            self.answer(connection, self)

    def stream(self, connection: socket.socket, chunk: bytes) -> None:
        """Send ``chunk`` again and again until the client hangs up (or :data:`MAX_SENT`)."""
        while self.sent < MAX_SENT and not self.stopped.is_set():
            connection.sendall(chunk)
            self.sent += len(chunk)

    def trickle(self, connection: socket.socket, data: bytes) -> None:
        """Send ``data`` one byte per pause, at most :data:`TRICKLE_BYTES` of it."""
        for byte in data[:TRICKLE_BYTES]:
            if self.stopped.wait(TRICKLE_PAUSE_S):
                return
            connection.sendall(bytes([byte]))
            self.sent += 1


def huge(connection: socket.socket, server: HostileServer) -> None:
    """A JSON array without end and without Content-Length (300 MB if read to the end)."""
    connection.sendall(json_head() + b"[")
    server.stream(connection, b'{"id": "cal0000000000000000000", "name": "x"},' * 1000)


def announced_huge(connection: socket.socket, server: HostileServer) -> None:
    """A Content-Length of 300 MB, then the body."""
    connection.sendall(json_head(MAX_SENT) + b"[")
    server.stream(connection, b"0," * 32768)


def trickled_body(connection: socket.socket, server: HostileServer) -> None:
    connection.sendall(json_head(TRICKLE_BYTES))
    server.trickle(connection, b" " * (TRICKLE_BYTES - 2) + b"[]")


def trickled_head(connection: socket.socket, server: HostileServer) -> None:
    server.trickle(connection, b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * TRICKLE_BYTES)


def body(data: bytes, status: str = "200 OK") -> Answer:
    """An answer of ``data`` as it is (with its Content-Length)."""

    def answer(connection: socket.socket, server: HostileServer) -> None:
        connection.sendall(json_head(len(data), status) + data)

    return answer


def raw(data: bytes) -> Answer:
    """``data`` and nothing else: not HTTP."""

    def answer(connection: socket.socket, server: HostileServer) -> None:
        connection.sendall(data)

    return answer
