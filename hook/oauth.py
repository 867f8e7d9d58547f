"""Okta's OAuth 2.0 channel: a bearer JWT checked against the issuer's keys, and remembered.

Okta reuses its token until it expires, so a verified one is remembered (by its SHA-256) with
the key object that verified it: again, it costs a look-up and its ``exp`` check, until a
fetch replaces or withdraws that key (hook/keyset.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from hook.auth import AuthFailure
from hook.config import OAuthSettings
from hook.keyset import KeySet

#: Okta signs its access tokens with RS256 only (the service spec's default): accepting no
#: other algorithm leaves nothing to confuse it with (HS256 keyed with the public key, none).
ALGORITHMS = ("RS256",)
#: The clock skew allowed on ``exp`` and ``iat``: the spec allows 60 s at most, and 30 s
#: covers two hosts kept by NTP.
LEEWAY_SECONDS = 30
MAX_TOKEN_CHARS = 8192
#: Verified tokens remembered per process. Okta holds one token per hook at a time (two
#: around its renewal), so a handful suffice; only a verified token takes a place.
MAX_REMEMBERED_TOKENS = 64
DECODE_OPTIONS = {"require": ["exp", "iat", "iss", "aud"]}

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


@dataclass(frozen=True)
class Verified:
    """What a verified token still needs checked when it comes again."""

    kid: str
    key: jwt.PyJWK  # the very object it was verified with: a fetch that replaces it voids this
    expires_at: float


class OAuthAuthenticator:
    """Accepts a call whose bearer is a valid access token Okta obtained for this hook."""

    mode = "oauth"

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self.keys = KeySet(settings.jwks_uri, ALGORITHMS)  # fetches once, now
        self._verified: dict[bytes, Verified] = {}

    @property
    def refresher(self) -> threading.Thread | None:
        """The key set's latest background refresh (tests wait for it to end)."""
        return self.keys.refresher

    def authenticate(self, headers: Mapping[str, str]) -> None:
        self.keys.refresh_when_old()
        token = bearer_token(headers)
        digest = hashlib.sha256(token.encode()).digest()
        remembered = self._verified.get(digest)
        if remembered is not None and self.keys.current(remembered.kid) is remembered.key:
            if remembered.expires_at <= time.time() - LEEWAY_SECONDS:
                del self._verified[digest]
                raise AuthFailure("expired")
            return
        self._remember(digest, self._verify(token))

    def _verify(self, token: str) -> Verified:
        """Every check of the token, the signature first; what to remember of it."""
        header = unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:  # before any key or signature work
            raise AuthFailure("bad-alg")
        kid = header.get("kid")
        key = self.keys.key(kid)
        if key.algorithm_name != algorithm:
            raise AuthFailure("key-mismatch")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
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
        problem = self.keys.problem()
        if problem is None:
            return None
        return f"oauth: no signing keys loaded from HOOK_OAUTH_JWKS_URI ({problem})"
