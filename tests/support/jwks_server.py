"""A real JWKS endpoint on a loopback port, and the tokens that go with it, for OAuth tests.

Tests steer the server (serve keys, rotate them, fail, hang, trickle, answer garbage, go
away) and read how many fetches it received. A module gets a ``jwks`` fixture with
the ``jwks`` fixture (tests/conftest.py); ``mint`` signs real tokens with the keys it serves.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from freezegun import freeze_time

from hook.config import OAuthSettings

ISSUER = "https://okta.example/oauth2/aus-psc-hook"
AUDIENCE = "api://psc-token-hook"
SCOPE = "psc.hook"
CLIENT_ID = "0oa-okta-hook-caller"
FIRST_KID = "key-1"
#: How long the server holds a hanging or trickling request at most (released at close).
HOLD_LIMIT_S = 30.0
TRICKLE_PAUSE_S = 0.1


@dataclass(frozen=True)
class SigningKey:
    """A private key, its ``kid`` and algorithm: what Okta's authorization server holds."""

    kid: str
    algorithm: str
    private_key: Any

    def jwk(self) -> dict[str, Any]:
        """The public half as the JWKS publishes it."""
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        """The private key as a JWK: what a key source must never publish."""
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        return {**algorithm.to_jwk(self.private_key, as_dict=True), "alg": self.algorithm}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@functools.cache
def signing_key(kid: str, algorithm: str = "RS256") -> SigningKey:
    """A key per ``kid`` for the whole session (RSA generation is slow)."""
    if algorithm.startswith("ES"):
        private_key: Any = ec.generate_private_key(ec.SECP256R1())
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid, algorithm, private_key)


def claims(**changes: Any) -> dict[str, Any]:
    """The claims of a valid Okta access token for the hook; a change to None removes one."""
    now = int(time.time())
    body: dict[str, Any] = {
        "ver": 1,
        "jti": f"AT.{now}",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "cid": CLIENT_ID,
        "scp": [SCOPE],
        "sub": CLIENT_ID,
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def mint(key: SigningKey, *, kid: str | None = None, **changes: Any) -> str:
    """A real token signed by ``key`` (header ``kid`` overridable), claims as in :func:`claims`."""
    return jwt.encode(
        claims(**changes), key.private_key, algorithm=key.algorithm, headers={"kid": kid or key.kid}
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], body: dict[str, Any], hmac_secret: bytes | None = None) -> str:
    """A token no honest library would mint: unsigned, or HMAC-signed with ``hmac_secret``."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    signature = b""
    if hmac_secret is not None:
        signature = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.jwks.answer(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read counters, not a log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    jwks: JwksServer


class JwksServer:
    """A JWKS endpoint on ``127.0.0.1`` whose behaviour a test sets, counting fetches."""

    def __init__(self, keys: Sequence[SigningKey], tls: Path | None = None) -> None:
        self.keys = list(keys)
        self.behaviour = "serve"
        self.status = 200
        self.raw = b""
        self.fetches = 0
        self.holding = 0
        self._counter = threading.Lock()
        self._holding_changed = threading.Condition(self._counter)
        self._release = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.jwks = self
        scheme = "http"
        if tls is not None:
            self.ca_file = self_signed(tls)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}/v1/keys"
        serve = functools.partial(self._httpd.serve_forever, poll_interval=0.02)
        threading.Thread(target=serve, daemon=True).start()

    def serve(self, *keys: SigningKey) -> None:
        """Answer the JWKS of ``keys`` (a rotation when they differ from before)."""
        self.keys, self.behaviour = list(keys), "serve"

    def fail(self, status: int = 503) -> None:
        self.behaviour, self.status = "fail", status

    def garbage(self, body: bytes) -> None:
        """Answer 200 with ``body`` instead of a usable JWKS."""
        self.behaviour, self.raw = "garbage", body

    def hang(self) -> None:
        """Read the request, then answer nothing until closed."""
        self.behaviour = "hang"

    def trickle(self) -> None:
        """Start an answer, then send a byte at a time so no single read ever times out."""
        self.behaviour = "trickle"

    def wait_until_holding(self, count: int) -> None:
        """Return once ``count`` fetches are held (see :meth:`hang`), or fail after 5 s."""
        with self._holding_changed:
            held = self._holding_changed.wait_for(lambda: self.holding >= count, timeout=5)
        if not held:
            raise AssertionError(f"{self.holding} fetches held, not {count}")

    def close(self) -> None:
        """Stop listening (the key source is down) and release held requests."""
        if self._release.is_set():
            return
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._counter:
            self.fetches += 1
        if self.behaviour in ("hang", "trickle"):
            self._hold(handler)
            return
        if self.behaviour == "serve":
            status, body = 200, json.dumps({"keys": [key.jwk() for key in self.keys]}).encode()
        elif self.behaviour == "garbage":
            status, body = 200, self.raw
        else:
            status, body = self.status, b'{"errorCode": "E0000009"}'
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _hold(self, handler: BaseHTTPRequestHandler) -> None:
        with self._counter:
            self.holding += 1
            self._holding_changed.notify_all()
        try:
            if self.behaviour == "hang":
                self._release.wait(HOLD_LIMIT_S)
                return
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(round(HOLD_LIMIT_S / TRICKLE_PAUSE_S)):  # no clock: tests freeze it
                if self._release.wait(TRICKLE_PAUSE_S):
                    break
                handler.wfile.write(b"X")
                handler.wfile.flush()
        except OSError:
            pass  # the client gave up, as it should
        finally:
            with self._counter:
                self.holding -= 1
            handler.close_connection = True


def self_signed(directory: Path) -> Path:
    """A certificate for 127.0.0.1 in ``directory``; its path doubles as the trusted CA file.

    Built under a frozen clock: cryptography keeps the datetime type it first sees, which is
    freezegun's when a frozen test came first, and freezegun's type is a subclass of the real
    one, so its dates are accepted whichever type cryptography kept."""
    with freeze_time("2026-01-01"):
        return _self_signed(directory)


def _self_signed(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwks test server")])
    born = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)  # valid whatever a test freezes
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(born)
        .not_valid_after(born + datetime.timedelta(days=36500))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file = directory / "cert.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_file


def oauth_settings(server: JwksServer, **changes: Any) -> OAuthSettings:
    """Settings that accept what :func:`mint` signs with the keys ``server`` publishes."""
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_uri": server.url,
        "scopes": (SCOPE,),
        "client_ids": frozenset({CLIENT_ID}),
    }
    return OAuthSettings(**{**values, **changes})


def oauth_environment(server: JwksServer, mode: str = "oauth") -> dict[str, str]:
    """The HOOK_* variables of :func:`oauth_settings`, to add to a test environment."""
    return {
        "HOOK_AUTH_MODE": mode,
        "HOOK_OAUTH_ISSUER": ISSUER,
        "HOOK_OAUTH_AUDIENCE": AUDIENCE,
        "HOOK_OAUTH_JWKS_URI": server.url,
        "HOOK_OAUTH_SCOPES": SCOPE,
        "HOOK_OAUTH_CLIENT_IDS": CLIENT_ID,
    }
