"""Shared fixtures: settings, the Flask app and client, and a real gunicorn on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from hook import create_app
from hook.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
OTHER_SECRET = "rotated-secret-9876543210-zyxwvutsrqponmlkjihgfedcba"
BASE_ENV = {
    "PSC_TENANT_ID": "OKTA_chu-exemple",
    "PSC_CPS_IDP_IDS": "0oa1cpsSmartCard0Idp7",  # the samples' CPS card reader
    "HOOK_AUTH_MODE": "header",
    "HOOK_SECRETS": SECRET,
    "LOG_FORMAT": "json",
}

#: Where in Okta's request the service reads (fuzzing aims there).
READ_PATHS: tuple[tuple[str, ...], ...] = (
    ("eventType",),
    ("eventId",),
    ("data",),
    ("data", "context"),
    ("data", "context", "protocol"),
    ("data", "context", "protocol", "request"),
    ("data", "context", "protocol", "request", "grant_type"),
    ("data", "context", "protocol", "request", "redirect_uri"),
    ("data", "context", "protocol", "OriginalGrant"),
    ("data", "context", "protocol", "OriginalGrant", "authorization"),
    ("data", "context", "protocol", "OriginalGrant", "authorization", "redirect_uri"),
    ("data", "context", "protocol", "originalGrant"),
    ("data", "context", "protocol", "originalGrant", "authorization"),
    ("data", "context", "protocol", "originalGrant", "authorization", "redirect_uri"),
    ("data", "context", "protocol", "client"),
    ("data", "context", "protocol", "client", "id"),
    ("data", "context", "session"),
    ("data", "context", "session", "userId"),
    ("data", "context", "session", "amr"),
    ("data", "context", "session", "idp"),
    ("data", "context", "session", "idp", "id"),
    ("data", "context", "session", "lastPasswordVerification"),
    ("data", "context", "session", "lastMfaVerification"),
    ("data", "context", "user"),
    ("data", "context", "user", "id"),
    ("data", "identity"),
    ("data", "identity", "claims"),
    ("data", "identity", "claims", "sub"),
    ("data", "identity", "claims", "amr"),
    ("data", "identity", "claims", "idp"),
    ("data", "identity", "claims", "auth_time"),
    ("data", "identity", "claims", "psc_establishment"),
    ("data", "access"),
    ("data", "access", "claims"),
    ("data", "access", "claims", "uid"),
    ("data", "access", "claims", "psc_establishment"),
)


@pytest.fixture
def env() -> dict[str, str]:
    """The environment a test's settings are built from; tests may change it first."""
    return dict(BASE_ENV)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers() -> dict[str, str]:
    return {"Authorization": SECRET}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    output: Path

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.output.read_text()

    def log_line(self, request_id: str) -> dict[str, Any]:
        """The canonical log line of one request."""
        for line in self.log().splitlines():
            if line.startswith("{") and json.loads(line).get("request_id") == request_id:
                return json.loads(line)
        raise AssertionError(f"no log line for {request_id}: {self.log()}")


@dataclass(frozen=True)
class Scrape:
    """The samples of a ``/metrics`` answer; ``scrape(name, label=value)`` is one value."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        return cls(
            {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
        )

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]

    def label_values(self) -> set[str]:
        """Every label's values, the histogram's bucket bounds (``le``) aside."""
        return {value for _, labels in self.samples for name, value in labels if name != "le"}


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gunicorn_command(port: int) -> list[str]:
    """The Procfile's command, bound to a loopback port."""
    procfile = (ROOT / "Procfile").read_text().split("web:", 1)[1].split()
    assert procfile[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *procfile[1:], "--bind", f"127.0.0.1:{port}"]


def launch(
    environment: dict[str, str],
    workdir: Path,
    extra_args: tuple[str, ...] = (),
    scheme: str = "http",
) -> Server:
    """Start gunicorn as the Procfile does, its output in a file, and wait until it answers
    (``scheme="https"`` when the extra arguments give it a certificate)."""
    port = free_port()
    output = workdir / f"gunicorn-{port}.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [*gunicorn_command(port), *extra_args],
            cwd=workdir,
            env={"PATH": os.environ["PATH"], **environment},
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(f"{scheme}://127.0.0.1:{port}", process, output)
    try:
        wait_until_up(server)
    except AssertionError:
        stop(process)
        raise
    return server


def wait_until_up(server: Server, deadline_s: float = 20) -> None:
    """Poll /healthz until it answers; fail with the process's output if it exits."""
    url, process = server.url, server.process
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}: {server.log()}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.05)  # not a timing assertion: waiting for a socket to listen
    raise AssertionError(f"server did not come up: {server.log()}")


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Start the real service under gunicorn (the Procfile's command) on a loopback port."""
    started: list[subprocess.Popen] = []

    def start(environment: dict[str, str], extra_args: tuple[str, ...] = ()) -> Server:
        server = launch(environment, tmp_path, extra_args)
        started.append(server.process)
        return server

    yield start
    for process in started:
        stop(process)


@pytest.fixture(scope="module")
def module_server(tmp_path_factory) -> Iterator[Server]:
    """One gunicorn for a whole test module, with the base settings."""
    server = launch(BASE_ENV, tmp_path_factory.mktemp("server"))
    yield server
    stop(server.process)
