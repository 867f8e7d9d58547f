"""``psc-hook doctor`` reads Okta's verdict back from the fake's System Log
(``GET /api/v1/logs``): failed calls, answers not applied, no call at all, grouped by
Okta's reason, read for a bounded number of pages, Okta's text shown as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hook.cli import audit_log, okta_api
from hook.cli.audit_log import EXECUTED, PROCESSED, parse_since
from hook.cli.terminal import printable
from tests.support.cli_runner import run
from tests.support.doctor_org import POLICY, RULE, SERVER, codes, doctor, wire
from tests.support.fake_okta import LOG_ACTOR, TOKEN
from tests.support.okta_schemas import validate_management

#: The org, the service it calls (conftest's okta, hinted_service) and the doctor's settings.
pytestmark = pytest.mark.usefixtures("doctor_env")

HOSTILE = "\x1b[2J\x1b[HPassword: \x1b]0;owned\x07\r\x9b31mred\u202egnp.exe\x00"


def log_requests(fake):
    return [r for r in fake.requests if r.path == "/api/v1/logs"]


@pytest.mark.process
def test_every_event_the_fake_serves_fits_oktas_log_event(okta):
    hook = wire(okta.fake)
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "timeout", message=HOSTILE)
    okta.fake.add_log_event(PROCESSED, hook["id"], "FAILURE", HOSTILE, debug={"x": "y"})
    okta.fake.add_log_event(PROCESSED, "calAnotherHook", "SUCCESS")
    client = okta_api.OktaClient(okta.url, TOKEN)
    now = datetime.now(UTC)
    pages = client.pages(audit_log.log_path(now - timedelta(days=1), now + timedelta(minutes=1)))
    events = [event for page in pages for event in page.items]
    assert len(events) == len(okta.fake.logs) == 5
    for event in events:
        validate_management("LogEvent", event)


@pytest.mark.process
def test_the_hooks_events_are_asked_for_a_closed_period_newest_first(capsys, okta):
    wire(okta.fake)
    before = datetime.now(UTC).replace(microsecond=0)
    assert codes(capsys, okta, "--since", "2h") == []
    [request] = log_requests(okta.fake)
    query = {key: values[0] for key, values in request.query.items()}
    assert query["filter"] == (
        'eventType eq "inline_hook.executed" or eventType eq "inline_hook.response.processed"'
    )
    since, until = (datetime.fromisoformat(query[key]) for key in ("since", "until"))
    assert until - since == timedelta(hours=2)
    assert before <= until <= datetime.now(UTC)
    assert (query["limit"], query["sortOrder"]) == ("1000", "DESCENDING")


@pytest.mark.process
def test_the_log_is_read_before_the_test_run(capsys, okta):
    wire(okta.fake)
    assert codes(capsys, okta) == []
    paths = [(r.method, r.path) for r in okta.fake.requests]
    assert paths.index(("GET", "/api/v1/logs")) < [m for m, _ in paths].index("POST")


@pytest.mark.process
def test_calls_that_failed_on_oktas_side_grouped_by_reason(capsys, okta):
    hook = wire(okta.fake)
    for minutes in (50, 40, 30):
        okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "Timeout",
                                ago=timedelta(minutes=minutes), message="timed out")  # fmt: skip
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "HTTP 503",
                            ago=timedelta(minutes=20))  # fmt: skip
    okta.fake.add_log_event(EXECUTED, "calAnotherHook", "FAILURE", "Timeout")
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "Timeout", ago=timedelta(days=2))
    result = doctor(capsys, okta, "--json")
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert finding["code"] == "okta-calls-failed"
    assert finding["area"] == "system-log"
    assert "records 4 of its 5 calls to the hook as failed" in finding["problem"]
    latest = [e for e in okta.fake.logs if e["displayMessage"] == "timed out"][-1]
    assert (
        f"FAILURE 'Timeout' x3 (latest {latest['published']}, event {latest['uuid']},"
        in (finding["problem"])
    )
    assert "FAILURE 'HTTP 503' x1" in finding["problem"]
    assert "retries once" in finding["fix"]
    log = result.json()["system_log"]
    assert (log["calls"], log["failed_calls"], log["refused_answers"]) == (5, 4, 0)
    assert [(g["reason"], g["count"]) for g in log["failed"]] == [("Timeout", 3), ("HTTP 503", 1)]
    assert log["complete"] is True


@pytest.mark.process
def test_answers_okta_refused_say_how_to_take_oid_out_of_the_id_token(capsys, okta, monkeypatch):
    hook = wire(okta.fake)
    okta.fake.add_log_event(PROCESSED, hook["id"], "FAILURE", "Invalid claim oid")
    okta.fake.add_log_event(PROCESSED, hook["id"], "FAILURE", "Invalid claim oid")
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "okta-refused-answers"
    assert "records 2 of the hook's 3 answers as not applied" in finding["problem"]
    assert "FAILURE 'Invalid claim oid' x2" in finding["problem"]
    assert "set PSC_CLAIMS_ID_TOKEN='tid,kc_idp_hint' on the service" in finding["fix"]
    assert "doctor --since 1h again" in finding["fix"]
    monkeypatch.setenv("PSC_CLAIMS_ID_TOKEN", "tid,kc_idp_hint")
    [finding] = doctor(capsys, okta, "--json").json()["findings"]
    assert finding["code"] == "okta-refused-answers"
    assert "PSC_CLAIMS_ID_TOKEN" not in finding["fix"]
    assert "preview --strict" in finding["fix"]


@pytest.mark.process
def test_an_attached_hook_okta_never_called(capsys, okta):
    hook = wire(okta.fake)
    okta.fake.logs.clear()
    okta.fake.add_log_event(EXECUTED, hook["id"], ago=timedelta(hours=30))
    result = doctor(capsys, okta)
    assert "[no-calls-seen] An active rule calls the hook, but Okta's System Log records no" in (
        result.out
    )
    assert codes(capsys, okta, "--since", "2d") == []
    okta.fake.rules[(SERVER, POLICY, RULE)]["actions"]["token"].pop("inlineHook")
    assert codes(capsys, okta) == ["hook-not-attached"]
    okta.fake.hooks[hook["id"]]["status"] = "INACTIVE"
    okta.fake.rules[(SERVER, POLICY, RULE)]["actions"]["token"]["inlineHook"] = {"id": hook["id"]}
    assert codes(capsys, okta) == ["hook-inactive"]


@pytest.mark.process
def test_what_holds_says_how_many_calls_okta_made(capsys, okta):
    hook = wire(okta.fake)
    okta.fake.add_hook_calls(hook["id"], count=2)
    result = doctor(capsys, okta)
    assert result.code == 0, result.out
    assert "3 calls to the hook, none failed; 3 answers, all applied." in result.out


@pytest.mark.process
def test_the_reading_is_bounded_in_pages(capsys, okta, monkeypatch):
    monkeypatch.setattr(audit_log, "PAGE_LIMIT", 2)
    monkeypatch.setattr(audit_log, "MAX_LOG_PAGES", 3)
    hook = wire(okta.fake)
    okta.fake.logs.clear()
    for minutes in range(20):
        okta.fake.add_log_event(EXECUTED, "calAnotherHook", ago=timedelta(minutes=minutes + 1))
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "late", ago=timedelta(hours=2))
    result = doctor(capsys, okta, "--json")
    assert len(log_requests(okta.fake)) == 3
    log = result.json()["system_log"]
    assert (log["complete"], log["calls"]) == (False, 0)
    assert log["read_until"] == okta.fake.logs[-6]["published"]
    assert [f["code"] for f in result.json()["findings"]] == []  # not "no-calls-seen"
    monkeypatch.setattr(audit_log, "MAX_LOG_PAGES", 20)
    assert codes(capsys, okta) == ["okta-calls-failed"]
    assert len(log_requests(okta.fake)) == 3 + 11
    text = doctor(capsys, okta).out
    assert "reading stopped" not in text


@pytest.mark.process
def test_the_reading_is_bounded_in_time(capsys, okta, monkeypatch):
    monkeypatch.setattr(audit_log, "PAGE_LIMIT", 1)
    monkeypatch.setattr(audit_log, "LOG_BUDGET_SECONDS", 0.0)
    hook = wire(okta.fake)
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "late", ago=timedelta(minutes=1))
    result = doctor(capsys, okta, "--json")
    assert len(log_requests(okta.fake)) == 1
    assert result.json()["system_log"]["complete"] is False
    [finding] = result.json()["findings"]
    assert "the reading stopped at its bound" in finding["problem"]


@pytest.mark.process
def test_a_next_page_of_the_log_on_another_host_is_not_followed(capsys, okta, monkeypatch):
    monkeypatch.setattr(audit_log, "PAGE_LIMIT", 1)
    okta.fake.next_origin = "https://elsewhere.example"
    hook = wire(okta.fake)
    okta.fake.add_hook_calls(hook["id"])
    result = doctor(capsys, okta)
    assert result.code == 1
    assert "Okta's next page of GET /api/v1/logs" in result.err
    assert "is on https://elsewhere.example" in result.err
    assert len(log_requests(okta.fake)) == 1


@pytest.mark.process
def test_oktas_text_is_shown_bounded_and_without_escape_sequences(capsys, okta):
    hook = wire(okta.fake)
    long = "A" * 5000
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", HOSTILE, message=HOSTILE + long)
    okta.fake.add_log_event(PROCESSED, hook["id"], "FAILURE", long, debug={"secret": HOSTILE})
    for as_json in ((), ("--json",)):
        result = doctor(capsys, okta, *as_json)
        shown = result.out + result.err
        assert result.code == 1
        assert not [char for char in shown if char in "\x1b\x9b\x07\r\x00\u202e"]
        assert "Password: red" in shown
        assert "A" * 250 not in shown
        assert "A" * 190 in shown
        for personal in LOG_ACTOR.values():
            assert personal not in shown


@pytest.mark.process
def test_findings_are_grouped_beyond_a_bound(capsys, okta, monkeypatch):
    monkeypatch.setattr(audit_log, "MAX_GROUPS", 2)
    hook = wire(okta.fake)
    for number in range(5):
        okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", f"reason {number}")
    log = doctor(capsys, okta, "--json").json()["system_log"]
    assert (len(log["failed"]), log["others"], log["failed_calls"]) == (2, {"failed": 3}, 5)


@pytest.mark.process
@pytest.mark.parametrize("since", ["0m", "91d", "yesterday", "24"])
def test_a_period_okta_does_not_keep_is_2(capsys, okta, since):
    result = run(capsys, "doctor", "--org", okta.url, "--since", since)
    assert result.code == 2
    assert "not a period of 1 minute to 90 days" in result.err
    assert okta.fake.requests == []


def test_periods():
    assert parse_since("30m") == timedelta(minutes=30)
    assert parse_since(" 24H ") == timedelta(hours=24)
    assert parse_since("90d") == timedelta(days=90)


def test_printable_strips_what_a_terminal_would_obey():
    assert printable("a\x1b[31mb\x1b]8;;http://x\x1b\\c\x07d\r\ne\tf", 100) == "abcd e f"
    assert printable("\u202eevil\u200b", 100) == "evil"
    assert printable("é" * 10, 5) == "éééé…"
