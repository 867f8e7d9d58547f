"""OAuth bearer tokens, in process, against a real JWKS server on a loopback port: each
check of a token, the algorithm allow-list, and the tokens remembered once verified.

Clocks are frozen (freezegun): token lifetimes move only when a test ticks the clock.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from hook import oauth
from hook.config import OAuthSettings
from hook.oauth import (
    MAX_REMEMBERED_TOKENS,
    OAuthAuthenticator,
    unverified_header,
)
from tests.support.jwks_server import (
    AUDIENCE,
    CLIENT_ID,
    FIRST_KID,
    ISSUER,
    SCOPE,
    JwksServer,
    bearer,
    claims,
    forge,
    mint,
    oauth_settings,
    signing_key,
)
from tests.support.oauth_calls import KEY, NEXT_KEY, STRANGER, rejection
from tests.support.settings import SECRET

# --- tokens -------------------------------------------------------------------------------


@pytest.mark.process
def test_keys_are_fetched_once_at_start(jwks: JwksServer, authenticator: OAuthAuthenticator):
    assert jwks.fetches == 1
    assert authenticator.ready() is None
    assert authenticator.mode == "oauth"


@pytest.mark.process
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_valid_token_is_accepted(authenticator: OAuthAuthenticator, scheme: str):
    headers = {"Authorization": f"{scheme} {mint(KEY)}"}
    assert authenticator.authenticate(headers) is None


def _at(offset: int) -> Callable[[int], int]:
    return lambda now: now + offset


@pytest.mark.process
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": _at(-31)}, "expired"),
        ({"iat": _at(120)}, "not-yet-valid"),
        ({"nbf": _at(120)}, "not-yet-valid"),
        ({"iss": "https://okta.example/oauth2/default"}, "bad-issuer"),
        ({"iss": ISSUER + "/"}, "bad-issuer"),
        ({"aud": "api://default"}, "bad-audience"),
        ({"aud": ["api://default", "api://other"]}, "bad-audience"),
        ({"exp": None}, "missing-claim"),
        ({"iat": None}, "missing-claim"),
        ({"iss": None}, "missing-claim"),
        ({"aud": None}, "missing-claim"),
        ({"iat": "yesterday"}, "bad-iat"),
        ({"scp": ["openid", "okta.users.read"]}, "missing-scope"),
        ({"scp": SCOPE}, "missing-scope"),
        ({"scp": None}, "missing-scope"),
        ({"cid": "0oa-some-other-app"}, "foreign-cid"),
        ({"cid": [CLIENT_ID]}, "foreign-cid"),
        ({"cid": None}, "foreign-cid"),
    ],
)
def test_a_token_failing_a_check_is_refused_with_that_reason(
    authenticator: OAuthAuthenticator, clock: Any, changes: dict[str, Any], reason: str
):
    now = int(time.time())
    values = {name: value(now) if callable(value) else value for name, value in changes.items()}
    assert rejection(authenticator, bearer(mint(KEY, **values))) == reason


@pytest.mark.process
def test_the_leeway_is_30_seconds_either_way(authenticator: OAuthAuthenticator, clock: Any):
    token = mint(KEY, exp=int(time.time()) + 60)
    clock.tick(89)
    assert authenticator.authenticate(bearer(token)) is None
    clock.tick(2)
    assert rejection(authenticator, bearer(token)) == "expired"
    assert authenticator.authenticate(bearer(mint(KEY, iat=int(time.time()) + 29))) is None


@pytest.mark.process
def test_scopes_and_client_ids_are_not_checked_when_not_configured(jwks: JwksServer, clock: Any):
    lenient = OAuthAuthenticator(oauth_settings(jwks, scopes=(), client_ids=frozenset()))
    assert lenient.authenticate(bearer(mint(KEY, scp=None, cid=None))) is None


@pytest.mark.process
def test_every_required_scope_must_be_granted(jwks: JwksServer, clock: Any):
    strict = OAuthAuthenticator(oauth_settings(jwks, scopes=(SCOPE, "psc.admin")))
    assert rejection(strict, bearer(mint(KEY))) == "missing-scope"
    assert strict.authenticate(bearer(mint(KEY, scp=["psc.admin", SCOPE, "openid"]))) is None


@pytest.mark.process
@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no-bearer"),
        ({"Authorization": SECRET}, "no-bearer"),
        ({"Authorization": "Basic b2t0YTpzZWNyZXQ="}, "no-bearer"),
        ({"Authorization": "Bearer   "}, "no-bearer"),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
        ({"Authorization": "Bearer a.b.c"}, "malformed"),
        ({"Authorization": "Bearer " + "a" * 9000}, "malformed"),
    ],
)
def test_a_call_without_a_usable_bearer_is_refused(
    authenticator: OAuthAuthenticator, headers: dict[str, str], reason: str
):
    assert rejection(authenticator, headers) == reason


@pytest.mark.process
def test_the_header_is_read_once_for_the_key_and_checked_strictly_by_pyjwt(
    authenticator: OAuthAuthenticator,
):
    """``unverified_header`` reads leniently (base64 ignores stray characters), so a header
    it accepts but PyJWT does not must still be refused, as PyJWT's strict decode refuses it."""
    token = mint(KEY)
    header, _, rest = token.partition(".")
    assert unverified_header(token) == {"alg": "RS256", "kid": FIRST_KID, "typ": "JWT"}
    stray = f"{header[:4]}!!!!{header[4:]}.{rest}"
    assert unverified_header(stray) == unverified_header(token)
    assert rejection(authenticator, bearer(stray)) == "malformed"


