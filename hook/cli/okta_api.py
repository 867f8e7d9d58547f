"""Okta's Management API client: the calls ``psc-hook register``, ``doctor`` and
``evidence`` make.

Each call is one bounded exchange (:mod:`hook.cli.http_exchange`: redirects never
followed, so the credentials cannot be forwarded to another host; every answer read within
a bound on its size and on the whole exchange's time), and what Okta writes (error
summaries, the next page's host) is data, shown through :func:`hook.cli.terminal.printable`.
Every failure becomes an :class:`ExchangeError` whose message an operator can act on and
whose ``exit_code`` the command returns; Okta's error answers are read by
:mod:`hook.cli.okta_errors`. Request bodies are built by pure functions, so ``--dry-run``
prints exactly what would be sent (masked). How the client proves itself is a
:class:`Credentials`: an ``SSWS`` API token (:class:`ApiToken`) or a service app
(:mod:`hook.cli.okta_auth`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol
from urllib.parse import quote, urljoin

from hook.cli.http_exchange import SHOWN, Reply, exchange, origin

# What the commands catch, as okta_api.X: every error a call to Okta can end in
# (ExchangeError is each one's base).
from hook.cli.http_exchange import ExchangeError as ExchangeError
from hook.cli.http_exchange import Malformed as Malformed
from hook.cli.http_exchange import Unreachable as Unreachable
from hook.cli.okta_errors import ApiError as ApiError
from hook.cli.okta_errors import Forbidden as Forbidden
from hook.cli.okta_errors import NotFound as NotFound
from hook.cli.okta_errors import RateLimited as RateLimited
from hook.cli.okta_errors import Refusals, error_for
from hook.cli.okta_errors import Unauthorized as Unauthorized
from hook.cli.terminal import printable
from hook.okta import EVENT_TYPE as HOOK_TYPE
from hook.version import __version__

HOOK_VERSION = "1.0.0"
MASK = "****"
USER_AGENT = f"psc-token-hook/{__version__}"
#: How many pages of one listing are read before giving up (Okta's are 20 to 200 long).
MAX_PAGES = 100
#: One link of an RFC 8288 ``Link`` header whose relation is ``next``.
NEXT_LINK = re.compile(r'<([^>]*)>\s*;(?:[^,]*;)?\s*rel="?next"?', re.IGNORECASE)


@dataclass(frozen=True)
class ApiCall:
    """One Management API request: what is sent, and what ``--dry-run`` prints."""

    method: str
    path: str
    body: dict[str, Any] | None = None


def header_channel(uri: str, header: str, secret: str) -> dict[str, Any]:
    """Okta's HTTP channel: it sends ``secret`` as-is in ``header``."""
    return {
        "type": "HTTP",
        "version": HOOK_VERSION,
        "config": {
            "uri": uri,
            "headers": [],
            "method": "POST",
            "authScheme": {"type": "HEADER", "key": header, "value": secret},
        },
    }


