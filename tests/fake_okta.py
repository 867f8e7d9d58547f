"""A local fake of Okta's Management API, over real HTTP on loopback: the only mock allowed.

It answers the calls ``psc-hook register`` makes the way Okta does (``SSWS`` tokens, Okta's
error shape ``{errorCode, errorSummary, errorLink, errorId, errorCauses}``, 401, 403, 429
with ``X-Rate-Limit-*``), validates inline hook bodies with Okta's ``InlineHookCreate``
schema plus the channel shapes of Okta's published examples (the schema's channel
discriminator points at schemas the copied file does not hold), and records every request.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema

from tests.okta_schemas import EXAMPLES, validate

TOKEN = "00fakeOktaApiToken-0123456789abcdefABCDEF"
RULE_PATH = re.compile(r"/api/v1/authorizationServers/([^/]+)/policies/([^/]+)/rules/([^/]+)")
OPTIONAL_CONFIG = {"HTTP": {"headers"}, "OAUTH": {"headers", "scope"}}
SECRET_FIELDS = ("clientSecret",)

_EXAMPLE_FOR = {
    ("HTTP", None): "InlineHookMgmtCreateHTTPRequest",
    ("OAUTH", "client_secret_post"): "InlineHookMgmtCreateOAuthClientSecretRequest",
    ("OAUTH", "private_key_jwt"): "InlineHookMgmtCreateOAuthPrivateKeyRequest",
}

ERRORS = {
    "E0000001": "Api validation failed: {}",
    "E0000003": "The request body was not well-formed.",
    "E0000006": "You do not have permission to perform the requested action",
    "E0000007": "Not found: Resource not found: {} ({})",
    "E0000011": "Invalid token provided",
    "E0000047": "API call exceeded rate limit due to too many requests.",
}


def error_body(code: str, summary: str, causes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Okta's error answer, as its API sends it (``errorLink`` repeats the code)."""
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": f"oae{abs(hash((code, summary))) % 10**12:012d}",
        "errorCauses": [{"errorSummary": cause} for cause in causes],
    }


def _shape(value: Any) -> type:
    return type(value) if not isinstance(value, bool) else bool


def channel_problems(channel: Any) -> list[str]:
    """How a channel differs from the shape of Okta's example for its type and auth."""
    config = channel.get("config") if isinstance(channel, dict) else None
    if not isinstance(config, dict):
        return ["channel.config: required"]
    auth_type = config.get("authType") if channel.get("type") == "OAUTH" else None
    example_name = _EXAMPLE_FOR.get((channel.get("type"), auth_type))
    if example_name is None:
        return [f"channel: no Okta example for {channel.get('type')}/{auth_type}"]
    example = EXAMPLES[example_name]["channel"]
    problems = [
        f"channel.{key}: {channel.get(key)!r} differs from Okta's {example[key]!r}"
        for key in ("type", "version")
        if channel.get(key) != example[key]
    ]
    shape = example["config"]
    optional = OPTIONAL_CONFIG[channel["type"]]
    problems += [
        f"channel.config.{key}: required" for key in shape.keys() - optional - config.keys()
    ]
    problems += [
        f"channel.config.{key}: not a field of this channel"
        for key in config.keys() - shape.keys() - optional
    ]
    problems += [
        f"channel.config.{key}: must be {_shape(shape[key]).__name__}"
        for key in config.keys() & shape.keys()
        if _shape(config[key]) is not _shape(shape[key])
    ]
    if "authScheme" in config and isinstance(config["authScheme"], dict):
        scheme = config["authScheme"]
        if scheme.keys() != shape["authScheme"].keys() or scheme.get("type") != "HEADER":
            problems.append("channel.config.authScheme: must be {type: HEADER, key, value}")
        elif not all(isinstance(scheme[key], str) and scheme[key] for key in ("key", "value")):
            problems.append("channel.config.authScheme: key and value must be non-empty strings")
    uri = config.get("uri")
    if not isinstance(uri, str) or not uri.startswith("https://") or len(uri) > 1024:
        problems.append("channel.config.uri: must be an https:// URL of at most 1024 characters")
    if config.get("method") != "POST":
        problems.append("channel.config.method: must be POST")
    return problems


