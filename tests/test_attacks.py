"""The attack matrix, end to end: hostile calls to the real gunicorn, each with its status.

Calls are written byte for byte on a socket (no HTTP library tidies them up first), to
the service started by the Procfile's command on loopback, in each auth mode. Every
answer is checked: the expected status, never a 5xx, never a trace, never the secret or
the token echoed, and a 401 that does not say which check failed.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest

from hook import samples
from hook.keyset import REFETCH_BURST
from tests.support.jwks_server import (
    FIRST_KID,
    JwksServer,
    SigningKey,
    claims,
    forge,
    mint,
    oauth_environment,
    signing_key,
)
from tests.support.processes import Server, launch, stop
from tests.support.settings import BASE_ENV, SECRET

pytestmark = pytest.mark.process

BODY = json.dumps(samples.load("password-only")).encode()
KEY = signing_key(FIRST_KID)
ATTACKER = signing_key("attacker-key")
WRONG_SECRET = "wrong-secret-0123456789-abcdefghijklmnopqrstuvw"
LIMIT = 262_144


@dataclass
class Call:
    """One HTTP/1.1 request, written exactly as given."""

    headers: list[bytes] = field(default_factory=list)
    body: bytes = BODY
    method: str = "POST"
    target: str = "/token-hook"
    content_type: bytes | None = b"application/json"
    framing: str = "length"  # "length", "chunked" or "none"

    def encode(self) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
        if self.content_type is not None:
            lines.append(b"Content-Type: " + self.content_type)
        body = self.body
        if self.framing == "length":
            lines.append(b"Content-Length: %d" % len(body))
        elif self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        lines += [*self.headers, b"Connection: close"]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def send(server: Server, call: Call) -> Reply:
    """Write the call on a fresh connection and read the whole answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # The server may answer before reading everything: the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(call.encode())
        response = http.client.HTTPResponse(sock, method=call.method)
        response.begin()
        return Reply(response.status, response.headers, response.read())


def secret(value: str | bytes, name: bytes = b"Authorization") -> list[bytes]:
    raw = value if isinstance(value, bytes) else value.encode("latin-1")
    return [name + b": " + raw]


S = SECRET.encode()

