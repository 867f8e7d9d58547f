"""OAuth bearer authentication, in process, against a real JWKS server on a loopback port.

Clocks are frozen (freezegun): the 30 s refetch limit and token lifetimes move only when a
test ticks the clock. Fetch counts are read from the JWKS server itself.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import structlog.testing
from freezegun import freeze_time

from hook import build_authenticator, create_app, fetch, oauth, samples
from hook.auth import AuthFailure
from hook.config import ConfigError, OAuthSettings, load_settings
from hook.fetch import MAX_BYTES as MAX_JWKS_BYTES
from hook.keyset import (
    FETCH_BUDGET_S,
    MAX_KEY_AGE_S,
    REFETCH_BURST,
    REFETCH_INTERVAL_S,
    JwksError,
    parse_jwks,
)
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
    oauth_environment,
    oauth_settings,
    signing_key,
)
from tests.support.settings import BASE_ENV, SECRET

KEY = signing_key(FIRST_KID)
NEXT_KEY = signing_key("key-2")
STRANGER = signing_key("key-stranger")
BURST = 50


@pytest.fixture
def clock() -> Iterator[Any]:
    with freeze_time("2026-03-02 09:00:00") as frozen:
        yield frozen


@pytest.fixture
def authenticator(jwks: JwksServer, clock: Any) -> OAuthAuthenticator:
    """Built under the frozen clock, as ``create_app`` builds it: it fetches the keys once."""
    return OAuthAuthenticator(oauth_settings(jwks))


def rejection(authenticator: OAuthAuthenticator, headers: dict[str, str]) -> str:
    with pytest.raises(AuthFailure) as failure:
        authenticator.authenticate(headers)
    return failure.value.reason


def burst(call: Callable[[int], str | None]) -> list[str | None]:
    """Run ``call(i)`` in BURST threads released at once; each result or failure reason."""
    start = threading.Barrier(BURST)

    def one(index: int) -> str | None:
        start.wait()
        try:
            return call(index)
        except AuthFailure as failure:
            return failure.reason

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        return list(pool.map(one, range(BURST)))


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


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The tokens PyJWT was asked to verify, in order."""
    seen: list[str] = []
    real = oauth.jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(oauth.jwt, "decode", counting)
    return seen


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


# --- the key set --------------------------------------------------------------------------


