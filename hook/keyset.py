"""Okta's OAuth 2.0 channel: a bearer JWT checked against the issuer's published keys.

Okta gives the hook 3 s, its own token fetch included, so the key set must never make a
call wait long: it is loaded once at start and kept while the key source is down or
answers garbage. It ages: past ``MAX_KEY_AGE_S`` a call starts a refresh in the background
(a key Okta withdrew stops being trusted), and the call itself goes on with the set it
has. An unknown ``kid`` (a key rotation) fetches at once, within a small budget
(``REFETCH_BURST``, one back per 30 s), so an attacker's made-up ``kid`` cannot use up the
refetch that a genuinely rotated key needs; a ``kid`` still unknown after a fetch, or
withdrawn by one, fetches nothing for 30 s. One fetch at a time, each bounded to 1 s in
all, name resolution included. A call whose key is known never waits for a fetch.

Okta reuses its access token for the hook until it expires, so a verified token is
remembered (by its SHA-256, a bounded number of them) with the key object it was verified
with: the same token again costs a hash and a look-up instead of a signature check, while
its ``exp`` is still checked on every call, and once a fetch has replaced that key (or
withdrawn it) the token is verified again from scratch.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from hook import metrics
from hook.auth import AuthFailure
from hook.config import OAuthSettings

#: The key set's age past which a call starts a background refresh: how long a key Okta has
#: withdrawn may still be trusted. Okta withdraws a key long after it stopped signing with
#: it, unless the key was compromised; 5 minutes bounds that case, and costs Okta one fetch
#: per worker every 5 minutes of traffic.
MAX_KEY_AGE_S = 300.0
#: Unknown-kid refetches a worker may make at once, and the pace they come back at (one per
#: 30 s): a rotated key gets through even right after an attacker's made-up kid used one.
REFETCH_BURST = 3
REFETCH_INTERVAL_S = 30.0
#: Kids remembered as absent (unknown after a fetch, or withdrawn by one) for 30 s each.
MAX_ABSENT_KIDS = 256
FETCH_BUDGET_S = 1.0
MAX_JWKS_BYTES = 262_144
MAX_TOKEN_CHARS = 8192
#: Verified tokens remembered per process. Okta holds one token per hook at a time (two
#: around its renewal), so a handful suffice; only a verified token takes a place.
MAX_REMEMBERED_TOKENS = 64
DECODE_OPTIONS = {"require": ["exp", "iat", "iss", "aud"]}
PUBLIC_KEY_TYPES = (RSAPublicKey, EllipticCurvePublicKey, Ed25519PublicKey, Ed448PublicKey)

#: PyJWT's error classes and the log slug each becomes; subclasses before their bases.
FAILURE_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid"),
    (jwt.InvalidIssuerError, "bad-issuer"),
    (jwt.InvalidAudienceError, "bad-audience"),
    (jwt.MissingRequiredClaimError, "missing-claim"),
    (jwt.InvalidIssuedAtError, "bad-iat"),
    (jwt.InvalidAlgorithmError, "bad-alg"),
    (jwt.InvalidSignatureError, "bad-signature"),
    (jwt.DecodeError, "malformed"),
)

log = structlog.get_logger("psc_token_hook")


class JwksError(Exception):
    """The key source could not give a usable key set; the message says why, for the log."""


def failure_reason(error: jwt.PyJWTError) -> str:
    """The short slug the log line carries for a PyJWT rejection."""
    for kind, reason in FAILURE_REASONS:
        if isinstance(error, kind):
            return reason
    return "invalid"


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer`` header (RFC 6750: the scheme is caseless)."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthFailure("no-bearer")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthFailure("malformed")
    return token


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to choose the key and check ``alg`` against the allow-list.

    A plain base64url and JSON read of the first segment: ``jwt.decode`` then checks the
    whole token strictly (so a header this read lets through but PyJWT does not is still
    refused), and the token is parsed once instead of twice (``get_unverified_header``
    and ``decode`` each check every character: a tenth of an OAuth call).
    """
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):
        raise AuthFailure("malformed") from None
    if not isinstance(header, dict):
        raise AuthFailure("malformed")
    return header


def has_scopes(granted: object, required: tuple[str, ...]) -> bool:
    """Whether Okta's ``scp`` (a list of scope names) holds every required scope."""
    if not required:
        return True
    if not isinstance(granted, list):
        return False
    return set(required) <= {scope for scope in granted if isinstance(scope, str)}


