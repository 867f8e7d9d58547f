"""``psc-hook check-token`` on tokens minted here: the claims Okta would issue after applying
the service's own answer to a shipped sample (``hook.cli.okta_applier.apply_answer``), signed with a
test RSA key, and broken ones. ``--issuer`` fetches the keys from a real JWKS server.
"""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from freezegun import freeze_time

from hook import samples
from tests.support.cli_runner import run, use_env
from tests.support.jwks_server import FIRST_KID, JwksServer, signing_key
from tests.support.okta_tokens import check, minted, sign, verdicts
from tests.support.processes import free_port
from tests.support.settings import BASE_ENV

TENANT = BASE_ENV["PSC_TENANT_ID"]
HINT = "OKTA_chu-exemple"
SAMPLE_ISSUER = samples.load("password-okta-verify-push")["data"]["access"]["claims"]["iss"]
#: Personal data in the samples that no output may show.
PERSONAL = ("camille", "martin", "00u1abcd2EFGH3ijk4l5")


@pytest.fixture(autouse=True)
def base_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, BASE_ENV)


def issuer_of(jwks: JwksServer) -> str:
    return jwks.url.removesuffix("/v1/keys")


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
        ("password-okta-verify-totp", "identity", True, "pwd okta_verify otp: none of PSC's"),
        ("password-okta-verify-totp", "access", True, "PSC's substantiel set"),
        ("cps-smart-card", "access", True, "PSC's eleve set (cps-smart-card)"),
        ("cps-smart-card", "identity", True, "sc swk: none of PSC's sets; Okta's own labels"),
        ("refresh", "access", True, "PSC's substantiel set"),
        ("access-token-only", "access", True, "PSC's substantiel set"),
        ("id-token-only", "identity", True, "PSC's substantiel set, as Okta emits it"),
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


# input: files and standard input, never best the command line -----------------------------


def cli(capsys, *argv: str, stdin: str | None = None):
    """check-token with these arguments, and this text on standard input."""
    with pytest.MonkeyPatch.context() as patch:
        if stdin is not None:
            patch.setattr(sys, "stdin", io.StringIO(stdin))
        return run(capsys, "check-token", *argv)


def test_the_token_from_a_file(capsys, tmp_path):
    token = sign(minted("cps-smart-card", "access"))
    path = tmp_path / "token.txt"
    path.write_text(token + "\n")
    result = cli(capsys, str(path))
    assert result.code == 0, result.out
    assert result.err == ""
    assert_private(result, token)


def test_the_token_from_stdin(capsys):
    token = sign(minted("cps-smart-card", "access"))
    result = cli(capsys, "-", stdin=f"  {token}\n")
    assert result.code == 0, result.out
    assert "PSC's eleve set" in result.out
    assert result.err == ""
    assert_private(result, token)


def test_an_empty_stdin_says_no_token_was_read(capsys):
    result = cli(capsys, "-", stdin=" \n")
    assert result.code == 2
    assert result.err == (
        "psc-hook: configuration error: TOKEN -: no token was read from standard input"
        " (it was empty)\n"
    )


def test_a_token_on_the_command_line_is_checked_with_a_warning(capsys):
    """ps and the shell's history show it: said on stderr, the verdict unchanged."""
    token = sign(minted("cps-smart-card", "access"))
    result = cli(capsys, token)
    assert result.code == 0, result.out
    assert result.err == (
        "psc-hook: warning: TOKEN: a token on the command line is visible in ps and in your"
        " shell's history; give a file, or - to read it from standard input\n"
    )
    assert result.out.rstrip().endswith("PSC would accept this token.")
    assert_private(result, token)


@pytest.mark.parametrize("name", ["token.txt", "hello", "a.b.c"])
def test_a_missing_file_says_so_not_that_it_is_no_jwt(capsys, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    result = cli(capsys, name)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"psc-hook: configuration error: TOKEN: no file {name!r}; give a file holding the"
        " token, or - to read it from standard input\n"
    )


@pytest.mark.parametrize("pasted", ["Bearer {}", "bearer {}\n", "Authorization: Bearer {}"])
def test_a_pasted_bearer_prefix_is_dropped(capsys, tmp_path, pasted):
    token = sign(minted("password-okta-verify-push", "access"))
    assert cli(capsys, "-", stdin=pasted.format(token)).code == 0
    path = tmp_path / "header.txt"
    path.write_text(pasted.format(token))
    result = cli(capsys, str(path))
    assert result.code == 0, result.out
    assert_private(result, token)


