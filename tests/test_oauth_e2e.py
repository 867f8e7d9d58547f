"""OAuth end to end: the real service under gunicorn, its keys from a real JWKS server."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

from hook import samples
from tests.support.jwks_server import (
    FIRST_KID,
    JwksServer,
    bearer,
    mint,
    oauth_environment,
    signing_key,
)
from tests.support.okta_schemas import validate
from tests.support.processes import Server, free_port, gunicorn_command
from tests.support.settings import BASE_ENV, SECRET

pytestmark = pytest.mark.process

KEY = signing_key(FIRST_KID)
NEXT_KEY = signing_key("key-2")
STRANGER = signing_key("key-stranger")
BODY = samples.load("password-okta-verify-push")
#: One worker, so that every call meets the same key set, refetch budget and token memory.
ONE_WORKER = ("--workers", "1")
#: Loaded by the server's interpreters at start (sitecustomize): every call finds the key set
#: old, so the background refresh runs under gevent's worker without waiting 5 minutes.
AGELESS_KEYS = "import hook.keyset\nhook.keyset.MAX_KEY_AGE_S = 0.0\n"
#: A resolver that never answers for localhost (the C call gevent's resolver threads make).
DEAD_DNS = """
import _socket
import time

_resolve, _sleep = _socket.getaddrinfo, time.sleep


def _dead(host, *args, **kwargs):
    if host == "localhost":
        _sleep(10)
    return _resolve(host, *args, **kwargs)


