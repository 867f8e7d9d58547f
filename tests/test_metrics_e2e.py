"""Metrics under the real gunicorn (the Procfile's command, two workers): the counts of
both workers add up whichever worker answers the scrape, and a worker that restarts or is
killed neither loses nor doubles a count, nor leaves its files behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from hook import metrics, samples
from hook.outcomes import Outcome
from tests.support.processes import Server
from tests.support.scrape import Scrape
from tests.support.settings import BASE_ENV, SECRET

pytestmark = pytest.mark.process

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"
ENV = {
    **BASE_ENV,
    "PSC_MIN_ASSURANCE": "substantiel",
    "PSC_CLIENT_IDS": "0oa1pscClient0Example7",
    "METRICS_TOKEN": TOKEN,
}
CALLS = "psc_hook_calls_total"
FAILURES = "psc_hook_auth_failures_total"
DECISIONS = "psc_hook_amr_decisions_total"
DURATION = "psc_hook_call_duration_seconds"
AUTH = {"Authorization": SECRET}


def other_client() -> dict[str, Any]:
    body = samples.load("password-only")
    body["data"]["context"]["protocol"]["client"]["id"] = "0oaSomeOtherApp"
    return body


#: (outcome, body, headers, status, how many): the calls of one round.
ROUND: list[tuple[str, Any, dict[str, str], int, int]] = [
    ("patched", samples.load("cps-smart-card"), AUTH, 200, 4),
    ("patched", samples.load("password-okta-verify-push"), AUTH, 200, 2),
    ("refused-assurance", samples.load("password-only"), AUTH, 200, 2),
    ("unauthenticated", samples.load("fastpass"), {}, 401, 2),
    ("unauthenticated", samples.load("fastpass"), {"Authorization": "wrong"}, 401, 3),
    ("invalid-payload", {"eventType": "com.okta.oauth2.tokens.transform"}, AUTH, 400, 2),
    ("out-of-scope-client", other_client(), AUTH, 204, 1),
]
ROUNDS = 3


def send(server: Server, calls: list[tuple[Any, dict[str, str], int]]) -> None:
    """The calls from eight connections at once, so that both workers take some."""

    def call(body: Any, headers: dict[str, str]) -> int:
        url = f"{server.url}/token-hook"
        return requests.post(url, json=body, headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda one: call(one[0], one[1]), calls))
    assert statuses == [status for _, _, status in calls]


def fetch(server: Server) -> Scrape:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    answer = requests.get(f"{server.url}/metrics", headers=bearer, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == metrics.CONTENT_TYPE
    return Scrape.parse(answer.text)


def file_pids(directory: Path) -> set[int]:
    """The processes whose own files are in the directory (the archive is not one)."""
    return {
        int(path.stem.rpartition("_")[2])
        for path in directory.glob("*.db")
        if not path.stem.endswith("_archive")
    }


def workers(server: Server) -> set[int]:
    """The master's children, as the kernel lists them."""
    master = server.process.pid
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def eventually(condition: Callable[[], bool], what: str, deadline_s: float = 20) -> None:
    """Wait for the master to do what it does asynchronously (reap, respawn, fold)."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # not a timing assertion: waiting for the master's loop


def calls_by_worker(directory: Path) -> dict[int, float]:
    """Each live process's own count of hook calls, read from its own file."""
    counts = {}
    for pid in file_pids(directory):
        merged = MultiProcessCollector.merge([str(directory / f"counter_{pid}.db")])
        counts[pid] = sum(
            sample.value for metric in merged for sample in metric.samples if sample.name == CALLS
        )
    return counts