def oauth_channel(
    uri: str,
    *,
    client_id: str,
    token_url: str,
    client_secret: str | None = None,
    hook_key_id: str | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Okta's OAUTH channel: client_secret_post with a secret, private_key_jwt with a key id."""
    if (client_secret is None) == (hook_key_id is None):
        raise ValueError("give either a client secret or a hook key id, not both")
    config: dict[str, Any] = {"clientId": client_id}
    if client_secret is not None:
        config.update(authType="client_secret_post", clientSecret=client_secret)
    else:
        config.update(authType="private_key_jwt", hookKeyId=hook_key_id)
    config.update(uri=uri, headers=[], method="POST", tokenUrl=token_url)
    if scope:
        config["scope"] = scope
    return {"type": "OAUTH", "version": HOOK_VERSION, "config": config}


def create_hook(name: str, channel: dict[str, Any]) -> ApiCall:
    """``POST /api/v1/inlineHooks`` for a token inline hook."""
    body = {"name": name, "type": HOOK_TYPE, "version": HOOK_VERSION, "channel": channel}
    return ApiCall("POST", "/api/v1/inlineHooks", body)


def replace_hook(hook_id: str, name: str, channel: dict[str, Any]) -> ApiCall:
    """``PUT /api/v1/inlineHooks/{id}``: Okta replaces the hook with this whole body
    (``InlineHookReplace``: its type cannot change)."""
    body = {"name": name, "version": HOOK_VERSION, "channel": channel}
    return ApiCall("PUT", _path("/api/v1/inlineHooks/{}", hook_id), body)


#: The fields of a channel an operator compares, by where they are; secrets are left out.
CHANNEL_FIELDS = {
    "channel": ("type",),
    "uri": ("config", "uri"),
    "method": ("config", "method"),
    "header": ("config", "authScheme", "key"),
    "auth type": ("config", "authType"),
    "client id": ("config", "clientId"),
    "token URL": ("config", "tokenUrl"),
    "scope": ("config", "scope"),
    "hook key id": ("config", "hookKeyId"),
}


@dataclass(frozen=True)
class Change:
    """One field of the hook whose value the update changes."""

    field: str
    before: Any
    after: Any


def at(data: Any, *keys: str) -> Any:
    """The value at ``keys`` in Okta's nested objects; None where a level is missing or is
    not an object (an answer of another shape is data, not a reason to crash)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def strings(value: Any) -> list[str]:
    """The strings of what Okta gives as a JSON array of strings (nothing else kept)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def object_id(item: Mapping[str, Any], what: str) -> str:
    """The ``id`` of an object Okta listed: every object has one, else the answer is not
    Okta's (:class:`Malformed`)."""
    found = item.get("id")
    if not isinstance(found, str) or not found:
        raise Malformed(f"Okta's answer holds {what} without an id.")
    return found


def hook_changes(current: Mapping[str, Any], channel: Mapping[str, Any]) -> list[Change]:
    """What replacing the channel of ``current`` (as Okta lists it) with ``channel`` changes,
    secrets aside: Okta never returns them, so they cannot be compared."""
    old, new = current.get("channel"), dict(channel)
    return [
        Change(label, at(old, *keys), at(new, *keys))
        for label, keys in CHANNEL_FIELDS.items()
        if at(old, *keys) != at(new, *keys)
    ]


def _path(template: str, *ids: str) -> str:
    return template.format(*(quote(part, safe="") for part in ids))


def rule_path(auth_server: str, policy: str, rule: str) -> str:
    """Where an authorization server's access-policy rule lives."""
    return _path("/api/v1/authorizationServers/{}/policies/{}/rules/{}", auth_server, policy, rule)


#: The read-only listings ``doctor`` walks (Okta returns each as a JSON array).
TOKEN_HOOKS_PATH = f"/api/v1/inlineHooks?type={HOOK_TYPE}"
AUTH_SERVERS_PATH = "/api/v1/authorizationServers"


def auth_server_path(auth_server: str) -> str:
    return _path("/api/v1/authorizationServers/{}", auth_server)


def policies_path(auth_server: str) -> str:
    return _path("/api/v1/authorizationServers/{}/policies", auth_server)


def rules_path(auth_server: str, policy: str) -> str:
    return _path("/api/v1/authorizationServers/{}/policies/{}/rules", auth_server, policy)


#: The org's smart-card identity providers (Okta's type for them is X509).
SMART_CARD_IDPS_PATH = "/api/v1/idps?type=X509"


def claims_path(auth_server: str) -> str:
    """The custom claims of an authorization server."""
    return _path("/api/v1/authorizationServers/{}/claims", auth_server)


def policy_path(policy: str) -> str:
    """A policy, such as an app's authentication policy (``AccessPolicy``)."""
    return _path("/api/v1/policies/{}", policy)


def policy_rules_path(policy: str) -> str:
    """The rules of a policy, such as an app's authentication policy."""
    return _path("/api/v1/policies/{}/rules", policy)


def app_path(client_id: str) -> str:
    """An OIDC app, by its client id (Okta gives an OIDC app's client the app's own id)."""
    return _path("/api/v1/apps/{}", client_id)


def execute_call(hook_id: str, request: dict[str, Any]) -> ApiCall:
    """``POST /api/v1/inlineHooks/{id}/execute``: Okta sends ``request`` to the hook, a test run."""
    return ApiCall("POST", _path("/api/v1/inlineHooks/{}/execute", hook_id), request)


def attached_hook(rule: Mapping[str, Any]) -> Any:
    """The id of the inline hook a rule's token action calls, as Okta lists it (None: none)."""
    return at(rule, "actions", "token", "inlineHook", "id")


def attach(rule: Mapping[str, Any], hook_id: str) -> dict[str, Any]:
    """The whole rule as read, with its token action calling the hook (Okta replaces the rule)."""
    updated = copy.deepcopy(dict(rule))
    actions = updated.setdefault("actions", {})
    token = actions.setdefault("token", {}) if isinstance(actions, dict) else None
    if not isinstance(token, dict):
        raise Malformed("Okta's rule has no token action object (actions.token): not changed.")
    token["inlineHook"] = {"id": hook_id}
    return updated


def masked(body: Any) -> Any:
    """A copy of a request body with every secret replaced by ``****``."""
    shown = copy.deepcopy(body)
    config = (shown or {}).get("channel", {}).get("config", {}) if isinstance(shown, dict) else {}
    if "clientSecret" in config:
        config["clientSecret"] = MASK
    if isinstance(config.get("authScheme"), dict) and "value" in config["authScheme"]:
        config["authScheme"]["value"] = MASK
    return shown


class Credentials(Refusals, Protocol):
    """How the client proves itself to Okta, and what it says when Okta refuses it."""

    def authorization(self, method: str, url: str) -> dict[str, str]:
        """The headers that authenticate one request to ``url``."""
        ...

    def allows(self, scope: str) -> bool:
        """Whether Okta granted ``scope``: the calls that need it can succeed."""
        ...


@dataclass(frozen=True)
class ApiToken:
    """An ``SSWS`` API token: its administrator's whole power, every scope."""

    token: str = field(repr=False)

    def authorization(self, method: str, url: str) -> dict[str, str]:
        return {"Authorization": f"SSWS {self.token}"}

    def allows(self, scope: str) -> bool:
        return True

    def rejected(self, detail: str) -> str:
        return (
            f"Okta rejected the API token ({detail}). Check OKTA_API_TOKEN: an active token"
            " of this org (Admin Console > Security > API > Tokens)."
        )

    def forbidden(self, detail: str, scope: str | None) -> str:
        return (
            f"The API token's administrator may not do this ({detail}). Inline hooks and"
            " authorization servers need a super administrator's token."
        )


class OktaClient:
    """The Management API of one org, with :class:`Credentials` (a string is an ``SSWS``
    API token)."""

    def __init__(self, org: str, credentials: Credentials | str, timeout: float = 10.0) -> None:
        self.org = org.rstrip("/")
        self.credentials = ApiToken(credentials) if isinstance(credentials, str) else credentials
        self._headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        self.timeout = timeout

    def allows(self, scope: str) -> bool:
        """Whether calls that need ``scope`` can succeed (an API token carries every one)."""
        return self.credentials.allows(scope)

    def _reply(self, method: str, url: str, body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        headers = {**self._headers, **self.credentials.authorization(method, url)}
        reply = exchange(method, url, headers, data, self.timeout)
        if not 200 <= reply.status < 300:
            raise error_for(reply, self.credentials)
        return reply

    def _json(self, reply: Reply, method: str, path: str) -> Any:
        try:
            return json.loads(reply.body) if reply.body else None
        except (ValueError, RecursionError):
            raise Malformed(
                f"Okta's answer to {method} {path} is not JSON ({len(reply.body)} bytes)."
            ) from None

    def send(self, call: ApiCall) -> Any:
        """Send one call; its JSON answer (None when empty), or the
        :class:`ExchangeError` it means."""
        reply = self._reply(call.method, self.org + call.path, call.body)
        return self._json(reply, call.method, call.path)

    def call(self, call: ApiCall) -> dict[str, Any]:
        """Send one call whose answer is a JSON object."""
        answer = self.send(call)
        if not isinstance(answer, dict):
            raise Malformed(f"Okta answered {call.method} {call.path} without a JSON object.")
        return answer

    def _next(self, url: str, link: str, path: str) -> str:
        """The next page's URL: on this org only, and one HTTP can carry as it is."""
        try:
            url = urljoin(url, link)
            where = origin(url)
        except ValueError:
            raise Malformed(f"Okta's next page of GET {path} is not at a URL.") from None
        if where != origin(self.org):
            raise ApiError(
                f"Okta's next page of GET {path} is on {printable(where, SHOWN)}, not"
                f" {self.org}: not followed, so that the credentials go to this org only."
            )
        if not (url.isascii() and url.isprintable()) or " " in url:
            raise Malformed(f"Okta's next page of GET {path} is not at a URL.")
        return url

    def listing(self, path: str) -> list[dict[str, Any]]:
        """GET a listing: the objects of Okta's JSON arrays, page after page (``Link:
        rel="next"``), on this org only (the credentials go nowhere else), at most
        :data:`MAX_PAGES` pages."""
        items: list[dict[str, Any]] = []
        for number, page in enumerate(self.pages(path), start=1):
            items += page.items
            if not page.more:
                return items
            if number >= MAX_PAGES:
                break
        raise ApiError(f"GET {path}: more than {MAX_PAGES} pages; not read to the end.")

    def pages(self, path: str) -> Iterator[Page]:
        """GET a listing one page at a time, following ``Link: rel="next"`` on this org only
        (the API token goes nowhere else); the next page is asked for only when the caller
        takes it, so a caller that stops early makes no further call."""
        url = self.org + path
        while True:
            reply = self._reply("GET", url)
            answer = self._json(reply, "GET", path)
            if not isinstance(answer, list):
                raise Malformed(f"Okta answered GET {path} without a JSON array.")
            link = next_page(reply.headers)
            yield Page([item for item in answer if isinstance(item, dict)], link is not None)
            if link is None:
                return
            url = self._next(url, link, path)


@dataclass(frozen=True)
class Page:
    """One page of a listing: its objects, and whether Okta links a next one."""

    items: list[dict[str, Any]]
    more: bool


def next_page(headers: Message) -> str | None:
    """The URL of the next page, from Okta's ``Link: <url>; rel="next"`` headers."""
    for value in headers.get_all("Link") or ():
        if match := NEXT_LINK.search(value):
            return match.group(1)
    return None
