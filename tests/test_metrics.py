"""Metrics in-process: each fact lands under a label of its closed set, ``/metrics`` is
guarded by ``METRICS_TOKEN``, and an exited process's files fold into the archive without
changing a count. Under gunicorn, across workers and restarts: test_metrics_e2e.py."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hook import create_app, metrics, metrics_files, samples
from hook.config import ConfigError, load_settings
from hook.oauth import FAILURE_REASONS
from hook.outcomes import Outcome
from tests.support.jwks_server import oauth_environment
from tests.support.scrape import Scrape
from tests.support.settings import BASE_ENV, ROOT, SECRET

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"
CALLS = "psc_hook_calls_total"
FAILURES = "psc_hook_auth_failures_total"
DECISIONS = "psc_hook_amr_decisions_total"
TENANT_CALLS = "psc_hook_tenant_calls_total"
AUTH = {"Authorization": SECRET}
GATED = {**BASE_ENV, "PSC_MIN_ASSURANCE": "substantiel", "PSC_CLIENT_IDS": "0oa1pscClient0Example7"}
BOTH_MODES = {
    **BASE_ENV,
    "HOOK_AUTH_MODE": "header,oauth",
    "HOOK_OAUTH_ISSUER": "https://chu-exemple.okta.com/oauth2/aus9hookCaller0example",
    "HOOK_OAUTH_AUDIENCE": "api://psc-hook",
    "HOOK_OAUTH_JWKS_URI": "http://127.0.0.1:9/v1/keys",
}


def scrape(client: Any, headers: dict[str, str] | None = None) -> Scrape:
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == metrics.CONTENT_TYPE
    return Scrape.parse(answer.get_data(as_text=True))


def without_tokens() -> dict[str, Any]:
    body = samples.load("password-only")
    del body["data"]["identity"], body["data"]["access"]
    return body


def other_client() -> dict[str, Any]:
    body = samples.load("password-only")
    body["data"]["context"]["protocol"]["client"]["id"] = "0oaSomeOtherApp"
    return body


def raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hook.views.build_answer", explode)


def post(client: Any, body: Any, headers: dict[str, str] = AUTH, **options: Any) -> Any:
    return client.post("/token-hook", json=body, headers=headers, **options)


#: A body that ends before the length it announced (the client went away, or was too slow).
SHORT_BODY = {
    "data": b"{",
    "content_type": "application/json",
    "environ_overrides": {"CONTENT_LENGTH": "100"},
}

#: One call per outcome label: how to make it, and what the service answers.
CASES: dict[str, tuple[Callable[[Any], Any], int]] = {
    "patched": (lambda c: post(c, samples.load("cps-smart-card")), 200),
    "refused-assurance": (lambda c: post(c, samples.load("password-only")), 200),
    "out-of-scope-client": (lambda c: post(c, other_client()), 204),
    "nothing-to-patch": (lambda c: post(c, without_tokens()), 204),
    "unauthenticated": (lambda c: post(c, samples.load("fastpass"), {}), 401),
    "invalid-payload": (lambda c: post(c, {}), 400),
    "too-large": (lambda c: post(c, None, data=b"x" * 300_000), 413),
    "incomplete-body": (lambda c: post(c, None, **SHORT_BODY), 400),
    "unsupported-media-type": (lambda c: post(c, None, data="a=b"), 415),
    "error": (lambda c: post(c, samples.load("fastpass")), 500),
    "other": (lambda c: c.get("/token-hook"), 405),
}


TENANTS_FILE = {"tenants": [{"tid": "OKTA_chu-a", "match": ["chu-a"]},
                            {"tid": "OKTA_chu-b", "match": ["chu-b"]}]}  # fmt: skip


def as_user_of(*values: str, fresh: bool = True) -> dict[str, Any]:
    """A push sign-in of a user of the establishments ``values``, authenticated now, with no
    PSC route (the sample's names an alias of no establishment here)."""
    body = samples.as_routed(samples.load("password-okta-verify-push"), None)
    for kind in ("identity", "access"):
        body["data"][kind]["claims"]["psc_establishment"] = list(values)
    if fresh:
        body["data"]["identity"]["claims"]["auth_time"] = int(time.time())
    return body


def without_auth_time() -> dict[str, Any]:
    body = as_user_of("chu-a")
    del body["data"]["identity"]["claims"]["auth_time"]
    del body["data"]["context"]["session"]["lastPasswordVerification"]
    return body


def of_two_users() -> dict[str, Any]:
    """The access token names another user than the ID token."""
    body = as_user_of("chu-a")
    body["data"]["access"]["claims"]["uid"] = "00u0another0User0007"
    return body


#: The outcomes of PSC_TENANTS and PSC_MAX_AUTH_AGE, and the tid they count under.
TENANT_CASES: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "tenant-unmatched": (lambda: as_user_of("chu-z"), "none"),
    "user-mismatch": (of_two_users, "none"),
    "tenant-ambiguous": (lambda: as_user_of("chu-a", "chu-b"), "none"),
    "auth-too-old": (lambda: as_user_of("chu-b", fresh=False), "OKTA_chu-b"),
    "auth-age-unknown": (without_auth_time, "OKTA_chu-a"),
}


