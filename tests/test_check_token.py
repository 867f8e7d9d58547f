"""``psc-hook check-token`` on tokens minted here: the claims Okta would issue after applying
the service's own answer to a shipped sample (``hook.cli.okta_applier.apply_answer``), signed with a
test RSA key, and broken ones. ``--issuer`` fetches the keys from a real JWKS server.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from freezegun import freeze_time

from hook import payload, samples
from hook.cli.okta_applier import apply_answer
from hook.commands import build_answer
from hook.config import load_settings
from tests.cli_runner import run, use_env
from tests.conftest import BASE_ENV, free_port
from tests.jwks_server import FIRST_KID, JwksServer, SigningKey, signing_key

TENANT = BASE_ENV["PSC_TENANT_ID"]
HINT = "OKTA_chu-exemple"
SAMPLE_ISSUER = samples.load("password-okta-verify-push")["data"]["access"]["claims"]["iss"]
#: Personal data in the samples that no output may show.
PERSONAL = ("camille", "martin", "00u1abcd2EFGH3ijk4l5")


@pytest.fixture(autouse=True)
def base_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, BASE_ENV)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer([signing_key(FIRST_KID)])
    yield server
    server.close()


def issuer_of(jwks: JwksServer) -> str:
    return jwks.url.removesuffix("/v1/keys")


def minted(sample: str, kind: str, env: dict[str, str] = BASE_ENV) -> dict[str, Any]:
    """The claims of a token Okta would mint after applying the service's answer."""
    request = samples.load(sample)
    answer = build_answer(payload.parse(json.dumps(request).encode()), load_settings(env))
    outcome = apply_answer(request, answer.status, answer.body)
    assert outcome.voided is None
    return outcome.tokens[kind]


def sign(
    claims: dict[str, Any],
    *,
    key: SigningKey | None = None,
    issued: int | None = None,
    lifetime: int = 3600,
    **changes: Any,
) -> str:
    """A token as Okta signs it; a change to None removes a claim."""
    issued = int(time.time()) if issued is None else issued
    body = {**claims, "iat": issued, "exp": issued + lifetime}
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    key = key or signing_key(FIRST_KID)
    return jwt.encode(body, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})


def check(capsys, token: str, *extra: str):
    return run(capsys, "check-token", token, *extra)


def verdicts(capsys, token: str, *extra: str) -> dict[str, tuple[bool, str]]:
    result = check(capsys, token, "--json", *extra)
    shown = result.json()
    assert result.code == (0 if shown["accepted"] else 1)
    return {item["name"]: (item["ok"], item["detail"]) for item in shown["checks"]}


def assert_private(result, token: str) -> None:
    text = (result.out + result.err).lower()
    assert token.lower() not in text
    for datum in PERSONAL:
        assert datum.lower() not in text


# tokens from the service's own answers -----------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "kind", "accepted", "amr"),
    [
        ("password-okta-verify-push", "identity", True, "PSC's substantiel set"),
        ("password-okta-verify-push", "access", True, "PSC's substantiel set"),
        ("password-okta-verify-totp", "identity", True, "Okta's own labels, not required here"),
        ("password-okta-verify-totp", "access", True, "PSC's substantiel set"),
        ("cps-smart-card", "access", True, "PSC's eleve set (cps-smart-card)"),
        ("cps-smart-card", "identity", True, "Okta's own labels, not required here"),
        ("refresh", "access", True, "PSC's substantiel set"),
        ("access-token-only", "access", True, "PSC's substantiel set"),
        ("id-token-only", "identity", True, "PSC's substantiel set"),
        ("password-only", "access", False, "pwd: none of PSC's sets"),
        ("fastpass", "access", False, "okta_verify phr: none of PSC's sets"),
    ],
)
def test_tokens_minted_from_the_services_answers(capsys, sample, kind, accepted, amr):
    token = sign(minted(sample, kind))
    result = check(capsys, token)
    assert result.code == (0 if accepted else 1), result.out
    name = "ID" if kind == "identity" else kind
    assert result.out.splitlines()[0] == f"{name} token from {SAMPLE_ISSUER}:"
    assert f"ok    tid          '{TENANT}', as PSC_TENANT_ID" in result.out
    user = "uid" if kind == "access" else "sub"
    assert f"ok    oid          an Okta user id, equal to {user}" in result.out
    assert amr in result.out
    assert "signature    not verified: pass --issuer" in result.out
    verdict = "PSC would accept this token." if accepted else "PSC would refuse this token."
    assert result.out.rstrip().endswith(verdict)
    assert_private(result, token)


