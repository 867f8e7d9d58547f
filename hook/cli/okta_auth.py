"""Least-privilege access to Okta's Management API: an OAuth 2.0 service app.

An ``SSWS`` API token carries its administrator's whole power; Okta recommends scoped
access tokens instead (developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/).
A service app (``OKTA_CLIENT_ID``) signs a JWT with its private key (``OKTA_PRIVATE_KEY``,
a PEM or JWK file; ``OKTA_PRIVATE_KEY_ID`` its ``kid``) and trades it at
``<org>/oauth2/v1/token`` (``private_key_jwt``, client credentials) for a token holding
only the scopes the command asks. When the app requires DPoP (RFC 9449; Okta's DPoP guide),
Okta says so (``invalid_dpop_proof``), then asks for a nonce (``use_dpop_nonce``): the
token is then bound to a key made for this run, and every API call carries a fresh proof
with the token's hash (``ath``). The token and that key live in memory for the run only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm

from hook.cli import okta_api
from hook.cli.environment import OktaAccess, okta_access
from hook.cli.http_exchange import SHOWN, Malformed, Reply, exchange
from hook.cli.okta_errors import ApiError, Unauthorized, error_for
from hook.cli.output import progress
from hook.cli.terminal import printable
from hook.config import ConfigError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: A client assertion is good for 5 minutes (Okta takes at most an hour).
ASSERTION_LIFETIME_S = 300
#: The signing algorithm of a key, by its curve (an RSA key signs RS256).
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
MIN_RSA_BITS = 2048
MAX_KEY_FILE_BYTES = 65_536
#: An access token as RFC 6750 writes one: it goes into a header as it is.
TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: The token requests of one run: DPoP's two answers and a refused optional scope.
MAX_TOKEN_REQUESTS = 4
LEAST_PRIVILEGE = (
    "psc-hook: OKTA_API_TOKEN carries its administrator's whole power; a service app"
    " (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY) asks only the scopes each command needs:"
    " docs/okta-setup.md#a-service-app-least-privilege"
)


@dataclass(frozen=True)
class SigningKey:
    """The service app's private key, the algorithm it signs with, and its ``kid``."""

    key: Any = field(repr=False)
    algorithm: str
    kid: str | None


