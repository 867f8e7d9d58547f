"""Drive wrk (Debian's package ``wrk``) with ``post.lua``, and measure what it cost whom.

Around each run it reads /proc: each worker's CPU time, which shows how the workers
shared the load (one worker holding every keep-alive connection shows as 100/0), and
the whole machine's, which shows how much other processes took while it ran.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import servers

SCRIPT = Path(__file__).with_name("post.lua")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
THREADS = 2


def locate() -> str:
    """The wrk binary, or exit naming the command that installs it."""
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: run bench/run.sh, which installs it")
    return found


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def _children_ticks() -> int:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * TICKS_PER_S)


@dataclass(frozen=True)
class Target:
    """What to load: a running server, and the request to send it."""

    server: servers.Server
    body_file: Path
    header: str
    value: str


def run(target: Target, connections: int, seconds: float) -> dict:
    """One wrk run: requests/s, p50, p99, errors, worker CPU shares, others' CPU share."""
    workers = target.server.workers()
    before = {pid: servers.cpu_ticks(pid) for pid in workers}
    busy_before, total_before = _machine_ticks()
    children_before = _children_ticks()
    command = [
        locate(),
        f"--threads={min(THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        f"{target.server.url}/token-hook",
        "--",
        str(target.body_file),
        target.header,
        target.value,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    busy_after, total_after = _machine_ticks()
    wrk_ticks = _children_ticks() - children_before
    worker_ticks = {pid: servers.cpu_ticks(pid) - ticks for pid, ticks in before.items()}
    figures = json.loads(finished.stdout.strip().splitlines()[-1])
    seconds_run = figures["duration_us"] / 1e6
    spent = sum(worker_ticks.values()) or 1
    ours = sum(worker_ticks.values()) + wrk_ticks
    return {
        "connections": connections,
        "requests": figures["requests"],
        "requests_per_s": round(figures["requests"] / seconds_run, 1),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "errors": sum(
            figures[kind]
            for kind in ("connect_errors", "read_errors", "write_errors", "status_errors")
        )
        + figures["timeouts"],
        "worker_cpu_share": [round(ticks / spent, 2) for ticks in worker_ticks.values()],
        "worker_cpu_ms_per_request": round(
            sum(worker_ticks.values()) * 1000 / TICKS_PER_S / max(figures["requests"], 1), 4
        ),
        "others_cpu_share": round(
            max(0, busy_after - busy_before - ours) / max(total_after - total_before, 1), 2
        ),
    }
