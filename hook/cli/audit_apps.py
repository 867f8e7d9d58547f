"""The doctor's audit of the PSC apps: their redirect URIs and their authentication
policies' rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hook.cli import okta_api
from hook.cli.report import Report
from hook.config import Settings
from hook.psc_environments import broker_endpoint

#: ISO 8601 durations as Okta writes reauthenticateIn: PT4H, PT30M, P1D, PT0S.
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_seconds(text: Any) -> int | None:
    """An ISO 8601 duration of days, hours, minutes, seconds, in seconds; None if not one."""
    found = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if found is None or text in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def reauth_findings(
    policies: Mapping[str, list[dict[str, Any]]], settings: Settings, report: Report
) -> None:
    """PSC_MAX_AUTH_AGE against the PSC apps' authentication policies, which prompt the user:
    the hook can only refuse a sign-in too old, Okta's policy is what asks for a new one."""
    limit = settings.max_auth_age
    if limit is None:
        return
    for label, rules in sorted(policies.items()):
        for rule in rules:
            if rule.get("status") != "ACTIVE":
                continue
            method = ((rule.get("actions") or {}).get("appSignOn") or {}).get(
                "verificationMethod"
            ) or {}
            seconds = duration_seconds(method.get("reauthenticateIn"))
            if seconds is not None and seconds <= limit:
                report.holds.append(
                    f"The authentication policy of {label}, rule {rule.get('name')!r},"
                    f" re-authenticates within {method.get('reauthenticateIn')}."
                )
                continue
            report.add(
                "reauth-too-long",
                f"The authentication policy of {label}, rule {rule.get('name')!r}, re-"
                f"authenticates after {method.get('reauthenticateIn') or 'no set time'}, longer"
                f" than PSC_MAX_AUTH_AGE ({limit} s): the hook refuses those sign-ins without"
                " Okta ever asking the user to sign in again.",
                "Set the rule's 'Re-authentication frequency' to at most"
                f" {limit // 3600} h {limit % 3600 // 60} min (Security > Authentication"
                " Policies > the PSC app's policy > the rule > Edit).",
            )


def redirect_findings(
    apps: Mapping[str, Mapping[str, Any] | None],
    settings: Settings,
    psc_issuer: str,
    report: Report,
) -> None:
    """Whether each PSC app lists PSC's broker endpoint among its sign-in redirect URIs."""
    if not settings.kc_idp_hint:
        report.holds.append("PSC_KC_IDP_HINT is not set: the redirect URI check is skipped.")
        return
    expected = broker_endpoint(psc_issuer, settings.kc_idp_hint)
    for client, app in sorted(apps.items()):
        if app is None:
            report.add(
                "app-not-found",
                f"No app of the org has the client id {client} (PSC_CLIENT_IDS).",
                "Set PSC_CLIENT_IDS to the PSC app's Client ID (Applications > the PSC app >"
                " General).",
            )
            continue
        uris = ((app.get("settings") or {}).get("oauthClient") or {}).get("redirect_uris") or []
        if expected in uris:
            report.holds.append(f"The app {app.get('label')!r} redirects to {expected}.")
        else:
            report.add(
                "redirect-uri-missing",
                f"The app {app.get('label')!r} ({client}) does not list PSC's broker endpoint"
                f" {expected} among its sign-in redirect URIs: sign-ins from PSC fail.",
                "Add it in Applications > the PSC app > General > Sign-in redirect URIs (for"
                " PSC's production, run the doctor with --psc-issuer set to its issuer).",
            )


def authentication_policies(
    client: okta_api.OktaClient, apps: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, list[dict[str, Any]]]:
    """The rules of each PSC app's authentication policy, by the app's label."""
    found = {}
    for app in apps.values():
        href = (((app or {}).get("_links") or {}).get("accessPolicy") or {}).get("href")
        if href:
            policy = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
            found[f"the app {app.get('label')!r}"] = client.listing(
                okta_api.policy_rules_path(policy)
            )
    return found
