"""The gunicorn worker: gevent, so that a slow client costs a greenlet, never a worker.

The hook is often deployed with no buffering proxy in front (a self-hosted server, or a
platform router that streams request bodies), so anyone can open connections and send
their request a byte at a time. A ``sync`` worker is held by each such connection; here
each connection is a greenlet, and a request must arrive whole, headers and body, within
``REQUEST_DEADLINE_S`` of its connection being accepted. Past that the connection stops
being read: a request cut short is refused (400) and its connection closed.

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
from gevent.monkey import MonkeyPatchWarning
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.workers.ggevent import GeventWorker

#: Okta waits 3 s for the whole exchange and sends its request at once: a request still
#: arriving after 2 s is a slow or hostile client, and no answer could reach Okta in time.
REQUEST_DEADLINE_S = 2.0


def stop_reading(client: socket.socket) -> None:
    """Make every further read of ``client`` see the end of the stream; answers still go out."""
    with contextlib.suppress(OSError):  # the connection has already gone: nothing to stop
        client.shutdown(socket.SHUT_RD)


class HookWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline on reading each request and a draining stop."""

    def init_process(self) -> None:
        """Take SIGTERM at once: gunicorn installs the worker's handlers only after gevent
        has patched the standard library (a tenth of a second), and a SIGTERM before that
        reached the master's handler, inherited through the fork, and was lost: the worker
        then served on until the master killed it, and its calls with it."""
        signal.signal(signal.SIGTERM, self.handle_exit)
        super().init_process()

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
            gevent.sleep(1.0)

        for listener, server in servers:
            server.stop_accepting()
            self.answer_queued(listener, server.pool)
            server.close()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for _, server in servers:  # the calls in flight, within gunicorn's graceful_timeout
            server.pool.join(timeout=max(deadline - time.monotonic(), 0.0))

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