def test_every_outcome_label_has_a_case() -> None:
    assert set(CASES) | set(TENANT_CASES) == {*Outcome, metrics.OTHER}
    assert not set(CASES) & set(TENANT_CASES)


@pytest.mark.parametrize("outcome", list(TENANT_CASES))
def test_tenant_outcomes_count_under_their_label_and_tid(outcome, tmp_path) -> None:
    (tmp_path / "tenants.json").write_text(json.dumps(TENANTS_FILE))
    env = {**BASE_ENV, "PSC_TENANTS": str(tmp_path / "tenants.json"), "PSC_MAX_AUTH_AGE": "4h"}
    del env["PSC_TENANT_ID"]
    client = create_app(load_settings(env)).test_client()
    make, tid = TENANT_CASES[outcome]
    before = scrape(client)
    answer = post(client, make())
    assert answer.status_code == 200
    code = "psc_" + outcome.replace("-", "_")
    assert answer.get_json()["error"]["errorSummary"].startswith(f"{code}: ")
    after = scrape(client)
    assert after(CALLS, outcome=outcome) - before(CALLS, outcome=outcome) == 1
    series = {labels for name, labels in after.samples if name == TENANT_CALLS}
    assert (("outcome", outcome), ("tid", tid)) in series
    assert (
        after(TENANT_CALLS, tid=tid, outcome=outcome)
        - before(TENANT_CALLS, tid=tid, outcome=outcome)
        == 1
    )
    assert {dict(labels)["tid"] for labels in series} == {"OKTA_chu-a", "OKTA_chu-b", "none"}


def test_a_patched_call_counts_under_its_establishment(tmp_path) -> None:
    (tmp_path / "tenants.json").write_text(json.dumps(TENANTS_FILE))
    env = {**BASE_ENV, "PSC_TENANTS": str(tmp_path / "tenants.json")}
    del env["PSC_TENANT_ID"]
    client = create_app(load_settings(env)).test_client()
    before = scrape(client)
    assert post(client, as_user_of("chu-b")).status_code == 200
    after = scrape(client)
    labels = {"tid": "OKTA_chu-b", "outcome": "patched"}
    assert after(TENANT_CALLS, **labels) - before(TENANT_CALLS, **labels) == 1
    assert after(TENANT_CALLS, tid="OKTA_chu-a", outcome="patched") == 0


@pytest.mark.parametrize("outcome", list(CASES))
def test_each_outcome_counts_once_under_its_label(outcome, monkeypatch) -> None:
    client = create_app(load_settings(GATED)).test_client()
    if outcome == "error":
        raising(monkeypatch)
    make, status = CASES[outcome]
    before = scrape(client)
    assert make(client).status_code == status
    after = scrape(client)
    changed = {label: after(CALLS, outcome=label) - before(CALLS, outcome=label) for label in CASES}
    assert changed == {label: float(label == outcome) for label in CASES}
    duration = "psc_hook_call_duration_seconds_count"
    assert after(duration) - before(duration) == 1