@pytest.mark.process
@pytest.mark.parametrize("header", [b"[]", b'"RS256"', b"{", b"\xff"])
def test_a_header_that_is_not_a_json_object_is_malformed(
    authenticator: OAuthAuthenticator, header: bytes
):
    segment = base64.urlsafe_b64encode(header).rstrip(b"=").decode()
    token = f"{segment}.{mint(KEY).split('.', 1)[1]}"
    assert rejection(authenticator, bearer(token)) == "malformed"


@pytest.mark.process
def test_a_token_without_kid_is_refused_without_fetching(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    clock.tick(31)
    token = forge({"alg": "RS256", "typ": "JWT"}, claims())
    assert rejection(authenticator, bearer(token)) == "no-kid"
    assert jwks.fetches == 1


@pytest.mark.process
def test_a_signature_by_another_key_is_refused(authenticator: OAuthAuthenticator):
    assert rejection(authenticator, bearer(mint(STRANGER, kid=FIRST_KID))) == "bad-signature"


@pytest.mark.process
def test_a_tampered_payload_is_refused(authenticator: OAuthAuthenticator):
    header, _, signature = mint(KEY, scp=["openid"]).split(".")
    other_payload = mint(KEY).split(".")[1]
    token = f"{header}.{other_payload}.{signature}"
    assert rejection(authenticator, bearer(token)) == "bad-signature"


# --- algorithms ---------------------------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(authenticator: OAuthAuthenticator, alg: str):
    token = forge({"alg": alg, "kid": FIRST_KID, "typ": "JWT"}, claims())
    assert rejection(authenticator, bearer(token)) == "bad-alg"


@pytest.mark.process
def test_hs256_signed_with_the_public_key_is_refused(authenticator: OAuthAuthenticator):
    """Algorithm confusion: the RSA public key (public to all) used as an HMAC secret."""
    token = forge({"alg": "HS256", "kid": FIRST_KID}, claims(), hmac_secret=KEY.public_pem())
    assert rejection(authenticator, bearer(token)) == "bad-alg"


@pytest.mark.process
def test_an_algorithm_off_the_allow_list_is_refused_before_any_fetch(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    clock.tick(31)  # a fetch would be allowed: the alg check must come first
    rs384 = signing_key("key-rs384", "RS384")
    assert rejection(authenticator, bearer(mint(rs384))) == "bad-alg"
    hs = forge({"alg": "HS256", "kid": "key-unknown"}, claims(), hmac_secret=b"x" * 32)
    assert rejection(authenticator, bearer(hs)) == "bad-alg"
    assert jwks.fetches == 1


@pytest.mark.process
def test_an_allowed_algorithm_must_match_the_keys_type(
    jwks: JwksServer, clock: Any, monkeypatch: pytest.MonkeyPatch
):
    """Were a second algorithm ever allowed, a token could not borrow a key of the other."""
    ec_key = signing_key("key-ec", "ES256")
    jwks.serve(KEY, ec_key)
    monkeypatch.setattr(oauth, "ALGORITHMS", ("RS256", "ES256"))
    both = OAuthAuthenticator(oauth_settings(jwks))
    assert both.authenticate(bearer(mint(ec_key))) is None
    assert rejection(both, bearer(mint(ec_key, kid=FIRST_KID))) == "key-mismatch"
    assert rejection(both, bearer(mint(KEY, kid="key-ec"))) == "key-mismatch"


@pytest.mark.parametrize(
    "changes",
    [{"algorithms": ("HS256",)}, {"algorithms": ("none",)}, {"algorithms": ()}],
)
def test_the_algorithms_cannot_be_configured(changes: dict[str, Any]):
    """RS256 only, fixed: no setting can let a symmetric algorithm or ``none`` in."""
    with pytest.raises(TypeError, match="algorithms"):
        OAuthSettings(ISSUER, AUDIENCE, "https://okta.example/v1/keys", **changes)
    assert oauth.ALGORITHMS == ("RS256",)


def test_the_leeway_is_fixed_within_60_seconds():
    with pytest.raises(TypeError, match="leeway"):
        OAuthSettings(ISSUER, AUDIENCE, "https://okta.example/v1/keys", leeway_seconds=61)
    assert oauth.LEEWAY_SECONDS == 30 <= 60


# --- remembered tokens ---------------------------------------------------------------------


@pytest.mark.process
def test_a_verified_token_is_remembered_and_not_verified_again(
    authenticator: OAuthAuthenticator, decodes: list[str]
):
    token = mint(KEY)
    for _ in range(3):
        assert authenticator.authenticate(bearer(token)) is None
    assert decodes == [token]


@pytest.mark.process
def test_a_remembered_token_still_expires(
    authenticator: OAuthAuthenticator, clock: Any, decodes: list[str]
):
    token = mint(KEY, exp=int(time.time()) + 60)
    assert authenticator.authenticate(bearer(token)) is None
    clock.tick(60 + 30 - 1)  # within the 30 s leeway
    assert authenticator.authenticate(bearer(token)) is None
    clock.tick(1)
    assert rejection(authenticator, bearer(token)) == "expired"
    assert rejection(authenticator, bearer(token)) == "expired"  # by PyJWT, once forgotten
    assert decodes == [token, token]


@pytest.mark.process
def test_a_remembered_token_whose_key_was_withdrawn_is_verified_again(
    jwks: JwksServer, authenticator: OAuthAuthenticator, decodes: list[str]
):
    token = mint(KEY)
    assert authenticator.authenticate(bearer(token)) is None
    jwks.serve(NEXT_KEY)
    assert authenticator.authenticate(bearer(mint(NEXT_KEY))) is None  # the keys rotate
    assert rejection(authenticator, bearer(token)) == "unknown-kid"


@pytest.mark.process
def test_an_exp_written_as_a_string_is_remembered_as_a_number(
    authenticator: OAuthAuthenticator, clock: Any
):
    """PyJWT reads ``exp`` with int(), so a signed "exp": "<digits>" passes its check."""
    token = mint(KEY, exp=str(int(time.time()) + 60))
    assert authenticator.authenticate(bearer(token)) is None
    assert authenticator.authenticate(bearer(token)) is None  # remembered, compared as a number
    clock.tick(60 + 30)
    assert rejection(authenticator, bearer(token)) == "expired"


@pytest.mark.process
def test_only_the_exact_token_is_remembered(authenticator: OAuthAuthenticator):
    token = mint(KEY)
    assert authenticator.authenticate(bearer(token)) is None
    head, body, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    assert rejection(authenticator, bearer(f"{head}.{body}.{other}{signature[1:]}")) == (
        "bad-signature"
    )
    forged_body = base64.urlsafe_b64encode(json.dumps(claims(cid="0oa-evil")).encode())
    tampered = f"{head}.{forged_body.decode().rstrip('=')}.{signature}"
    assert rejection(authenticator, bearer(tampered)) == "bad-signature"


@pytest.mark.process
def test_a_refused_token_is_not_remembered(authenticator: OAuthAuthenticator, decodes: list[str]):
    token = mint(KEY, aud="api://default")
    assert rejection(authenticator, bearer(token)) == "bad-audience"
    assert rejection(authenticator, bearer(token)) == "bad-audience"
    assert decodes == [token, token]


@pytest.mark.process
def test_the_remembered_tokens_are_bounded_oldest_forgotten_first(
    authenticator: OAuthAuthenticator, decodes: list[str]
):
    tokens = [mint(KEY, jti=f"AT.{index}") for index in range(MAX_REMEMBERED_TOKENS + 1)]
    for token in tokens:
        assert authenticator.authenticate(bearer(token)) is None
    assert authenticator.authenticate(bearer(tokens[-1])) is None  # still remembered
    assert authenticator.authenticate(bearer(tokens[0])) is None  # forgotten: verified again
    assert decodes == [*tokens, tokens[0]]
