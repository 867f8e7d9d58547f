"""On the open internet, end to end under the real gunicorn: slow clients, key rotations and
deploys must not cost a genuine call its answer (Okta waits 3 s, then mints the token
without PSC's claims).

The genuine calls carry a 1 s client timeout: a bound the service must stay within, not a
measurement (the benchmark measures).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.servers import children, rss_kib
from hook import samples
from hook.keyset import REFETCH_BURST
from hook.worker import REQUEST_DEADLINE_S
from tests.support.held_app import HELD_FIRST_LINE
from tests.support.jwks_server import (
    FIRST_KID,
    JwksServer,
    bearer,
    mint,
    oauth_environment,
    self_signed,
    signing_key,
)
from tests.support.processes import Server, launch, stop, wait_until_up
from tests.support.settings import BASE_ENV, ROOT, SECRET
from tests.support.slow_clients import TRICKLE_PAUSE_S, SlowClients, raise_open_files_limit

pytestmark = pytest.mark.process

BODY = json.dumps(samples.load("password-okta-verify-push")).encode()
ANSWER_WITHIN_S = 1.0
#: When a slow connection must be gone: the deadline, plus a pause of the client's to notice.
DROPPED_WITHIN_S = REQUEST_DEADLINE_S + 4 * TRICKLE_PAUSE_S
KEY = signing_key(FIRST_KID)
NEXT_KEY = signing_key("key-2")


def request_head(secret: str | None, body_length: int = len(BODY)) -> bytes:
    lines = ["POST /token-hook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"Content-Length: {body_length}", "Connection: close"]
    if secret is not None:
        lines.append(f"Authorization: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def genuine_call(server: Server, headers: dict[str, str] | None = None) -> requests.Response:
    """A call as Okta makes it, which must be answered within ANSWER_WITHIN_S."""
    headers = headers or {"Authorization": SECRET}
    return requests.post(
        f"{server.url}/token-hook",
        data=BODY,
        headers={**headers, "Content-Type": "application/json"},
        timeout=ANSWER_WITHIN_S,
    )


def assert_patched(answer: requests.Response) -> None:
    assert answer.status_code == 200
    commands = answer.json()["commands"]
    claims = {op["path"]: op["value"] for command in commands for op in command["value"]}
    assert claims["/claims/tid"] == BASE_ENV["PSC_TENANT_ID"]


SLOW = {
    "trickling-headers": (b"", request_head(SECRET)),
    "trickling-an-authenticated-body": (request_head(SECRET), BODY),
}


@pytest.mark.parametrize(("prefix", "trickle"), SLOW.values(), ids=SLOW.keys())
def test_fifty_slow_connections_do_not_delay_genuine_calls(
    start_server, prefix: bytes, trickle: bytes
) -> None:
    server = start_server(BASE_ENV)
    with SlowClients(port_of(server), 50, prefix, trickle) as slow:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: genuine_call(server), range(40)))
        assert slow.open == 50  # they were all still there while the calls were answered
        for answer in answers:
            assert_patched(answer)
        assert slow.wait_until_dropped(DROPPED_WITHIN_S), f"{slow.open} still open"
    assert min(slow.dropped_after) >= REQUEST_DEADLINE_S - TRICKLE_PAUSE_S
    assert '"level":"error"' not in server.log()  # an attack is not the service's error


def test_fifty_unauthenticated_slow_bodies_are_refused_without_being_read(start_server) -> None:
    server = start_server(BASE_ENV)
    with SlowClients(port_of(server), 50, request_head(None), BODY) as slow:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: genuine_call(server), range(40)))
        for answer in answers:
            assert_patched(answer)
        assert slow.wait_until_dropped(DROPPED_WITHIN_S), f"{slow.open} still open"
    assert max(slow.dropped_after) < REQUEST_DEADLINE_S  # answered 401 at once, not held


def test_a_body_cut_short_by_the_deadline_is_refused_and_logged(start_server) -> None:
    server = start_server(BASE_ENV)
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as connection:
        connection.sendall(request_head(SECRET, body_length=len(BODY)) + BODY[:100])
        connection.settimeout(REQUEST_DEADLINE_S + 5)
        response = http.client.HTTPResponse(connection, method="POST")
        response.begin()  # nothing more is sent: the deadline ends the body
        assert response.status == 400
        assert response.getheader("Content-Type") == "application/problem+json"
        request_id = response.getheader("X-Request-Id")
        assert "ended before" in json.loads(response.read())["detail"]
    line = server.log_line(request_id)
    assert (line["outcome"], line["status"]) == ("incomplete-body", 400)


def booted_workers(server: Server, metrics_dir: Path, count: int) -> list[int]:
    """The master's ``count`` workers once each has built the app. gunicorn forks the second
    a moment after the first, which may already answer /healthz; a worker's app creates its
    metrics files (``counter_<pid>.db``) as it is built, so their presence says it is."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = children(server.process.pid)
        if len(workers) == count and all(
            (metrics_dir / f"counter_{pid}.db").exists() for pid in workers
        ):
            return workers
        time.sleep(0.05)  # not a timing assertion: waiting for the workers to boot
    raise AssertionError(f"{count} workers did not boot: {server.log()}")


