"""Soak: hold 32 connections for 60 s, then send 100,000 requests; nothing may be lost.

    .venv/bin/python -m bench.soak            # the full run (about two minutes)
    .venv/bin/python -m bench.soak --smoke    # a few seconds, every figure still printed

The service runs as the Procfile runs it, on a loopback port, and an asyncio client keeps
``--connections`` requests in flight, rotating through the shipped samples. Three phases:

1. hold: every connection busy for ``--hold`` seconds;
2. count: ``--requests`` requests. Worker restarts are turned off (``--max-requests 0``)
   for phases 1 and 2, because a restart would hide a leak: the workers' resident memory
   after phase 2 is compared with their memory after a warm-up;
3. restarts: a second server whose workers restart every ``--restart-every`` requests
   (with jitter, as ``max_requests`` and ``max_requests_jitter`` do in production, the
   rest of the gunicorn configuration unchanged) gets ``--restart-requests`` requests,
   to show that a restart drops no request.

An error is any answer other than 200, a connection that closes without an answer, or an
answer later than 10 s. The run fails (exit 1) on any error, on a restart phase without
a restart, or, on a full run, on memory growth of 10% or more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import Server, children, rss_kib, start
from hook import samples
from tests.support.processes import stop
from tests.support.settings import BASE_ENV, SECRET

ANSWER_TIMEOUT_S = 10.0
MEMORY_GROWTH_LIMIT = 0.10
RESTART_LINE = "Autorestarting worker"


@dataclass
class Tally:
    """What one phase saw."""

    requests: int = 0
    errors: int = 0
    dropped: int = 0  # a connection closed without an answer: the request was lost
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "dropped": self.dropped,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ordered, 0.50), 2),
            "p99_ms": round(percentile(ordered, 0.99), 2),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
        }


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def requests_to_send() -> list[bytes]:
    """One keep-alive POST per shipped sample, with the header secret."""
    encoded = []
    for name in samples.DESCRIPTIONS:
        body = json.dumps(samples.load(name)).encode()
        head = (
            "POST /token-hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {SECRET}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        encoded.append(head.encode() + body)
    return encoded


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one answer, and whether the server closes the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, closing = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection":
            closing = value.strip().lower() == "close"
    await reader.readexactly(length)
    return status, closing


class Load:
    """``connections`` clients, each sending one request at a time until told to stop."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.connections = connections
        self.requests = requests_to_send()

    async def run(self, tally: Tally, *, until: float | None = None, total: int | None = None):
        issued = 0

        def another() -> bool:
            nonlocal issued
            if until is not None and time.monotonic() >= until:
                return False
            if total is not None and issued >= total:
                return False
            issued += 1
            return True

        async def client(offset: int) -> None:
            reader = writer = None
            sent = offset
            while another():
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                started = time.perf_counter()
                writer.write(self.requests[sent % len(self.requests)])
                sent += 1
                try:
                    status, closing = await asyncio.wait_for(read_answer(reader), ANSWER_TIMEOUT_S)
                except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                    tally.requests += 1
                    tally.errors += 1
                    tally.dropped += 1
                    writer.close()
                    reader = writer = None
                    continue
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                tally.requests += 1
                tally.errors += status != 200
                if closing:
                    writer.close()
                    reader = writer = None
            if writer is not None:
                writer.close()

        began = time.monotonic()
        await asyncio.gather(*(client(offset) for offset in range(self.connections)))
        tally.seconds += time.monotonic() - began


def environment() -> dict[str, str]:
    """The service's test configuration, logging at info as in production."""
    return {"PATH": "/usr/bin:/bin", **BASE_ENV, "LOG_LEVEL": "info"}