def test_both_workers_counts_add_up_in_every_scrape(start_server, tmp_path) -> None:
    directory = tmp_path / "metrics"
    server = start_server({**ENV, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    eventually(lambda: len(file_pids(directory)) == 2, "both workers booted")
    calls = [(body, headers, status) for *_, body, headers, status, n in ROUND for _ in range(n)]
    rounds = 0
    # Which worker takes a connection is the kernel's choice: go on until both took some.
    while rounds < ROUNDS or (0 in calls_by_worker(directory).values() and rounds < 4 * ROUNDS):
        send(server, calls)
        rounds += 1
    assert sorted(calls_by_worker(directory).values())[0] > 0, "both workers counted calls"
    scrapes = [fetch(server) for _ in range(6)]  # each on a new connection, either worker
    assert all(scrape.samples == scrapes[0].samples for scrape in scrapes)
    scrape = scrapes[0]

    expected: dict[str, int] = {}
    for outcome, *_, n in ROUND:
        expected[outcome] = expected.get(outcome, 0) + n * rounds
    for outcome in (*Outcome, metrics.OTHER):
        assert scrape(CALLS, outcome=outcome) == expected.get(outcome, 0), outcome
    total = len(calls) * rounds
    assert sum(calls_by_worker(directory).values()) == total
    assert scrape(f"{DURATION}_count") == scrape(f"{DURATION}_bucket", le="+Inf") == total
    assert (f"{DURATION}_bucket", (("le", "3.0"),)) in scrape.samples
    assert scrape(DECISIONS, rule="cps-smart-card", assurance="eleve") == 4 * rounds
    assert scrape(DECISIONS, rule="password-okta-verify", assurance="substantiel") == 2 * rounds
    assert scrape(DECISIONS, rule="none", assurance="none") == 2 * rounds
    assert scrape(FAILURES, mode="header", reason="header-missing") == 2 * rounds
    assert scrape(FAILURES, mode="header", reason="header-mismatch") == 3 * rounds


def test_restarts_and_a_killed_worker_neither_lose_nor_double_a_count(
    start_server, tmp_path
) -> None:
    directory = tmp_path / "metrics"
    restarts = ("--max-requests", "5", "--max-requests-jitter", "0")
    server = start_server({**ENV, "PROMETHEUS_MULTIPROC_DIR": str(directory)}, restarts)
    master = server.process.pid
    call = (samples.load("cps-smart-card"), AUTH, 200)
    send(server, [call] * 12)

    victim = min(workers(server))
    os.kill(victim, signal.SIGKILL)  # no chance to flush anything: the counts are in the file
    eventually(
        lambda: victim not in workers(server) and len(workers(server)) == 2,
        "the master replaced the killed worker",
    )
    send(server, [call] * 12)

    eventually(
        lambda: file_pids(directory) <= workers(server) | {master},
        "every exited worker's files were folded into the archive",
    )
    assert "Autorestarting worker" in server.log()  # max_requests restarted some
    assert {"counter_archive.db", "histogram_archive.db"} <= {p.name for p in directory.iterdir()}
    scrape = fetch(server)
    assert scrape(CALLS, outcome="patched") == 24
    assert scrape(f"{DURATION}_count") == 24
    assert scrape(DECISIONS, rule="cps-smart-card", assurance="eleve") == 24


def test_unreadable_metrics_files_are_set_aside_and_never_stop_the_server(
    start_server, tmp_path
) -> None:
    """An empty archive (what a crash while it was written leaves) read by the master as a
    worker exits, and a truncated file read by a scrape: each is set aside and counted."""
    directory = tmp_path / "metrics"
    server = start_server({**ENV, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    eventually(lambda: len(file_pids(directory)) == 2, "both workers booted")
    call = (samples.load("cps-smart-card"), AUTH, 200)
    send(server, [call] * 8)
    (directory / "counter_archive.db").write_bytes(b"")
    whole = (directory / f"histogram_{min(file_pids(directory))}.db").read_bytes()
    used = int.from_bytes(whole[:4], "little")
    (directory / "histogram_999999.db").write_bytes(whole[: used // 2])

    victim = min(workers(server))
    os.kill(victim, signal.SIGKILL)  # the master folds its files into the empty archive
    eventually(
        lambda: victim not in workers(server) and len(workers(server)) == 2,
        "the master replaced the killed worker",
    )
    assert server.process.poll() is None
    fetch(server)  # the scrape that meets the truncated file still answers
    scrape = fetch(server)
    assert scrape("psc_hook_metrics_files_set_aside_total") == 2
    assert scrape(CALLS, outcome="patched") == 8  # the killed worker's counts were kept
    assert {"counter_archive.db.bad", "histogram_999999.db.bad"} <= {
        path.name for path in directory.iterdir()
    }
    log = server.log()
    assert log.count('"event":"metrics-file-set-aside"') == 2
    assert "Traceback" not in log and "struct.error" not in log
