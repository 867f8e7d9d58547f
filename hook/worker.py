"""The gunicorn worker: gevent, so that a slow client costs a greenlet, never a worker.

The hook is often reachable with no buffering proxy in front, so a request must arrive whole
(TLS handshake, headers, body) within ``REQUEST_DEADLINE_S`` of its connection. On a stop,
the calls in flight and the connections already queued are answered before the listening
socket closes, and what still runs is stopped ``stop_margin`` before the master's SIGKILL.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import ssl
import time
import warnings
from functools import partial
from typing import Any

import gevent
from gevent.monkey import MonkeyPatchWarning, get_original
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.sock import ssl_context
from gunicorn.workers.ggevent import GeventWorker

#: Okta waits 3 s for the whole exchange and sends its request at once: a request still
#: arriving after 2 s is a slow or hostile client, and no answer could reach Okta in time.
REQUEST_DEADLINE_S = 2.0
#: How often a draining worker tells the master it is alive, as gunicorn's gevent loop does.
HEARTBEAT_S = 1.0
#: What a draining worker keeps of gunicorn's ``graceful_timeout`` to stop the calls still
#: running and exit on its own: the master sends SIGKILL when the timeout ends.
STOP_MARGIN_S = 1.0


def stop_margin(graceful_timeout: float) -> float:
    """STOP_MARGIN_S, or a quarter of a shorter ``graceful_timeout``."""
    return min(STOP_MARGIN_S, graceful_timeout / 4)


#: The standard library's socket class: gevent's own ``shutdown`` would throw an error into
#: the greenlet reading the socket (which gunicorn logs with a traceback) instead of letting
#: it read the end of the stream.
PLAIN_SOCKET = get_original("socket", "socket")


def stop_reading(fileno: int) -> None:
    """Make every further read of the connection see the end of the stream; answers still go
    out. By file descriptor: TLS wraps the socket in a new object on the same descriptor."""
    with contextlib.suppress(OSError):  # the connection has already gone: nothing to stop
        plain = PLAIN_SOCKET(fileno=fileno)
        try:
            plain.shutdown(socket.SHUT_RD)
        finally:
            plain.detach()  # the file descriptor stays the connection's


class HookWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline on reading each request and a draining stop."""

    def init_process(self) -> None:
        """Take SIGTERM at once: gunicorn installs the worker's handlers only after gevent
        has patched the standard library (a tenth of a second), and a SIGTERM before that
        reached the master's handler, inherited through the fork, and was lost: the worker
        then served on until the master killed it, and its calls with it."""
        self.stop_asked_at: float | None = None
        signal.signal(signal.SIGTERM, self.handle_exit)
        super().init_process()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: the master waits ``graceful_timeout`` from now, so the worker counts from
        now too."""
        if self.stop_asked_at is None:
            self.stop_asked_at = time.monotonic()
        super().handle_exit(sig, frame)

    def patch(self) -> None:
        """Patch the standard library as gunicorn's gevent worker does, without its warning
        that ``ssl`` was imported first (by gunicorn's master, and by PyJWT's ``jwks_client``,
        which the service does not use): the service builds its TLS context in the worker,
        after the patch (hook/keyset.py)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Monkey-patching ssl", MonkeyPatchWarning)
            super().patch()

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        deadline = gevent.get_hub().loop.timer(REQUEST_DEADLINE_S)
        deadline.start(stop_reading, client.fileno())
        try:
            if self.tls is not None:
                client = self.handshake(client)
            if client is not None:
                super().handle(listener, client, addr)
        finally:
            deadline.close()

    def handshake(self, client: socket.socket) -> ssl.SSLSocket | None:
        """TLS, under the request's deadline (gevent's StreamServer would run it before the
        deadline exists, and hold a client that never sends its ClientHello forever)."""
        try:
            return self.tls.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError) as error:  # a scanner, a plain-HTTP client, the deadline
            self.log.debug("TLS handshake failed: %s", type(error).__name__)
            client.close()
            return None

    def run(self) -> None:
        # TLS when gunicorn is given a certificate (a self-hosted server with nothing in front).
        self.tls = ssl_context(self.cfg) if self.cfg.is_ssl else None
        servers = []
        for listener in self.sockets:
            server = StreamServer(
                listener, handle=partial(self.handle, listener), spawn=Pool(self.worker_connections)
            )
            server.max_accept = 1  # take one connection per wake-up: the workers share them
            server.start()
            servers.append((listener, server))

        while self.alive:
            self.notify()
            gevent.sleep(HEARTBEAT_S)

        for listener, server in servers:
            server.stop_accepting()
            self.answer_queued(listener, server.pool)
            server.close()
        self.drain([server.pool for _, server in servers])

    def drain(self, pools: list[Pool]) -> None:
        """Let the calls in flight finish within gunicorn's ``graceful_timeout`` (counted from
        SIGTERM, as the master counts it), still telling the master the worker is alive; stop
        the rest ``stop_margin`` before the master's SIGKILL would."""
        timeout = self.cfg.graceful_timeout
        stop_at = (self.stop_asked_at or time.monotonic()) + timeout - stop_margin(timeout)
        while (running := [pool for pool in pools if len(pool)]) and (
            left := stop_at - time.monotonic()
        ) > 0:
            self.notify()
            running[0].join(timeout=min(HEARTBEAT_S, left))
        unfinished = sum(len(pool) for pool in pools)
        if unfinished:
            self.log.warning("Worker graceful timeout: stopping %d calls unfinished", unfinished)
            for pool in pools:
                pool.kill(timeout=stop_margin(timeout) / 2)

    def answer_queued(self, listener: Any, pool: Pool) -> None:
        """Accept the connections the kernel completed but nobody accepted yet, which closing
        the listening socket would reset; they are served once it is closed."""
        closed = ClosedListener(listener.getsockname())
        listener.setblocking(False)
        while True:
            try:
                client, addr = listener.accept()
            except OSError:  # nothing left in the queue
                return
            pool.spawn(self.handle, closed, client, addr)


class ClosedListener:
    """What serving a connection needs of its listening socket once that is closed: its
    address, for the WSGI environment."""

    def __init__(self, name: Any) -> None:
        self.name = name

    def getsockname(self) -> Any:
        return self.name
