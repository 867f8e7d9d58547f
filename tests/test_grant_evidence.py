"""Evidence comes from the grant itself: on a refresh the ID token alone says how the user
authenticated, the two tokens name one user, an ``auth_time`` that is no time is no age,
and a broken chunked body is a 400 whose log line holds none of it. End to end under
gunicorn, then each rule in-process."""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hook import payload, samples
from hook.answer import build_answer
from hook.claims import compute
from hook.config import load_settings
from hook.evidence import LAST_TIME, gather
from tests.support.processes import Server, launch, stop
from tests.support.settings import BASE_ENV, SECRET

AUTH = {"Authorization": SECRET}
USER = "00u1abcd2EFGH3ijk4l5"
CPS_IDP = BASE_ENV["PSC_CPS_IDP_IDS"]
OKTA_VERIFY_SESSION = ["PASSWORD", "okta_verify", "otp", "mfa"]
#: The settings of each server of this module: no gate, the assurance gate, the age gate.
SERVERS = {
    "plain": {},
    "assured": {"PSC_MIN_ASSURANCE": "substantiel"},
    "aged": {"PSC_MAX_AUTH_AGE": "4h"},
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for name, extra in SERVERS.items():
            started[name] = launch({**BASE_ENV, **extra}, tmp_path_factory.mktemp(name))
        yield started
    finally:
        for server in started.values():
            stop(server.process)


def post(server: Server, body: Any, request_id: str | None = None) -> requests.Response:
    headers = {**AUTH, **({"X-Request-Id": request_id} if request_id else {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers["Content-Type"] = "application/json"
    return requests.post(f"{server.url}/token-hook", data=data, headers=headers, timeout=5)


def refresh_of_the_same_user(
    token_amr: list[str] | None,
    session_amr: list[str],
    session_idp: str = "00o1orgId0Example7",
    age: float | None = 60,
) -> dict[str, Any]:
    """A refresh whose context is the token user's own session (the same user: no
    OKTA-869758 mix-up), a session stronger than the authentication the grant came from.
    ``token_amr`` None: the refresh mints no ID token (no openid scope)."""
    body = copy.deepcopy(samples.load("refresh"))
    context, identity = body["data"]["context"], body["data"]["identity"]["claims"]
    context["user"]["id"] = context["session"]["userId"] = USER
    context["session"]["amr"] = session_amr
    context["session"]["idp"]["id"] = session_idp
    context["session"]["lastPasswordVerification"] = time.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 30)
    )
    identity["amr"] = token_amr
    if age is None:
        del identity["auth_time"]
    else:
        identity["auth_time"] = int(time.time() - age)
    if token_amr is None:
        del body["data"]["identity"]
    return body


def error_of(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["error"]["errorSummary"]


def access_claims(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    [command] = [c for c in response.json()["commands"] if c["type"] == "com.okta.access.patch"]
    return {op["path"].removeprefix("/claims/"): op["value"] for op in command["value"]}


# --- end to end under gunicorn ----------------------------------------------------------


@pytest.mark.process
def test_a_refresh_is_not_lifted_by_the_users_okta_verify_session(servers) -> None:
    """The ID token says pwd; the user's session since then has Okta Verify: still pwd."""
    body = refresh_of_the_same_user(["pwd"], OKTA_VERIFY_SESSION)
    answer = post(servers["plain"], body)
    assert access_claims(answer)["amr"] == ["pwd"]
    assert answer.json()["debugContext"]["assurance"] == "none"
    refused = error_of(post(servers["assured"], body))
    assert refused.startswith("psc_assurance_too_low: ") and "reached none" in refused


@pytest.mark.process
def test_a_refresh_is_not_made_eleve_by_the_users_cps_session(servers) -> None:
    """An ID token with sc but no idp, a CPS session: the card reader is not proven."""
    body = refresh_of_the_same_user(["sc", "swk"], ["sc", "swk"], session_idp=CPS_IDP)
    del body["data"]["identity"]["claims"]["idp"]
    answer = post(servers["plain"], body)
    assert access_claims(answer)["amr"] == ["sc", "swk"]
    assert answer.json()["debugContext"]["assurance"] == "none"


@pytest.mark.process
def test_a_refresh_without_an_id_token_gets_no_amr_and_the_gate_asks_for_openid(
    servers,
) -> None:
    body = refresh_of_the_same_user(None, OKTA_VERIFY_SESSION)
    claims = access_claims(post(servers["plain"], body))
    assert claims == {"tid": BASE_ENV["PSC_TENANT_ID"], "oid": USER}
    summary = error_of(post(servers["assured"], body, "refresh-no-id-token"))
    assert summary.startswith("psc_refresh_without_id_token: ")
    assert "openid" in summary and "substantiel" in summary
    assert servers["assured"].log_line("refresh-no-id-token")["outcome"] == "refused-assurance"


@pytest.mark.process
def test_on_a_refresh_the_sessions_verification_is_no_age(servers) -> None:
    """No auth_time in the ID token, a password typed 30 s ago in the session: unknown."""
    body = refresh_of_the_same_user(["pwd", "okta_verify", "otp"], OKTA_VERIFY_SESSION, age=None)
    summary = error_of(post(servers["aged"], body))
    assert summary.startswith("psc_auth_age_unknown: ") and "openid" in summary
    code_grant = copy.deepcopy(body)
    code_grant["data"]["context"]["protocol"]["request"]["grant_type"] = "authorization_code"
    assert access_claims(post(servers["aged"], code_grant))["amr"]  # the session's time counts


@pytest.mark.process
def test_tokens_of_two_users_are_refused(servers) -> None:
    body = samples.load("password-okta-verify-push")
    other = "00u0another0User0007"
    body["data"]["access"]["claims"]["uid"] = other
    for name in ("plain", "assured"):
        answer = post(servers[name], body, f"two-users-{name}")
        summary = error_of(answer)
        assert summary.startswith("psc_user_mismatch: ")
        assert USER not in answer.text and other not in answer.text
        line = servers[name].log_line(f"two-users-{name}")
        assert line["outcome"] == "user-mismatch" and line["claims"] == {}


#: auth_time as JSON text: integers no float can hold, and values of other types.
AUTH_TIMES = {
    "10**400": ("1" + "0" * 400, 200),
    "-10**200": ("-1" + "0" * 200, 200),
    "2**64": (str(2**64), 200),
    "after year 9999": (str(LAST_TIME + 1), 200),
    "before 1970": ("-1", 200),
    "1e400": ("1e400", 400),
    "a string": ('"1795680070"', 400),
    "true": ("true", 400),
    "false": ("false", 400),
}


def with_auth_time(text: str, age: float = 60) -> bytes:
    """A push sign-in, its ID token's auth_time written as the JSON text ``text``."""
    body = copy.deepcopy(samples.load("password-okta-verify-push"))
    body["data"]["identity"]["claims"]["auth_time"] = "AUTH_TIME"
    return json.dumps(body).replace('"AUTH_TIME"', text).encode()


@pytest.mark.process
@pytest.mark.parametrize("name", list(AUTH_TIMES))
def test_an_auth_time_that_is_no_time_is_no_age_and_never_a_500(servers, name) -> None:
    text, status = AUTH_TIMES[name]
    plain, aged = (
        post(servers["plain"], with_auth_time(text)),
        post(servers["aged"], with_auth_time(text)),
    )
    assert (plain.status_code, aged.status_code) == (status, status)
    if status == 400:  # a wrong type where the service reads: the spec's field error
        assert "auth_time" in json.dumps(aged.json()["errors"])
    else:
        assert "commands" in plain.json()  # an answer without an age
        assert error_of(aged).startswith("psc_auth_age_unknown: ")


#: A body a caller cannot frame: a name and an email in it, where a bad chunk size puts them.
PERSONAL = b'{"name": "Camille Martin", "email": "camille.martin@chu-exemple.fr"}'
BROKEN_CHUNKS = {
    "not hex": b"zz\r\n" + PERSONAL + b"\r\n0\r\n\r\n",
    "the body as a size": PERSONAL + b"\r\n0\r\n\r\n",
    "no terminator": b"%x\r\n" % len(PERSONAL) + PERSONAL + b"XX0\r\n\r\n",
    "bad extension": b"%x;\r\n" % len(PERSONAL) + PERSONAL + b"\r\n0\r\n\r\n",
    "bad trailer": b"%x\r\n" % len(PERSONAL) + PERSONAL + b"\r\n0\r\n" + PERSONAL + b"\r\n\r\n",
}


def send_raw(server: Server, head: bytes, body: bytes) -> bytes:
    """Send a request as written, and read the answer until the server closes."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.process
@pytest.mark.parametrize("name", list(BROKEN_CHUNKS))
def test_a_broken_chunked_body_is_a_400_that_logs_none_of_it(servers, name) -> None:
    server, request_id = servers["plain"], f"chunks-{name.replace(' ', '-')}"
    head = (
        b"POST /token-hook HTTP/1.1\r\nHost: okta\r\nContent-Type: application/json\r\n"
        b"Authorization: " + SECRET.encode() + b"\r\nTransfer-Encoding: chunked\r\n"
        b"X-Request-Id: " + request_id.encode() + b"\r\n\r\n"
    )
    answer = send_raw(server, head, BROKEN_CHUNKS[name])
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 400 BAD REQUEST", answer
    headers, _, document = rest.partition(b"\r\n\r\n")
    assert b"Content-Type: application/problem+json" in headers
    assert json.loads(document)["detail"] == "The body's chunked framing is broken."
    line = server.log_line(request_id)
    assert (line["status"], line["outcome"]) == (400, "incomplete-body")
    log = server.log()
    for part in (b"Camille", b"Martin", b"camille.martin", b"chu-exemple.fr", b'"name"'):
        assert part.decode() not in log
    assert "unhandled-error" not in log and "Traceback" not in log


# --- in-process ---------------------------------------------------------------------------


def decide(body: dict[str, Any], **env: str):
    settings = load_settings({**BASE_ENV, **env})
    request = payload.parse(json.dumps(body).encode())
    return compute(request, settings), build_answer(request, settings)


@pytest.mark.parametrize(
    ("token_amr", "session_amr", "session_idp"),
    [
        (["pwd"], OKTA_VERIFY_SESSION, "00o1orgId0Example7"),
        (["pwd"], ["sc", "swk"], CPS_IDP),
        (["sc", "swk"], ["sc", "swk"], CPS_IDP),
        ([], ["pwd", "okta_verify", "swk", "mfa"], "00o1orgId0Example7"),
    ],
)
def test_on_a_refresh_the_session_is_no_evidence(token_amr, session_amr, session_idp) -> None:
    body = refresh_of_the_same_user(token_amr, session_amr, session_idp)
    body["data"]["identity"]["claims"].pop("idp")
    request = payload.parse(json.dumps(body).encode())
    labels, idps, times, unrecorded = gather(request, USER, context_mismatch=False)
    assert labels == tuple(token_amr) and idps == frozenset()
    assert times == (request.auth_time,) and not unrecorded
    decision, _ = decide(body)
    assert decision.amr.assurance == "none"


def test_a_code_grant_still_reads_its_users_session() -> None:
    body = refresh_of_the_same_user(["pwd"], OKTA_VERIFY_SESSION, age=None)
    body["data"]["context"]["protocol"]["request"]["grant_type"] = "authorization_code"
    request = payload.parse(json.dumps(body).encode())
    labels, idps, times, _ = gather(request, USER, context_mismatch=False)
    assert labels == ("pwd", *OKTA_VERIFY_SESSION) and idps == {"00o1orgId0Example7"}
    assert times == request.session_verified and len(times) == 1
    assert decide(body)[0].amr.assurance == "substantiel"


def test_a_refresh_without_an_id_token_is_unrecorded() -> None:
    body = refresh_of_the_same_user(None, OKTA_VERIFY_SESSION)
    evidence = gather(payload.parse(json.dumps(body).encode()), USER, context_mismatch=False)
    assert evidence == (((), frozenset(), (), True))
    decision, answer = decide(body, PSC_MIN_ASSURANCE="eleve")
    assert decision.refusal.summary.startswith("psc_refresh_without_id_token: ")
    assert "eleve" in decision.refusal.summary and answer.outcome == "refused-assurance"
    decision, answer = decide(body)
    assert "amr" not in decision.claims and answer.outcome == "patched"


@pytest.mark.parametrize(
    ("sub", "uid", "refused"),
    [(USER, "00u0another0User0007", True), (USER, USER, False), (USER, None, False),
     (None, USER, False)],
)  # fmt: skip
def test_the_two_tokens_must_name_one_user(sub, uid, refused) -> None:
    body = copy.deepcopy(samples.load("password-okta-verify-push"))
    for kind, claim, value in (("identity", "sub", sub), ("access", "uid", uid)):
        body["data"][kind]["claims"][claim] = value
        if value is None:
            del body["data"][kind]["claims"][claim]
    decision, answer = decide(body)
    assert (answer.outcome == "user-mismatch") is refused
    if refused:
        assert decision.refusal.summary == (
            "psc_user_mismatch: the ID token and the access token of this sign-in name different"
            " users. Sign out, then sign in again; if it happens again, tell your administrator."
        )
        assert decision.claims == {} and answer.body == {
            "error": {"errorSummary": decision.refusal.summary}
        }


@pytest.mark.parametrize(
    "auth_time", [10**400, -(10**200), 2**64, 2**63, LAST_TIME + 1, -1, -(2**63)]
)
def test_an_auth_time_that_is_no_time_leaves_the_age_unknown(auth_time, monkeypatch) -> None:
    body = copy.deepcopy(samples.load("password-okta-verify-push"))
    body["data"]["identity"]["claims"]["auth_time"] = auth_time
    raw = json.dumps(body).encode()
    fast = payload.parse(raw)  # msgspec's path, or marshmallow's past 64 bits
    monkeypatch.setattr(payload, "_FAST_DECODE", lambda _body: None)
    assert payload.parse(raw) == fast  # marshmallow's path reads it alike
    assert gather(fast, USER, context_mismatch=False)[2] == ()  # not the session's either
    decision, answer = decide(body, PSC_MAX_AUTH_AGE="4h")
    assert decision.refusal.summary.startswith("psc_auth_age_unknown: ")
    assert answer.outcome == "auth-age-unknown"
