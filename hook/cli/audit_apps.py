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
from hook.psc_environments import ENVIRONMENTS, Environment, broker_alias, broker_endpoint

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


#: The key of a PSC issuer given with --psc-issuer that is none of the table's.
OTHER_ISSUER = "other"


def psc_at(issuer: str) -> Environment:
    """The environment of PSC's table whose issuer this is, or one made for it."""
    issuer = issuer.rstrip("/")
    known = next((psc for psc in ENVIRONMENTS if psc.issuer == issuer), None)
    return known or Environment(OTHER_ISSUER, issuer, "", note="given with --psc-issuer")


def named(psc: Environment) -> str:
    """How the doctor names an environment: PSC's sandbox, PSC's former sandbox..."""
    if psc.key == OTHER_ISSUER:
        return f"PSC at {psc.issuer}"
    return f"PSC's {psc.key.replace('-', ' ')}"


def _environment_of(uri: str) -> Environment | None:
    """The environment of PSC whose broker endpoint ``uri`` is, if any."""
    if broker_alias(uri) is None:
        return None
    return next(psc for psc in ENVIRONMENTS if uri.startswith(f"{psc.issuer}/broker/"))


def redirect_findings(
    apps: Mapping[str, Mapping[str, Any] | None],
    settings: Settings,
    psc: Environment,
    report: Report,
) -> None:
    """Whether each PSC app lists the broker endpoint of the environment of PSC checked
    among its sign-in redirect URIs; PSC's former sandbox host is named as such."""
    if psc.former:
        report.notes.append(f"{psc.issuer}: {psc.note}.")
    if not settings.kc_idp_hint:
        report.holds.append("PSC_KC_IDP_HINT is not set: the redirect URI check is skipped.")
        return
    expected, where = broker_endpoint(psc.issuer, settings.kc_idp_hint), named(psc)
    for client, app in sorted(apps.items()):
        if app is None:
            continue
        uris = ((app.get("settings") or {}).get("oauthClient") or {}).get("redirect_uris") or []
        others = {uri: _environment_of(uri) for uri in uris if uri != expected}
        others = {uri: other for uri, other in others.items() if other is not None}
        former = [uri for uri, other in others.items() if other.former]
        for uri in former:
            report.notes.append(
                f"The app {app.get('label')!r} lists {uri}, on PSC's former sandbox host:"
                f" {others[uri].note}."
            )
        if expected in uris:
            report.holds.append(f"The app {app.get('label')!r} redirects to {expected} ({where}).")
            continue
        listed = "; ".join(f"{uri} ({named(other)})" for uri, other in others.items())
        report.add(
            "redirect-uri-missing",
            f"The app {app.get('label')!r} ({client}) does not list the broker endpoint of"
            f" {where}, {expected}, among its sign-in redirect URIs: sign-ins from {where}"
            " fail." + (f" It lists PSC's broker endpoints {listed}." if listed else ""),
            "Add it in Applications > the PSC app > General > Sign-in redirect URIs"
            + (", and remove the former sandbox host's" if former else "")
            + ". To check another environment of PSC, run the doctor with --psc-env"
            " sandbox|production, or --psc-issuer URL.",
        )


def app_findings(apps: Mapping[str, Mapping[str, Any] | None], report: Report) -> None:
    """Each client of PSC_CLIENT_IDS is an app of the org."""
    for client, app in sorted(apps.items()):
        if app is None:
            report.add(
                "app-not-found",
                f"No app of the org has the client id {client} (PSC_CLIENT_IDS).",
                "Set PSC_CLIENT_IDS to the PSC app's Client ID (Applications > the PSC app >"
                " General).",
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
