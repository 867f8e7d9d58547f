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
            servers.append(server)

        while self.alive:
            self.notify()
            gevent.sleep(1.0)

        for server in servers:
            server.stop_accepting()
            self.answer_queued(server)
            server.close()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for server in servers:  # the calls in flight, within gunicorn's graceful_timeout
            server.pool.join(timeout=max(deadline - time.monotonic(), 0.0))

    def answer_queued(self, server: StreamServer) -> None:
        """Serve the connections the kernel completed but nobody accepted yet: closing the
        listening socket would reset them."""
        listener = server.socket
        listener.setblocking(False)
        while True:
            try:
                client, addr = listener.accept()
            except OSError:  # nothing left in the queue (or the socket is gone)
                return
            server.pool.spawn(self.handle, listener, client, addr)