def soak(args: argparse.Namespace, logs: Path) -> dict:
    """Phases 1 and 2 on a server without worker restarts; memory before and after."""
    server = start("soak", environment(), logs, extra_args=("--max-requests", "0"))
    try:
        load = Load(server.port, args.connections)
        asyncio.run(load.run(Tally(), total=args.warmup))
        workers = server.workers()
        before = {pid: rss_kib(pid) for pid in workers}
        hold, count = Tally(), Tally()
        asyncio.run(load.run(hold, until=time.monotonic() + args.hold))
        asyncio.run(load.run(count, total=args.requests))
        after = {pid: rss_kib(pid) for pid in server.workers()}
    finally:
        stop(server.process)
    growth = (
        sum(after.values()) / sum(before.values()) - 1 if after.keys() == before.keys() else None
    )
    return {
        "hold": {"seconds": args.hold, **hold.summary()},
        "count": count.summary(),
        "memory": {
            "workers": len(workers),
            "before_kib": sum(before.values()),
            "after_kib": sum(after.values()),
            "growth": None if growth is None else round(growth, 4),
            "same_workers": after.keys() == before.keys(),
        },
    }


def restarts(args: argparse.Namespace, logs: Path) -> dict:
    """Phase 3: workers restarting often under load, and no request lost."""
    jitter = max(1, args.restart_every // 10)
    server: Server = start(
        "restarts",
        environment(),
        logs,
        extra_args=(
            "--max-requests",
            str(args.restart_every),
            "--max-requests-jitter",
            str(jitter),
        ),
    )
    try:
        first_workers = set(server.workers())
        tally = Tally()
        asyncio.run(Load(server.port, args.connections).run(tally, total=args.restart_requests))
        last_workers = set(children(server.process.pid))
    finally:
        stop(server.process)
    restarted = server.log_path.read_text().count(RESTART_LINE)
    return {
        "max_requests": args.restart_every,
        "max_requests_jitter": jitter,
        "worker_restarts": restarted,
        "workers_replaced": len(first_workers - last_workers),
        **tally.summary(),
    }


def verdict(report: dict, smoke: bool) -> list[str]:
    """Every broken promise, in words; empty when the soak passed."""
    problems = [
        f"{phase}: {report[phase]['errors']} errors ({report[phase]['dropped']} dropped)"
        for phase in ("hold", "count", "restarts")
        if report[phase]["errors"]
    ]
    if report["restarts"]["worker_restarts"] == 0:
        problems.append("restarts: no worker restarted, the phase proved nothing")
    memory = report["memory"]
    if not memory["same_workers"]:
        problems.append("memory: a worker was replaced while restarts were off")
    elif not smoke and memory["growth"] >= MEMORY_GROWTH_LIMIT:
        problems.append(f"memory: grew {memory['growth']:.1%}, the limit is 10%")
    return problems


def print_report(report: dict) -> None:
    hold, count, restart, memory = (
        report[name] for name in ("hold", "count", "restarts", "memory")
    )
    print(f"connections            {report['connections']}")
    for name, phase in (("hold", hold), ("count", count), ("restarts", restart)):
        print(
            f"{name:<9} {phase['requests']:>8} requests  {phase['requests_per_s']:>8} req/s  "
            f"p50 {phase['p50_ms']} ms  p99 {phase['p99_ms']} ms  max {phase['max_ms']} ms  "
            f"errors {phase['errors']} (dropped {phase['dropped']})"
        )
    growth = "n/a" if memory["growth"] is None else f"{memory['growth']:+.1%}"
    print(
        f"memory    {memory['workers']} workers  {memory['before_kib']} KiB after warm-up  "
        f"-> {memory['after_kib']} KiB after hold and count  growth {growth}"
    )
    print(
        f"restarts  max_requests {restart['max_requests']} "
        f"(+ jitter up to {restart['max_requests_jitter']}): "
        f"{restart['worker_restarts']} worker restarts, {restart['errors']} errors"
    )
    print("verdict   " + ("; ".join(report["problems"]) or "pass"))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a run of a few seconds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--hold", type=float, default=60.0, help="seconds of phase 1")
    parser.add_argument("--requests", type=int, default=100_000, help="requests of phase 2")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--restart-every", type=int, default=1_000)
    parser.add_argument("--restart-requests", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        args.hold, args.requests, args.warmup = 1.0, 1_000, 200
        args.restart_every, args.restart_requests = 50, 600
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="psc-soak-") as logs:
        report = {"connections": args.connections, "smoke": args.smoke}
        report.update(soak(args, Path(logs)))
        report["restarts"] = restarts(args, Path(logs))
    report["problems"] = verdict(report, args.smoke)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