def test_a_client_credentials_token_has_no_user(capsys):
    shown = verdicts(capsys, sign(minted("client-credentials", "access")))
    assert shown["oid"] == (False, "the token has no user (uid): PSC accepts only a user's sign-in")
    assert shown["tid"][0] is True


def test_kc_idp_hint_is_checked_where_it_is_configured(capsys, monkeypatch):
    placed = "tid,oid,amr,kc_idp_hint"
    env = {**BASE_ENV, "PSC_KC_IDP_HINT": HINT, "PSC_CLAIMS_ACCESS_TOKEN": placed,
           "PSC_CLAIMS_ID_TOKEN": "tid,oid"}  # fmt: skip
    use_env(monkeypatch, env)
    claims = minted("password-okta-verify-push", "access", env)
    assert verdicts(capsys, sign(claims))["kc_idp_hint"] == (True, f"'{HINT}', as PSC_KC_IDP_HINT")
    shown = verdicts(capsys, sign(claims, kc_idp_hint="OKTA_autre"))
    assert shown["kc_idp_hint"] == (False, f"'OKTA_autre', but PSC_KC_IDP_HINT is '{HINT}'")
    identity = minted("password-okta-verify-push", "identity", env)
    assert "kc_idp_hint" not in verdicts(capsys, sign(identity))


# input ------------------------------------------------------------------------------------


def test_the_token_from_a_file(capsys, tmp_path):
    token = sign(minted("cps-smart-card", "access"))
    path = tmp_path / "token.txt"
    path.write_text(token + "\n")
    result = check(capsys, str(path))
    assert result.code == 0, result.out
    assert_private(result, token)


def test_the_token_from_stdin(capsys, monkeypatch):
    token = sign(minted("cps-smart-card", "access"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"  {token}\n"))
    result = check(capsys, "-")
    assert result.code == 0, result.out
    assert "PSC's eleve set" in result.out
    assert_private(result, token)


def test_an_empty_stdin_says_no_token_was_read(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(" \n"))
    result = check(capsys, "-")
    assert result.code == 2
    assert result.err == (
        "psc-hook: configuration error: TOKEN -: no token was read from standard input"
        " (it was empty)\n"
    )


def test_json_gives_every_check(capsys):
    token = sign(minted("password-okta-verify-push", "access"))
    shown = check(capsys, token, "--json").json()
    assert shown["kind"] == "access"
    assert shown["issuer"] == SAMPLE_ISSUER
    assert shown["accepted"] is True
    names = [item["name"] for item in shown["checks"]]
    assert names == ["signature", "exp", "auth_time", "tid", "oid", "amr"]


# broken tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "name", "detail"),
    [
        ({"tid": None}, "tid", "missing"),
        ({"tid": "OKTA_chu-autre"}, "tid", f"'OKTA_chu-autre', but PSC_TENANT_ID is '{TENANT}'"),
        ({"oid": None}, "oid", "missing"),
        ({"oid": "00u9zzzz9ZZZZ9zzz9z9"}, "oid", "an Okta user id, but not the token's uid"),
        ({"oid": "camille.martin@chu-exemple.fr"}, "oid", "not an Okta user id"),
        ({"amr": ["pwd", "sms"]}, "amr", "pwd sms: none of PSC's sets"),
        ({"amr": ["swk", "mfa", "pwd"]}, "amr", "swk mfa pwd: none of PSC's sets"),
        ({"amr": None}, "amr", "missing"),
        ({"amr": "swk mfa pwd okta_verify"}, "amr", "not a list (str): none of PSC's sets"),
        ({"exp": None}, "exp", "missing"),
        ({"exp": 10**20}, "exp", "not a time"),
        ({"exp": "tomorrow"}, "exp", "not a time"),
    ],
)
def test_a_broken_token_is_refused_with_the_reason(capsys, changes, name, detail):
    token = sign(minted("password-okta-verify-push", "access"), **changes)
    result = check(capsys, token, "--json")
    assert result.code == 1
    [failed] = [item for item in result.json()["checks"] if not item["ok"]]
    assert failed["name"] == name
    assert failed["detail"].startswith(detail)
    assert failed["fix"]
    assert_private(result, token)


def test_a_token_without_issuer_says_so(capsys):
    result = check(capsys, sign(minted("cps-smart-card", "access"), iss=None))
    assert result.out.startswith("access token from an issuer it does not name (no iss):")
    assert result.code == 0, result.out


def test_a_refusal_says_what_to_do(capsys):
    token = sign(minted("password-okta-verify-push", "access"), tid=None)
    result = check(capsys, token)
    assert result.code == 1
    assert "FAIL  tid          missing" in result.out
    assert "what to do: Okta issued the token without the hook's claims: run psc-hook doctor" in (
        result.out
    )
    assert result.out.rstrip().endswith("PSC would refuse this token.")