_socket.getaddrinfo = _dead
"""


def with_site(directory: Path, code: str, environment: dict[str, str]) -> dict[str, str]:
    """``environment`` whose Python runs ``code`` at start (a sitecustomize on PYTHONPATH)."""
    site = directory / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(code)
    return {**environment, "PYTHONPATH": str(site)}


def post(server: Server, headers: dict[str, str], request_id: str) -> requests.Response:
    return requests.post(
        f"{server.url}/token-hook",
        json=BODY,
        headers={**headers, "X-Request-Id": request_id},
        timeout=5,
    )


def test_oauth_mode_under_gunicorn(jwks: JwksServer, start_server):
    server = start_server({**BASE_ENV, **oauth_environment(jwks)})
    assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
    assert jwks.fetches >= 1  # each worker loads the keys as it boots

    accepted = post(server, bearer(mint(KEY)), "valid-1")
    assert accepted.status_code == 200
    validate("TokenHookResponse", accepted.json())
    assert [command["type"] for command in accepted.json()["commands"]] == [
        "com.okta.identity.patch",
        "com.okta.access.patch",
    ]
    assert server.log_line("valid-1")["auth_mode"] == "oauth"

    tokens = {
        "expired": mint(KEY, exp=1_600_000_000, iat=1_599_990_000),
        "bad-audience": mint(KEY, aud="api://default"),
        "foreign-cid": mint(KEY, cid="0oa-another-app"),
    }
    bodies = set()
    for check, token in tokens.items():
        refused = post(server, bearer(token), check)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["status"] == 401
        assert check not in refused.text
        bodies.add(refused.text)
        line = server.log_line(check)
        assert line["auth_failure"] == f"oauth:{check}"
        assert line["status"] == 401
    assert len(bodies) == 1  # the same answer whatever check failed
    output = server.log()
    for token in [*tokens.values(), mint(KEY)]:
        assert token.split(".")[1] not in output  # no token, not even its payload


def test_not_ready_while_the_keys_never_loaded(jwks: JwksServer, start_server):
    jwks.fail(503)
    server = start_server({**BASE_ENV, **oauth_environment(jwks)})
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    answer = requests.get(f"{server.url}/readyz", timeout=5)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "The service is not ready."
    assert "503" not in answer.json()["detail"] and "HOOK_OAUTH" not in answer.text
    not_ready = [json.loads(line) for line in server.log().splitlines() if "not-ready" in line]
    assert not_ready and "HTTP 503" in not_ready[0]["reason"]  # the reason is in the log
    refused = post(server, bearer(mint(KEY)), "no-keys")
    assert refused.status_code == 401
    assert server.log_line("no-keys")["auth_failure"] == "oauth:unknown-kid"


def test_header_and_oauth_mode_accepts_both_under_gunicorn(jwks: JwksServer, start_server):
    server = start_server({**BASE_ENV, **oauth_environment(jwks, mode="header,oauth")})
    assert post(server, {"Authorization": SECRET}, "by-header").status_code == 200
    assert post(server, bearer(mint(KEY)), "by-oauth").status_code == 200
    assert server.log_line("by-header")["auth_mode"] == "header"
    assert server.log_line("by-oauth")["auth_mode"] == "oauth"
    refused = post(server, {"Authorization": "Bearer not.a.token"}, "neither")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert server.log_line("neither")["auth_failure"] == "header:header-mismatch oauth:malformed"


def test_the_start_warns_when_any_token_of_the_issuer_is_accepted(jwks: JwksServer, start_server):
    environment = {**BASE_ENV, **oauth_environment(jwks)}
    del environment["HOOK_OAUTH_SCOPES"], environment["HOOK_OAUTH_CLIENT_IDS"]
    server = start_server(environment)
    warnings = [
        json.loads(line) for line in server.log().splitlines() if "configuration-warning" in line
    ]
    assert any("HOOK_OAUTH_SCOPES and HOOK_OAUTH_CLIENT_IDS" in w["detail"] for w in warnings)
    assert post(server, bearer(mint(KEY)), "any-client").status_code == 200  # it still starts


def test_a_rotated_key_gets_through_right_after_an_attackers_made_up_kid(
    jwks: JwksServer, start_server
):
    server = start_server({**BASE_ENV, **oauth_environment(jwks)}, ONE_WORKER)
    assert post(server, bearer(mint(STRANGER, kid="made-up")), "attacker").status_code == 401
    fetched = jwks.fetches
    jwks.serve(KEY, NEXT_KEY)  # Okta rotates right after
    assert post(server, bearer(mint(NEXT_KEY)), "rotated").status_code == 200
    assert jwks.fetches == fetched + 1


def test_a_withdrawn_key_is_dropped_by_the_background_refresh_under_gunicorn(
    jwks: JwksServer, start_server, tmp_path
):
    environment = with_site(tmp_path, AGELESS_KEYS, {**BASE_ENV, **oauth_environment(jwks)})
    server = start_server(environment, ONE_WORKER)
    remembered = mint(KEY)
    assert post(server, bearer(remembered), "before").status_code == 200
    jwks.serve(NEXT_KEY)  # Okta withdraws KEY
    statuses = []
    for attempt in range(50):  # a call starts a refresh and goes on: a later one sees its end
        statuses.append(post(server, bearer(remembered), f"after-{attempt}").status_code)
        if statuses[-1] == 401:
            break
    assert statuses[-1] == 401, statuses
    last = server.log_line(f"after-{len(statuses) - 1}")
    assert last["auth_failure"] == "oauth:unknown-kid"
    assert post(server, bearer(mint(NEXT_KEY)), "rotated").status_code == 200
    assert "jwks-loaded" in server.log() and "Traceback" not in server.log()


def test_a_dead_resolver_costs_at_most_the_fetch_bound_under_gunicorn(
    jwks: JwksServer, start_server, tmp_path
):
    by_name = {"HOOK_OAUTH_JWKS_URI": jwks.url.replace("127.0.0.1", "localhost")}
    environment = with_site(tmp_path, DEAD_DNS, {**BASE_ENV, **oauth_environment(jwks), **by_name})
    server = start_server(environment, ONE_WORKER)
    began = time.monotonic()
    answer = requests.get(f"{server.url}/readyz", timeout=8)  # readiness refetches at once
    assert time.monotonic() - began < 2.5  # 1 s for the fetch, the rest for the machine
    assert answer.status_code == 503
    began = time.monotonic()
    refused = post(server, bearer(mint(KEY)), "dead-dns")
    assert time.monotonic() - began < 2.5
    assert refused.status_code == 401
    assert "timed out after 1.0 s" in server.log()
    assert jwks.fetches == 0  # the name never resolved


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"HOOK_OAUTH_ISSUER": ""}, "HOOK_OAUTH_ISSUER"),
        ({"HOOK_OAUTH_AUDIENCE": ""}, "HOOK_OAUTH_AUDIENCE"),
        ({"HOOK_OAUTH_JWKS_URI": "http://keys.okta.example/v1/keys"}, "HOOK_OAUTH_JWKS_URI"),
    ],
)
def test_bad_oauth_configuration_stops_gunicorn_with_one_line(
    jwks: JwksServer, tmp_path, changes: dict[str, str], variable: str
):
    environment = {**BASE_ENV, **oauth_environment(jwks), **changes}
    finished = subprocess.run(
        gunicorn_command(free_port()),
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    lines = (finished.stdout + finished.stderr).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"psc-token-hook: configuration error: {variable}:")
    assert jwks.fetches == 0
