"""Talking to Okta over HTTP: the Management API calls ``psc-hook register`` and ``doctor`` make.

Standard library only. Redirects are never followed, so the ``SSWS`` token cannot be
forwarded to another host. Every failure becomes an :class:`ApiError` whose message an
operator can act on and whose ``exit_code`` the command returns. Request bodies are
built by pure functions, so ``--dry-run`` prints exactly what would be sent (masked).
"""

from __future__ import annotations

import copy
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from hook.okta import EVENT_TYPE as HOOK_TYPE
from hook.version import __version__

HOOK_VERSION = "1.0.0"
MAX_HOOK_URI = 1024
MASK = "****"
USER_AGENT = f"psc-token-hook/{__version__}"
#: How many pages of one listing are read before giving up (Okta's are 20 to 200 long).
MAX_PAGES = 100
#: One link of an RFC 8288 ``Link`` header whose relation is ``next``.
NEXT_LINK = re.compile(r'<([^>]*)>\s*;(?:[^,]*;)?\s*rel="?next"?', re.IGNORECASE)


class ApiError(Exception):
    """Okta (or the network) said no; the message is for a person, ``exit_code`` for a shell."""

    exit_code = 1


class Unreachable(ApiError):
    """No HTTP answer at all: refused, unknown host, TLS failure or timeout."""

    exit_code = 3


class Unauthorized(ApiError):
    """401 or 403: the API token is wrong, expired, or its admin lacks the permission."""

    exit_code = 4


class NotFound(ApiError):
    """404: nothing in this org has that id (the message is Okta's)."""


class RateLimited(ApiError):
    """429: Okta's rate limit for this endpoint is spent until ``reset``."""

    exit_code = 5

    def __init__(self, message: str, reset: datetime | None) -> None:
        super().__init__(message)
        self.reset = reset


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass(frozen=True)
class ApiCall:
    """One Management API request: what is sent, and what ``--dry-run`` prints."""

    method: str
    path: str
    body: dict[str, Any] | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def exchange(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
) -> Reply:
    """One HTTP exchange: any status is a :class:`Reply`; no answer is :class:`Unreachable`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - scheme checked above
    started = time.perf_counter()
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status, answer_headers, data = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, data = error.code, error.headers, error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            detail = f"no answer within {timeout:g} s"
        elif isinstance(reason, ConnectionRefusedError):
            detail = "connection refused"
        elif isinstance(reason, socket.gaierror):
            detail = "unknown host"
        else:
            detail = str(reason)
        raise Unreachable(f"cannot reach {_origin(url)}: {detail}") from None
    return Reply(status, answer_headers, data, (time.perf_counter() - started) * 1000)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def hook_url(url: str) -> str:
    """The hook's address as Okta requires it: absolute https://, at most 1024 characters."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{url!r}: Okta calls inline hooks over https:// only")
    if len(url) > MAX_HOOK_URI:
        raise ValueError(f"the hook URL is {len(url)} characters; Okta accepts {MAX_HOOK_URI}")
    return url


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


def _at(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def hook_changes(current: Mapping[str, Any], channel: Mapping[str, Any]) -> list[Change]:
    """What replacing the channel of ``current`` (as Okta lists it) with ``channel`` changes,
    secrets aside: Okta never returns them, so they cannot be compared."""
    old, new = current.get("channel"), dict(channel)
    return [
        Change(label, _at(old, keys), _at(new, keys))
        for label, keys in CHANNEL_FIELDS.items()
        if _at(old, keys) != _at(new, keys)
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


def attach(rule: Mapping[str, Any], hook_id: str) -> dict[str, Any]:
    """The whole rule as read, with its token action calling the hook (Okta replaces the rule)."""
    updated = copy.deepcopy(dict(rule))
    token = updated.setdefault("actions", {}).setdefault("token", {})
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


def _okta_error(reply: Reply) -> str:
    body = reply.json()
    if not isinstance(body, dict) or "errorSummary" not in body:
        return f"HTTP {reply.status} without an Okta error body"
    summary = f"HTTP {reply.status} {body.get('errorCode', '')}: {body['errorSummary']}"
    causes = [
        cause["errorSummary"]
        for cause in body.get("errorCauses") or []
        if isinstance(cause, dict) and cause.get("errorSummary")
    ]
    if causes:
        summary += " (" + "; ".join(causes) + ")"
    if body.get("errorId"):
        summary += f" [errorId {body['errorId']}]"
    return summary


def rate_limit_reset(headers: Message) -> datetime | None:
    """When Okta's window resets, from ``X-Rate-Limit-Reset`` (epoch seconds)."""
    try:
        return datetime.fromtimestamp(int(headers.get("X-Rate-Limit-Reset", "")), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def error_for(reply: Reply) -> ApiError:
    """The error an Okta error answer stands for, with what to do about it."""
    detail = _okta_error(reply)
    if reply.status == 401:
        return Unauthorized(
            f"Okta rejected the API token ({detail}). Check OKTA_API_TOKEN: an active token"
            " of this org (Admin Console > Security > API > Tokens)."
        )
    if reply.status == 403:
        return Unauthorized(
            f"The API token's administrator may not do this ({detail}). Inline hooks and"
            " authorization servers need a super administrator's token."
        )
    if reply.status == 429:
        reset = rate_limit_reset(reply.headers)
        when = "later"
        if reset is not None:
            wait = max(0, round((reset - datetime.now(UTC)).total_seconds()))
            when = f"after {reset:%Y-%m-%d %H:%M:%S} UTC (in {wait} s)"
        return RateLimited(f"Okta's rate limit is reached ({detail}). Retry {when}.", reset)
    if reply.status == 404:
        return NotFound(f"Okta found nothing there ({detail}).")
    return ApiError(f"Okta refused the request ({detail}).")


class OktaClient:
    """The Management API of one org, authenticated with an ``SSWS`` API token."""

    def __init__(self, org: str, token: str, timeout: float = 10.0) -> None:
        self.org = org.rstrip("/")
        self._headers = {
            "Authorization": f"SSWS {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        self.timeout = timeout

    def _reply(self, method: str, url: str, body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        reply = exchange(method, url, self._headers, data, self.timeout)
        if not 200 <= reply.status < 300:
            raise error_for(reply)
        return reply

    def send(self, call: ApiCall) -> Any:
        """Send one call; its JSON answer (None when empty), or the :class:`ApiError` it means."""
        return self._reply(call.method, self.org + call.path, call.body).json()

    def call(self, call: ApiCall) -> dict[str, Any]:
        """Send one call whose answer is a JSON object."""
        answer = self.send(call)
        if not isinstance(answer, dict):
            raise ApiError(f"Okta answered {call.method} {call.path} without a JSON object.")
        return answer

    def listing(self, path: str) -> list[dict[str, Any]]:
        """GET a listing: the objects of Okta's JSON arrays, page after page, at most
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
            answer = reply.json()
            if not isinstance(answer, list):
                raise ApiError(f"Okta answered GET {path} without a JSON array.")
            link = next_page(reply.headers)
            yield Page([item for item in answer if isinstance(item, dict)], link is not None)
            if link is None:
                return
            url = urljoin(url, link)
            if _origin(url) != _origin(self.org):
                raise ApiError(
                    f"Okta's next page of GET {path} is on {_origin(url)}, not {self.org}:"
                    " not followed, so that the API token is sent to this org only."
                )


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