def hook_problems(body: Any) -> list[str]:
    """Why Okta would refuse this ``InlineHookCreate`` body; empty when it is accepted."""
    try:
        validate("InlineHookCreate", body)
    except jsonschema.ValidationError as error:
        where = ".".join(str(part) for part in error.absolute_path) or "body"
        return [f"{where}: {error.message}"]
    missing = [f"{key}: required" for key in ("name", "type", "version", "channel")
               if key not in body]  # fmt: skip
    return missing or channel_problems(body["channel"])


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeOkta:
    """The org's state, the requests it received, and canned answers to give next."""

    token: str = TOKEN
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    canned: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def answer_next(self, status: int, body: Any = None, headers: dict | None = None) -> None:
        """Answer the next request with this, whatever it is (errors, rate limits)."""
        self.canned.append((status, body, headers or {}))

    def add_rule(self, auth_server: str, policy: str, rule: str) -> dict[str, Any]:
        """An access-policy rule as Okta returns it, without an inline hook."""
        body = {
            "id": rule,
            "type": "RESOURCE_ACCESS",
            "name": "Pro Santé Connect",
            "priority": 1,
            "status": "ACTIVE",
            "system": False,
            "conditions": {
                "people": {"groups": {"include": ["EVERYONE"]}},
                "grantTypes": {"include": ["authorization_code", "refresh_token"]},
                "scopes": {"include": ["*"]},
            },
            "actions": {
                "token": {
                    "accessTokenLifetimeMinutes": 60,
                    "refreshTokenLifetimeMinutes": 0,
                    "refreshTokenWindowMinutes": 10080,
                }
            },
            "_links": {"self": {"href": f"/api/v1/authorizationServers/{auth_server}"}},
        }
        self.rules[(auth_server, policy, rule)] = body
        return copy.deepcopy(body)

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes):
        """Okta's answer to one request: (status, body, headers)."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        self.requests.append(Recorded(method, path, headers, body))
        if self.canned:
            return self.canned.pop(0)
        if headers.get("Authorization") != f"SSWS {self.token}":
            return 401, error_body("E0000011", ERRORS["E0000011"]), {}
        if body is ValueError:
            return 400, error_body("E0000003", ERRORS["E0000003"]), {}
        if path == "/api/v1/inlineHooks" and method == "POST":
            return self._create_hook(body)
        if match := RULE_PATH.fullmatch(path):
            key = tuple(unquote(part) for part in match.groups())
            if key not in self.rules:
                return 404, error_body("E0000007", ERRORS["E0000007"].format(key[2], "Rule")), {}
            if method == "GET":
                return 200, self.rules[key], {}
            if method == "PUT":
                return self._replace_rule(key, body)
        return 404, error_body("E0000007", ERRORS["E0000007"].format(path, "Resource")), {}

    def _create_hook(self, body: Any):
        problems = hook_problems(body)
        if problems:
            summary = ERRORS["E0000001"].format("inlineHook")
            return 400, error_body("E0000001", summary, tuple(problems)), {}
        hook = copy.deepcopy(body)
        hook.update(id=f"calfake{next(self._ids):013d}", status="ACTIVE")
        config = hook["channel"]["config"]
        for secret in SECRET_FIELDS:
            config.pop(secret, None)
        config.get("authScheme", {}).pop("value", None)
        self.hooks[hook["id"]] = hook
        return 200, hook, {}

    def _replace_rule(self, key: tuple[str, str, str], body: Any):
        whole = isinstance(body, dict) and {"name", "type", "conditions", "actions"} <= body.keys()
        if not whole:
            causes = ("the rule must be sent whole: name, type, conditions, actions",)
            return 400, error_body("E0000001", ERRORS["E0000001"].format("rule"), causes), {}
        hook = (body["actions"].get("token") or {}).get("inlineHook") or {}
        if hook and hook.get("id") not in self.hooks:
            causes = (f"inline hook {hook.get('id')!r} does not exist",)
            return 400, error_body("E0000001", ERRORS["E0000001"].format("rule"), causes), {}
        self.rules[key] = copy.deepcopy(body)
        return 200, body, {}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOkta

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name: value for name, value in self.headers.items()}
        status, body, extra = self.fake.handle(self.command, urlsplit(self.path).path, headers, raw)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads the recorded requests instead."""


class FakeOktaServer:
    """The fake on a loopback port, served from a thread until ``close``."""

    def __init__(self, fake: FakeOkta) -> None:
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