def test_an_unreadable_file_is_2(capsys, tmp_path):
    path = tmp_path / "token.bin"
    path.write_bytes(b"\xff\xfe")
    result = cli(capsys, str(path))
    assert result.code == 2
    assert "TOKEN: cannot read the file" in result.err


def test_no_token_at_all_is_2(capsys):
    result = cli(capsys)
    assert result.code == 2
    assert "TOKEN: give a file holding the token(s), or - for standard input" in result.err


def test_it_needs_no_secret_nor_auth_mode(capsys, monkeypatch):
    """Only the claims' settings: HOOK_SECRETS never has to reach the operator's laptop."""
    use_env(monkeypatch, {"PSC_TENANT_ID": TENANT, "PSC_CPS_IDP_IDS": BASE_ENV["PSC_CPS_IDP_IDS"]})
    result = check(capsys, sign(minted("password-okta-verify-push", "access")))
    assert result.code == 0, result.err
    assert "configuration error" not in result.err
    monkeypatch.setenv("HOOK_AUTH_MODE", "header")  # a copy of the service's, secret left out
    assert check(capsys, sign(minted("cps-smart-card", "access"))).code == 0


# an ID token and an access token together ------------------------------------------------


def pair(sample: str, env: dict[str, str] = BASE_ENV, **changes: Any) -> tuple[str, str]:
    """The ID token and the access token of one sign-in, as Okta would mint them."""
    return sign(minted(sample, "identity", env)), sign(minted(sample, "access", env), **changes)


def test_a_pair_from_two_files(capsys, tmp_path):
    identity, access = pair("password-okta-verify-push")
    (tmp_path / "id.txt").write_text(identity)
    (tmp_path / "access.txt").write_text(access)
    result = cli(
        capsys,
        "--id-token",
        str(tmp_path / "id.txt"),
        "--access-token",
        str(tmp_path / "access.txt"),
    )
    assert result.code == 0, result.out
    assert result.err == ""
    assert result.out.startswith(f"ID token from {SAMPLE_ISSUER}:\n")
    assert f"\n\naccess token from {SAMPLE_ISSUER}:\n" in result.out
    assert "amr          pwd okta_verify swk mfa: PSC's substantiel set, as Okta emits it" in (
        result.out
    )
    assert "amr          swk mfa pwd okta_verify: PSC's substantiel set" in result.out
    assert result.out.rstrip().endswith("PSC would accept both tokens.")
    assert_private(result, identity + access)


def test_a_pair_on_stdin_in_any_order(capsys):
    identity, access = pair("password-okta-verify-push")
    result = cli(capsys, "-", "--json", stdin=f"{access}\n\n{identity}\n")
    assert result.code == 0, result.err
    shown = result.json()
    assert shown["accepted"] is True
    assert [token["kind"] for token in shown["tokens"]] == ["identity", "access"]
    assert all(token["accepted"] for token in shown["tokens"])


def test_the_id_tokens_amr_is_judged_and_only_okta_can_fix_it(capsys):
    """Okta Verify's code: the hook gives the access token PSC's set, but the ID token keeps
    Okta's own labels: the ID token falls short, with a warning naming Okta's settings."""
    identity, access = pair("password-okta-verify-totp")
    result = cli(capsys, "-", stdin=f"{identity} {access}")
    assert result.code == 0, result.out
    id_part, access_part = result.out.split("\n\naccess token from")
    assert "  warn  amr          pwd okta_verify otp: none of PSC's sets; Okta's own" in id_part
    assert "what to do: only Okta's configuration decides the ID token's amr" in id_part
    assert "AMR values (additionalAmr) hold hwk, pin and mfa" in id_part
    assert "or password + Okta Verify push" in id_part
    assert "warn" not in access_part
    assert "amr          swk mfa pwd okta_verify: PSC's substantiel set" in access_part
    assert result.out.rstrip().endswith("PSC would accept both tokens.")


def test_a_pair_says_which_token_falls_short(capsys):
    identity, access = pair("password-only")
    result = cli(capsys, "-", stdin=f"{identity}\n{access}")
    assert result.code == 1
    assert "  warn  amr          pwd: none of PSC's sets; Okta's own labels" in result.out
    assert "  FAIL  amr          pwd: none of PSC's sets" in result.out
    assert result.out.rstrip().endswith("PSC would refuse the access token.")
    shown = cli(capsys, "-", "--json", stdin=f"{identity}\n{access}").json()
    assert shown["accepted"] is False
    assert [token["accepted"] for token in shown["tokens"]] == [True, False]