def test_an_expired_token(capsys):
    issued = int(datetime(2026, 11, 20, 8, 0, tzinfo=UTC).timestamp())
    token = sign(minted("password-okta-verify-push", "access"), issued=issued, lifetime=3600)
    with freeze_time("2026-11-20 08:59:59"):
        assert verdicts(capsys, token)["exp"] == (True, "valid until 2026-11-20 09:00:00 UTC")
    with freeze_time("2026-11-20 09:00:00"):
        result = check(capsys, token)
    assert result.code == 1
    assert "FAIL  exp          expired at 2026-11-20 09:00:00 UTC" in result.out


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "three parts"),
        ("a.b.c", "not base64url-encoded JSON"),
        ("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "not base64url-encoded JSON"),
        ("", "three parts"),
    ],
)
def test_not_a_jwt(capsys, text, reason):
    result = check(capsys, text)
    assert result.code == 1
    assert result.out.startswith("The input:\n  FAIL  token")
    assert reason in result.out
    assert "PSC would refuse this token." in result.out


def test_an_unreadable_file_is_2(capsys, tmp_path):
    path = tmp_path / "token.bin"
    path.write_bytes(b"\xff\xfe")
    result = check(capsys, str(path))
    assert result.code == 2
    assert "TOKEN: cannot read the file" in result.err


# the signature, against the org's keys ----------------------------------------------------


def test_a_token_signed_by_the_issuers_key(capsys, jwks):
    issuer = issuer_of(jwks)
    token = sign(minted("password-okta-verify-push", "access"), iss=issuer)
    result = check(capsys, token, "--issuer", issuer)
    assert result.code == 0, result.out
    assert f"ok    signature    verified with {jwks.url} (key {FIRST_KID})" in result.out
    assert jwks.fetches == 1
    assert_private(result, token)


def test_a_token_whose_claims_were_altered(capsys, jwks):
    issuer = issuer_of(jwks)
    token = sign(minted("password-okta-verify-push", "access"), iss=issuer, tid="OKTA_autre")
    head, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"tid": TENANT}
    forged_body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{head}.{forged_body}.{signature}"
    shown = verdicts(capsys, forged, "--issuer", issuer)
    assert shown["signature"] == (False, "refused (bad-signature)")
    assert shown["tid"][0] is True


def test_a_token_signed_by_another_key(capsys, jwks):
    issuer = issuer_of(jwks)
    token = sign(minted("cps-smart-card", "access"), iss=issuer, key=signing_key("key-stranger"))
    shown = verdicts(capsys, token, "--issuer", issuer)
    assert shown["signature"] == (
        False,
        f"signed with a key ('key-stranger') that {jwks.url} does not publish",
    )


def test_a_token_of_another_issuer(capsys, jwks):
    token = sign(minted("cps-smart-card", "access"), iss=SAMPLE_ISSUER)
    shown = verdicts(capsys, token, "--issuer", issuer_of(jwks))
    assert shown["signature"] == (False, "refused (bad-issuer)")


def test_a_token_not_signed_with_rs256(capsys, jwks):
    issuer = issuer_of(jwks)
    claims = minted("cps-smart-card", "access") | {"iss": issuer, "exp": int(time.time()) + 60}
    token = jwt.encode(claims, "a-shared-secret-of-32-bytes-long!", algorithm="HS256")
    shown = verdicts(capsys, token, "--issuer", issuer)
    assert shown["signature"] == (False, "alg 'HS256' is not RS256")


def test_keys_that_cannot_be_fetched_are_3(capsys, jwks):
    issuer = issuer_of(jwks)
    jwks.fail(503)
    token = sign(minted("cps-smart-card", "access"), iss=issuer)
    result = check(capsys, token, "--issuer", issuer)
    assert result.code == 3
    assert f"no signing keys from {jwks.url}: answered HTTP 503" in result.err
    assert_private(result, token)


def test_an_unreachable_issuer_is_3(capsys):
    issuer = f"http://127.0.0.1:{free_port()}"
    result = check(capsys, sign(minted("cps-smart-card", "access")), "--issuer", issuer)
    assert result.code == 3
    assert "unreachable" in result.err


def test_an_issuer_that_is_not_https_is_2(capsys):
    result = check(capsys, "a.b.c", "--issuer", "http://chu-exemple.okta.com/oauth2/aus1")
    assert result.code == 2
    assert "--issuer: must use https://" in result.err
