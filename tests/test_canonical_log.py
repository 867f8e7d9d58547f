"""The canonical log line, in-process: one line per request, whatever the answer."""

from __future__ import annotations

import calendar
import io
import json
import multiprocessing
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from werkzeug.routing import Map, Rule

from hook import canonical_log, create_app, jsonio, logs, samples


@pytest.fixture
def logged(settings, monkeypatch):
    """Make a test client whose log lines the test can read, as parsed JSON.

    The app writes to the ``sys.stderr`` of the moment it is made, so it is made in the
    test (pytest swaps stderr between a test's phases) with a buffer that is never closed,
    and structlog's configuration is restored afterwards for the tests that follow.
    """
    saved = structlog.get_config()
    buffer = io.StringIO()

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    def make() -> tuple[Any, Any]:
        monkeypatch.setattr(sys, "stderr", buffer)
        return create_app(settings).test_client(), lines

    yield make
    structlog.configure(**saved)


def test_each_answer_gets_one_line_and_an_echoed_id(logged, auth_headers) -> None:
    client, lines = logged()
    patched = client.post("/token-hook", json=samples.load("password-only"), headers=auth_headers)
    refused = client.post("/token-hook", json={}, headers={"X-Request-Id": "r-1"})
    missing = client.get("/nowhere")
    wrong_method = client.delete("/token-hook")
    written = lines()
    assert [line["status"] for line in written] == [200, 401, 404, 405]
    answers = [patched, refused, missing, wrong_method]
    assert [line["request_id"] for line in written] == [a.headers["X-Request-Id"] for a in answers]
    assert refused.headers["X-Request-Id"] == "r-1"
    assert written[0]["outcome"] == "patched" and written[1]["outcome"] == "unauthenticated"


def test_a_path_or_method_the_service_does_not_route_is_not_logged(logged) -> None:
    client, lines = logged()
    client.get("/users/camille.martin@chu-exemple.fr")
    client.get("/healthz")
    client.open("/healthz", method="CAMILLEMARTIN")
    written = [(line["method"], line["path"], line["status"]) for line in lines()]
    assert written == [("GET", "other", 404), ("GET", "/healthz", 200), ("other", "/healthz", 405)]


def test_an_app_that_raises_still_gets_its_line(logged) -> None:
    """Flask turns errors into answers; should anything escape it, the line is still written."""
    _client, lines = logged()

    def raising_app(_environ: dict[str, Any], _start_response: Any) -> list[bytes]:
        raise RuntimeError("escaped")

    routes = Map([Rule("/token-hook", methods=["GET"])])
    middleware = canonical_log.CanonicalLog(raising_app, routes)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/token-hook"}
    with pytest.raises(RuntimeError):
        middleware(environ, lambda *_args: None)
    (line,) = lines()
    assert (line["status"], line["path"], line["method"]) == (500, "/token-hook", "GET")


def test_an_unexpected_error_is_logged_as_a_500(logged, auth_headers, monkeypatch) -> None:
    client, lines = logged()

    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hook.views.build_answer", explode)
    client.post("/token-hook", json=samples.load("password-only"), headers=auth_headers)
    statuses = [line.get("status") for line in lines()]
    assert statuses[-1] == 500


def _child_ids(queue: multiprocessing.Queue) -> None:
    queue.put([canonical_log._new_request_id() for _ in range(3)])


@pytest.mark.process
def test_forked_workers_do_not_repeat_each_others_ids() -> None:
    """gunicorn forks its workers from one master: their ids must still differ."""
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    children = [fork.Process(target=_child_ids, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    ids = [queue.get(timeout=10), queue.get(timeout=10)]
    for child in children:
        child.join(timeout=10)
    ids.append([canonical_log._new_request_id() for _ in range(3)])
    flat = [one for batch in ids for one in batch]
    assert len(set(flat)) == len(flat) == 9
    assert all(len(one) == 32 and int(one, 16) >= 0 for one in flat)


@pytest.mark.parametrize(
    "instants",
    [
        ["2026-11-21T10:00:00", "2026-11-21T10:00:00.999999", "2026-11-21T10:00:01.000001"],
        ["2026-12-31T23:59:59.500000", "2027-01-01T00:00:00.250000", "2026-12-31T23:59:59.75"],
    ],
)
def test_the_timestamp_is_iso_utc_like_structlogs_across_seconds(instants: list[str]) -> None:
    """What ``TimeStamper(fmt="iso", utc=True)`` writes (``datetime.isoformat`` and a Z),
    and the once-a-second cache never pairs a second with another second's text."""
    now = [0]
    stamp = logs._Timestamp(clock=lambda: now[0])
    for instant in instants:
        moment = datetime.fromisoformat(instant).replace(tzinfo=UTC)
        now[0] = calendar.timegm(moment.timetuple()) * 10**9 + moment.microsecond * 1000
        expected = moment.replace(tzinfo=None).isoformat() + "Z"
        assert stamp(None, "info", {}) == {"timestamp": expected}


def test_a_value_msgspec_cannot_write_is_still_logged(logged, auth_headers) -> None:
    """json.loads lets a lone surrogate into a string, and the line carries Okta's eventId."""
    client, lines = logged()
    body = json.dumps({**samples.load("password-only"), "eventId": "evt-\ud800"}).encode()
    headers = {**auth_headers, "Content-Type": "application/json"}
    answer = client.post("/token-hook", data=body, headers=headers)
    assert answer.status_code == 200
    (line,) = lines()
    assert line["event_id"] == "evt-\ud800" and line["outcome"] == "patched"


def test_the_renderer_writes_what_json_has_no_type_for_through_default() -> None:
    rendered = json.loads(jsonio.dumps_text({"at": object(), "n": 1}, default=lambda _: "?"))
    assert rendered == {"at": "?", "n": 1}