def test_a_token_given_for_the_other_kind_is_2(capsys, tmp_path):
    identity, access = pair("password-okta-verify-push")
    (tmp_path / "access.txt").write_text(access)
    result = cli(capsys, "--id-token", str(tmp_path / "access.txt"))
    assert result.code == 2
    assert "--id-token: this is an access token" in result.err
    twice = cli(capsys, "-", stdin=f"{access} {access}")
    assert twice.code == 2
    assert "TOKEN: two access tokens; give an ID token and an access token" in twice.err
    three = cli(capsys, "-", stdin=f"{identity} {access} {access}")
    assert three.code == 2


def test_stdin_is_read_once(capsys):
    result = cli(capsys, "-", "--access-token", "-", stdin="")
    assert result.code == 2
    assert "standard input can be read once" in result.err


# what the plan leaves out: a warning, as in check-config and preview ----------------------


def test_a_claim_the_plan_leaves_out_is_a_warning_not_a_refusal(capsys, monkeypatch):
    env = {**BASE_ENV, "PSC_CLAIMS_ID_TOKEN": "tid", "PSC_CLAIMS_ACCESS_TOKEN": "tid,oid"}
    use_env(monkeypatch, env)
    identity, access = pair("password-okta-verify-push", env)
    result = cli(capsys, "-", stdin=f"{identity} {access}")
    assert result.code == 0, result.out
    plan = run(capsys, "check-config").out
    for kind, claim in (("ID", "oid"), ("access", "amr")):
        setting = "PSC_CLAIMS_ID_TOKEN" if kind == "ID" else "PSC_CLAIMS_ACCESS_TOKEN"
        [warning] = [line for line in plan.splitlines() if f"  ! {setting} leaves out" in line]
        assert f"  warn  {claim:<12} missing: {warning.removeprefix('  ! ')}" in result.out
    assert result.out.rstrip().endswith("PSC would accept both tokens.")


def test_a_claim_the_plan_places_but_the_token_lacks_is_refused(capsys):
    identity, access = pair("password-okta-verify-push", oid=None)
    result = cli(capsys, "-", stdin=f"{identity} {access}")
    assert result.code == 1
    assert "  FAIL  oid          missing" in result.out
    assert result.out.rstrip().endswith("PSC would refuse the access token.")


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
    ],
)
def test_not_a_jwt(capsys, text, reason):
    result = check(capsys, text)
    assert result.code == 1
    assert result.out.startswith("The input:\n  FAIL  token")
    assert reason in result.out
    assert "PSC would refuse this token." in result.out


# the signature, against the org's keys ----------------------------------------------------


@pytest.mark.process
def test_a_token_signed_by_the_issuers_key(capsys, jwks):
    issuer = issuer_of(jwks)
    token = sign(minted("password-okta-verify-push", "access"), iss=issuer)
    result = check(capsys, token, "--issuer", issuer)
    assert result.code == 0, result.out
    assert f"ok    signature    verified with {jwks.url} (key {FIRST_KID})" in result.out
    assert jwks.fetches == 1
    assert_private(result, token)


@pytest.mark.process
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


@pytest.mark.process
def test_a_token_signed_by_another_key(capsys, jwks):
    issuer = issuer_of(jwks)
    token = sign(minted("cps-smart-card", "access"), iss=issuer, key=signing_key("key-stranger"))
    shown = verdicts(capsys, token, "--issuer", issuer)
    assert shown["signature"] == (
        False,
        f"signed with a key ('key-stranger') that {jwks.url} does not publish",
    )


@pytest.mark.process
def test_a_token_of_another_issuer(capsys, jwks):
    token = sign(minted("cps-smart-card", "access"), iss=SAMPLE_ISSUER)
    shown = verdicts(capsys, token, "--issuer", issuer_of(jwks))
    assert shown["signature"] == (False, "refused (bad-issuer)")


@pytest.mark.process
def test_a_token_not_signed_with_rs256(capsys, jwks):
    issuer = issuer_of(jwks)
    claims = minted("cps-smart-card", "access") | {"iss": issuer, "exp": int(time.time()) + 60}
    token = jwt.encode(claims, "a-shared-secret-of-32-bytes-long!", algorithm="HS256")
    shown = verdicts(capsys, token, "--issuer", issuer)
    assert shown["signature"] == (False, "alg 'HS256' is not RS256")


@pytest.mark.process
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
