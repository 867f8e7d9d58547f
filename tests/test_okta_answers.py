"""What Okta (or whatever answers at ``--org``) sends the operator's terminal is data: read
within a bound on size and on the whole call's time, printed without what a terminal
obeys, and a malformed answer is one line with a documented exit code, never a traceback.

The bounds are tried against a hostile loopback server (``tests/support/hostile_server.py``); the
texts against the fake Okta, whose objects carry escape sequences in their names.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hook.cli import http_exchange, okta_api
from tests.support import hostile_server
from tests.support.cli_runner import run, use_env
from tests.support.fake_okta import TOKEN, FakeOkta, FakeOktaServer, error_body
from tests.support.hostile_server import HostileServer
from tests.support.settings import BASE_ENV

pytestmark = pytest.mark.process

HOOK_URL = "https://psc-hook.chu-exemple.fr/token-hook"
PSC_CLIENT = "0oa1pscClient0Example7"
SERVER, POLICY, RULE = "aus1psc0hook0example7", "00p1pscPolicy0Example7", "0pr1pscRule00Example7"
#: What a hostile name holds: clear the screen, home the cursor, set the window title (OSC),
#: draw a fake prompt in red (C1 CSI), reverse the text that follows (a bidi override).
HOSTILE = "\x1b[2J\x1b[H\x1b]0;root@bastion\x07\x9b31m$ sudo rm -rf /\u202e\r\nPassword:"
OBEYED = ("\x1b", "\x9b", "\x07", "\u202e", "\r")


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {**BASE_ENV, "PSC_CLIENT_IDS": PSC_CLIENT, "OKTA_API_TOKEN": TOKEN})


@pytest.fixture
def okta() -> Iterator[FakeOktaServer]:
    server = FakeOktaServer(FakeOkta())
    yield server
    server.close()


def register(capsys, org: str, *extra: str):
    return run(capsys, "register", "--org", org, "--url", HOOK_URL, *extra)


def assert_one_line_without_traceback(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


# a bound on size ---------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [hostile_server.huge, hostile_server.announced_huge],
                         ids=["streamed", "announced"])  # fmt: skip
def test_a_huge_answer_is_refused_without_being_read_to_the_end(capsys, answer):
    with HostileServer(answer) as server:
        result = register(capsys, server.url, "--json")
    assert result.code == 1
    assert f"{server.url} answered more than 8 MiB: not read further" in result.err
    assert_one_line_without_traceback(result.err)
    assert server.sent < 64 * 1024 * 1024  # 300 MB when read to the end


def test_the_size_bound_holds_for_an_error_answer_too():
    with (
        HostileServer(hostile_server.body(b"x" * 4096, "500 Oops")) as server,
        pytest.raises(http_exchange.Malformed, match="more than 0 MiB"),
    ):
        http_exchange.exchange("GET", server.url, {}, None, 5, limit=1024)


# a bound on the whole call's time ----------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [hostile_server.trickled_body, hostile_server.trickled_head], ids=["body", "head"]
)
def test_a_trickle_is_cut_at_the_deadline_of_the_whole_call(capsys, answer):
    """Each read gets a byte within the timeout: only a deadline on the whole call ends it
    (the trickle lasts 10 s)."""
    with HostileServer(answer) as server:
        began = time.monotonic()
        result = register(capsys, server.url, "--timeout", "1", "--json")
        took = time.monotonic() - began
    assert result.code == 3
    assert f"cannot reach {server.url}: no answer within 1 s" in result.err
    assert_one_line_without_traceback(result.err)
    assert took < 4, took


# malformed answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "code", "words"),
    [
        (hostile_server.body(b"<html><body>Maintenance</body></html>"), 1, "is not JSON"),
        (hostile_server.body(b'[{"id": "cal1", "name": '), 1, "is not JSON"),
        (hostile_server.body(b"[" * 100_000 + b"]" * 100_000), 1, "is not JSON"),
        (hostile_server.body(b'{"hooks": []}'), 1, "without a JSON array"),
        (hostile_server.body(b"[]", "302 Found"), 1, "HTTP 302 without an Okta error body"),
        (hostile_server.body(b"\xff\xfe<", "500 Oops"), 1, "HTTP 500 without an Okta error"),
        (hostile_server.raw(b"SSH-2.0-OpenSSH_9.6\r\n"), 3, "its answer is not HTTP"),
        (hostile_server.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n[]"), 3, "cut short"),
        (hostile_server.raw(b""), 3, "cannot reach"),
    ],
    ids=["html", "truncated", "nested", "object", "redirect", "binary", "not-http", "short",
         "closed"],
)  # fmt: skip
def test_a_malformed_answer_is_one_line_and_a_documented_code(capsys, answer, code, words):
    with HostileServer(answer) as server:
        result = register(capsys, server.url, "--json")
    assert result.code == code
    assert words in result.err
    assert_one_line_without_traceback(result.err)
    assert result.json()["exit_code"] == code


class Mangled(FakeOkta):
    """The fake Okta whose answers to GETs are changed, on a copy, by ``change(path, body)``:
    its own state (and its test run of the hook) stays Okta's."""

    change: Callable[[str, Any], None] = staticmethod(lambda path, body: None)

    def _read(self, path: str, query: dict[str, list[str]]):
        found = super()._read(path, query)
        if found is None:
            return None
        status, body, extra = found
        body = copy.deepcopy(body)
        self.change(path, body)
        return status, body, extra


