"""Launching and stopping the real service under gunicorn (the Procfile's command) on a
loopback port, and waiting until it answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.settings import ROOT


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