def parse_jwks(body: bytes, algorithms: tuple[str, ...]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS document, by ``kid``; parsed once per fetch.

    A key is usable when it has a ``kid``, is public, is meant for signatures, and its
    algorithm is allowed. A document with none is refused whole, so old keys stay.
    """
    try:
        document = json.loads(body)
    except ValueError:
        raise JwksError("not JSON") from None
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        raise JwksError("not a JWKS (no keys list)")
    keys: dict[str, jwt.PyJWK] = {}
    for member in members:
        if not isinstance(member, dict) or member.get("use", "sig") != "sig":
            continue
        kid = member.get("kid")
        try:
            key = jwt.PyJWK(member)
        except jwt.PyJWTError:
            continue
        if (
            isinstance(kid, str)
            and key.algorithm_name in algorithms
            and isinstance(key.key, PUBLIC_KEY_TYPES)
        ):
            keys[kid] = key
    if not keys:
        raise JwksError("no usable signing key")
    return keys


def download(uri: str, budget_s: float, tls: ssl.SSLContext | None) -> bytes:
    """GET ``uri`` within ``budget_s`` seconds in all, name resolution included.

    Every socket operation times out, and a watchdog shuts the socket down when the
    whole exchange overruns, so a server that trickles bytes cannot hold the caller. The
    resolver has no timeout of its own, so the connection is opened (``getaddrinfo`` and
    ``connect``) by a helper thread (a greenlet under gevent's worker) that the fetch stops
    waiting for at the deadline.
    """
    parts = urlsplit(uri)
    connection = (
        HTTPSConnection(parts.hostname or "", parts.port, timeout=budget_s, context=tls)
        if parts.scheme == "https"
        else HTTPConnection(parts.hostname or "", parts.port, timeout=budget_s)
    )
    expired = threading.Event()
    settled = threading.Event()  # the connection is open, has failed, or the budget is spent

    def expire() -> None:
        expired.set()
        settled.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):  # already closed: the fetch has ended anyway
                connection.sock.shutdown(socket.SHUT_RDWR)

    def open_in_time(
        address: tuple[str, int], timeout: float, source: tuple[str, int] | None = None
    ) -> socket.socket:
        outcome: list[socket.socket | OSError] = []

        def open_socket() -> None:
            try:
                opened = socket.create_connection(address, timeout, source)
            except OSError as error:
                outcome.append(error)
            else:
                outcome.append(opened)
                if expired.is_set():  # too late: nobody will read it
                    opened.close()
            settled.set()

        threading.Thread(target=open_socket, name="jwks-connect", daemon=True).start()
        settled.wait()
        opened = outcome[0] if outcome else TimeoutError()
        if isinstance(opened, OSError):
            raise opened
        if expired.is_set():
            opened.close()
            raise TimeoutError
        return opened

    connection._create_connection = open_in_time  # type: ignore[attr-defined]

    watchdog = threading.Timer(budget_s, expire)
    watchdog.daemon = True
    watchdog.start()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        if expired.is_set():
            raise TimeoutError
        connection.request("GET", target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(MAX_JWKS_BYTES + 1)
    except (OSError, HTTPException, ValueError) as error:
        if expired.is_set() or isinstance(error, TimeoutError):
            raise JwksError(f"timed out after {budget_s} s") from None
        raise JwksError(f"unreachable ({type(error).__name__})") from None
    finally:
        watchdog.cancel()
        connection.close()
    if response.status != 200:
        raise JwksError(f"answered HTTP {response.status}")
    if len(body) > MAX_JWKS_BYTES:
        raise JwksError(f"answered more than {MAX_JWKS_BYTES} bytes")
    return body


@dataclass(frozen=True)
class Verified:
    """What a verified token still needs checked when it comes again."""

    kid: str
    key: jwt.PyJWK  # the very object it was verified with: a fetch that replaces it voids this
    expires_at: float


class RefetchBudget:
    """Unknown-kid refetches: ``REFETCH_BURST`` at once, one back every ``REFETCH_INTERVAL_S``."""

    def __init__(self) -> None:
        self._left = float(REFETCH_BURST)
        self._counted_at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        earned = (now - self._counted_at) / REFETCH_INTERVAL_S
        self._left, self._counted_at = min(float(REFETCH_BURST), self._left + earned), now
        if self._left < 1:
            return False
        self._left -= 1
        return True


class OAuthAuthenticator:
    """Accepts a call whose bearer is a valid access token Okta obtained for this hook."""

    mode = "oauth"

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self._tls = ssl.create_default_context() if settings.jwks_uri.startswith("https") else None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._problem = "no key set fetched yet"
        self._lock = threading.Lock()  # one fetch at a time
        self._starting = threading.Lock()  # one background refresh at a time; never fetches
        self._fetches = 0  # fetches ended: a call that waited for one uses its result
        self._fetched_at = time.monotonic()  # when the last fetch began, whatever its result
        self._budget = RefetchBudget()
        self._absent: dict[str, float] = {}  # kid -> when a fetch found it missing
        self._verified: dict[bytes, Verified] = {}
        #: The latest background refresh (tests wait for it to end).
        self.refresher: threading.Thread | None = None
        self._fetch()  # the start-up fetch: not counted against the refetch budget

    def authenticate(self, headers: Mapping[str, str]) -> None:
        self._refresh_when_old()
        token = bearer_token(headers)
        digest = hashlib.sha256(token.encode()).digest()
        remembered = self._verified.get(digest)
        if remembered is not None and self._keys.get(remembered.kid) is remembered.key:
            if remembered.expires_at <= time.time() - self.settings.leeway_seconds:
                del self._verified[digest]
                raise AuthFailure("expired")
            return
        self._remember(digest, self._verify(token))

    def _verify(self, token: str) -> Verified:
        """Every check of the token, the signature first; what to remember of it."""
        header = unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in self.settings.algorithms:  # before any key or signature work
            raise AuthFailure("bad-alg")
        kid = header.get("kid")
        key = self._key(kid)
        if key.algorithm_name != algorithm:
            raise AuthFailure("key-mismatch")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options=DECODE_OPTIONS,
            )
        except jwt.PyJWTError as error:
            raise AuthFailure(failure_reason(error)) from None
        if not has_scopes(claims.get("scp"), self.settings.scopes):
            raise AuthFailure("missing-scope")
        client_id = claims.get("cid")
        if self.settings.client_ids and not (
            isinstance(client_id, str) and client_id in self.settings.client_ids
        ):
            raise AuthFailure("foreign-cid")
        # PyJWT checked both: a str kid, and an exp that int() reads (it may be a string).
        return Verified(kid, key, int(claims["exp"]))

    def _remember(self, digest: bytes, verified: Verified) -> None:
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[digest] = verified

    def ready(self) -> str | None:
        if not self._keys:
            self._refetch(None)
        if self._keys:
            return None
        return f"oauth: no signing keys loaded from HOOK_OAUTH_JWKS_URI ({self._problem})"

    def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise AuthFailure("no-kid")
        key = self._keys.get(kid)
        if key is None:
            self._refetch(kid)
            key = self._keys.get(kid)
        if key is None:
            raise AuthFailure("unknown-kid")
        return key

    def _old(self) -> bool:
        return time.monotonic() - self._fetched_at >= MAX_KEY_AGE_S

    def _refresh_when_old(self) -> None:
        """Start a background fetch once the key set is ``MAX_KEY_AGE_S`` old; never wait."""
        if not self._old() or (self.refresher is not None and self.refresher.is_alive()):
            return
        with self._starting:
            if self.refresher is not None and self.refresher.is_alive():
                return
            due = (self._fetches, time.monotonic())  # read here: the thread needs no clock
            self.refresher = threading.Thread(target=self._refresh, args=due, name="jwks-refresh")
            self.refresher.daemon = True
            self.refresher.start()

    def _refresh(self, fetches: int, began: float) -> None:
        with self._lock:
            if self._fetches == fetches:  # unless a refetch for an unknown kid came first
                self._fetch(began)

    def _refetch(self, kid: str | None) -> None:
        """Fetch the key set again for an unknown ``kid`` (None: for readiness), if allowed.

        One fetch at a time: a call that waited while another fetched uses that fetch's
        result rather than fetching again. A kid a fetch found missing under 30 s ago
        fetches nothing; any other spends one of the budget's refetches. Calls whose key is
        known never take the lock.
        """
        seen = self._fetches
        with self._lock:
            if self._fetches != seen:
                return
            missing_since = self._absent.get(kid) if kid is not None else None
            now = time.monotonic()
            if missing_since is not None and now - missing_since < REFETCH_INTERVAL_S:
                return
            if not self._budget.take():
                return
            self._fetch()
            if kid is not None and kid not in self._keys:
                self._mark_absent([kid], time.monotonic())

    def _mark_absent(self, kids: list[str], when: float) -> None:
        for kid in kids:
            self._absent.pop(kid, None)
            self._absent[kid] = when
        while len(self._absent) > MAX_ABSENT_KIDS:
            del self._absent[next(iter(self._absent))]  # the oldest

    def _fetch(self, began: float | None = None) -> None:
        """Fetch and replace the key set (the caller holds the lock, or is the constructor)."""
        self._fetched_at = time.monotonic() if began is None else began
        try:
            body = download(self.settings.jwks_uri, FETCH_BUDGET_S, self._tls)
            keys = parse_jwks(body, self.settings.algorithms)
        except JwksError as error:
            self._problem = str(error)
            log.warning("jwks-fetch-failed", reason=self._problem, kept_keys=len(self._keys))
            metrics.key_fetched("failed")
        else:
            self._mark_absent([kid for kid in self._keys if kid not in keys], self._fetched_at)
            self._keys = keys
            log.info("jwks-loaded", kids=sorted(keys))
            metrics.key_fetched("loaded")
        finally:
            self._fetches += 1