@pytest.mark.process
def test_the_first_unknown_key_refetches_at_once_then_at_most_once_per_30_seconds(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    unknown = bearer(mint(STRANGER))
    assert rejection(authenticator, unknown) == "unknown-kid"
    assert jwks.fetches == 2  # the start-up fetch does not count against the limit
    clock.tick(29)
    assert rejection(authenticator, unknown) == "unknown-kid"
    assert jwks.fetches == 2
    clock.tick(2)
    assert rejection(authenticator, unknown) == "unknown-kid"
    assert jwks.fetches == 3
    assert rejection(authenticator, unknown) == "unknown-kid"
    assert jwks.fetches == 3


@pytest.mark.process
def test_a_burst_of_unknown_kids_causes_at_most_the_budgets_refetches(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    """Calls that wait for a fetch use its result; the budget bounds the rest."""
    clock.tick(31)
    tokens = [mint(STRANGER, kid=f"kid-{index}") for index in range(BURST)]
    reasons = burst(lambda index: authenticator.authenticate(bearer(tokens[index])))
    assert reasons == ["unknown-kid"] * BURST
    assert 2 <= jwks.fetches <= 1 + REFETCH_BURST


@pytest.mark.process
def test_a_key_rotated_just_after_the_start_is_picked_up_by_its_first_token(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    """A deploy, a restart or a recycled worker loads the keys; Okta rotates a second later."""
    jwks.serve(NEXT_KEY)
    clock.tick(1)
    assert authenticator.authenticate(bearer(mint(NEXT_KEY))) is None
    assert jwks.fetches == 2
    assert rejection(authenticator, bearer(mint(KEY))) == "unknown-kid"  # retired key dropped
    assert jwks.fetches == 2


@pytest.mark.process
def test_a_burst_right_after_the_start_causes_one_refetch(
    jwks: JwksServer, authenticator: OAuthAuthenticator
):
    jwks.serve(KEY, NEXT_KEY)
    token = mint(NEXT_KEY)
    results = burst(lambda _: authenticator.authenticate(bearer(token)))
    assert results == [None] * BURST
    assert jwks.fetches == 2


@pytest.mark.process
def test_a_known_key_never_waits_for_a_fetch_in_progress(
    jwks: JwksServer, authenticator: OAuthAuthenticator
):
    jwks.hang()
    fetching = threading.Thread(target=rejection, args=(authenticator, bearer(mint(STRANGER))))
    fetching.start()
    jwks.wait_until_holding(1)
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert jwks.holding == 1  # the unknown key's fetch is still held by the key source
    jwks.close()
    fetching.join()


@pytest.mark.process
def test_threads_waiting_on_a_rotation_fetch_reuse_its_result(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    jwks.serve(KEY, NEXT_KEY)
    clock.tick(31)
    token = mint(NEXT_KEY)
    results = burst(lambda _: authenticator.authenticate(bearer(token)))
    assert results == [None] * BURST
    assert jwks.fetches == 2


@pytest.mark.process
def test_known_keys_still_work_when_the_key_source_is_down(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    jwks.close()
    clock.tick(31)
    assert rejection(authenticator, bearer(mint(STRANGER))) == "unknown-kid"
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert authenticator.ready() is None


@pytest.mark.process
@pytest.mark.parametrize("behaviour", ["hang", "trickle"])
def test_a_stalled_key_source_is_given_up_on_and_known_keys_still_work(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any, behaviour: str
):
    getattr(jwks, behaviour)()
    clock.tick(31)
    assert rejection(authenticator, bearer(mint(STRANGER))) == "unknown-kid"
    assert jwks.fetches == 2
    assert jwks.holding == 1  # the server still holds that fetch: the client gave up first
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert authenticator.ready() is None


@pytest.mark.process
def test_a_rotated_kid_gets_through_right_after_an_attackers_made_up_kid(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    assert rejection(authenticator, bearer(mint(STRANGER, kid="made-up"))) == "unknown-kid"
    assert jwks.fetches == 2
    jwks.serve(KEY, NEXT_KEY)  # Okta rotates a second later
    clock.tick(1)
    assert authenticator.authenticate(bearer(mint(NEXT_KEY))) is None
    assert jwks.fetches == 3


@pytest.mark.process
def test_made_up_kids_spend_the_burst_then_one_refetch_comes_back_per_30_seconds(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    for index in range(REFETCH_BURST + 2):
        assert rejection(authenticator, bearer(mint(STRANGER, kid=f"made-up-{index}"))) == (
            "unknown-kid"
        )
    assert jwks.fetches == 1 + REFETCH_BURST  # Okta is not flooded
    jwks.serve(KEY, NEXT_KEY)
    assert rejection(authenticator, bearer(mint(NEXT_KEY))) == "unknown-kid"  # budget spent
    clock.tick(REFETCH_INTERVAL_S)
    assert authenticator.authenticate(bearer(mint(NEXT_KEY))) is None
    assert jwks.fetches == 2 + REFETCH_BURST


@pytest.mark.process
def test_a_kid_withdrawn_by_a_fetch_fetches_nothing_for_30_seconds(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    jwks.serve(NEXT_KEY)
    assert authenticator.authenticate(bearer(mint(NEXT_KEY))) is None
    for _ in range(REFETCH_BURST + 1):
        assert rejection(authenticator, bearer(mint(KEY))) == "unknown-kid"
    assert jwks.fetches == 2


def refreshed(authenticator: OAuthAuthenticator) -> None:
    """Let a call start the background refresh of an old key set, and wait for it to end."""
    assert rejection(authenticator, {}) == "no-bearer"  # any call notices the age
    assert authenticator.refresher is not None
    authenticator.refresher.join(5 * FETCH_BUDGET_S)
    assert not authenticator.refresher.is_alive()


@pytest.mark.process
def test_an_old_key_set_is_refreshed_and_a_withdrawn_keys_tokens_are_refused(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any, decodes: list[str]
):
    """Without an unknown kid the set was never fetched again: a withdrawn key stayed trusted."""
    remembered = mint(KEY)
    assert authenticator.authenticate(bearer(remembered)) is None
    jwks.serve(NEXT_KEY)  # Okta withdraws KEY
    clock.tick(MAX_KEY_AGE_S - 1)
    assert authenticator.authenticate(bearer(remembered)) is None
    assert authenticator.refresher is None and jwks.fetches == 1  # not old yet
    clock.tick(1)
    refreshed(authenticator)
    assert jwks.fetches == 2
    assert rejection(authenticator, bearer(remembered)) == "unknown-kid"  # the cached token
    assert rejection(authenticator, bearer(mint(KEY))) == "unknown-kid"  # a newly minted one
    rotated = mint(NEXT_KEY)
    assert authenticator.authenticate(bearer(rotated)) is None
    assert jwks.fetches == 2  # the withdrawn kid fetched nothing
    assert decodes == [remembered, rotated]  # no signature work for the withdrawn key


@pytest.mark.process
def test_a_remembered_token_is_bound_to_the_key_object_it_was_verified_with(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any, decodes: list[str]
):
    token = mint(KEY)
    assert authenticator.authenticate(bearer(token)) is None
    clock.tick(MAX_KEY_AGE_S)
    refreshed(authenticator)  # the same kid, a new key object
    assert authenticator.authenticate(bearer(token)) is None
    assert authenticator.authenticate(bearer(token)) is None
    assert decodes == [token, token]  # verified again once, with the fetched key


@pytest.mark.process
def test_a_failed_refresh_keeps_the_old_set_and_retries_when_it_is_old_again(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    jwks.fail(503)
    clock.tick(MAX_KEY_AGE_S)
    refreshed(authenticator)
    assert jwks.fetches == 2
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert authenticator.ready() is None
    clock.tick(MAX_KEY_AGE_S - 1)
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert jwks.fetches == 2
    clock.tick(1)
    refreshed(authenticator)
    assert jwks.fetches == 3


@pytest.mark.process
def test_a_known_key_never_waits_for_a_background_refresh(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any
):
    jwks.hang()
    clock.tick(MAX_KEY_AGE_S)
    assert authenticator.authenticate(bearer(mint(KEY))) is None  # starts the refresh
    jwks.wait_until_holding(1)
    assert authenticator.authenticate(bearer(mint(KEY))) is None  # while it is held
    assert jwks.fetches == 2  # one refresh at a time
    jwks.close()
    authenticator.refresher.join(5 * FETCH_BUDGET_S)
    assert authenticator.authenticate(bearer(mint(KEY))) is None  # the old set was kept


@pytest.fixture
def hanging_resolver(monkeypatch) -> Iterator[threading.Event]:
    """``getaddrinfo`` that never answers for ``localhost`` (as a dead DNS server), until set."""
    release = threading.Event()
    real = fetch.socket.getaddrinfo

    def hang(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost":
            release.wait(10 * FETCH_BUDGET_S)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", hang)
    yield release
    release.set()


@pytest.mark.process
def test_name_resolution_is_inside_the_1_second_bound(
    jwks: JwksServer, hanging_resolver: threading.Event
):
    by_name = jwks.url.replace("127.0.0.1", "localhost")
    began = time.monotonic()
    authenticator = OAuthAuthenticator(oauth_settings(jwks, jwks_uri=by_name))
    took = time.monotonic() - began
    assert took < 2 * FETCH_BUDGET_S, took  # the resolver itself would hold it for 10 s
    assert "timed out after 1.0 s" in (authenticator.ready() or "")
    assert jwks.fetches == 0
    hanging_resolver.set()  # DNS answers again
    clock_free = time.monotonic()
    assert authenticator.ready() is None
    assert time.monotonic() - clock_free < 2 * FETCH_BUDGET_S


def _jwk(**changes: Any) -> dict[str, Any]:
    return {**KEY.jwk(), "kid": "key-new", **changes}


GARBAGE = {
    "html": b"<html><body>Maintenance</body></html>",
    "not-utf8": b"\xff\xfe\x00",
    "array": b"[]",
    "keys-not-a-list": b'{"keys": "none"}',
    "no-keys": b'{"keys": []}',
    "key-not-an-object": b'{"keys": ["RSA"]}',
    "broken-rsa": json.dumps({"keys": [_jwk(n="AQAB", e=7)]}).encode(),
    "hmac-key": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "key-new"}]}).encode(),
    "private-key": json.dumps({"keys": [{**STRANGER.private_jwk(), "kid": "key-new"}]}).encode(),
    "encryption-key": json.dumps({"keys": [_jwk(use="enc")]}).encode(),
    "no-kid": json.dumps({"keys": [{k: v for k, v in _jwk().items() if k != "kid"}]}).encode(),
    "disallowed-alg": json.dumps({"keys": [_jwk(alg="RS512")]}).encode(),
    "too-large": json.dumps({"keys": [_jwk()], "pad": "x" * MAX_JWKS_BYTES}).encode(),
}


@pytest.mark.process
@pytest.mark.parametrize("body", GARBAGE.values(), ids=GARBAGE.keys())
def test_a_garbage_key_set_keeps_the_old_keys(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any, body: bytes
):
    jwks.garbage(body)
    clock.tick(31)
    assert rejection(authenticator, bearer(mint(STRANGER, kid="key-new"))) == "unknown-kid"
    assert jwks.fetches == 2
    assert authenticator.authenticate(bearer(mint(KEY))) is None
    assert authenticator.ready() is None


@pytest.mark.process
@pytest.mark.parametrize("status", [404, 500, 503])
def test_an_error_status_keeps_the_old_keys(
    jwks: JwksServer, authenticator: OAuthAuthenticator, clock: Any, status: int
):
    jwks.fail(status)
    clock.tick(31)
    assert rejection(authenticator, bearer(mint(STRANGER))) == "unknown-kid"
    assert jwks.fetches == 2
    assert authenticator.authenticate(bearer(mint(KEY))) is None


def test_unusable_keys_are_skipped_and_usable_ones_kept():
    document = {
        "keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            _jwk(kid="enc", use="enc"),
            "junk",
            KEY.jwk(),
            NEXT_KEY.jwk(),
        ]
    }
    keys = parse_jwks(json.dumps(document).encode(), ("RS256",))
    assert sorted(keys) == [FIRST_KID, "key-2"]
    with pytest.raises(JwksError, match="no usable"):
        parse_jwks(json.dumps({"keys": [KEY.jwk()]}).encode(), ("ES256",))


@pytest.mark.process
def test_not_ready_until_a_key_set_loads(jwks: JwksServer, clock: Any):
    jwks.fail(503)
    authenticator = OAuthAuthenticator(oauth_settings(jwks))
    problem = authenticator.ready()  # the start-up fetch failed: readiness retries at once
    assert problem is not None
    assert "HOOK_OAUTH_JWKS_URI" in problem
    assert "HTTP 503" in problem
    assert jwks.fetches == 2
    assert rejection(authenticator, bearer(mint(KEY))) == "unknown-kid"  # a refetch of its own
    assert jwks.fetches == 3
    assert rejection(authenticator, bearer(mint(KEY))) == "unknown-kid"  # missing 0 s ago
    assert authenticator.ready() is not None  # the burst's last refetch
    assert jwks.fetches == 2 + REFETCH_BURST - 1
    jwks.serve(KEY)
    assert authenticator.ready() is not None  # the budget is spent
    assert jwks.fetches == 2 + REFETCH_BURST - 1
    clock.tick(REFETCH_INTERVAL_S)
    assert authenticator.ready() is None  # one refetch earned back: readiness retries
    assert jwks.fetches == 2 + REFETCH_BURST
    assert authenticator.authenticate(bearer(mint(KEY))) is None


@pytest.mark.process
def test_readyz_is_503_until_keys_load_then_200(jwks: JwksServer, clock: Any):
    jwks.hang()
    app = create_app(load_settings({**BASE_ENV, **oauth_environment(jwks)}))
    client = app.test_client()
    with structlog.testing.capture_logs() as logged:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == "The service is not ready."  # to anyone: no reason
    assert "timed out" not in answer.text and "HOOK_OAUTH" not in answer.text
    [not_ready] = [entry for entry in logged if entry["event"] == "not-ready"]
    assert "timed out" in not_ready["reason"]  # the operator reads it in the log
    jwks.serve(KEY)
    clock.tick(31)
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready"}


@pytest.mark.process
def test_the_key_set_is_fetched_over_verified_tls(tmp_path, monkeypatch, clock: Any):
    server = JwksServer([KEY], tls=tmp_path)
    try:
        untrusted = OAuthAuthenticator(oauth_settings(server))
        assert "SSLCertVerificationError" in (untrusted.ready() or "")  # nobody vouched for it
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        trusted = OAuthAuthenticator(oauth_settings(server))
        assert trusted.ready() is None
        assert trusted.authenticate(bearer(mint(KEY))) is None
    finally:
        server.close()


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