def _on(path: str, change: Callable[[Any], None]) -> Callable[[str, Any], None]:
    return lambda where, body: change(body) if where == path else None


SERVERS = "/api/v1/authorizationServers"
AUTH_RULES = "/api/v1/policies/rst1pscAuthPolicy0Ex7/rules"
WRONG_SHAPES = {
    "channel a string": _on("/api/v1/inlineHooks", lambda hooks: hooks[0].update(channel="X")),
    "config a list": _on(
        "/api/v1/inlineHooks", lambda hooks: hooks[0]["channel"].update(config=[])
    ),
    "hook without id": _on("/api/v1/inlineHooks", lambda hooks: hooks[0].pop("id")),
    "server without id": _on(SERVERS, lambda servers: servers[0].pop("id")),
    "policy without id": _on(f"{SERVERS}/{SERVER}/policies", lambda found: found[0].pop("id")),
    "clients a string": _on(
        f"{SERVERS}/{SERVER}/policies",
        lambda found: found[0].update(conditions={"clients": {"include": "ALL_CLIENTS"}}),
    ),
    "rule actions a list": _on(
        f"{SERVERS}/{SERVER}/policies/{POLICY}/rules", lambda rules: rules[0].update(actions=[])
    ),
    "app settings a string": _on(f"/api/v1/apps/{PSC_CLIENT}", lambda app: app.update(settings="")),
    "redirect URIs an object": _on(
        f"/api/v1/apps/{PSC_CLIENT}",
        lambda app: app["settings"]["oauthClient"].update(redirect_uris={"uri": "x"}),
    ),
    "access policy link a number": _on(
        f"/api/v1/apps/{PSC_CLIENT}", lambda app: app["_links"].update(accessPolicy={"href": 7})
    ),
    "idp name a number": _on("/api/v1/idps", lambda idps: idps[0].update(name=7)),
    "idp id a list": _on("/api/v1/idps", lambda idps: idps[0].update(id=["0oa1"])),
    "server name a list": _on(SERVERS, lambda servers: servers[0].update(name=[])),
    "sign-on rule actions a list": _on(AUTH_RULES, lambda rules: rules[0].update(actions=["x"])),
    "verification method a string": _on(
        AUTH_RULES, lambda rules: rules[0]["actions"]["appSignOn"].update(verificationMethod="x")
    ),
    "constraints a number": _on(
        AUTH_RULES,
        lambda rules: rules[0]["actions"]["appSignOn"]["verificationMethod"].update(constraints=5),
    ),
}


def _wired(fake: FakeOkta) -> None:
    hook = fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", "s" * 40))
    fake.add_server(SERVER)
    fake.add_policy(SERVER, POLICY, [PSC_CLIENT])
    fake.add_rule(SERVER, POLICY, RULE, hook_id=hook["id"])
    fake.add_app(PSC_CLIENT, ["https://auth.bas.esw.esante.gouv.fr/broker/x/endpoint"])
    fake.add_idp("0oa1cpsSmartCard0Idp7", "Carte CPS")