def _algorithm(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigError(
                f"OKTA_PRIVATE_KEY: an RSA key of {key.key_size} bits; Okta asks"
                f" {MIN_RSA_BITS} at least"
            )
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in EC_ALGORITHMS:
        return EC_ALGORITHMS[key.curve.name]
    raise ConfigError("OKTA_PRIVATE_KEY: not an RSA or EC (P-256, P-384, P-521) private key")


def load_key(path: str, kid: str | None) -> SigningKey:
    """The key of ``OKTA_PRIVATE_KEY``: a PEM file, or a JWK as Okta's Admin Console gives
    it (its ``kid`` then used unless ``OKTA_PRIVATE_KEY_ID`` says otherwise)."""
    try:
        with Path(path).expanduser().open("rb") as file:
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"OKTA_PRIVATE_KEY: cannot read {path!r}: {error.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"OKTA_PRIVATE_KEY: {path!r} is too large to be a key")
    if data.lstrip().startswith(b"{"):
        return _jwk_key(path, data, kid)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigError(
            f"OKTA_PRIVATE_KEY: {path!r} is encrypted; give it unencrypted"
            " (openssl pkey -in it -out another), readable by you only"
        ) from None
    except ValueError:
        public = b"PUBLIC KEY" in data or b"CERTIFICATE" in data
        what = "a public key or certificate: give the private key" if public else "not a key"
        raise ConfigError(f"OKTA_PRIVATE_KEY: {path!r} is {what} (PEM or JWK)") from None
    return SigningKey(key, _algorithm(key), kid)


def _jwk_key(path: str, data: bytes, kid: str | None) -> SigningKey:
    try:
        jwk = json.loads(data)
        if isinstance(jwk, dict) and isinstance(jwk.get("keys"), list) and len(jwk["keys"]) == 1:
            jwk = jwk["keys"][0]  # a key set of one key
        key = jwt.PyJWK(jwk).key
    except (ValueError, TypeError, jwt.PyJWTError):
        raise ConfigError(f"OKTA_PRIVATE_KEY: {path!r} is not one JWK") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(
            f'OKTA_PRIVATE_KEY: {path!r} holds no private key (an RSA or EC JWK with its "d")'
        )
    own = jwk.get("kid")
    return SigningKey(key, _algorithm(key), kid or (own if isinstance(own, str) else None))


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class ServiceApp:
    """A service app's credentials: its access token, asked at the first call that needs
    it, with ``scopes`` (refused without one of them) and ``optional`` ones (the command
    does without)."""

    def __init__(
        self,
        org: str,
        client_id: str,
        key: SigningKey,
        scopes: Iterable[str],
        optional: Iterable[str] = (),
        timeout: float = 10.0,
    ) -> None:
        self.token_url = f"{org.rstrip('/')}/oauth2/v1/token"
        self.client_id = client_id
        self.key = key
        self.scopes = tuple(dict.fromkeys(scopes))
        self.optional = tuple(scope for scope in dict.fromkeys(optional) if scope not in scopes)
        self.timeout = timeout
        self.granted: frozenset[str] = frozenset()
        self._token: str | None = None
        self._proof_key: ec.EllipticCurvePrivateKey | None = None  # when Okta asks for DPoP
        self._bound = False

    def authorization(self, method: str, url: str) -> dict[str, str]:
        token = self._access_token()
        if not self._bound:
            return {"Authorization": f"Bearer {token}"}
        proof = self._proof(method, url, ath=_b64(hashlib.sha256(token.encode()).digest()))
        return {"Authorization": f"DPoP {token}", "DPoP": proof}

    def allows(self, scope: str) -> bool:
        self._access_token()
        return scope in self.granted

    def rejected(self, detail: str) -> str:
        return (
            f"Okta rejected the access token of the service app {self.client_id} ({detail})."
            " Run again; if it persists, check that the app is active (Applications)."
        )

    def forbidden(self, detail: str, scope: str | None) -> str:
        if scope is not None:
            return (
                f"The service app {self.client_id} lacks {scope} ({detail}): grant it"
                " (Applications > the app > Okta API Scopes > Grant), then run again."
            )
        return (
            f"The service app {self.client_id} may not do this ({detail}): its admin role"
            " (Applications > the app > Admin roles) does not allow it."
        )

    # the token -------------------------------------------------------------------------

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
            "jti": secrets.token_urlsafe(24),
        }
        headers = {"kid": self.key.kid} if self.key.kid else None
        return jwt.encode(claims, self.key.key, algorithm=self.key.algorithm, headers=headers)

    def _proof(self, method: str, url: str, **extra: str) -> str:
        """A DPoP proof of this request (RFC 9449 §4.2): ``htu`` without query or fragment."""
        assert self._proof_key is not None
        parts = urlsplit(url)
        claims = {
            "htm": method,
            "htu": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "iat": int(time.time()),
            "jti": secrets.token_urlsafe(24),
            **extra,
        }
        jwk = ECAlgorithm.to_jwk(self._proof_key.public_key(), as_dict=True)
        headers = {"typ": "dpop+jwt", "jwk": jwk}
        return jwt.encode(claims, self._proof_key, algorithm="ES256", headers=headers)

    def _access_token(self) -> str:
        if self._token is None:
            self._token = self._fetch()
        return self._token

    def _fetch(self) -> str:
        asked, nonce = self.scopes + self.optional, None
        for _ in range(MAX_TOKEN_REQUESTS):
            headers = {
                "Accept": "application/json",
                "User-Agent": okta_api.USER_AGENT,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            if self._proof_key is not None:
                extra = {"nonce": nonce} if nonce else {}
                headers["DPoP"] = self._proof("POST", self.token_url, **extra)
            form = {
                "grant_type": "client_credentials",
                "scope": " ".join(asked),
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._assertion(),
            }
            body = urlencode(form).encode()
            reply = exchange("POST", self.token_url, headers, body, self.timeout)
            answer = reply.json()
            answer = answer if isinstance(answer, dict) else {}
            error = answer.get("error") if reply.status == 400 else None
            if error == "invalid_dpop_proof" and self._proof_key is None:
                self._proof_key = ec.generate_private_key(ec.SECP256R1())  # the app wants DPoP
            elif error == "use_dpop_nonce" and nonce is None and reply.headers.get("DPoP-Nonce"):
                nonce = printable(reply.headers["DPoP-Nonce"], SHOWN)
                self._proof_key = self._proof_key or ec.generate_private_key(ec.SECP256R1())
            elif error == "invalid_scope" and asked != self.scopes:
                asked = self.scopes  # an optional scope Okta would not grant: do without it
            else:
                break
        if reply.status != 200:
            raise self._refused(reply, answer)
        return self._accept(answer, asked)

    def _accept(self, answer: Mapping[str, Any], asked: tuple[str, ...]) -> str:
        token, kind = answer.get("access_token"), str(answer.get("token_type", "")).lower()
        if (
            not isinstance(token, str)
            or not TOKEN.fullmatch(token)
            or kind not in ("bearer", "dpop")
        ):
            raise Malformed("Okta's token answer holds no access token it documents.")
        if kind == "dpop" and self._proof_key is None:
            raise Malformed("Okta issued a DPoP token to a request without a proof.")
        self._bound = kind == "dpop"
        scope = answer.get("scope")
        self.granted = frozenset(scope.split() if isinstance(scope, str) else asked)
        if missing := [wanted for wanted in self.scopes if wanted not in self.granted]:
            raise Unauthorized(
                f"Okta did not grant the service app {self.client_id} {', '.join(missing)}:"
                " grant it (Applications > the app > Okta API Scopes > Grant), then run again."
            )
        return token

    def _refused(self, reply: Reply, answer: Mapping[str, Any]) -> ApiError:
        if reply.status == 429:
            return error_for(reply, self)
        error = printable(str(answer.get("error") or ""), 60)
        description = printable(str(answer.get("error_description") or ""), SHOWN)
        detail = (
            f"HTTP {reply.status} {error}: {description}"
            if error
            else (f"HTTP {reply.status} without an OAuth error body")
        )
        if reply.status == 401 or error in ("invalid_client", "unauthorized_client"):
            return Unauthorized(
                f"Okta refused the service app {self.client_id} ({detail}). Check"
                " OKTA_CLIENT_ID, that the app authenticates with Public key / Private key,"
                " that its public key is OKTA_PRIVATE_KEY's (OKTA_PRIVATE_KEY_ID its kid),"
                " and this machine's clock."
            )
        if error == "invalid_scope":
            return Unauthorized(
                f"Okta grants the service app {self.client_id} none of {', '.join(self.scopes)}"
                f" ({detail}): grant them (Applications > the app > Okta API Scopes > Grant)."
            )
        return ApiError(f"Okta refused the service app's token request ({detail}).")


def connect(
    env: Mapping[str, str],
    org: str,
    timeout: float,
    scopes: Iterable[str],
    optional: Iterable[str] = (),
    *,
    as_json: bool = False,
) -> okta_api.OktaClient:
    """The Management API client of a command: the service app when ``OKTA_CLIENT_ID`` is
    set, asking ``scopes`` (and ``optional`` ones it does without: ``client.allows``), or
    the API token, with a word, once, on the least-privilege way. A bad setting is a
    :class:`ConfigError` before anything is sent; Okta is asked at the first call."""
    access: OktaAccess = okta_access(env)
    if access.client_id and access.private_key:
        key = load_key(access.private_key, access.private_key_id)
        if access.api_token:
            progress(as_json, "psc-hook: OKTA_API_TOKEN is not used: OKTA_CLIENT_ID is set.")
        app = ServiceApp(org, access.client_id, key, scopes, optional, timeout)
        return okta_api.OktaClient(org, app, timeout)
    if access.api_token:
        progress(as_json, LEAST_PRIVILEGE)
        return okta_api.OktaClient(org, access.api_token, timeout)
    raise ConfigError(
        "OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (a service app), or OKTA_API_TOKEN: one is"
        " required to call Okta's Management API (docs/okta-setup.md)"
    )
