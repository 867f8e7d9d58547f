"""The fake Okta's OAuth 2.0 side: service apps, their scoped tokens, and the check of those
tokens on every Management API call, as okta-management.md ("Least-privilege access")
describes Okta's.

``POST /oauth2/v1/token`` takes the client-credentials grant with ``private_key_jwt``: the
client assertion's signature (against the public key registered for the app), ``iss`` =
``sub`` = the client id, ``aud`` = the token endpoint, an expiry within the hour and a
``jti`` never seen before. An app that requires DPoP (RFC 9449) is answered
``invalid_dpop_proof`` without a proof, then ``use_dpop_nonce`` with a ``DPoP-Nonce``
until the proof carries it; proofs are checked for ``typ: dpop+jwt``, a public ``jwk``
header that verifies them, ``htm``, ``htu`` (no query), a fresh ``iat`` and a unique
``jti``. Okta grants the scopes asked that the app holds and leaves the others out (an
issue of okta/terraform-provider-okta, #2375, shows it); none at all is ``invalid_scope``.

On the API, ``Bearer`` and ``DPoP`` tokens are accepted with the scopes granted: each path
needs the ``.read`` (GET) or ``.manage`` scope of its family, Okta's OpenAPI ``security``;
a missing one is Okta's 403: no body, a ``WWW-Authenticate`` naming it
(``error="insufficient_scope"``, okta/okta-sdk-golang #145). A ``DPoP`` call needs a fresh
proof with ``ath``, the token's SHA-256, from the key the token is bound to. Error texts
are the fake's own where Okta's are not published.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt

TOKEN_PATH = "/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
#: Okta takes a client assertion that expires within the hour.
MAX_ASSERTION_S = 3600
#: How far a DPoP proof's ``iat`` may be from the fake's clock.
PROOF_SKEW_S = 60
#: The families of the Management API's scopes, by the paths they cover.
SCOPE_FAMILIES = (
    ("/api/v1/inlineHooks", "okta.inlineHooks"),
    ("/api/v1/authorizationServers", "okta.authorizationServers"),
    ("/api/v1/apps", "okta.apps"),
    ("/api/v1/policies", "okta.policies"),
    ("/api/v1/idps", "okta.idps"),
    ("/api/v1/logs", "okta.logs"),
)
Answer = tuple[int, Any, dict[str, Any]]


def required_scope(method: str, path: str) -> str | None:
    """The scope a call needs: its family's ``.read`` for a GET, ``.manage`` otherwise (the
    test run of a hook, a POST, included)."""
    for prefix, family in SCOPE_FAMILIES:
        if path == prefix or path.startswith(prefix + "/"):
            return f"{family}.{'read' if method == 'GET' else 'manage'}"
    return None


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638's JWK thumbprint: the SHA-256 of the key's required members, sorted."""
    members = ("crv", "kty", "x", "y") if jwk.get("kty") == "EC" else ("e", "kty", "n")
    canonical = json.dumps(
        {name: jwk.get(name) for name in members}, separators=(",", ":"), sort_keys=True
    )
    return b64(hashlib.sha256(canonical.encode()).digest())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def oauth_error(status: int, error: str, description: str, headers: dict | None = None) -> Answer:
    return status, {"error": error, "error_description": description}, headers or {}


@dataclass
class ServiceApp:
    """An API Services app: its public key (and ``kid``), its granted scopes, DPoP or not."""

    client_id: str
    public_key: Any
    scopes: set[str]
    require_dpop: bool = False
    kid: str | None = None


@dataclass
class Issued:
    scopes: frozenset[str]
    jkt: str | None  # the DPoP key it is bound to


