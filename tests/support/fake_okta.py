"""A local fake of Okta's Management API, over real HTTP on loopback: the only mock allowed.

It answers the calls ``psc-hook register`` and ``doctor`` make the way Okta does (``SSWS``
tokens, or a service app's scoped tokens: ``tests/support/fake_okta_auth.py``; Okta's error shape
``{errorCode, errorSummary, errorLink, errorId, errorCauses}``,
401, 403, 404, 429 with ``X-Rate-Limit-*``), validates inline hook bodies with Okta's
``InlineHookCreate`` schema plus the channel shapes of Okta's published examples (the
schema's channel discriminator points at schemas the copied file does not hold), and
records every request. ``GET /api/v1/logs`` serves the System Log's ``LogEvent``s (the
hook's calls), filtered and paged as Okta's is.

The read-only objects (inline hooks, authorization servers, their policies and rules, OIDC
apps, identity providers, apps' authentication policies and their rules) have the shapes of
Okta's Management OpenAPI (``okta/okta-sdk-python``, ``openapi/api.yaml``: ``InlineHook``,
``AuthorizationServer``, ``AuthorizationServerPolicy``, ``AuthorizationServerPolicyRule``,
``OpenIdConnectApplication``, ``IdentityProvider``, ``AccessPolicy``, ``AccessPolicyRule``);
see okta/README.md. The last three are checked against Okta's schemas
(tests/test_fake_okta_objects.py).
``POST /api/v1/inlineHooks/{id}/execute`` checks the body against Okta's ``TokenRequest``
schema, then calls the hook as Okta would (its header and the secret Okta holds, or a
bearer) at ``service_url`` (a loopback service standing in for the hook's https:// host)
and answers the hook's answer if it fits Okta's ``TokenHookResponse``; otherwise, as Okta
documents, a 400 saying what failed (the wording is the fake's own).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jsonschema
import requests

from hook.cli.okta_api import HOOK_TYPE
from tests.support.fake_okta_auth import TOKEN_PATH, FakeOAuth
from tests.support.okta_schemas import EXAMPLES, validate

TOKEN = "00fakeOktaApiToken-0123456789abcdefABCDEF"
RULE_PATH = re.compile(r"/api/v1/authorizationServers/([^/]+)/policies/([^/]+)/rules/([^/]+)")
READ_PATHS = {
    "hook": re.compile(r"/api/v1/inlineHooks/([^/]+)"),
    "server": re.compile(r"/api/v1/authorizationServers/([^/]+)"),
    "policies": re.compile(r"/api/v1/authorizationServers/([^/]+)/policies"),
    "rules": re.compile(r"/api/v1/authorizationServers/([^/]+)/policies/([^/]+)/rules"),
    "app": re.compile(r"/api/v1/apps/([^/]+)"),
    "claims": re.compile(r"/api/v1/authorizationServers/([^/]+)/claims"),
    "policy_rules": re.compile(r"/api/v1/policies/([^/]+)/rules"),
    "access_policy": re.compile(r"/api/v1/policies/([^/]+)"),
}
EXECUTE_PATH = re.compile(r"/api/v1/inlineHooks/([^/]+)/execute")
ORG = "https://chu-exemple.okta.com"
STAMP = "2026-11-20T08:00:00.000Z"
#: Okta gives a hook 3 s (and the execute call as much).
HOOK_TIMEOUT_S = 3.0
OPTIONAL_CONFIG = {"HTTP": {"headers"}, "OAUTH": {"headers", "scope"}}
#: What Okta itself adds to a CPS card's sign-in so that it emits PSC's élevé set.
CPS_ADDITIONAL_AMR = ("hwk", "pin", "mfa")
#: An authentication policy rule's constraint: the password, then an Okta Verify push.
PASSWORD_THEN_PUSH = (
    {
        "knowledge": {"methods": ["password"], "required": True, "types": ["password"]},
        "possession": {
            "methods": ["push"],
            "required": True,
            "types": ["app"],
            "userPresence": "REQUIRED",
        },
    },
)
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
    "E0000031": "Invalid search criteria.",
    "E0000047": "API call exceeded rate limit due to too many requests.",
}
EXECUTE_FAILED = "Api validation failed: inline hook execution"
#: The System Log's filter the fake understands: ``eventType eq "..."`` clauses joined by or.
LOG_CLAUSE = re.compile(r'eventType eq "([a-z_.]+)"')
#: A fictitious user of the samples, as an event's actor: the audit must never show it.
LOG_ACTOR = {
    "id": "00u1abcd2EFGH3ijk4l5",
    "type": "User",
    "alternateId": "camille.martin@chu-exemple.fr",
    "displayName": "Camille Martin",
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


def replace_problems(body: Any, hook_type: str) -> list[str]:
    """Why Okta would refuse this ``InlineHookReplace`` body for a hook of ``hook_type``."""
    try:
        validate("InlineHookReplace", body)
    except jsonschema.ValidationError as error:
        where = ".".join(str(part) for part in error.absolute_path) or "body"
        return [f"{where}: {error.message}"]
    missing = [f"{key}: required (the hook is replaced whole)"
               for key in ("name", "version", "channel") if key not in body]  # fmt: skip
    if body.get("type", hook_type) != hook_type:
        missing.append(f"type: {body['type']!r} cannot replace {hook_type!r}")
    return missing or channel_problems(body["channel"])


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
    query: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FakeOkta:
    """The org's state, the requests it received, and canned answers to give next."""

    token: str = TOKEN
    #: The service apps and the tokens ``POST /oauth2/v1/token`` gave them.
    oauth: FakeOAuth = field(default_factory=FakeOAuth)
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rules: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    idps: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    policy_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    access_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The System Log's events (``LogEvent``), in the order they were published.
    logs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    canned: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    #: Where the hooks really are (a loopback service); the hook URL's path is kept.
    service_url: str | None = None
    #: The bearer an OAUTH channel presents (Okta gets one by client credentials).
    oauth_bearer: Callable[[], str] | None = None
    #: Listings answer this many objects a page, with Okta's ``Link: rel="next"``.
    page_size: int | None = None
    #: Where the next-page links point (the fake's own address when None).
    next_origin: str | None = None
    _secrets: dict[str, str] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def answer_next(self, status: int, body: Any = None, headers: dict | None = None) -> None:
        """Answer the next request with this, whatever it is (errors, rate limits)."""
        self.canned.append((status, body, headers or {}))

    def add_hook(self, channel: dict[str, Any], name: str = "PSC claims") -> dict[str, Any]:
        """A token inline hook, created as ``POST /api/v1/inlineHooks`` would (secret kept)."""
        body = {"name": name, "type": HOOK_TYPE, "version": "1.0.0", "channel": channel}
        status, hook, _ = self._create_hook(copy.deepcopy(body))
        assert status == 200, hook
        return hook

    def add_server(self, server: str, status: str = "ACTIVE") -> dict[str, Any]:
        """A custom authorization server as Okta returns it."""
        self.servers[server] = {
            "id": server,
            "name": "Pro Santé Connect",
            "description": "Tokens for Pro Santé Connect",
            "audiences": ["api://psc"],
            "issuer": f"{ORG}/oauth2/{server}",
            "issuerMode": "ORG_URL",
            "status": status,
            "created": STAMP,
            "lastUpdated": STAMP,
            "credentials": {"signing": {"kid": "sig-key-1", "rotationMode": "AUTO", "use": "sig"}},
            "_links": {"self": {"href": f"{ORG}/api/v1/authorizationServers/{server}"}},
        }
        return self.servers[server]

    def add_policy(
        self, server: str, policy: str, clients: list[str], status: str = "ACTIVE"
    ) -> dict[str, Any]:
        """An access policy of ``server``, assigned to ``clients`` (or ``ALL_CLIENTS``)."""
        href = f"{ORG}/api/v1/authorizationServers/{server}/policies/{policy}"
        self.policies[(server, policy)] = {
            "id": policy,
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "status": status,
            "name": "Pro Santé Connect",
            "description": "Pro Santé Connect sign-ins",
            "priority": 1,
            "system": False,
            "conditions": {"clients": {"include": list(clients)}},
            "created": STAMP,
            "lastUpdated": STAMP,
            "_links": {"self": {"href": href}},
        }
        return self.policies[(server, policy)]

    def add_app(self, client_id: str, redirect_uris: list[str]) -> dict[str, Any]:
        """An OIDC web app (Okta gives its client the app's id) and its redirect URIs."""
        self.apps[client_id] = {
            "id": client_id,
            "name": "oidc_client",
            "label": "Pro Santé Connect",
            "status": "ACTIVE",
            "signOnMode": "OPENID_CONNECT",
            "created": STAMP,
            "lastUpdated": STAMP,
            "credentials": {
                "oauthClient": {
                    "client_id": client_id,
                    "autoKeyRotation": True,
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            },
            "settings": {
                "oauthClient": {
                    "redirect_uris": list(redirect_uris),
                    "response_types": ["code"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "application_type": "web",
                    "consent_method": "REQUIRED",
                }
            },
            "_links": {"self": {"href": f"{ORG}/api/v1/apps/{client_id}"}},
        }
        return self.apps[client_id]

    def add_idp(
        self,
        idp_id: str,
        name: str,
        kind: str = "X509",
        status: str = "ACTIVE",
        additional_amr: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """An identity provider as ``GET /api/v1/idps`` lists it (``IdentityProvider``);
        a smart-card one with the AMR values Okta adds to its sign-ins, when given."""
        idp: dict[str, Any] = {
            "id": idp_id,
            "type": kind,
            "name": name,
            "status": status,
            "issuerMode": "ORG_URL",
            "protocol": {"type": "MTLS"} if kind == "X509" else {"type": "OIDC"},
            "created": STAMP,
            "lastUpdated": STAMP,
            "_links": {"self": {"href": f"{ORG}/api/v1/idps/{idp_id}"}},
        }
        if kind == "X509":
            idp["protocol"]["credentials"] = {"trust": {"issuer": f"CN={name}", "kid": idp_id}}
        if additional_amr is not None:
            idp["properties"] = {"additionalAmr": list(additional_amr)}
        self.idps[idp_id] = idp
        return idp

    def add_claim(self, server: str, name: str, claim_type: str = "IDENTITY") -> dict[str, Any]:
        """A custom claim of an authorization server, from a profile attribute."""
        claim = {
            "id": f"ocl{next(self._ids):017d}",
            "name": name,
            "status": "ACTIVE",
            "claimType": claim_type,
            "valueType": "EXPRESSION",
            "value": f"user.{name}",
            "alwaysIncludeInToken": True,
            "conditions": {"scopes": []},
            "system": False,
        }
        self.claims.setdefault(server, []).append(claim)
        return claim

    def add_authentication_policy(
        self, client_id: str, policy: str, reauthenticate_in: str | None = "PT4H", **rule: Any
    ) -> dict[str, Any]:
        """The app's authentication policy (``AccessPolicy``) and its first rule (see
        :meth:`add_authentication_rule`: by default the password then an Okta Verify push,
        re-authenticating after ``reauthenticate_in``)."""
        self.access_policies[policy] = {
            "id": policy,
            "type": "ACCESS_POLICY",
            "name": "Pro Santé Connect",
            "description": "Who may sign in to Pro Santé Connect, and how",
            "status": "ACTIVE",
            "priority": 1,
            "system": False,
            "created": STAMP,
            "lastUpdated": STAMP,
            "_links": {
                "self": {"href": f"{ORG}/api/v1/policies/{policy}"},
                "rules": {"href": f"{ORG}/api/v1/policies/{policy}/rules"},
            },
        }
        self.policy_rules[policy] = []
        self.apps[client_id]["_links"]["accessPolicy"] = {"href": f"{ORG}/api/v1/policies/{policy}"}
        return self.add_authentication_rule(policy, reauthenticate_in=reauthenticate_in, **rule)

    def add_authentication_rule(
        self,
        policy: str,
        *,
        name: str = "Health professionals",
        reauthenticate_in: str | None = "PT4H",
        factor_mode: str = "2FA",
        constraints: tuple[dict[str, Any], ...] | None = PASSWORD_THEN_PUSH,
        access: str = "ALLOW",
        status: str = "ACTIVE",
        chains: list[dict[str, Any]] | None = None,
        system: bool = False,
    ) -> dict[str, Any]:
        """A rule of an authentication policy (``AccessPolicyRule``): an ``ASSURANCE``
        verification method (``factorMode``, ``constraints``; none: any authenticator), or
        an ``AUTH_METHOD_CHAIN`` one when ``chains`` are given."""
        method: dict[str, Any] = {"type": "ASSURANCE", "factorMode": factor_mode}
        if chains is not None:
            method = {"type": "AUTH_METHOD_CHAIN", "chains": copy.deepcopy(chains)}
        elif constraints is not None:
            method["constraints"] = copy.deepcopy(list(constraints))
        if reauthenticate_in is not None:
            method["reauthenticateIn"] = reauthenticate_in
        rule_id = f"rul{next(self._ids):017d}"
        rule = {
            "id": rule_id,
            "name": name,
            "type": "ACCESS_POLICY",
            "status": status,
            "priority": len(self.policy_rules[policy]),
            "system": system,
            "created": STAMP,
            "lastUpdated": STAMP,
            "conditions": {"people": {"groups": {"include": ["00g1healthPros0Example"]}}},
            "actions": {"appSignOn": {"access": access, "verificationMethod": method}},
            "_links": {"self": {"href": f"{ORG}/api/v1/policies/{policy}/rules/{rule_id}"}},
        }
        self.policy_rules[policy].append(rule)
        return rule

    def add_log_event(
        self,
        event_type: str,
        hook_id: str,
        result: str = "SUCCESS",
        reason: str | None = None,
        *,
        ago: timedelta = timedelta(minutes=5),
        message: str = "Inline hook",
        debug: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An event of the hook (its ``target``) as the System Log lists it, ``ago`` before
        now; the actor is a sample's user, as Okta names the user who signed in."""
        published = datetime.now(UTC) - ago
        outcome = {"result": result, **({"reason": reason} if reason is not None else {})}
        hook = self.hooks.get(hook_id, {})
        event = {
            "uuid": str(uuid.uuid4()),
            "published": published.strftime("%Y-%m-%dT%H:%M:%S.") + f"{published:%f}"[:3] + "Z",
            "eventType": event_type,
            "version": "0",
            "severity": "INFO" if result == "SUCCESS" else "WARN",
            "displayMessage": message,
            "actor": dict(LOG_ACTOR),
            "client": {"ipAddress": "192.0.2.10", "device": "Computer", "zone": "null"},
            "outcome": outcome,
            "target": [
                {"id": hook_id, "type": "InlineHook", "alternateId": hook.get("name", "hook"),
                 "displayName": hook.get("name", "hook"), "detailEntry": {}},
            ],
            "transaction": {"type": "WEB", "id": f"trs{next(self._ids):017d}", "detail": {}},
            "debugContext": {"debugData": dict(debug or {})},
            "request": {"ipChain": []},
        }  # fmt: skip
        self.logs.append(event)
        self.logs.sort(key=lambda logged: logged["published"])
        return event

    def add_hook_calls(self, hook_id: str, count: int = 1) -> None:
        """Sign-ins whose call Okta made and whose answer it applied."""
        for _ in range(count):
            self.add_log_event("inline_hook.executed", hook_id)
            self.add_log_event("inline_hook.response.processed", hook_id)

    def add_rule(
        self,
        auth_server: str,
        policy: str,
        rule: str,
        *,
        hook_id: str | None = None,
        status: str = "ACTIVE",
    ) -> dict[str, Any]:
        """An access-policy rule as Okta returns it, calling ``hook_id`` when given."""
        body = {
            "id": rule,
            "type": "RESOURCE_ACCESS",
            "name": "Pro Santé Connect",
            "priority": 1,
            "status": status,
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
        if hook_id is not None:
            body["actions"]["token"]["inlineHook"] = {"id": hook_id}
        self.rules[(auth_server, policy, rule)] = body
        return copy.deepcopy(body)

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes):
        """Okta's answer to one request: (status, body, headers)."""
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        url = f"http://{headers.get('Host')}{path}"  # as the client wrote it, for aud and htu
        if path == TOKEN_PATH and method == "POST":  # the service apps' (not recorded here)
            return self.oauth.token(headers, raw, url)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        self.requests.append(Recorded(method, path, headers, body, query))
        if self.canned:
            return self.canned.pop(0)
        authorization = headers.get("Authorization", "")
        if authorization.startswith(("Bearer ", "DPoP ")):
            refused = self.oauth.check(method, url, path, headers)
            if refused is not None:
                return refused
        elif authorization != f"SSWS {self.token}":
            return 401, error_body("E0000011", ERRORS["E0000011"]), {}
        if body is ValueError:
            return 400, error_body("E0000003", ERRORS["E0000003"]), {}
        if path == "/api/v1/inlineHooks" and method == "POST":
            return self._create_hook(body)
        if match := EXECUTE_PATH.fullmatch(path):
            if method == "POST":
                return self._execute(unquote(match.group(1)), body)
        elif method == "GET" and path == "/api/v1/logs":
            return self._logs(query, headers)
        elif method == "GET":
            found = self._read(path, query)
            if found is not None:
                return self._page(found, path, query, headers)
        elif (match := READ_PATHS["hook"].fullmatch(path)) and method == "PUT":
            return self._replace_hook(unquote(match.group(1)), body)
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
        hook.update(created=STAMP, lastUpdated=STAMP)
        return 200, self._store(hook), {}

    def _store(self, hook: dict[str, Any]) -> dict[str, Any]:
        """Keep the hook as Okta lists it: the secrets apart, never returned."""
        config = hook["channel"]["config"]
        for secret in SECRET_FIELDS:
            config.pop(secret, None)
        self._secrets.pop(hook["id"], None)
        if "authScheme" in config:
            self._secrets[hook["id"]] = config["authScheme"].pop("value")
        self.hooks[hook["id"]] = hook
        return hook

    def _replace_hook(self, hook_id: str, body: Any):
        """``PUT /api/v1/inlineHooks/{id}``: the whole ``InlineHookReplace`` body, its type kept."""
        current = self.hooks.get(hook_id)
        if current is None:
            return 404, error_body("E0000007", ERRORS["E0000007"].format(hook_id, "InlineHook")), {}
        problems = replace_problems(body, current["type"])
        if problems:
            summary = ERRORS["E0000001"].format("inlineHook")
            return 400, error_body("E0000001", summary, tuple(problems)), {}
        hook = {**copy.deepcopy(body), "type": current["type"], "lastUpdated": STAMP}
        hook.update({key: current[key] for key in ("id", "status", "created")})
        return 200, self._store(hook), {}

    def _page(self, found, path: str, query: dict[str, list[str]], headers: dict[str, str]):
        """One page of a listing and, when more follow, Okta's ``Link: rel="next"``."""
        status, items, extra = found
        if self.page_size is None or not isinstance(items, list):
            return found
        start = int(query.get("after", ["0"])[0])
        page = items[start : start + self.page_size]
        others = {key: values for key, values in query.items() if key != "after"}
        origin = self.next_origin or f"http://{headers.get('Host')}"
        self_link = f'<{origin}{path}?{urlencode(query, doseq=True)}>; rel="self"'
        links = [self_link]
        if start + self.page_size < len(items):
            after = urlencode({**others, "after": start + self.page_size}, doseq=True)
            links.append(f'<{origin}{path}?{after}>; rel="next"')
        return status, page, {**extra, "Link": links}

    def _logs(self, query: dict[str, list[str]], headers: dict[str, str]):
        """``GET /api/v1/logs``: the events published in [since, until), filtered, a page of
        ``limit``, oldest or newest first; without ``until`` a polling query, whose answer
        always links a next page (as Okta's does)."""
        one = {key: values[0] for key, values in query.items()}
        try:
            since, until = (
                datetime.fromisoformat(one[key]) if key in one else default
                for key, default in (
                    ("since", datetime.now(UTC) - timedelta(days=7)),
                    ("until", datetime.now(UTC)),
                )
            )
            limit = int(one.get("limit", "100"))
            start = int(one.get("after", "0"))
        except ValueError as error:
            return 400, error_body("E0000001", ERRORS["E0000001"].format("logs"), (str(error),)), {}
        clauses = one.get("filter", "").split(" or ")
        wanted = {match.group(1) for clause in clauses if (match := LOG_CLAUSE.fullmatch(clause))}
        if "filter" in one and len(wanted) != len(clauses):
            return 400, error_body("E0000031", ERRORS["E0000031"]), {}
        if not 0 <= limit <= 1000 or one.get("sortOrder", "ASCENDING") not in (
            "ASCENDING",
            "DESCENDING",
        ):
            return 400, error_body("E0000001", ERRORS["E0000001"].format("logs")), {}
        found = [
            event
            for event in self.logs
            if since <= datetime.fromisoformat(event["published"]) < until
            and ("filter" not in one or event["eventType"] in wanted)
        ]
        if one.get("sortOrder") == "DESCENDING":
            found.reverse()
        page = found[start : start + limit]
        origin = self.next_origin or f"http://{headers.get('Host')}"
        links = [f'<{origin}/api/v1/logs?{urlencode(query, doseq=True)}>; rel="self"']
        if "until" not in one or start + limit < len(found):
            after = urlencode({**one, "after": start + len(page)})
            links.append(f'<{origin}/api/v1/logs?{after}>; rel="next"')
        return 200, page, {"Link": links}

    def _read(self, path: str, query: dict[str, list[str]]):
        """A GET of a listing or an object, or None when the path is not one of them."""
        kind, ids = next(
            ((kind, match.groups()) for kind, pattern in READ_PATHS.items()
             if (match := pattern.fullmatch(path))),
            (None, ()),
        )  # fmt: skip
        ids = tuple(unquote(part) for part in ids)
        if path == "/api/v1/inlineHooks":
            wanted = query.get("type", [None])[0]
            return 200, [h for h in self.hooks.values() if wanted in (None, h["type"])], {}
        if path == "/api/v1/authorizationServers":
            return 200, list(self.servers.values()), {}
        if path == "/api/v1/idps":
            wanted = query.get("type", [None])[0]
            return 200, [i for i in self.idps.values() if wanted in (None, i["type"])], {}
        if kind == "claims" and ids[0] in self.servers:
            return 200, self.claims.get(ids[0], []), {}
        if kind == "policy_rules" and ids[0] in self.policy_rules:
            return 200, self.policy_rules[ids[0]], {}
        if kind == "access_policy" and ids[0] in self.access_policies:
            return 200, self.access_policies[ids[0]], {}
        if kind == "policies" and ids[0] in self.servers:
            found = [body for (server, _), body in self.policies.items() if server == ids[0]]
            return 200, found, {}
        if kind == "rules" and ids in self.policies:
            found = [body for key, body in self.rules.items() if key[:2] == ids]
            return 200, found, {}
        tables = {"hook": self.hooks, "server": self.servers, "app": self.apps}
        if kind in tables and ids[0] in tables[kind]:
            return 200, tables[kind][ids[0]], {}
        return None

    def _execute(self, hook_id: str, body: Any):
        """Okta's test run: the request goes to the hook as Okta would send it."""
        hook = self.hooks.get(hook_id)
        if hook is None:
            return 404, error_body("E0000007", ERRORS["E0000007"].format(hook_id, "InlineHook")), {}
        try:
            validate("TokenRequest", body)
        except jsonschema.ValidationError as error:
            return (
                400,
                error_body("E0000001", ERRORS["E0000001"].format("data"), (error.message,)),
                {},
            )
        headers = {"Content-Type": "application/json"}
        config = hook["channel"]["config"]
        if hook["channel"]["type"] == "HTTP":
            headers[config["authScheme"]["key"]] = self._secrets[hook_id]
        elif self.oauth_bearer is None:
            return self._failed(f"could not get an access token from {config['tokenUrl']}")
        else:
            headers["Authorization"] = f"Bearer {self.oauth_bearer()}"
        if self.service_url is None:
            return self._failed(f"could not connect to {config['uri']}")
        url = self.service_url + urlsplit(config["uri"]).path
        try:
            reply = requests.post(url, json=body, headers=headers, timeout=HOOK_TIMEOUT_S)
        except requests.RequestException:
            return self._failed(f"no answer from {config['uri']} within {HOOK_TIMEOUT_S:g} s")
        if reply.status_code == 204:
            return 204, None, {}
        if reply.status_code != 200:
            return self._failed(f"the external service answered HTTP {reply.status_code}")
        try:
            answer = reply.json()
            validate("TokenHookResponse", answer)
        except (ValueError, jsonschema.ValidationError):
            return self._failed("Could not deserialize inline hook response")
        return 200, answer, {}

    @staticmethod
    def _failed(reason: str):
        return 400, error_body("E0000001", EXECUTE_FAILED, (reason,)), {}

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
        status, body, extra = self.fake.handle(self.command, self.path, headers, raw)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, one)
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