#: Header-mode secrets: (id, headers, expected status).
SECRET_MATRIX: list[tuple[str, list[bytes], int]] = [
    ("valid", secret(S), 200),
    ("header-name-in-lower-case", secret(S, b"authorization"), 200),
    # RFC 9110 5.5: leading and trailing whitespace is not part of a field value; the
    # server strips it, so what reaches the check is exactly the secret.
    ("padded-with-spaces", secret(b"   " + S + b"   "), 200),
    ("padded-with-tabs", secret(b"\t" + S + b"\t"), 200),
    ("missing", [], 401),
    ("empty", secret(b""), 401),
    ("blank", secret(b"   "), 401),
    ("wrong", secret(WRONG_SECRET), 401),
    ("wrong-by-one-character", secret(S[:-1] + b"!"), 401),
    ("padded-with-characters", secret(b"x" + S + b"x"), 401),
    ("longer", secret(S + S), 401),
    ("truncated-by-one", secret(S[:-1]), 401),
    ("truncated-to-half", secret(S[: len(S) // 2]), 401),
    ("upper-cased", secret(S.upper()), 401),
    ("bearer-prefixed", secret(b"Bearer " + S), 401),
    ("basic-encoded", secret(b"Basic " + base64.b64encode(S)), 401),
    ("utf-8-suffix", secret(S + "é".encode()), 401),
    ("inner-space", secret(S[:10] + b" " + S[10:]), 401),
    ("duplicate-header-wrong-first", [*secret(WRONG_SECRET), *secret(S)], 401),
    ("duplicate-header-wrong-last", [*secret(S), *secret(WRONG_SECRET)], 401),
    ("in-another-header", secret(S, b"X-Okta-Secret"), 401),
    ("in-proxy-authorization", secret(S, b"Proxy-Authorization"), 401),
    ("in-a-cookie", [b"Cookie: secret=" + S], 401),
    ("in-x-request-id", secret(S, b"X-Request-Id"), 401),
    ("nul-byte", secret(S + b"\x00"), 400),  # gunicorn refuses the header itself
]


@pytest.mark.parametrize(
    ("headers", "status"),
    [pytest.param(headers, status, id=name) for name, headers, status in SECRET_MATRIX],
)
def test_header_mode_secrets(module_server: Server, headers: list[bytes], status: int) -> None:
    reply = send(module_server, Call(headers))
    assert_answer(reply, status)
    if status == 401:
        assert_unauthorized(reply, oauth=False)


def test_secret_in_the_query_or_the_body_is_not_a_credential(module_server: Server) -> None:
    in_query = Call(target=f"/token-hook?secret={SECRET}&Authorization={SECRET}")
    assert_unauthorized(send(module_server, in_query), oauth=False)
    in_body = Call(body=json.dumps({**samples.load("password-only"), "secret": SECRET}).encode())
    assert_unauthorized(send(module_server, in_body), oauth=False)


def chunked_over_the_limit() -> Call:
    return Call(secret(S), body=b" " * LIMIT + b"{}", framing="chunked")


#: Limits, framing, methods and content types: (id, call, expected status).
EDGE_MATRIX: list[tuple[str, Callable[[], Call], int]] = [
    ("header-over-8190-bytes", lambda: Call([*secret(S), b"X-Big: " + b"a" * 9000]), 431),
    ("secret-header-over-8190-bytes", lambda: Call(secret(b"a" * 9000)), 431),
    ("over-100-headers", lambda: Call(secret(S) + [b"X-H%d: a" % i for i in range(120)]), 431),
    (
        "request-line-over-4094-bytes",
        lambda: Call(secret(S), target="/token-hook?" + "a" * 5000),
        414,
    ),
    ("body-over-the-limit", lambda: Call(secret(S), body=b" " * LIMIT + b"{}"), 413),
    ("body-over-the-limit-unauthenticated", lambda: Call(body=b"x" * (LIMIT + 1)), 413),
    ("chunked-body-over-the-limit", chunked_over_the_limit, 413),
    ("body-at-the-limit", lambda: Call(secret(S), body=BODY + b" " * (LIMIT - len(BODY))), 200),
    ("chunked-body", lambda: Call(secret(S), framing="chunked"), 200),
    ("no-body", lambda: Call(secret(S), body=b""), 400),
    ("length-and-chunked-together", lambda: Call([*secret(S), b"Transfer-Encoding: chunked"]), 400),
    ("negative-length", lambda: Call([*secret(S), b"Content-Length: -1"], framing="none"), 400),
    (
        "length-not-a-number",
        lambda: Call([*secret(S), b"Content-Length: 12a"], framing="none"),
        400,
    ),
    ("GET", lambda: Call(secret(S), method="GET", body=b"", content_type=None), 405),
    ("PUT", lambda: Call(secret(S), method="PUT"), 405),
    ("PATCH", lambda: Call(secret(S), method="PATCH"), 405),
    ("DELETE", lambda: Call(secret(S), method="DELETE", body=b""), 405),
    ("OPTIONS", lambda: Call(secret(S), method="OPTIONS", body=b"", content_type=None), 405),
    ("HEAD", lambda: Call(secret(S), method="HEAD", body=b"", content_type=None), 405),
    ("TRACE", lambda: Call(secret(S), method="TRACE", body=b"", content_type=None), 405),
    ("unknown-method", lambda: Call(secret(S), method="BREW"), 405),
    ("POST-to-healthz", lambda: Call(secret(S), target="/healthz"), 405),
    ("unknown-path", lambda: Call(secret(S), target="/token-hook/../admin"), 404),
    ("no-content-type", lambda: Call(secret(S), content_type=None), 415),
    ("text-plain", lambda: Call(secret(S), content_type=b"text/plain"), 415),
    (
        "form-urlencoded",
        lambda: Call(secret(S), content_type=b"application/x-www-form-urlencoded"),
        415,
    ),
    ("multipart", lambda: Call(secret(S), content_type=b"multipart/form-data; boundary=x"), 415),
    ("problem-json", lambda: Call(secret(S), content_type=b"application/problem+json"), 415),
    ("jsonp-lookalike", lambda: Call(secret(S), content_type=b"application/jsonp"), 415),
    ("wrong-type-unauthenticated", lambda: Call(content_type=b"text/plain"), 415),
    (
        "json-with-charset",
        lambda: Call(secret(S), content_type=b"application/json; charset=utf-8"),
        200,
    ),
    ("json-in-capitals", lambda: Call(secret(S), content_type=b"Application/JSON"), 200),
]


@pytest.mark.parametrize(
    ("make_call", "status"),
    [pytest.param(make_call, status, id=name) for name, make_call, status in EDGE_MATRIX],
)
def test_limits_methods_and_content_types(
    module_server: Server, make_call: Callable[[], Call], status: int
) -> None:
    call = make_call()
    reply = send(module_server, call)
    assert_answer(reply, status)
    if status == 405:
        allowed = {method.strip() for method in reply.headers["Allow"].split(",")}
        assert allowed == ({"POST"} if call.target == "/token-hook" else {"GET", "HEAD"})
    if status in (405, 413, 415) and call.method != "HEAD":
        assert reply.headers["Content-Type"] == "application/problem+json"


def test_the_server_still_answers_after_the_matrix(module_server: Server) -> None:
    """No hostile call above took a worker down: a normal call is patched, no boot failed."""
    assert send(module_server, Call(secret(S))).status == 200
    log = module_server.log()
    for failure in ("Traceback", "WORKER TIMEOUT", "exited with code", "Worker failed"):
        assert failure not in log


@pytest.fixture(scope="module")
def oauth_server(jwks: JwksServer, tmp_path_factory) -> Iterator[Server]:
    """The service in OAuth mode, its keys from the loopback JWKS server."""
    server = launch({**BASE_ENV, **oauth_environment(jwks)}, tmp_path_factory.mktemp("oauth"))
    yield server
    stop(server.process)


@pytest.fixture(scope="module")
def both_server(jwks: JwksServer, tmp_path_factory) -> Iterator[Server]:
    """The service in ``header,oauth`` mode (a migration): either credential is accepted."""
    environment = {**BASE_ENV, **oauth_environment(jwks, "header,oauth")}
    server = launch(environment, tmp_path_factory.mktemp("both"))
    yield server
    stop(server.process)


@pytest.fixture(scope="module")
def attacker_jwks() -> Iterator[JwksServer]:
    """A key source the attacker controls, named in the token's ``jku`` header."""
    server = JwksServer([ATTACKER])
    yield server
    server.close()


def bearer(
    token: str | bytes, scheme: bytes = b"Bearer", name: bytes = b"Authorization"
) -> list[bytes]:
    raw = token if isinstance(token, bytes) else token.encode()
    return secret(scheme + b" " + raw, name)


def tampered() -> str:
    """A valid token whose payload was changed after signing (another client id)."""
    header, _, signature = mint(KEY).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims(cid="0oa-attacker")).encode())
    return f"{header}.{payload.rstrip(b'=').decode()}.{signature}"


def hs256_with_the_public_key() -> str:
    """Algorithm confusion: HMAC keyed with the RSA public key the JWKS publishes."""
    return forge({"alg": "HS256", "typ": "JWT", "kid": FIRST_KID}, claims(), KEY.public_pem())


def jwt_with_header(key: SigningKey, extra: dict[str, Any]) -> str:
    """A token signed by ``key`` whose header carries ``extra`` (``jku``, ``jwk``...)."""
    headers = {"kid": key.kid, **extra}
    return jwt.encode(claims(), key.private_key, algorithm=key.algorithm, headers=headers)


def unsigned(alg: str) -> str:
    return forge({"alg": alg, "typ": "JWT", "kid": FIRST_KID}, claims())


NOW = int(time.time())

WITHOUT = [(claim, "missing-claim") for claim in ("exp", "iat", "iss", "aud")] + [
    ("scp", "missing-scope"),
    ("cid", "foreign-cid"),
]

#: Bearer tokens in OAuth mode: (id, headers (built when the test runs), expected status,
#: the failure the log line names).
JWT_MATRIX: list[tuple[str, Callable[[], list[bytes]], int, str | None]] = [
    ("valid", lambda: bearer(mint(KEY)), 200, None),
    ("valid-scheme-in-lower-case", lambda: bearer(mint(KEY), b"bearer"), 200, None),
    ("expired", lambda: bearer(mint(KEY, iat=NOW - 7200, exp=NOW - 3600)), 401, "expired"),
    (
        "expired-beyond-the-leeway",
        lambda: bearer(mint(KEY, exp=int(time.time()) - 120)),
        401,
        "expired",
    ),
    ("not-yet-valid", lambda: bearer(mint(KEY, nbf=int(time.time()) + 3600)), 401, "not-yet-valid"),
    (
        "issued-in-the-future",
        lambda: bearer(mint(KEY, iat=int(time.time()) + 3600)),
        401,
        "not-yet-valid",
    ),
    (
        "wrong-issuer",
        lambda: bearer(mint(KEY, iss="https://evil.example/oauth2/default")),
        401,
        "bad-issuer",
    ),
    ("wrong-audience", lambda: bearer(mint(KEY, aud="api://default")), 401, "bad-audience"),
    ("missing-scope", lambda: bearer(mint(KEY, scp=["openid"])), 401, "missing-scope"),
    ("scope-as-a-string", lambda: bearer(mint(KEY, scp="psc.hook")), 401, "missing-scope"),
    ("foreign-cid", lambda: bearer(mint(KEY, cid="0oa-another-app")), 401, "foreign-cid"),
    *[
        (f"without-{claim}", lambda claim=claim: bearer(mint(KEY, **{claim: None})), 401, reason)
        for claim, reason in WITHOUT
    ],
    *[
        (f"alg-{alg}", lambda alg=alg: bearer(unsigned(alg)), 401, "bad-alg")
        for alg in ("none", "None")
    ],
    (
        "hs256-signed-with-the-public-key",
        lambda: bearer(hs256_with_the_public_key()),
        401,
        "bad-alg",
    ),
    ("unknown-key", lambda: bearer(mint(ATTACKER)), 401, "unknown-kid"),
    ("known-kid-another-key", lambda: bearer(mint(ATTACKER, kid=FIRST_KID)), 401, "bad-signature"),
    ("tampered-payload", lambda: bearer(tampered()), 401, "bad-signature"),
    (
        "ec-key-off-the-allow-list",
        lambda: bearer(mint(signing_key("ec-1", "ES256"))),
        401,
        "bad-alg",
    ),
    ("not-a-jwt", lambda: bearer("not.a.jwt"), 401, "malformed"),
    ("empty-bearer", lambda: bearer(b""), 401, "no-bearer"),
    ("basic-scheme", lambda: bearer(mint(KEY), b"Basic"), 401, "no-bearer"),
    ("the-header-secret", lambda: secret(S), 401, "no-bearer"),
    ("bearer-header-secret", lambda: bearer(S), 401, "malformed"),
    (
        "token-in-another-header",
        lambda: bearer(mint(KEY), b"Bearer", b"X-Okta-Token"),
        401,
        "no-bearer",
    ),
    ("two-authorization-headers", lambda: [*bearer(mint(KEY)), *bearer("junk")], 401, "malformed"),
    ("token-over-the-header-limit", lambda: bearer(b"a" * 9000), 431, None),
]


@pytest.mark.parametrize(
    ("name", "make_headers", "status", "reason"),
    [pytest.param(name, *case, id=name) for name, *case in JWT_MATRIX],
)
def test_oauth_mode_tokens(
    oauth_server: Server,
    name: str,
    make_headers: Callable[[], list[bytes]],
    status: int,
    reason: str | None,
) -> None:
    request_id = f"jwt-{name}"
    reply = send(oauth_server, Call([*make_headers(), f"X-Request-Id: {request_id}".encode()]))
    assert_answer(reply, status)
    if status == 401:
        assert_unauthorized(reply, oauth=True)
        assert oauth_server.log_line(request_id)["auth_failure"] == f"oauth:{reason}"


def test_a_token_naming_its_own_key_source_is_refused_without_fetching_it(
    oauth_server: Server, attacker_jwks: JwksServer
) -> None:
    """``jku`` and ``jwk`` headers name keys the attacker holds: they are never used."""
    for header in ({"jku": attacker_jwks.url}, {"jwk": ATTACKER.jwk()}):
        token = jwt_with_header(ATTACKER, header)
        assert_unauthorized(send(oauth_server, Call(bearer(token))), oauth=True)
    assert attacker_jwks.fetches == 0


def test_a_token_in_the_query_string_is_not_a_credential(oauth_server: Server) -> None:
    reply = send(oauth_server, Call(target=f"/token-hook?access_token={mint(KEY)}"))
    assert_unauthorized(reply, oauth=True)


def test_a_burst_of_unknown_kids_fetches_the_keys_at_most_the_refetch_budget_per_worker(
    oauth_server: Server, jwks: JwksServer
) -> None:
    before = jwks.fetches
    for number in range(50):
        token = mint(ATTACKER, kid=f"unknown-{number}")
        assert_unauthorized(send(oauth_server, Call(bearer(token))), oauth=True)
    # Two gunicorn workers, each with its own key set and refetch budget.
    assert jwks.fetches - before <= 2 * REFETCH_BURST


@pytest.mark.parametrize(
    ("make_headers", "status"),
    [
        pytest.param(lambda: secret(S), 200, id="header-secret"),
        pytest.param(lambda: bearer(mint(KEY)), 200, id="bearer-token"),
        pytest.param(lambda: secret(WRONG_SECRET), 401, id="wrong-secret"),
        pytest.param(lambda: bearer(mint(KEY, aud="api://default")), 401, id="bad-token"),
        pytest.param(lambda: bearer(S), 401, id="secret-as-a-bearer"),
        pytest.param(lambda: [], 401, id="nothing"),
    ],
)
def test_header_and_oauth_mode(
    both_server: Server, make_headers: Callable[[], list[bytes]], status: int
) -> None:
    reply = send(both_server, Call(make_headers()))
    assert_answer(reply, status)
    if status == 401:
        assert_unauthorized(reply, oauth=True)


def assert_answer(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body[:300]
    text = reply.body.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "' not in text
    assert SECRET not in text


def assert_unauthorized(reply: Reply, *, oauth: bool) -> None:
    assert reply.status == 401
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(reply.body)
    assert problem["status"] == 401
    assert problem["detail"] == "The call could not be authenticated as Okta's."
    challenge = reply.headers.get("WWW-Authenticate")
    assert challenge == ('Bearer error="invalid_token"' if oauth else None)


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    """One JWKS server serving the first key for the whole module (conftest's is per test)."""
    server = JwksServer([signing_key(FIRST_KID)])
    yield server
    server.close()