def test_the_amr_decision_and_the_auth_failure_reason_are_counted(client) -> None:
    before = scrape(client)
    client.post("/token-hook", json=samples.load("password-okta-verify-push"), headers=AUTH)
    client.post("/token-hook", json=samples.load("password-only"), headers=AUTH)
    client.post("/token-hook", json=samples.load("password-only"), headers={"Authorization": "x"})
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert delta(DECISIONS, rule="password-okta-verify", assurance="substantiel") == 1
    assert delta(DECISIONS, rule="none", assurance="none") == 1
    assert delta(DECISIONS, rule="cps-smart-card", assurance="eleve") == 0
    assert delta(FAILURES, mode="header", reason="header-mismatch") == 1
    assert delta(FAILURES, mode="header", reason="header-missing") == 0


def test_scrapes_and_probes_are_not_hook_calls(client) -> None:
    before = scrape(client)
    client.get("/healthz")
    client.get("/metrics")
    after = scrape(client)
    total = sum(
        after(CALLS, outcome=label) - before(CALLS, outcome=label)
        for label in (*Outcome, metrics.OTHER)
    )
    assert total == 0


def test_a_refusal_by_both_modes_counts_once_in_each_mode() -> None:
    client = create_app(load_settings(BOTH_MODES)).test_client()
    before = scrape(client)
    client.post("/token-hook", json=samples.load("fastpass"), headers={"Authorization": "Bearer x"})
    after = scrape(client)
    assert (
        after(FAILURES, mode="header", reason="header-mismatch")
        - before(FAILURES, mode="header", reason="header-mismatch")
        == 1
    )
    assert (
        after(FAILURES, mode="oauth", reason="malformed")
        - before(FAILURES, mode="oauth", reason="malformed")
        == 1
    )
    assert after(CALLS, outcome="unauthenticated") - before(CALLS, outcome="unauthenticated") == 1


def test_values_outside_the_closed_sets_are_counted_as_other() -> None:
    """Facts come from the code, but a label never takes a value it does not know."""
    recorder = metrics.Recorder(load_settings(BOTH_MODES))
    strange = "camille.martin@chu-exemple.fr"
    before = Scrape.parse(recorder.exposition().decode())
    recorder.observe(200, 0.001, {"outcome": strange, "amr_rule": strange, "assurance": "x"})
    recorder.observe(401, 0.001, {"auth_failure": f"header:{strange} {strange} oauth:new"})
    text = recorder.exposition().decode()
    after = Scrape.parse(text)
    assert strange not in text and "new" not in after.label_values()
    expected = [
        (CALLS, {"outcome": "other"}, 2),
        (DECISIONS, {"rule": "other", "assurance": "other"}, 1),
        (FAILURES, {"mode": "header", "reason": "other"}, 1),
        (FAILURES, {"mode": "oauth", "reason": "other"}, 1),
        (FAILURES, {"mode": "other", "reason": "other"}, 1),
    ]
    for name, labels, count in expected:
        assert after(name, **labels) - before(name, **labels) == count, (name, labels)


def test_every_reason_the_authenticators_give_has_its_label() -> None:
    """A reason added to hook/auth.py, oauth.py or keyset.py must get its label, not "other"."""
    for modules, mode in ((("auth.py",), "header"), (("oauth.py", "keyset.py"), "oauth")):
        source = "".join((ROOT / "hook" / module).read_text() for module in modules)
        given = set(re.findall(r'AuthFailure\("([^"]+)"\)', source))
        if mode == "oauth":
            given |= {slug for _, slug in FAILURE_REASONS} | {"invalid"}
        assert given, modules
        assert given <= set(metrics.AUTH_FAILURE_REASONS[mode]), given


