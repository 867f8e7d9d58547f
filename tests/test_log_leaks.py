"""Nothing leaks: drive every path of the real process, then search all it wrote and answered.

The service runs under gunicorn (the Procfile's command) on loopback and is driven down
every path it has: success, the assurance refusal, a client out of scope, each 4xx, bad
configuration (exit 2), and in OAuth mode the key source failing at start or going
away after it. Then neither the
process's output nor any answer may hold a secret, a bearer token, or a name, email or
login of the samples, and no answer may carry a traceback. The metrics, scraped after,
carry only the label values of their closed sets: no user or client id either.
"""

from __future__ import annotations

import ast
import json
import socket
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gunicorn
import pytest
import requests

from hook import gunicorn_logs, metrics, samples
from hook.config import ASSURANCE_LEVELS, load_settings
from hook.outcomes import Outcome
from tests.support.failing_app import SECRET_IN_A_LOCAL
from tests.support.jwks_server import (
    FIRST_KID,
    JwksServer,
    bearer,
    forge,
    mint,
    oauth_environment,
    signing_key,
)
from tests.support.personal import PERSONAL
from tests.support.processes import Server, free_port, gunicorn_command
from tests.support.scrape import Scrape
from tests.support.settings import BASE_ENV, OTHER_SECRET, ROOT, SECRET

WRONG_SECRET = "wrong-secret-0123456789-abcdefghijklmnopqrstuvw"
METRICS_TOKEN = "metrics-token-0123456789-abcdefghijklmnopq"
LOG_USER_KEY = "log-user-key-0123456789-abcdefghijklmnopqrs"
#: Where the samples name a user, a client or an event: no metric label may carry one.
ID_KEYS = {"id", "sub", "uid", "userId", "eventId"}
LOOKS_LIKE_A_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJjYW1pbGxlIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
)
KEY = signing_key(FIRST_KID)
HEADER_ENV = {
    **BASE_ENV,
    "HOOK_SECRETS": f"{SECRET},{OTHER_SECRET}",
    "PSC_CLIENT_IDS": "0oa1pscClient0Example7",
    "PSC_MIN_ASSURANCE": "substantiel",
    "PSC_KC_IDP_HINT": "OKTA_chu-exemple",
    "METRICS_TOKEN": METRICS_TOKEN,
    "HOOK_LOG_USER_KEY": LOG_USER_KEY,
}


def identifiers(node: Any) -> Iterator[str]:
    """Every id of a user, a client or an event in a sample."""
    if isinstance(node, dict):
        for key, child in node.items():
            if key in ID_KEYS and isinstance(child, str):
                yield child
            yield from identifiers(child)
    elif isinstance(node, list):
        for child in node:
            yield from identifiers(child)


IDENTIFIERS = sorted(
    {value for name in samples.DESCRIPTIONS for value in identifiers(samples.load(name))}
)
#: Every value a metric label may take with HEADER_ENV's amr table.
LABEL_VALUES = {
    *Outcome,
    metrics.OTHER,
    metrics.NO_RULE,
    *ASSURANCE_LEVELS,
    *metrics.AUTH_FAILURE_REASONS,
    *(reason for reasons in metrics.AUTH_FAILURE_REASONS.values() for reason in reasons),
    *metrics.KEY_FETCH_RESULTS,
    *metrics.BUILD.values(),
    *(rule.name for rule in load_settings(HEADER_ENV).amr_table.rules),
}


def assert_labels_closed(text: str) -> None:
    """The metrics' labels hold only values of their closed sets, and no identifier."""
    assert Scrape.parse(text).label_values() <= LABEL_VALUES
    assert not [value for value in IDENTIFIERS if value in text]


def windows(secret: str, size: int = 12) -> set[str]:
    """Every stretch of ``size`` characters of a secret: a partial echo is a leak too."""
    return {secret[start : start + size] for start in range(len(secret) - size + 1)}


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """What of the secrets and the samples' personal data ``text`` holds."""
    found = [value for value in PERSONAL if value in text]
    for secret in secrets:
        found += sorted(part for part in windows(secret) if part in text)[:1]
    return found


@dataclass(frozen=True)
class Exchange:
    path: str
    request_id: str
    text: str


def exchange(path: str, response: requests.Response) -> Exchange:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return Exchange(path, response.headers["X-Request-Id"], f"{headers}\n\n{response.text}")


def post(server: Server, body: Any, headers: dict[str, str]) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **headers}
    return requests.post(f"{server.url}/token-hook", data=data, headers=headers, timeout=10)


