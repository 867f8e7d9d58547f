"""The OAuth authenticator's key set, in process, against a real JWKS server on a loopback
port: fetched at start, refetched for an unknown kid within a budget, refreshed when old,
kept when the source fails, and what makes the service ready.

Clocks are frozen (freezegun): the 30 s refetch limit and token lifetimes move only when a
test ticks the clock. Fetch counts are read from the JWKS server itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import structlog.testing

from hook import create_app, fetch
from hook.auth import AuthFailure
from hook.config import load_settings
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
    OAuthAuthenticator,
)
from tests.support.jwks_server import (
    FIRST_KID,
    JwksServer,
    bearer,
    mint,
    oauth_environment,
    oauth_settings,
)
from tests.support.oauth_calls import KEY, NEXT_KEY, STRANGER, rejection
from tests.support.settings import BASE_ENV

BURST = 50


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