@pytest.mark.parametrize("change", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_an_answer_of_the_wrong_shape_never_ends_in_a_traceback(capsys, monkeypatch, change):
    monkeypatch.setenv("PSC_KC_IDP_HINT", "OKTA_chu-exemple")
    monkeypatch.setenv("PSC_MAX_AUTH_AGE", "4h")
    fake = Mangled()
    fake.change = change
    _wired(fake)
    fake.add_authentication_policy(PSC_CLIENT, "rst1pscAuthPolicy0Ex7", "PT4H")
    server = FakeOktaServer(fake)
    try:
        result = run(capsys, "doctor", "--org", server.url, "--json")  # raises if doctor does
    finally:
        server.close()
    assert result.code in (0, 1), result.err
    if result.err:
        assert_one_line_without_traceback(result.err)


def test_a_rule_without_a_token_action_object_is_not_changed(capsys, okta):
    okta.fake.add_rule(SERVER, POLICY, RULE)
    okta.fake.rules[(SERVER, POLICY, RULE)]["actions"] = "none"
    result = register(capsys, okta.url, "--auth-server", SERVER, "--policy", POLICY, "--rule",
                      RULE, "--json")  # fmt: skip
    assert result.code == 1
    assert "no token action object (actions.token): not changed" in result.err
    assert [r.method for r in okta.fake.requests] == ["GET", "POST", "GET"]


# what Okta writes is printed as data --------------------------------------------------------


def _assert_nothing_obeyed(*texts: str) -> None:
    for text in texts:
        for char in OBEYED:
            assert char not in text, (char, text)


def test_names_from_okta_reach_the_terminal_without_escape_sequences(capsys, okta, monkeypatch):
    monkeypatch.setenv("PSC_KC_IDP_HINT", "OKTA_chu-exemple")
    _wired(okta.fake)
    hook = next(iter(okta.fake.hooks.values()))
    hook["name"] = f"PSC {HOSTILE}"
    hook["id"] = f"cal{HOSTILE}"
    okta.fake.servers[SERVER]["name"] = HOSTILE
    okta.fake.rules[(SERVER, POLICY, RULE)]["name"] = HOSTILE
    okta.fake.apps[PSC_CLIENT]["label"] = HOSTILE
    okta.fake.idps["0oa1cpsSmartCard0Idp7"]["name"] = HOSTILE
    text = run(capsys, "doctor", "--org", okta.url)
    _assert_nothing_obeyed(text.out, text.err)
    assert "sudo rm -rf /" in text.out  # shown, as data
    as_json = run(capsys, "doctor", "--org", okta.url, "--json")
    _assert_nothing_obeyed(as_json.out, as_json.err)
    assert "sudo rm -rf /" in json.dumps(as_json.json())


def test_oktas_error_texts_are_bounded_and_printed_as_data(capsys, okta):
    body = error_body("E0000001", HOSTILE + "x" * 10_000, (HOSTILE,))
    body["errorId"] = HOSTILE
    okta.fake.answer_next(400, body)
    result = register(capsys, okta.url)
    assert result.code == 1
    _assert_nothing_obeyed(result.out, result.err)
    line = result.err.splitlines()[-1]
    assert line.startswith("psc-hook register: Okta refused the request (HTTP 400 E0000001:")
    assert len(line) < 2000


def test_the_json_output_escapes_what_a_terminal_obeys_and_keeps_the_values(capsys, okta):
    existing = okta.fake.add_hook(
        okta_api.header_channel(HOOK_URL, "Authorization", "s" * 40), name="PSC"
    )
    existing["channel"]["config"]["uri"] = "https://old.example/token-hook" + HOSTILE
    result = register(capsys, okta.url, "--name", "PSC", "--dry-run", "--json")
    assert result.code == 0, result.err
    _assert_nothing_obeyed(result.out)
    [change] = result.json()["hook"]["changes"]
    assert change["before"].endswith(HOSTILE)


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("https://\x9b2J\x07elsewhere.example", "is on https://elsewhere.example, not"),
        ("https://[\x1b[2J]", "is not at a URL"),
        (None, "is not at a URL"),
    ],
    ids=["escapes", "not-a-url", "not-ascii"],
)
def test_a_next_page_link_is_data(capsys, okta, origin, words):
    okta.fake.page_size = 1
    okta.fake.next_origin = (
        origin or f"{okta.url}/é"
    )  # the org's own host, a path HTTP cannot carry
    for name in ("a", "b"):
        okta.fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", "s" * 40), name)
    result = register(capsys, okta.url, "--json")
    assert result.code == 1
    _assert_nothing_obeyed(result.err)
    assert words in result.err
    assert_one_line_without_traceback(result.err)


def test_send_reads_the_services_answer_within_the_same_bound(capsys):
    with HostileServer(hostile_server.huge) as server:
        result = run(capsys, "send", "password-okta-verify-push", "--url",
                     f"{server.url}/token-hook", "--json")  # fmt: skip
    assert result.code == 1
    assert "answered more than 8 MiB: not read further" in result.err
    assert "Traceback" not in result.err
    assert server.sent < 64 * 1024 * 1024