@pytest.mark.process
def test_key_fetches_are_counted_by_result(jwks) -> None:
    loading = create_app(load_settings({**BASE_ENV, **oauth_environment(jwks)})).test_client()
    before = scrape(loading)
    jwks.fail(503)
    create_app(load_settings({**BASE_ENV, **oauth_environment(jwks)}))
    after = scrape(loading)
    fetches = "psc_hook_jwks_fetches_total"
    assert after(fetches, result="loaded") >= 1  # the first app's fetch
    assert after(fetches, result="failed") - before(fetches, result="failed") == 1
    assert after(fetches, result="loaded") == before(fetches, result="loaded")


def test_metrics_are_open_without_a_token(client) -> None:
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}, {"X-Token": TOKEN}],
    ids=["missing", "no-scheme", "wrong", "other-header"],
)
def test_with_a_token_a_scrape_without_it_is_401(headers) -> None:
    client = create_app(load_settings({**BASE_ENV, "METRICS_TOKEN": TOKEN})).test_client()
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert json.loads(answer.data)["status"] == 401 and TOKEN not in answer.text
    assert scrape(client, {"Authorization": f"Bearer {TOKEN}"}).samples  # the token opens it


def _count_calls(settings: Any, calls: int) -> None:
    recorder = metrics.Recorder(settings)
    for _ in range(calls):
        recorder.observe(
            200, 0.002, {"outcome": "patched", "amr_rule": "none", "assurance": "none"}
        )


@pytest.mark.process
def test_an_exited_process_folds_into_the_archive_without_changing_a_count(settings) -> None:
    """What gunicorn's master does when a worker exits (hook/gunicorn_conf.py child_exit)."""
    recorder = metrics.Recorder(settings)
    directory = recorder.directory
    fork = multiprocessing.get_context("fork")
    first = Scrape.parse(recorder.exposition().decode())
    for calls in (3, 4):
        child = fork.Process(target=_count_calls, args=(settings, calls))
        child.start()
        child.join(timeout=30)
        assert child.exitcode == 0
        written = sorted(path.name for path in directory.glob(f"*_{child.pid}.db"))
        assert written == [f"counter_{child.pid}.db", f"histogram_{child.pid}.db"]
        before = Scrape.parse(recorder.exposition().decode())
        metrics_files.fold(directory, child.pid)
        after = Scrape.parse(recorder.exposition().decode())
        assert after.samples == pytest.approx(before.samples)
        assert not list(directory.glob(f"*_{child.pid}.db"))
    assert after(CALLS, outcome="patched") - first(CALLS, outcome="patched") == 7
    bucket = {"le": "0.0025"}
    duration = "psc_hook_call_duration_seconds_bucket"
    assert after(duration, **bucket) - first(duration, **bucket) == 7
    assert {"counter_archive.db", "histogram_archive.db"} <= {p.name for p in directory.iterdir()}


def test_the_directory_is_made_and_an_earlier_runs_files_wiped(tmp_path: Path) -> None:
    directory = tmp_path / "made" / "here"
    assert metrics_files.open_directory(directory) == directory
    (directory / "counter_1234.db").write_bytes(b"old")
    (directory / ".counter_archive.tmp").write_bytes(b"old")
    (directory / "notes.txt").write_text("kept")
    metrics_files.open_directory(directory)
    assert sorted(path.name for path in directory.iterdir()) == ["lock", "notes.txt"]


def test_an_unusable_directory_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"^PROMETHEUS_MULTIPROC_DIR: cannot use"):
        metrics_files.open_directory(tmp_path / "file" / "metrics")


def _report_pids(queue: multiprocessing.Queue) -> None:
    queue.put((metrics_files.current_pid(), os.getpid()))


@pytest.mark.process
def test_the_process_id_counts_are_filed_under_follows_a_fork() -> None:
    """prometheus_client files each process's counts under ``current_pid()``: a forked
    worker that kept its parent's id would write into its parent's file."""
    assert metrics_files.current_pid() == os.getpid()
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    child = fork.Process(target=_report_pids, args=(queue,))
    child.start()
    remembered, actual = queue.get(timeout=10)
    child.join(timeout=10)
    assert remembered == actual != os.getpid()
