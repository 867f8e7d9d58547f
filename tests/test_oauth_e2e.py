"""OAuth end to end: the real service under gunicorn, its keys from a real JWKS server."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from hook import samples
from tests.conftest import BASE_ENV, SECRET, Server, free_port, gunicorn_command
from tests.jwks_server import (
    FIRST_KID,
    JwksServer,
    bearer,
    jwks_fixture,
    mint,
    oauth_environment,
    signing_key,
)
from tests.okta_schemas import validate

jwks = jwks_fixture()
KEY = signing_key(FIRST_KID)
BODY = samples.load("password-okta-verify-push")


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
