"""The doctor's audit of the token inline hook itself: which one PSC's rule should call,
its status, its URL, and how Okta authenticates to it against HOOK_AUTH_*."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hook.cli import okta_api
from hook.cli.report import Report
from hook.config import Settings
from hook.okta import HOOK_PATH

#: Which mode of HOOK_AUTH_MODE serves each of Okta's channel types.
CHANNEL_MODES = {"HTTP": "header", "OAUTH": "oauth"}


def _label(hook: Mapping[str, Any]) -> str:
    return f"{hook.get('name')!r} ({hook.get('id')})"


def choose_hook(hooks: list[dict[str, Any]], wanted: str | None, report: Report) -> dict | None:
    """The token inline hook named or id'd ``wanted``, or the only one when none is named."""
    token_hooks = [hook for hook in hooks if hook.get("type") == okta_api.HOOK_TYPE]
    matches = [hook for hook in token_hooks if wanted in (None, hook.get("id"), hook.get("name"))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(map(_label, token_hooks)) or "none"
        report.add(
            "hook-not-found",
            f"No token inline hook {'named ' + repr(wanted) if wanted else 'in the org'}"
            f" (token inline hooks: {known}).",
            "Register it with psc-hook register (see docs/okta-setup.md), or name the right one"
            " with --hook NAME|ID.",
        )
    else:
        report.add(
            "hook-ambiguous",
            f"{len(matches)} token inline hooks match: {', '.join(map(_label, matches))}.",
            "Name the one PSC's rule should call with --hook NAME|ID.",
        )
    return None


def _channel_findings(channel: Mapping[str, Any], settings: Settings, report: Report) -> None:
    kind, config = channel.get("type"), okta_api.at(channel, "config") or {}
    config = config if isinstance(config, dict) else {}
    mode = CHANNEL_MODES.get(kind)
    if mode not in settings.auth_modes:
        report.add(
            "channel-mismatch",
            f"Okta authenticates to the hook with its {kind} channel, but HOOK_AUTH_MODE is"
            f" {','.join(settings.auth_modes)}: the service answers 401 and Okta skips it.",
            "Make them agree: change HOOK_AUTH_MODE on the service, or the hook's"
            " authentication in Workflow > Inline Hooks > the hook > Edit.",
        )
        return
    if kind == "HTTP":
        key = okta_api.at(config, "authScheme", "key")
        if not isinstance(key, str) or key.lower() != settings.auth_header.lower():
            report.add(
                "header-mismatch",
                f"Okta sends the secret in header {key!r}, but the service reads"
                f" HOOK_AUTH_HEADER {settings.auth_header!r}.",
                "Set HOOK_AUTH_HEADER to Okta's header name, or edit the hook's Authentication"
                " field in Workflow > Inline Hooks.",
            )
        else:
            report.holds.append(
                f"Okta sends the secret in header {key!r}, as HOOK_AUTH_HEADER says. Okta never"
                " returns the secret's value, so only the test run below shows it is one of"
                " HOOK_SECRETS."
            )
        return
    _oauth_findings(config, settings, report)


def _oauth_findings(config: Mapping[str, Any], settings: Settings, report: Report) -> None:
    oauth = settings.oauth
    assert oauth is not None  # "oauth" is among the modes, so it was loaded
    expected_url = f"{oauth.issuer}/v1/token"
    problems = []
    if config.get("tokenUrl") != expected_url:
        problems.append(
            f"its token URL is {config.get('tokenUrl')!r}, not {expected_url!r}"
            " (HOOK_OAUTH_ISSUER + /v1/token)"
        )
    if oauth.client_ids and config.get("clientId") not in oauth.client_ids:
        problems.append(f"its client {config.get('clientId')!r} is not in HOOK_OAUTH_CLIENT_IDS")
    granted = set(str(config.get("scope") or "").split())
    if missing := [scope for scope in oauth.scopes if scope not in granted]:
        problems.append(f"it does not ask for {', '.join(missing)} (HOOK_OAUTH_SCOPES)")
    if problems:
        report.add(
            "oauth-mismatch",
            "Okta's OAuth channel does not match the service's HOOK_OAUTH_* settings: "
            + "; ".join(problems)
            + ". The service would refuse Okta's token.",
            "Make the hook's OAuth settings (Workflow > Inline Hooks > the hook > Edit) and the"
            " service's HOOK_OAUTH_* variables agree.",
        )
    else:
        report.holds.append(
            f"Okta gets its OAuth token from {expected_url} as the service expects"
            f" ({config.get('authType')}, client {config.get('clientId')})."
        )


def hook_findings(hook: Mapping[str, Any], settings: Settings, report: Report) -> None:
    """The hook's status, URL and channel against the local configuration."""
    uri = str(okta_api.at(hook, "channel", "config", "uri") or "")
    if hook.get("status") != "ACTIVE":
        report.add(
            "hook-inactive",
            f"The hook {_label(hook)} is {hook.get('status')}: Okta does not call it.",
            "Activate it: Workflow > Inline Hooks > the hook > Actions > Activate.",
        )
    else:
        report.holds.append(f"The hook {_label(hook)} is ACTIVE.")
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.path.endswith(HOOK_PATH):
        report.add(
            "hook-url",
            f"The hook calls {uri!r}: it must be the service's https:// URL ending in {HOOK_PATH}.",
            f"Edit the hook's URL (Workflow > Inline Hooks > the hook > Edit) to"
            f" https://<your service>{HOOK_PATH}.",
        )
    else:
        report.holds.append(f"The hook calls {uri}.")
    channel = hook.get("channel")
    _channel_findings(channel if isinstance(channel, dict) else {}, settings, report)
