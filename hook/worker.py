"""The gunicorn worker: gevent, so that a slow client costs a greenlet, never a worker.

The hook is often deployed with no buffering proxy in front (a self-hosted server, or a
platform router that streams request bodies), so anyone can open connections and send
their request a byte at a time. A ``sync`` worker is held by each such connection; here
each connection is a greenlet, and a request must arrive whole, headers and body, within
``REQUEST_DEADLINE_S`` of its connection being accepted. Past that the connection stops
being read: a body cut short is refused (400), headers that never ended close the
connection.

On a stop (a deploy, a scale-down, ``max_requests``), the worker answers the calls in
flight and the connections the kernel already queued for it before it closes its
listening socket, so that no connection the service accepted is dropped.
"""

from __future__ import annotations

import contextlib
import signal
import socket
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


#: The standard library's socket class: gevent's own ``shutdown`` would throw an error into
#: the greenlet reading the socket (which gunicorn logs with a traceback) instead of letting
#: it read the end of the stream.
PLAIN_SOCKET = get_original("socket", "socket")


def stop_reading(client: socket.socket) -> None:
    """Make every further read of ``client`` see the end of the stream; answers still go out."""
    with contextlib.suppress(OSError):  # the connection has already gone: nothing to stop
        plain = PLAIN_SOCKET(fileno=client.fileno())
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
        after the patch (hook/oauth.py)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Monkey-patching ssl", MonkeyPatchWarning)
            super().patch()

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        deadline = gevent.get_hub().loop.timer(REQUEST_DEADLINE_S)
        deadline.start(stop_reading, client)
        try:
            super().handle(listener, client, addr)
        finally:
            deadline.close()

    def run(self) -> None:
        # TLS when gunicorn is given a certificate (a self-hosted server with nothing in front).
        self.tls = ssl_context(self.cfg) if self.cfg.is_ssl else None
        tls = {"ssl_context": self.tls} if self.tls else {}
        servers = []
        for listener in self.sockets:
            server = StreamServer(
                listener,
                handle=partial(self.handle, listener),
                spawn=Pool(self.worker_connections),
                **tls,
            )
            server.max_accept = 1  # take one connection per wake-up: the workers share them
            server.start()
            servers.append((listener, server))

        while self.alive:
            self.notify()
            gevent.sleep(1.0)

        for listener, server in servers:
            server.stop_accepting()
            self.answer_queued(listener, server.pool)
            server.close()
        deadline = (self.stop_asked_at or time.monotonic()) + self.cfg.graceful_timeout
        for _, server in servers:  # the calls in flight, within gunicorn's graceful_timeout
            server.pool.join(timeout=max(deadline - time.monotonic(), 0.0))
        unfinished = sum(server.pool.size - server.pool.free_count() for _, server in servers)
        if unfinished:
            self.log.warning("Worker stopping with %d calls unfinished", unfinished)

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
            pool.spawn(self.serve_queued, closed, client, addr)

    def serve_queued(self, listener: Any, client: socket.socket, addr: Any) -> None:
        if self.tls is not None:  # as StreamServer does for the connections it accepts
            client = self.tls.wrap_socket(client, server_side=True)
        self.handle(listener, client, addr)


class ClosedListener:
    """What serving a connection needs of its listening socket once that is closed: its
    address, for the WSGI environment."""

    def __init__(self, name: Any) -> None:
        self.name = name

    def getsockname(self) -> Any:
        return self.name