def assert_nothing_leaked(exchanges: list[Exchange], output: str, secrets: list[str]) -> None:
    for answer in exchanges:
        assert "Traceback" not in answer.text and 'File "' not in answer.text, answer.path
        assert not leaks(answer.text, secrets), (answer.path, leaks(answer.text, secrets))
    assert not leaks(output, secrets), leaks(output, secrets)
    assert "Traceback" not in output


def test_the_search_would_find_a_leak() -> None:
    """The lists are not empty and the search finds what it looks for."""
    assert {"Camille", "Martin", "camille.martin@chu-exemple.fr"} <= set(PERSONAL)
    assert "dominique.bernard@chu-exemple.fr" in PERSONAL
    assert leaks(f"x {SECRET[5:20]} y", [SECRET])
    assert leaks('{"login": "camille.martin@chu-exemple.fr"}', [])
    assert not leaks('{"oid": "00u1abcd2EFGH3ijk4l5", "tid": "OKTA_chu-exemple"}', [SECRET])
    assert {"0oa1pscClient0Example7", "00u1abcd2EFGH3ijk4l5"} <= set(IDENTIFIERS)


def drive_header_mode(server: Server) -> list[Exchange]:
    """Every path of the hook in header mode, each with the status it must get."""
    good = {"Authorization": SECRET}
    other_client = samples.load("password-okta-verify-push")
    other_client["data"]["context"]["protocol"]["client"]["id"] = "0oaSomeOtherApp"
    wrong_type = samples.load("cps-smart-card")
    wrong_type["data"]["identity"]["claims"]["sub"] = {"name": "Camille Martin"}
    wrong_event = {**samples.load("password-only"), "eventType": "camille.martin@chu-exemple.fr"}
    truncated = json.dumps(samples.load("refresh")).encode()[:900]
    fastpass = samples.load("fastpass")
    paths: list[tuple[str, int, Any, dict[str, str]]] = [
        *[(f"sample {name}", 200, samples.load(name), good) for name in samples.DESCRIPTIONS],
        ("rotated secret", 200, samples.load("cps-smart-card"), {"Authorization": OTHER_SECRET}),
        ("out of scope", 204, other_client, good),
        ("missing secret", 401, fastpass, {}),
        ("wrong secret", 401, fastpass, {"Authorization": WRONG_SECRET}),
        ("truncated secret", 401, fastpass, {"Authorization": SECRET[:-3]}),
        ("bearer token", 401, fastpass, {"Authorization": f"Bearer {LOOKS_LIKE_A_TOKEN}"}),
        ("secret in another header", 401, fastpass, {"X-Hook-Secret": SECRET}),
        ("truncated JSON", 400, truncated, good),
        ("wrong types", 400, wrong_type, good),
        ("wrong event type", 400, wrong_event, good),
        ("too large", 413, {**samples.load("refresh"), "pad": "Camille " * 40_000}, good),
    ]
    exchanges = []
    for path, status, body, headers in paths:
        response = post(server, body, headers)
        assert response.status_code == status, path
        exchanges.append(exchange(path, response))
    refused = exchanges[[path for path, *_ in paths].index("sample password-only")]
    assert "substantiel" in refused.text  # the assurance refusal was among them
    form = post(
        server,
        b"login=camille.martin@chu-exemple.fr",
        {**good, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    wrong_method = requests.put(f"{server.url}/token-hook", headers=good, timeout=10)
    assert wrong_method.status_code == 405
    unknown = requests.get(f"{server.url}/wp-login.php", timeout=10)
    assert unknown.status_code == 404
    probes = [requests.get(f"{server.url}{path}", timeout=10) for path in ("/healthz", "/readyz")]
    assert [probe.status_code for probe in probes] == [200, 200]
    scrapes = {
        "metrics without the token": ({}, 401),
        "metrics with a wrong token": ({"Authorization": f"Bearer {WRONG_SECRET}"}, 401),
        "metrics": ({"Authorization": f"Bearer {METRICS_TOKEN}"}, 200),
    }
    extra = [("415", form), ("405", wrong_method), ("404", unknown)]
    extra += [("healthz", probes[0]), ("readyz", probes[1])]
    for path, (headers, status) in scrapes.items():
        extra.append((path, requests.get(f"{server.url}/metrics", headers=headers, timeout=10)))
        assert extra[-1][1].status_code == status, path
    assert_labels_closed(extra[-1][1].text)
    return exchanges + [exchange(path, response) for path, response in extra]


@pytest.mark.process
def test_header_mode_leaks_nothing(start_server) -> None:
    server = start_server(HEADER_ENV)
    exchanges = drive_header_mode(server)
    output = server.log()
    for answer in exchanges:  # every path was logged
        assert server.log_line(answer.request_id), answer.path
    assert_nothing_leaked(
        exchanges,
        output,
        [SECRET, OTHER_SECRET, WRONG_SECRET, LOOKS_LIKE_A_TOKEN, METRICS_TOKEN, LOG_USER_KEY],
    )
    assert '"user_ref":' in output  # the key was in use


@pytest.mark.process
@pytest.mark.parametrize(
    ("changes", "variable", "secret"),
    [
        ({"HOOK_SECRETS": "too-short-a-secret-1234"}, "HOOK_SECRETS", "too-short-a-secret-1234"),
        ({"HOOK_SECRETS": f"{SECRET},short-second-9876"}, "HOOK_SECRETS", "short-second-9876"),
        ({"PSC_AMR_RULES": "rules.json"}, "PSC_AMR_RULES", SECRET),
        ({"PSC_TENANT_ID": ""}, "PSC_TENANT_ID", SECRET),
        (
            {"METRICS_TOKEN": "short-metrics-token-1234"},
            "METRICS_TOKEN",
            "short-metrics-token-1234",
        ),
        (
            {"HOOK_LOG_USER_KEY": "short-log-user-key-5678"},
            "HOOK_LOG_USER_KEY",
            "short-log-user-key-5678",
        ),
    ],
    ids=[
        "short-secret",
        "second-secret-short",
        "amr-rules-not-json",
        "no-tenant",
        "metrics-token",
        "log-user-key",
    ],
)
def test_bad_configuration_exits_2_without_leaking(
    tmp_path: Path, changes: dict[str, str], variable: str, secret: str
) -> None:
    """Under gunicorn and in ``psc-hook check-config``: one line naming the variable."""
    (tmp_path / "rules.json").write_text(f"{SECRET} camille.martin@chu-exemple.fr")
    environment = {"PATH": "/usr/bin:/bin", **HEADER_ENV, **changes}
    for command in (gunicorn_command(1), [str(ROOT / ".venv/bin/psc-hook"), "check-config"]):
        result = subprocess.run(
            command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=30
        )
        written = result.stdout + result.stderr
        assert result.returncode == 2, written
        assert variable in written and "Traceback" not in written
        secrets = [SECRET, OTHER_SECRET, METRICS_TOKEN, LOG_USER_KEY, secret]
        assert not leaks(written, secrets), written


@pytest.mark.process
def test_check_config_shows_the_plan_without_the_secrets(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/psc-hook"), "check-config"],
        env={"PATH": "/usr/bin:/bin", **HEADER_ENV},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "OKTA_chu-exemple" in result.stdout  # the plan was printed
    assert not leaks(result.stdout + result.stderr, [SECRET, OTHER_SECRET, LOG_USER_KEY])


def key_source_failing_at_start(
    jwks: JwksServer, start_server, tokens: list[str]
) -> tuple[list[Exchange], list[Server]]:
    """The key source answers an error, answers garbage (holding a secret and a token), or
    is not there at all."""
    tokens.append(mint(KEY))
    garbage = f"<html>{SECRET} {tokens[-1]}</html>"
    nobody = {"HOOK_OAUTH_JWKS_URI": f"http://127.0.0.1:{free_port()}/v1/keys"}
    failures = {
        "error status": (lambda: jwks.fail(503), {}),
        "garbage": (lambda: jwks.garbage(garbage.encode()), {}),
        "nobody listening": (lambda: None, nobody),
    }
    exchanges, servers = [], []
    for failure, (set_up, changes) in failures.items():
        set_up()
        server = start_server({**BASE_ENV, **oauth_environment(jwks), **changes})
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503, failure
        tokens.append(mint(KEY))
        refused = post(server, samples.load("fastpass"), bearer(tokens[-1]))
        assert refused.status_code == 401, failure
        assert "jwks-fetch-failed" in server.log(), failure
        exchanges += [exchange(f"{failure}: readyz", ready), exchange(f"{failure}: 401", refused)]
        servers.append(server)
    return exchanges, servers


def key_source_down_after_warm_up(
    jwks: JwksServer, start_server, tokens: list[str]
) -> tuple[list[Exchange], Server]:
    """Every sample by OAuth, refused tokens, then the key source goes away."""
    jwks.serve(KEY)
    server = start_server({**BASE_ENV, **oauth_environment(jwks)})
    exchanges = []
    for name in samples.DESCRIPTIONS:
        tokens.append(mint(KEY))
        response = post(server, samples.load(name), bearer(tokens[-1]))
        assert response.status_code == 200, name
        exchanges.append(exchange(f"oauth sample {name}", response))
    refused = {
        "expired": mint(KEY, iat=1_600_000_000, exp=1_600_003_600),
        "wrong audience": mint(KEY, aud="api://default"),
        "alg none": forge({"alg": "none", "kid": FIRST_KID}, {"sub": "camille"}),
        "unknown key": mint(signing_key("attacker-key")),
    }
    tokens += refused.values()
    jwks.close()
    tokens.append(mint(KEY))
    kept = post(server, samples.load("refresh"), bearer(tokens[-1]))
    assert kept.status_code == 200  # known keys still work with the key source down
    exchanges.append(exchange("key source down, known key", kept))
    for failure, token in refused.items():
        response = post(server, samples.load("fastpass"), bearer(token))
        assert response.status_code == 401, failure
        exchanges.append(exchange(f"oauth {failure}", response))
    scraped = requests.get(f"{server.url}/metrics", timeout=10)
    assert_labels_closed(scraped.text)
    assert Scrape.parse(scraped.text)("psc_hook_jwks_fetches_total", result="loaded") >= 1
    exchanges.append(exchange("oauth metrics", scraped))
    return exchanges, server


@pytest.mark.process
def test_oauth_mode_and_key_source_failures_leak_nothing(jwks: JwksServer, start_server) -> None:
    tokens: list[str] = []
    exchanges, servers = key_source_failing_at_start(jwks, start_server, tokens)
    more, working = key_source_down_after_warm_up(jwks, start_server, tokens)
    exchanges += more
    servers.append(working)
    output = "\n".join(server.log() for server in servers)
    assert_nothing_leaked(exchanges, output, [SECRET, *tokens])


# --- errors the service did not expect ----------------------------------------------------


def exceptions_logged(server: Server, event: str) -> list[dict[str, Any]]:
    """The structured exception of each of the server's log lines with this event."""
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    found = [line for line in lines if line["event"] == event]
    assert found, server.log()
    for line in found:
        assert "exc_info" not in line  # no tuple repr: the exception below is data
    return [exception for line in found for exception in line["exception"]]


def assert_structured(exceptions: list[dict[str, Any]], kind: str, message: str) -> None:
    (exception,) = exceptions
    assert (exception["exc_type"], exception["exc_value"]) == (kind, message)
    frames = exception["frames"]
    assert frames[-1]["filename"].endswith("tests/support/failing_app.py")
    assert all({"filename", "lineno", "name"} <= set(frame) for frame in frames)
    assert not any("locals" in frame for frame in frames)


FAILING_APP = ("--pythonpath", str(ROOT))


@pytest.mark.process
def test_an_unexpected_error_is_logged_as_data_without_locals(start_server) -> None:
    server = start_server(HEADER_ENV, (*FAILING_APP, "tests.support.failing_app:failing_hook()"))
    answer = requests.post(
        f"{server.url}/token-hook",
        json=samples.load("password-only"),
        headers={"Authorization": SECRET},
        timeout=10,
    )
    assert answer.status_code == 500
    message = f"answer failed ({len(SECRET_IN_A_LOCAL)} characters)"
    assert_structured(exceptions_logged(server, "unhandled-error"), "RuntimeError", message)
    assert SECRET_IN_A_LOCAL not in server.log() and SECRET not in server.log()


@pytest.mark.process
def test_an_error_gunicorn_logs_is_data_without_locals(start_server) -> None:
    server = start_server(HEADER_ENV, (*FAILING_APP, "tests.support.failing_app:raw_app"))
    path = "/users/camille.martin@chu-exemple.fr"
    answer = requests.get(f"{server.url}{path}", headers={"Authorization": SECRET}, timeout=10)
    assert answer.status_code == 500
    message = f"raw app failed ({len(SECRET_IN_A_LOCAL)} characters)"
    exceptions = exceptions_logged(server, "Error handling request")  # not its raw path
    assert_structured(exceptions, "LookupError", message)
    assert SECRET_IN_A_LOCAL not in server.log() and SECRET not in server.log()
    assert path not in server.log() and not leaks(server.log(), [])


# --- gunicorn's own lines, at debug level -------------------------------------------------


def raw_exchange(server: Server, head: bytes) -> bytes:
    """Send ``head`` over a socket, end the sending side, and read until the server closes:
    gunicorn writes its line about the request before it answers or closes."""
    with socket.create_connection(("127.0.0.1", urlsplit(server.url).port), timeout=10) as sock:
        sock.sendall(head)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.process
def test_gunicorn_lines_at_debug_level_quote_no_secret_and_no_caller(start_server) -> None:
    """LOG_LEVEL=debug, which operators reach for when calls time out: gunicorn wrote the
    head of a request cut short (the hook secret, a bearer token), each request's raw path,
    and, at every level, the raw method, header name or version of an invalid request."""
    server = start_server({**HEADER_ENV, "LOG_LEVEL": "debug"})
    cut_short = [
        f"POST /token-hook HTTP/1.1\r\nHost: hook\r\nAuthorization: {SECRET}\r\n",
        f"POST /token-hook HTTP/1.1\r\nAuthorization: Bearer {LOOKS_LIKE_A_TOKEN}\r\n",
    ]
    for head in cut_short:
        assert raw_exchange(server, head.encode()) == b""
    answered = {
        "GET /users/camille.martin@chu-exemple.fr HTTP/1.1\r\nHost: hook\r\n\r\n": b" 404 ",
        "Camille /token-hook HTTP/1.1\r\nHost: hook\r\n\r\n": b" 400 ",
        "GET / HTTP/1.1\r\nHost: hook\r\nCamille Martin: x\r\n\r\n": b" 400 ",
        "GET / HTTP/1.1Martin\r\nHost: hook\r\n\r\n": b" 400 ",
        "GET / camille.martin@chu-exemple.fr\r\nHost: hook\r\n\r\n": b" 400 ",
    }
    for head, status in answered.items():
        assert status in raw_exchange(server, head.encode()).split(b"\r\n")[0], head
    output = server.log()
    assert '"level":"debug"' in output  # the level the test is about
    assert not leaks(output, [SECRET, LOOKS_LIKE_A_TOKEN]), leaks(
        output, [SECRET, LOOKS_LIKE_A_TOKEN]
    )
    assert "/users" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    said = {(line["event"], line.get("error")) for line in lines if line.get("error")}
    assert {
        ("Ignored premature client disconnection", "NoMoreData"),
        ("Invalid request", "InvalidRequestMethod"),
        ("Invalid request", "InvalidHeaderName"),
        ("Invalid request", "InvalidHTTPVersion"),
    } <= said, said


#: gunicorn's messages with arguments, in the code that reads what callers send, that quote
#: no caller: a file it reloads, the worker itself, its pid.
QUOTES_NO_CALLER = {
    "Worker reloading: %s modified",
    "Parent changed, shutting down: %s",
    "Worker graceful timeout (pid:%s)",
}
#: The two calls whose message is not a literal: the invalid request (formatted before it is
#: logged), and a SyntaxError logged as the message when gunicorn reloads (never: no reload).
NOT_LITERAL = {"msg.format(ip=addr[0], error=str(exc))", "e"}


def test_every_gunicorn_message_that_could_quote_a_caller_is_rewritten() -> None:
    """An upgrade of gunicorn that adds a line with arguments where it reads requests fails
    here until hook/gunicorn_logs.py rewrites it or this test lists it as harmless."""
    package = Path(gunicorn.__file__).parent
    files = [package / "workers" / name for name in ("base.py", "base_async.py", "ggevent.py")]
    files += sorted((package / "http").glob("*.py")) + sorted((package / "http2").glob("*.py"))
    levels = {"debug", "info", "warning", "error", "exception", "critical"}
    found, unknown = set(), []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in levels
                and ast.unparse(node.func.value) in {"self.log", "log"}
                and node.args
            ):
                continue
            message = node.args[0]
            if isinstance(message, ast.Constant) and len(node.args) == 1:
                continue  # a fixed text
            text = message.value if isinstance(message, ast.Constant) else ast.unparse(message)
            found.add(text)
            if text not in {*gunicorn_logs.CALLER_TEXT, *QUOTES_NO_CALLER, *NOT_LITERAL}:
                unknown.append(f"{path.name}:{node.lineno}: {text}")
    assert set(gunicorn_logs.CALLER_TEXT) <= found  # each one rewritten is gunicorn's
    assert not unknown, unknown
    invalid_request = f'msg = "{gunicorn_logs.INVALID_REQUEST}'  # what NOT_LITERAL formats
    assert invalid_request in (package / "workers" / "base.py").read_text()
