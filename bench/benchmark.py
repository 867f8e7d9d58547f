"""The benchmark: every figure the spec's targets name, from one run (docs/performance.md).

    bash bench/run.sh                # the full run (about 6 minutes); installs wrk if missing
    bash bench/run.sh --quick        # a few seconds: every figure printed, none meaningful

1. in-process: the Flask app's WSGI callable, header auth and OAuth (RS256) auth;
2. start-up: from launching the Procfile's command to the first 200 on ``/healthz``;
3. HTTP: wrk at 8 and 32 connections against the service and against a bare Flask app
   (``bare_app.py``) under the same gunicorn configuration, interleaved (service, bare,
   service, bare...), with each worker's share of the CPU, which exposes a worker that
   holds every keep-alive connection;
4. memory: the workers' resident memory after a warm-up, and again once at least
   ``--memory-requests`` more calls were served (the HTTP runs count, topped up if short),
   before the slow clients' rows;
5. OAuth mode: the service checking Okta's bearer token (RS256, a real JWKS server on
   loopback; Okta reuses its token until it expires, and so do these calls) against the
   same service in header mode, at 8 and 32 connections;
6. slow clients: genuine calls at 8 connections while 50 connections send their headers a
   byte every half second (each replaced as soon as the service drops it), against the
   same calls with none; then again with each slow head starting with 156 KiB of headers
   sent at once, which the workers parse before the deadline drops the connection.

Everything is on loopback; every loop is bounded. The summary goes to stdout, the figures
as JSON to ``bench/results/`` (git-ignored). Exit 1 when a call failed; the targets are
judged and printed, not enforced: a shared machine makes timings move.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import platform
import re
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import inprocess, servers, wrk
from hook import samples
from hook.psc_environments import SANDBOX, broker_endpoint
from tests.support import jwks_server
from tests.support.processes import stop
from tests.support.settings import BASE_ENV, ROOT, SECRET
from tests.support.slow_clients import SlowClients, raise_open_files_limit

SAMPLE = "password-okta-verify-push"
RESULTS = ROOT / "bench" / "results"
CONNECTIONS = (8, 32)
TARGETS = ("service", "bare")
TOP_UP_CHUNKS = 10
UNEVEN_SHARE = 0.75  # a worker doing more than this share of the work (with 2 workers)
#: A full run serves more calls than ``max_requests`` lets a worker serve: a worker replaced
#: mid-run would spoil its CPU and memory readings, so both apps run without restarts here
#: (bench/soak.py shows that restarts drop no call).
NO_RESTARTS = ("--max-requests", "0")
SLOW_CONNECTIONS = 50
SLOW_LOAD_CONNECTIONS = 8
#: Slow clients' heads of 20 lines of 8,000 bytes (156 KiB), sent at once before the rest
#: trickles: near the most hook/gunicorn_conf.py's limits let through (24 lines of 8 KB).
LARGE_HEAD_LINES = 20
LARGE_HEAD_LINE_BYTES = 8000


def machine() -> dict:
    models = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return {
        "cpus": len(models) or None,
        "cpu_model": models[0] if models else platform.processor(),
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
    }


def post(server: servers.Server, body: bytes) -> tuple[int, bytes]:
    """One call, to check the server answers what the benchmark expects before loading it."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        headers = {"Authorization": SECRET, "Content-Type": "application/json"}
        connection.request("POST", "/token-hook", body, headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def worker_class(server: servers.Server) -> str:
    found = re.search(r"Using worker: ([\w.]+)", server.log_path.read_text())
    return found.group(1) if found else "unknown"


def rss(server: servers.Server) -> dict[int, int]:
    return {pid: servers.rss_kib(pid) for pid in server.workers()}


def measure_startup(
    starts: int, logs: Path, extra: tuple[str, ...], environment: dict[str, str]
) -> tuple[list, servers.Server]:
    """Start the service ``starts`` times; the last one stays up for the HTTP runs."""
    seconds = []
    for attempt in range(starts):
        server = servers.start("service", dict(environment), logs, extra_args=extra)
        seconds.append(round(server.startup_s, 3))
        if attempt < starts - 1:
            stop(server.process)
    return seconds, server


def summarise(runs: list[dict]) -> dict:
    return {
        "runs": len(runs),
        "requests_per_s": statistics.median(run["requests_per_s"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "worker_cpu_ms_per_request": statistics.median(
            run["worker_cpu_ms_per_request"] for run in runs
        ),
        "uneven_runs": sum(max(run["worker_cpu_share"]) > UNEVEN_SHARE for run in runs),
    }


def http_rounds(targets: dict[str, wrk.Target], args: argparse.Namespace) -> dict:
    """Interleaved runs: service, bare, service, bare... at each connection count."""
    report: dict = {}
    for connections in CONNECTIONS:
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for _round in range(args.rounds):
            for name, target in targets.items():
                result = wrk.run(target, connections, args.duration)
                runs[name].append(result)
                print_run(name, result)
        level = {name: {**summarise(found), "each": found} for name, found in runs.items()}
        service, bare = level["service"], level["bare"]
        level["throughput_ratio"] = round(service["requests_per_s"] / bare["requests_per_s"], 3)
        level["p99_ratio"] = round(service["p99_ms"] / bare["p99_ms"], 3)
        report[str(connections)] = level
    return report


def print_run(name: str, run: dict) -> None:
    shares = "/".join(f"{share:.0%}" for share in run["worker_cpu_share"])
    flag = "  <- one worker did most of the work" if max(run["worker_cpu_share"]) > 0.75 else ""
    print(
        f"  {run['connections']:>5}  {name:<8} {run['requests_per_s']:>8.0f}"
        f" {run['p50_ms']:>7.2f} {run['p99_ms']:>7.2f} {run['errors']:>6}"
        f"  {shares:<12} {run['worker_cpu_ms_per_request']:>7.3f}"
        f"  {run['others_cpu_share']:>5.0%}{flag}",
        flush=True,
    )


def oauth_rounds(oauth: wrk.Target, header: dict, args: argparse.Namespace) -> dict:
    """The OAuth-mode service at each level, beside the header-mode figures of this run."""
    report: dict = {}
    for connections in CONNECTIONS:
        runs = []
        for _round in range(args.rounds):
            runs.append(wrk.run(oauth, connections, args.duration))
            print_run("oauth", runs[-1])
        measured = summarise(runs)
        in_header_mode = header[str(connections)]["service"]
        report[str(connections)] = {
            "oauth": {**measured, "each": runs},
            "throughput_ratio": round(
                measured["requests_per_s"] / in_header_mode["requests_per_s"], 3
            ),
            "p99_ratio": round(measured["p99_ms"] / in_header_mode["p99_ms"], 3),
        }
    return report


def slow_client_run(target: wrk.Target, header: dict, args: argparse.Namespace) -> dict:
    """Genuine calls while SLOW_CONNECTIONS slowloris connections are held open: heads sent
    a byte at a time, then heads that each start with LARGE_HEAD_LINES large lines at once
    (what the worker must parse before the deadline drops the connection)."""
    raise_open_files_limit(SLOW_CONNECTIONS * 2)
    request_line = b"POST /token-hook HTTP/1.1\r\n"
    request_head = (
        "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {target.body_file.stat().st_size}\r\n{target.header}: {target.value}"
        "\r\n\r\n"
    ).encode()
    large = b"".join(
        b"X-Padding-%d: %s\r\n" % (n, b"a" * LARGE_HEAD_LINE_BYTES) for n in range(LARGE_HEAD_LINES)
    )
    without = header[str(SLOW_LOAD_CONNECTIONS)]["service"]
    report = _slow_run("slow", target, b"", request_line + request_head, without, args)
    report["large_heads"] = _slow_run(
        "slow-big", target, request_line + large, request_head, without, args
    )
    report["large_heads"]["head_kib"] = len(request_line + large) // 1024
    return report


def _slow_run(
    name: str,
    target: wrk.Target,
    prefix: bytes,
    trickle: bytes,
    without: dict,
    args: argparse.Namespace,
) -> dict:
    with SlowClients(target.server.port, SLOW_CONNECTIONS, prefix, trickle, reopen=True) as slow:
        run = wrk.run(target, SLOW_LOAD_CONNECTIONS, args.duration)
        held = slow.open
    print_run(name, run)
    return {
        "slow_connections": SLOW_CONNECTIONS,
        "held_at_the_end": held,
        "dropped": len(slow.dropped_after),
        "with_slow": run,
        "p99_ratio": round(run["p99_ms"] / without["p99_ms"], 3),
        "throughput_ratio": round(run["requests_per_s"] / without["requests_per_s"], 3),
    }


def memory_phase(target: wrk.Target, before: dict, served: int, wanted: int) -> dict:
    """Top up to ``wanted`` calls since ``before`` was read, then read the workers again."""
    rate = 1000.0
    for _chunk in range(TOP_UP_CHUNKS):
        if served >= wanted:
            break
        seconds = min(120, math.ceil((wanted - served) / rate * 1.1) + 1)
        run = wrk.run(target, 32, seconds)
        served += run["requests"]
        rate = max(run["requests_per_s"], 1.0)
    after = rss(target.server)
    same = sorted(after) == sorted(before)
    growth = (sum(after.values()) / sum(before.values()) - 1) if same else None
    return {
        "requests": served,
        "before_kib": before,
        "after_kib": after,
        "same_workers": same,
        "growth": None if growth is None else round(growth, 4),
    }


def in_process_figure(inproc: dict, kind: str) -> str:
    """A median beside the bare app's, measured in the same run: the machine's speed aside."""
    median, yardstick = inproc[kind]["median_ms"], inproc["bare"]["median_ms"]
    return f"{median:.3f} ms (bare {yardstick:.3f} ms: {median / yardstick:.2f}x)"


def verdicts(report: dict) -> list[tuple[str, bool | None, str]]:
    """(target, passed, the figure) for each of the spec's targets."""
    at8, at32 = report["http"]["8"], report["http"]["32"]
    memory = report["memory"]
    return [
        (
            "p99 at 8 connections < 10 ms",
            at8["service"]["p99_ms"] < 10,
            f"{at8['service']['p99_ms']:.2f} ms (bare {at8['bare']['p99_ms']:.2f} ms:"
            f" {at8['p99_ratio']:.2f}x)",
        ),
        (
            "throughput at 32 connections >= 0.75 x bare",
            at32["throughput_ratio"] >= 0.75,
            f"{at32['throughput_ratio']:.2f}",
        ),
        (
            "p99 at 32 connections <= 1.3 x bare",
            at32["p99_ratio"] <= 1.3,
            f"{at32['p99_ratio']:.2f}",
        ),
        (
            "in-process median < 0.3 ms (header auth)",
            report["inprocess"]["header"]["median_ms"] < 0.3,
            in_process_figure(report["inprocess"], "header"),
        ),
        (
            "in-process median < 0.3 ms (OAuth auth)",
            report["inprocess"]["oauth"]["median_ms"] < 0.3,
            in_process_figure(report["inprocess"], "oauth"),
        ),
        (
            "start-up to the first 200 < 2 s",
            max(report["startup_s"]) < 2,
            f"{max(report['startup_s']):.2f} s (worst of {len(report['startup_s'])})",
        ),
        (
            "memory growth < 10% over the calls",
            None if memory["growth"] is None else memory["growth"] < 0.10,
            "workers replaced"
            if memory["growth"] is None
            else f"{memory['growth']:+.1%} over {memory['requests']:,} calls",
        ),
    ]


def print_summary(report: dict, quick: bool) -> None:
    inproc = report["inprocess"]
    print("\nIn-process, per call (median / p99):")
    for name, label in (
        ("header", "header auth"),
        ("oauth", "OAuth auth (RS256)"),
        ("bare", "bare app"),
    ):
        figures = inproc[name]
        print(f"  {label:<20} {figures['median_ms']:.3f} ms / {figures['p99_ms']:.3f} ms")
    startup = report["startup_s"]
    print(
        f"Start-up to the first 200 on /healthz: {statistics.median(startup):.2f} s"
        f" (median of {len(startup)}, worst {max(startup):.2f} s)"
    )
    print("HTTP medians (service vs bare):")
    for connections, level in report["http"].items():
        service, bare = level["service"], level["bare"]
        print(
            f"  {connections:>2} connections: service {service['requests_per_s']:.0f} req/s,"
            f" p50 {service['p50_ms']:.2f} ms, p99 {service['p99_ms']:.2f} ms,"
            f" {service['errors']} errors | bare {bare['requests_per_s']:.0f} req/s,"
            f" p50 {bare['p50_ms']:.2f} ms, p99 {bare['p99_ms']:.2f} ms,"
            f" {bare['errors']} errors | ratio {level['throughput_ratio']:.2f},"
            f" p99 ratio {level['p99_ratio']:.2f}"
        )
        uneven = service["uneven_runs"] + bare["uneven_runs"]
        if uneven:
            print(f"     {uneven} run(s) where one worker did most of the work")
    for connections, level in report["oauth_http"].items():
        oauth = level["oauth"]
        print(
            f"OAuth mode, {connections:>2} connections: {oauth['requests_per_s']:.0f} req/s,"
            f" p99 {oauth['p99_ms']:.2f} ms, {oauth['errors']} errors | vs header mode:"
            f" ratio {level['throughput_ratio']:.2f}, p99 ratio {level['p99_ratio']:.2f}"
        )
    slow = report["slow_clients"]
    print(
        f"Slow clients: {slow['slow_connections']} held open ({slow['dropped']} dropped and"
        f" replaced), {SLOW_LOAD_CONNECTIONS} genuine connections:"
        f" {slow['with_slow']['requests_per_s']:.0f} req/s, p99 {slow['with_slow']['p99_ms']:.2f}"
        f" ms, {slow['with_slow']['errors']} errors | vs none: p99 ratio {slow['p99_ratio']:.2f}"
    )
    big = slow["large_heads"]
    print(
        f"Slow clients with {big['head_kib']} KiB heads: {big['slow_connections']} held open"
        f" ({big['dropped']} dropped and replaced): {big['with_slow']['requests_per_s']:.0f}"
        f" req/s, p99 {big['with_slow']['p99_ms']:.2f} ms, {big['with_slow']['errors']} errors"
        f" | vs none: p99 ratio {big['p99_ratio']:.2f}"
    )
    memory = report["memory"]
    growth = "workers replaced" if memory["growth"] is None else f"{memory['growth']:+.1%}"
    print(
        f"Worker memory (RSS): {sum(memory['cold_kib'].values()):,} KiB at start,"
        f" {sum(memory['before_kib'].values()):,} KiB after warm-up,"
        f" {sum(memory['after_kib'].values()):,} KiB after {memory['requests']:,} more calls"
        f" ({growth})"
    )
    print("Targets:" + (" (a --quick run: figures too short to judge)" if quick else ""))
    for target, passed, figure in verdicts(report):
        mark = "n/a " if quick or passed is None else ("PASS" if passed else "FAIL")
        print(f"  [{mark}] {target}: {figure}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="service/bare pairs per level")
    parser.add_argument("--calls", type=int, default=20_000, help="in-process calls per case")
    parser.add_argument("--starts", type=int, default=3, help="start-up measurements")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument(
        "--gunicorn-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra gunicorn argument for both apps, to compare a setting (repeatable)",
    )
    parser.add_argument(
        "--tenants",
        type=int,
        default=0,
        metavar="N",
        help="serve a hospital group: a PSC_TENANTS table of N establishments (e.g. 50)",
    )
    parser.add_argument("--json", type=Path, help="where to write the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.calls, args.starts = 1.0, 1, 300, 1
        args.memory_requests = 2_000
    return args


def setup(args: argparse.Namespace, logs: Path) -> tuple[dict[str, str], bytes]:
    """The service's settings and the call's body: with --tenants, a user of the table's last
    establishment, through PSC's route to it."""
    document = samples.load(SAMPLE)
    if not args.tenants:
        return dict(BASE_ENV), json.dumps(document).encode()
    environment, tenant = servers.tenants_environment(args.tenants, logs)
    for kind in ("identity", "access"):
        document["data"][kind]["claims"]["psc_establishment"] = tenant["match"][0]
    samples.as_routed(document, broker_endpoint(SANDBOX.issuer, tenant["kc_idp_hint"]))
    return environment, json.dumps(document).encode()


def run(args: argparse.Namespace, logs: Path) -> dict:
    environment, body = setup(args, logs)
    body_file = logs / "body.json"
    body_file.write_bytes(body)
    extra = (*NO_RESTARTS, *args.gunicorn_arg)
    report: dict = {"machine": machine(), "sample": SAMPLE, "gunicorn_args": list(extra)}
    report["tenants"] = args.tenants
    print(
        f"{report['machine']['cpus']} x {report['machine']['cpu_model']},"
        f" Python {report['machine']['python']}, gunicorn {report['machine']['gunicorn']}",
        flush=True,
    )

    report["inprocess"] = inprocess.measure(environment, body, SECRET, args.calls)
    report["startup_s"], service = measure_startup(args.starts, logs, extra, environment)
    bare = None
    try:
        status, answer = post(service, body)
        if status != 200 or b'"commands"' not in answer:
            raise SystemExit(f"the service answered {status} to the sample: {answer[:200]!r}")
        bare = servers.start(
            "bare",
            dict(BASE_ENV),
            logs,
            app_uri=f"bench.bare_app:create_app(answer_bytes={len(answer)})",
            extra_args=extra,
        )
        bare_status, bare_answer = post(bare, body)
        if bare_status != 200 or len(bare_answer) != len(answer):
            raise SystemExit(f"the bare app answered {bare_status}, {len(bare_answer)} bytes")
        targets = {
            name: wrk.Target(server, body_file, "Authorization", SECRET)
            for name, server in (("service", service), ("bare", bare))
        }
        report["gunicorn"] = {
            "worker_class": worker_class(service),
            "workers": len(service.workers()),
            "answer_bytes": len(answer),
        }
        cold = rss(service)
        for target in targets.values():
            wrk.run(target, 8, 1)  # warm-up, not reported
        before = rss(service)
        print(
            f"HTTP: wrk, {args.duration:g} s runs, {report['gunicorn']['workers']}"
            f" {report['gunicorn']['worker_class']} workers each, {len(answer)}-byte answers\n"
            "  conns  app         req/s  p50 ms  p99 ms errors  worker CPU   ms CPU/req"
            "  others",
            flush=True,
        )
        report["http"] = http_rounds(targets, args)
        served = sum(
            run["requests"] for level in report["http"].values() for run in level["service"]["each"]
        )
        # Memory before the slow clients: the 156 KiB heads of that row leave their buffers
        # in the workers' heap, which is no growth per call.
        report["memory"] = {
            "cold_kib": cold,
            **memory_phase(targets["service"], before, served, args.memory_requests),
        }
        report["slow_clients"] = slow_client_run(targets["service"], report["http"], args)
        report["oauth_http"] = oauth_phase(
            body_file, report["http"], logs, extra, args, environment
        )
    finally:
        stop(service.process)
        if bare is not None:
            stop(bare.process)
    return report


def oauth_phase(
    body_file: Path,
    header: dict,
    logs: Path,
    extra: tuple[str, ...],
    args: argparse.Namespace,
    service_environment: dict[str, str],
) -> dict:
    """Start the service in OAuth mode, its keys from a JWKS server on loopback, and load it."""
    keys = jwks_server.JwksServer([jwks_server.signing_key(jwks_server.FIRST_KID)])
    oauth = None
    try:
        environment = {**service_environment, **jwks_server.oauth_environment(keys)}
        oauth = servers.start("oauth", environment, logs, extra_args=extra)
        token = jwks_server.mint(keys.keys[0])
        target = wrk.Target(oauth, body_file, "Authorization", f"Bearer {token}")
        wrk.run(target, 8, 1)  # warm-up, not reported
        return oauth_rounds(target, header, args)
    finally:
        if oauth is not None:
            stop(oauth.process)
        keys.close()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    wrk.locate()
    with tempfile.TemporaryDirectory(prefix="psc-bench-") as workdir:
        report = run(args, Path(workdir))
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["quick"] = args.quick
    report["verdicts"] = [
        {"target": target, "passed": None if args.quick else passed, "figure": figure}
        for target, passed, figure in verdicts(report)
    ]
    print_summary(report, args.quick)
    destination = args.json or RESULTS / f"{report['finished'].replace(':', '')}.json"
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Figures written to {destination}")
    errors = sum(level[app]["errors"] for level in report["http"].values() for app in TARGETS)
    errors += sum(level["oauth"]["errors"] for level in report["oauth_http"].values())
    errors += report["slow_clients"]["with_slow"]["errors"]
    errors += report["slow_clients"]["large_heads"]["with_slow"]["errors"]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
