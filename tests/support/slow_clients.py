"""Hostile clients that send their request a byte at a time (a slowloris), for the tests and
the benchmark: many connections, one thread, every loop bounded."""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import threading
import time
from types import TracebackType

#: A byte every half second: each read the server makes gets something, so only a deadline
#: on the whole request, not a per-read timeout, stops it.
TRICKLE_PAUSE_S = 0.5
#: Whatever the server does, the clients give up after this long.
GIVE_UP_S = 60.0


def raise_open_files_limit(needed: int) -> None:
    """Let this process (and the servers it starts) hold ``needed`` more sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = soft + needed
    if soft != resource.RLIM_INFINITY and wanted > soft:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


class SlowClients:
    """``count`` connections to ``port`` that each send ``prefix`` at once, then ``trickle``
    one byte per pause, until the server answers or closes (they are then *dropped*).
    With ``reopen``, a dropped connection is replaced at once, as an attacker would."""

    def __init__(
        self, port: int, count: int, prefix: bytes, trickle: bytes, reopen: bool = False
    ) -> None:
        self.port, self.prefix, self.trickle, self.reopen = port, prefix, trickle, reopen
        self.opened_at = time.monotonic()
        self._selector = selectors.DefaultSelector()
        self._sent: dict[socket.socket, int] = {}
        self.dropped_after: list[float] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        for _ in range(count):
            self._open()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def open(self) -> int:
        with self._changed:
            return len(self._sent)

    def wait_until_dropped(self, within_s: float) -> bool:
        """Whether the server dropped every connection within ``within_s`` of their opening."""
        deadline = self.opened_at + within_s
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._sent, timeout=max(deadline - time.monotonic(), 0)
            )

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in list(self._sent):
            self._drop(connection, counted=False)
        self._selector.close()

    def __enter__(self) -> SlowClients:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> None:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.sendall(self.prefix)
        connection.setblocking(False)
        self._sent[connection] = 0
        self._selector.register(connection, selectors.EVENT_READ)

    def _run(self) -> None:
        give_up = self.opened_at + GIVE_UP_S
        while not self._stop.is_set() and time.monotonic() < give_up:
            for key, _ in self._selector.select(timeout=0):
                self._drop(key.fileobj)  # the server answered or closed: either ends it
            for connection, sent in list(self._sent.items()):
                if sent < len(self.trickle):
                    try:
                        connection.send(self.trickle[sent : sent + 1])
                    except OSError:
                        self._drop(connection)
                        continue
                    self._sent[connection] = sent + 1
            if not self._sent:
                return
            self._stop.wait(TRICKLE_PAUSE_S)

    def _drop(self, connection: object, counted: bool = True) -> None:
        assert isinstance(connection, socket.socket)
        with self._changed:
            if self._sent.pop(connection, None) is None:
                return
            if counted:
                self.dropped_after.append(time.monotonic() - self.opened_at)
            self._changed.notify_all()
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection)
        connection.close()
        if counted and self.reopen and not self._stop.is_set():
            with contextlib.suppress(OSError):  # the server stopped listening: nothing to hold
                self._open()
