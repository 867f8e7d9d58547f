"""Run gunicorn exactly as the Procfile does, on loopback, and read its workers from /proc."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import free_port, gunicorn_command, stop
from tests.support.settings import BASE_ENV, ROOT

STARTUP_DEADLINE_S = 30.0
POLL_INTERVAL_S = 0.005


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    startup_s: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        return children(self.process.pid)


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start(
    name: str,
    environment: dict[str, str],
    logs: Path,
    app_uri: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> Server:
    """Start gunicorn and return once ``/healthz`` answers 200, with the time that took."""
    port = free_port()
    command = [*gunicorn_command(port), *extra_args, *([app_uri] if app_uri else [])]
    log_path = logs / f"{name}-{port}.log"
    with log_path.open("w") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    deadline = started + STARTUP_DEADLINE_S
    while not _healthy(port):
        if process.poll() is not None or time.perf_counter() > deadline:
            stop(process)
            raise RuntimeError(f"{name} did not start; see {log_path}")
        time.sleep(POLL_INTERVAL_S)
    return Server(name, port, process, log_path, time.perf_counter() - started)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident memory of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of one process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tenants_environment(count: int, directory: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """The service's settings with a PSC_TENANTS table of ``count`` establishments (a
    hospital group), and the last one, whose user the calls play."""
    tenants = [
        {"tid": f"OKTA_chu-{n:03d}", "kc_idp_hint": f"OKTA_chu-{n:03d}", "match": [f"chu-{n:03d}"]}
        for n in range(1, count + 1)
    ]
    path = directory / "tenants.json"
    path.write_text(json.dumps({"tenants": tenants}))
    environment = {key: value for key, value in BASE_ENV.items() if key != "PSC_TENANT_ID"}
    return {**environment, "PSC_TENANTS": str(path)}, tenants[-1]