def test_a_thousand_slow_connections_cost_bounded_memory(start_server, tmp_path) -> None:
    raise_open_files_limit(1100)
    metrics_dir = tmp_path / "metrics"
    server = start_server({**BASE_ENV, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    workers = booted_workers(server, metrics_dir, 2)
    before = sum(rss_kib(pid) for pid in workers)
    # Each one dropped is replaced at once, as an attacker would: a thousand are held.
    with SlowClients(port_of(server), 1000, b"", request_head(SECRET), reopen=True) as slow:
        assert_patched(genuine_call(server))
        during = sum(rss_kib(pid) for pid in workers)
        assert slow.open >= 990
        assert during - before < 40 * 1024, f"{(during - before) // 1024} MiB more"
    assert_patched(genuine_call(server))


def launch_tls(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Server:
    """gunicorn with a self-signed certificate, which this test process trusts."""
    certificate = self_signed(directory)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))
    tls = ("--certfile", str(certificate), "--keyfile", str(directory / "key.pem"))
    return launch(BASE_ENV, directory, tls, scheme="https")


def test_tls_when_gunicorn_is_given_a_certificate(tmp_path, monkeypatch) -> None:
    """A self-hosted server with nothing in front: gunicorn's --certfile/--keyfile."""
    server = launch_tls(tmp_path, monkeypatch)
    try:
        assert_patched(genuine_call(server))
        plain = server.url.replace("https://", "http://")
        with pytest.raises(requests.ConnectionError):  # no plain HTTP on that port
            requests.get(f"{plain}/healthz", timeout=5)
    finally:
        stop(server.process)


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_silent_connections_are_dropped_within_the_deadline(
    tmp_path, monkeypatch, scheme: str
) -> None:
    """Connections that never send a byte (with TLS: never a ClientHello): held, enough of
    them would fill every worker. Each is closed by the deadline of its accept."""
    tls = scheme == "https"
    server = launch_tls(tmp_path, monkeypatch) if tls else launch(BASE_ENV, tmp_path)
    try:
        with SlowClients(port_of(server), 50, b"", b"") as silent:
            assert_patched(genuine_call(server))
            assert silent.open == 50
            assert silent.wait_until_dropped(DROPPED_WITHIN_S), f"{silent.open} still open"
            assert_patched(genuine_call(server))
        assert min(silent.dropped_after) >= REQUEST_DEADLINE_S - TRICKLE_PAUSE_S
        assert '"level":"error"' not in server.log()
    finally:
        stop(server.process)


# --- large request heads ------------------------------------------------------------------

#: What a router in front adds to Okta's call (the platforms' own and a CDN's headers).
ROUTER_HEADERS = {
    "X-Forwarded-For": "203.0.113.7, 198.51.100.2",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Host": "hook.example.fr",
    "X-Real-Ip": "203.0.113.7",
    "X-Request-Start": "t=1764700000000",
    "Via": "1.1 router",
    "Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "Cf-Ray": "8f1d2c3b4a5e6f70-CDG",
    "Cdn-Loop": "cloudflare",
}


def test_a_large_bearer_token_behind_a_router_is_answered(jwks: JwksServer, start_server) -> None:
    """Okta's token is about 1 KB; one of 6 KB, among a router's headers, still fits."""
    server = start_server({**BASE_ENV, **oauth_environment(jwks)})
    token = mint(KEY, padding="p" * 4500)
    assert len(token) > 6000
    assert_patched(genuine_call(server, {**bearer(token), **ROUTER_HEADERS}))


#: Heads past hook/gunicorn_conf.py's limits: whole, and unfinished but past the most the
#: limits let a head hold (24 lines of 8 KB).
OVERSIZED = {
    "too-many-headers": b"".join(b"X-Padding-%d: %s\r\n" % (n, b"a" * 100) for n in range(30))
    + b"\r\n",
    "a-header-line-too-long": b"X-Padding: " + b"a" * 9000 + b"\r\n\r\n",
    "an-unfinished-head-of-320-kb": b"".join(
        b"X-Padding-%d: %s\r\n" % (n, b"a" * 8000) for n in range(40)
    ),
}


@pytest.mark.parametrize("head", OVERSIZED.values(), ids=OVERSIZED.keys())
def test_an_oversized_head_is_refused_without_reading_on(module_server, head: bytes) -> None:
    """Answered 431, and the connection closed, at once: no body is read, and an unfinished
    head is not waited for (nor parsed) past the limits."""
    with socket.create_connection(("127.0.0.1", port_of(module_server)), timeout=10) as sock:
        sent = b"POST /token-hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n" + head
        with contextlib.suppress(OSError):  # the server may refuse before it has read it all
            for offset in range(0, len(sent), 8192):
                sock.sendall(sent[offset : offset + 8192])
        received = read_to_end(sock)  # only the server can end this connection
    assert received.startswith(b"HTTP/1.1 431 "), received[:100]


def test_a_request_line_too_long_is_refused(module_server) -> None:
    with socket.create_connection(("127.0.0.1", port_of(module_server)), timeout=10) as sock:
        sock.sendall(b"GET /healthz?" + b"a" * 2000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        received = read_to_end(sock)
    assert received.startswith(b"HTTP/1.1 414 "), received[:100]


# --- key rotation --------------------------------------------------------------------------


def test_a_key_rotated_right_after_the_start_is_accepted_at_once(
    jwks: JwksServer, start_server
) -> None:
    server = start_server({**BASE_ENV, **oauth_environment(jwks)})
    jwks.serve(KEY, NEXT_KEY)
    token = mint(NEXT_KEY)
    for _ in range(10):  # whichever worker answers, within seconds of its start
        assert_patched(genuine_call(server, bearer(token)))
    for index in range(20):  # then a burst of unknown keys
        refused = genuine_call(server, bearer(mint(KEY, kid=f"unknown-{index}")))
        assert refused.status_code == 401
    # Per worker: the start-up fetch and the refetch budget (the rotation took one of it).
    assert jwks.fetches <= 2 * (1 + REFETCH_BURST)


def test_a_known_key_is_answered_while_a_fetch_is_held(jwks: JwksServer, start_server) -> None:
    """One worker: the call with a known key must not wait behind the fetch in progress."""
    server = start_server({**BASE_ENV, **oauth_environment(jwks)}, ("--workers", "1"))
    jwks.hang()
    with ThreadPoolExecutor(max_workers=1) as pool:
        unknown = pool.submit(
            requests.post,
            f"{server.url}/token-hook",
            data=BODY,
            timeout=5,
            headers={**bearer(mint(signing_key("key-x"))), "Content-Type": "application/json"},
        )
        jwks.wait_until_holding(1)
        assert_patched(genuine_call(server, bearer(mint(KEY))))
        assert jwks.holding == 1  # the fetch was still in progress
        assert unknown.result().status_code == 401
    jwks.close()


# --- deploys -------------------------------------------------------------------------------


#: What a connection the kernel completed in the very instant the last listening socket
#: closed gets: the service never accepted it (no server can), and the caller's next try is
#: refused. It can only be a caller's last call before the refusals; a platform stops
#: routing before it stops the service (Kubernetes: the manifest's preStop pause).
RESET_AT_CLOSE = {"ConnectionResetError", "RemoteDisconnected", "BrokenPipeError"}


class Caller:
    """Calls one after another on fresh connections until the service stops listening; each
    call's outcome: its status, or "refused" when the connection itself was refused."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.outcomes: list[int | str] = []
        self.after_stop: list[int | str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for _ in range(100_000):  # bounded: the service stops listening within seconds
            outcome = self._call()
            (self.after_stop if self.stopping.is_set() else self.outcomes).append(outcome)
            if outcome == "refused":
                return

    def _call(self) -> int | str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.connect()
        except ConnectionRefusedError:
            return "refused"
        try:
            headers = {"Authorization": SECRET, "Content-Type": "application/json"}
            connection.request("POST", "/token-hook", body=BODY, headers=headers)
            response = connection.getresponse()
            return response.status if b"/claims/tid" in response.read() else "no-claims"
        except OSError as error:  # accepted, then dropped: what a deploy must never do
            return type(error).__name__
        finally:
            connection.close()


@pytest.fixture
def callers() -> Iterator[list[Caller]]:
    started: list[Caller] = []
    yield started
    for caller in started:
        caller.stopping.set()
        caller.thread.join(timeout=30)


def test_sigterm_lets_every_accepted_call_finish_with_its_200(start_server, callers) -> None:
    server = start_server(BASE_ENV)
    port = port_of(server)
    callers.extend(Caller(port) for _ in range(4))
    # A call in flight: its headers and half its body are in, the rest comes after SIGTERM.
    in_flight = socket.create_connection(("127.0.0.1", port), timeout=10)
    in_flight.sendall(request_head(SECRET) + BODY[: len(BODY) // 2])
    assert_patched(genuine_call(server))  # the callers are under way too

    server.process.send_signal(signal.SIGTERM)
    for caller in callers:
        caller.stopping.set()
    in_flight.sendall(BODY[len(BODY) // 2 :])
    response = http.client.HTTPResponse(in_flight, method="POST")
    response.begin()
    assert response.status == 200
    assert b"/claims/tid" in response.read()
    in_flight.close()

    for caller in callers:
        caller.thread.join(timeout=30)
        assert not caller.thread.is_alive()
        assert set(caller.outcomes) <= {200}
        assert caller.after_stop[-1] == "refused"  # until the service stopped listening
        served = caller.after_stop[:-1]
        if served and served[-1] in RESET_AT_CLOSE:
            served.pop()
        assert set(served) <= {200}, caller.after_stop[-5:]
    assert any(caller.after_stop[:-1] for caller in callers)  # calls arrived after SIGTERM
    assert server.process.wait(timeout=30) == 0
    log = server.log()
    assert '"level":"error"' not in log  # no worker killed, no call failed in the service
    assert "unfinished" not in log  # every call a worker accepted was answered


# --- stopping a call that does not end -----------------------------------------------------


#: The app of tests/support/held_app.py, importable from the server's working directory.
HELD_APP = ("--pythonpath", str(ROOT), "tests.support.held_app:app")


def hold_a_call(server: Server) -> socket.socket:
    """A call of tests/support/held_app.py's /held, in flight once its first line has arrived."""
    connection = socket.create_connection(("127.0.0.1", port_of(server)), timeout=30)
    connection.sendall(b"GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    received = b""
    while HELD_FIRST_LINE not in received:  # bounded by the socket's timeout
        chunk = connection.recv(4096)
        assert chunk, received
        received += chunk
    return connection


def read_to_end(connection: socket.socket) -> bytes:
    """What the server sent until it closed the connection, or reset it (closing with some
    of the client's bytes unread)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := connection.recv(4096):  # bounded by the socket's timeout
            received += chunk
    return received


def test_sigterm_stops_a_call_that_does_not_end_before_the_master_kills(tmp_path) -> None:
    """A call still running when ``graceful_timeout`` ends is stopped by the worker itself,
    before the master's SIGKILL would have taken it (and every other call) down."""
    graceful_timeout = 5
    stopping = ("--workers", "1", "--graceful-timeout", str(graceful_timeout))
    server = launch(BASE_ENV, tmp_path, (*stopping, *HELD_APP))
    try:
        held = hold_a_call(server)
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()  # the master counts graceful_timeout from later still
        assert b"released" not in read_to_end(held)  # stopped, not finished
        held.close()
        assert server.process.wait(timeout=30) == 0
        assert time.monotonic() - signalled < graceful_timeout  # the master never had to kill
    finally:
        stop(server.process)
    log = server.log()
    assert "SIGKILL" not in log  # the master did not have to kill the worker
    assert "stopping 1 calls unfinished" in log
    assert '"level":"error"' not in log  # the stopped call is not logged as a failure


def test_a_draining_worker_keeps_telling_the_master_it_is_alive(tmp_path) -> None:
    """A worker told to stop (as ``max_requests`` does) drains for up to ``graceful_timeout``,
    longer than the master's ``timeout`` without news: it must not be taken for hung."""
    stopping = ("--workers", "1", "--graceful-timeout", "5", "--timeout", "2")
    server = launch(BASE_ENV, tmp_path, (*stopping, *HELD_APP))
    try:
        (worker,) = children(server.process.pid)
        held = hold_a_call(server)
        os.kill(worker, signal.SIGTERM)
        assert b"released" not in read_to_end(held)
        held.close()
        wait_until_up(server)  # the master started a new worker
        assert server.process.poll() is None
    finally:
        stop(server.process)
    log = server.log()
    assert "WORKER TIMEOUT" not in log
    assert "stopping 1 calls unfinished" in log
    assert '"level":"error"' not in log
