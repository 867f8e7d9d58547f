"""OAuth bearer authentication through the app (what a refused call is answered) and its
settings (each bad one names its variable)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hook import build_authenticator, create_app, oauth, samples
from hook.auth import AuthFailure
from hook.config import ConfigError, OAuthSettings, load_settings
from tests.support.jwks_server import (
    AUDIENCE,
    CLIENT_ID,
    FIRST_KID,
    ISSUER,
    SCOPE,
    JwksServer,
    bearer,
    mint,
    oauth_environment,
)
from tests.support.oauth_calls import KEY, STRANGER
from tests.support.settings import BASE_ENV, SECRET

# --- through the app ----------------------------------------------------------------------


def _post(client: Any, headers: dict[str, str]) -> Any:
    body = samples.load("password-okta-verify-push")
    return client.post("/token-hook", json=body, headers=headers)


@pytest.mark.process
def test_oauth_mode_answers_401_without_naming_the_check(jwks: JwksServer, clock: Any):
    app = create_app(load_settings({**BASE_ENV, **oauth_environment(jwks)}))
    client = app.test_client()
    assert _post(client, bearer(mint(KEY))).status_code == 200
    expired = _post(client, bearer(mint(KEY, exp=int(time.time()) - 3600)))
    foreign = _post(client, bearer(mint(KEY, cid="0oa-other")))
    for answer in (expired, foreign):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert answer.mimetype == "application/problem+json"
    assert expired.get_data() == foreign.get_data()
    assert _post(client, {"Authorization": SECRET}).status_code == 401


@pytest.mark.process
def test_header_and_oauth_mode_accepts_either(jwks: JwksServer, clock: Any):
    settings = load_settings({**BASE_ENV, **oauth_environment(jwks, mode="header,oauth")})
    assert build_authenticator(settings).mode == "header,oauth"
    client = create_app(settings).test_client()
    assert _post(client, {"Authorization": SECRET}).status_code == 200
    assert _post(client, bearer(mint(KEY))).status_code == 200
    refused = _post(client, bearer(mint(STRANGER, kid=FIRST_KID)))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.process
def test_header_and_oauth_failure_reason_names_both_checks(jwks: JwksServer, clock: Any):
    settings = load_settings({**BASE_ENV, **oauth_environment(jwks, mode="header,oauth")})
    either = build_authenticator(settings)
    with pytest.raises(AuthFailure) as failure:
        either.authenticate(bearer(mint(KEY, aud="api://default")))
    assert failure.value.reason == "header:header-mismatch oauth:bad-audience"


# --- configuration ------------------------------------------------------------------------


def _env(jwks_uri: str = "http://127.0.0.1:9/v1/keys", **changes: str | None) -> dict[str, str]:
    env = {
        **BASE_ENV,
        "HOOK_AUTH_MODE": "oauth",
        "HOOK_OAUTH_ISSUER": ISSUER,
        "HOOK_OAUTH_AUDIENCE": AUDIENCE,
        "HOOK_OAUTH_JWKS_URI": jwks_uri,
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        (_env(HOOK_OAUTH_ISSUER=None), "HOOK_OAUTH_ISSUER"),
        (_env(HOOK_OAUTH_ISSUER="  "), "HOOK_OAUTH_ISSUER"),
        (_env(HOOK_OAUTH_ISSUER="http://okta.example/oauth2/x"), "HOOK_OAUTH_ISSUER"),
        (_env(HOOK_OAUTH_AUDIENCE=None), "HOOK_OAUTH_AUDIENCE"),
        (_env("http://keys.okta.example/v1/keys"), "HOOK_OAUTH_JWKS_URI"),
        (_env("ftp://127.0.0.1/keys"), "HOOK_OAUTH_JWKS_URI"),
        (_env("/v1/keys"), "HOOK_OAUTH_JWKS_URI"),
        (_env(HOOK_OAUTH_SCOPES="psc hook"), "HOOK_OAUTH_SCOPES"),
        (_env(HOOK_OAUTH_SCOPES='psc"hook'), "HOOK_OAUTH_SCOPES"),
        (_env(HOOK_OAUTH_CLIENT_IDS="0oa one"), "HOOK_OAUTH_CLIENT_IDS"),
        (_env(HOOK_AUTH_MODE="oauth,header,oauth"), "HOOK_AUTH_MODE"),
    ],
)
def test_bad_oauth_settings_name_the_variable(env: dict[str, str], variable: str):
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert str(error.value).startswith(f"{variable}:")
    assert "\n" not in str(error.value)


def test_oauth_settings_are_read_from_the_environment():
    settings = load_settings(
        _env(
            "",
            HOOK_OAUTH_ISSUER=ISSUER + "/",
            HOOK_OAUTH_SCOPES=f"{SCOPE}, psc.admin",
            HOOK_OAUTH_CLIENT_IDS=f"{CLIENT_ID},0oa-second",
        )
    )
    assert settings.oauth == OAuthSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_uri=f"{ISSUER}/v1/keys",
        scopes=(SCOPE, "psc.admin"),
        client_ids=frozenset({CLIENT_ID, "0oa-second"}),
    )
    assert not hasattr(settings.oauth, "algorithms") and oauth.ALGORITHMS == ("RS256",)
    assert settings.secrets == ()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_is_allowed_for_the_key_set_on_loopback_only(host: str):
    settings = load_settings(_env(f"http://{host}:8443/v1/keys"))
    assert settings.oauth is not None
    assert settings.oauth.jwks_uri == f"http://{host}:8443/v1/keys"