@dataclass
class FakeOAuth:
    apps: dict[str, ServiceApp] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    #: Each token request: the scopes asked, whether it carried a DPoP proof, the answer.
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    #: Each DPoP proof the API accepted (its claims).
    api_proofs: list[dict[str, Any]] = field(default_factory=list)
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _jtis: set[str] = field(default_factory=set)

    def add_app(self, client_id: str, public_key: Any, scopes: set[str], **options: Any):
        self.apps[client_id] = ServiceApp(client_id, public_key, set(scopes), **options)
        return self.apps[client_id]

    # the token endpoint ---------------------------------------------------------------

    def token(self, headers: dict[str, str], raw: bytes, url: str) -> Answer:
        headers = {name.lower(): value for name, value in headers.items()}
        form = {key: values[0] for key, values in parse_qs(raw.decode(errors="replace")).items()}
        answer = self._token(headers, form, url)
        self.token_requests.append(
            {
                "scope": form.get("scope", ""),
                "dpop": "dpop" in headers,
                "status": answer[0],
                "answer": answer[1],
            }
        )
        return answer

    def _token(self, headers: dict[str, str], form: dict[str, str], url: str) -> Answer:
        if form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "Only client_credentials here.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return oauth_error(401, "invalid_client", "A client assertion is required.")
        app, problem = self._client(form.get("client_assertion", ""), url)
        if app is None:
            return oauth_error(401, "invalid_client", problem)
        jkt = None
        if app.require_dpop:
            proof = headers.get("dpop")
            if not proof:
                return oauth_error(
                    400, "invalid_dpop_proof", "The DPoP proof JWT header is missing."
                )
            claims, jkt, problem = self.check_proof(proof, "POST", url)
            if claims is None:
                return oauth_error(400, "invalid_dpop_proof", problem)
            if claims.get("nonce") != self.nonce:
                return oauth_error(
                    400,
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                    {"DPoP-Nonce": self.nonce},
                )
        granted = set(form.get("scope", "").split()) & app.scopes
        if not granted:
            return oauth_error(400, "invalid_scope", "None of the requested scopes is granted.")
        token = secrets.token_urlsafe(32)
        self.issued[token] = Issued(frozenset(granted), jkt)
        return (
            200,
            {
                "token_type": "DPoP" if jkt else "Bearer",
                "expires_in": 3600,
                "access_token": token,
                "scope": " ".join(sorted(granted)),
            },
            {},
        )

    def _client(self, assertion: str, url: str) -> tuple[ServiceApp | None, str]:
        """The app whose key signed ``assertion`` for this endpoint, or why none did."""
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            kid = jwt.get_unverified_header(assertion).get("kid")
        except jwt.PyJWTError:
            return None, "The client_assertion is not a JWT."
        app = self.apps.get(unverified.get("iss"))
        if app is None:
            return None, "The client_assertion's issuer is no client of this org."
        if app.kid is not None and kid not in (None, app.kid):
            return None, "The client_assertion's kid is none of the app's keys."
        try:
            claims = jwt.decode(
                assertion,
                app.public_key,
                algorithms=ALGORITHMS,
                audience=url,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            return None, "The client_assertion token is expired."
        except jwt.PyJWTError as error:
            return None, f"The client_assertion token is invalid ({type(error).__name__})."
        if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
            return None, "The client_assertion's iss and sub must be the client id."
        if claims["exp"] > time.time() + MAX_ASSERTION_S:
            return None, "The client_assertion expires more than an hour from now."
        if claims["jti"] in self._jtis:
            return None, "The client_assertion's jti was already used."
        self._jtis.add(claims["jti"])
        return app, ""

    def check_proof(self, proof: str, method: str, url: str, token: str | None = None):
        """The proof's claims and key thumbprint, or None and why it is refused."""
        try:
            header = jwt.get_unverified_header(proof)
            jwk = header.get("jwk")
            if header.get("typ") != "dpop+jwt" or not isinstance(jwk, dict) or "d" in jwk:
                return None, None, "The DPoP proof needs typ dpop+jwt and a public jwk header."
            key = jwt.PyJWK(jwk, algorithm=header.get("alg")).key
            claims = jwt.decode(
                proof, key, algorithms=ALGORITHMS, options={"require": ["htm", "htu", "iat", "jti"]}
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return None, None, "The DPoP proof is not a JWT signed by its jwk."
        if claims["htm"] != method or claims["htu"] != url:
            return None, None, "The DPoP proof's htm or htu is not this request's."
        if abs(claims["iat"] - time.time()) > PROOF_SKEW_S:
            return None, None, "The DPoP proof's iat is not fresh."
        if claims["jti"] in self._jtis:
            return None, None, "The DPoP proof's jti was already used."
        if token is not None and claims.get("ath") != b64(hashlib.sha256(token.encode()).digest()):
            return None, None, "The DPoP proof's ath is not the access token's hash."
        self._jtis.add(claims["jti"])
        return claims, thumbprint(jwk), ""

    # the API ----------------------------------------------------------------------------

    def check(self, method: str, url: str, path: str, headers: dict[str, str]) -> Answer | None:
        """None when the call's ``Bearer``/``DPoP`` token allows it, else Okta's refusal."""
        headers = {name.lower(): value for name, value in headers.items()}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        issued = self.issued.get(token)
        invalid = {"WWW-Authenticate": f'{scheme} error="invalid_token"'}
        if issued is None or (scheme == "DPoP") != (issued.jkt is not None):
            return (
                401,
                {
                    "errorCode": "E0000011",
                    "errorSummary": "Invalid token provided",
                    "errorLink": "E0000011",
                    "errorId": "oaefake",
                    "errorCauses": [],
                },
                invalid,
            )
        if issued.jkt is not None:
            claims, jkt, _ = self.check_proof(headers.get("dpop", ""), method, url, token)
            if claims is None or jkt != issued.jkt:
                return 401, None, {"WWW-Authenticate": 'DPoP error="invalid_dpop_proof"'}
            self.api_proofs.append(claims)
        scope = required_scope(method, path)
        if scope in issued.scopes:
            return None
        origin = url.split("/api/", 1)[0]
        challenge = (
            f'{scheme} authorization_uri="{origin}/oauth2/v1/authorize", realm="{origin}",'
            f' scope="{scope}", error="insufficient_scope", error_description="The access'
            f' token provided does not contain the required scopes.", resource="{path}"'
        )
        return 403, None, {"WWW-Authenticate": challenge}
