"""The doctor's audit of the PSC apps: their redirect URIs, and the rules of their
authentication policies (how often they re-authenticate, which methods they let in)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hook.amr import decide
from hook.cli import okta_api, okta_methods
from hook.cli.report import Report
from hook.config import Settings
from hook.psc_amr_sets import PUBLISHED, PscSet, published
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


def _reauthentications(method: Mapping[str, Any]) -> list[Any]:
    """When a verification method asks again: its ``reauthenticateIn``, or each chain's."""
    if method.get("type") == "AUTH_METHOD_CHAIN" and not method.get("reauthenticateIn"):
        chains = method.get("chains") if isinstance(method.get("chains"), list) else []
        return [chain.get("reauthenticateIn") for chain in chains if isinstance(chain, dict)]
    return [method["reauthenticateIn"]] if method.get("reauthenticateIn") else []


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
            if okta_api.at(rule, "actions", "appSignOn", "access") == "DENY":
                continue
            method = okta_api.at(rule, "actions", "appSignOn", "verificationMethod")
            every = _reauthentications(method if isinstance(method, dict) else {})
            seconds = [duration_seconds(text) for text in every]
            if every and None not in seconds and max(map(int, seconds)) <= limit:
                report.holds.append(
                    f"The authentication policy {label}, rule {rule.get('name')!r},"
                    f" re-authenticates within {', '.join(every)}."
                )
                continue
            report.add(
                "reauth-too-long",
                f"The authentication policy {label}, rule {rule.get('name')!r}, re-"
                f"authenticates after {', '.join(map(str, every)) or 'no set time'}, longer"
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
        uris = okta_api.strings(okta_api.at(app, "settings", "oauthClient", "redirect_uris"))
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
    """The rules of each PSC app's authentication policy (an ``AccessPolicy``), by a label
    naming the policy and the app."""
    found = {}
    for app in apps.values():
        href = okta_api.at(app, "_links", "accessPolicy", "href")
        if app is None or not isinstance(href, str) or not href:
            continue
        policy_id = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
        try:
            policy = client.call(okta_api.ApiCall("GET", okta_api.policy_path(policy_id)))
        except okta_api.NotFound:
            continue  # the app's link names a policy the org no longer has: nothing to read
        label = f"{policy.get('name')!r} ({policy_id}) of the app {app.get('label')!r}"
        found[label] = client.listing(okta_api.policy_rules_path(policy_id))
    return found


def _verdict(way: okta_methods.Way, settings: Settings) -> tuple[str, PscSet | None]:
    """Whether a way in gives PSC's set as Okta records it (``okta``), only after the hook
    in the access token (``hook``), or not at all (``none``)."""
    labels = okta_methods.recorded(way)
    if (native := published(labels)) is not None:
        return "okta", native
    if "amr" in settings.claims["access"]:
        hooked = published(decide(labels, settings.amr_table).after)
        if hooked is not None:
            return "hook", hooked
    return "none", None


def method_findings(
    policies: Mapping[str, list[dict[str, Any]]], settings: Settings, report: Report
) -> None:
    """What each ALLOW rule of the PSC apps' authentication policies lets a user sign in
    with, against PSC's published amr sets: Okta's own record (the ID token's amr, which
    the hook may not change), then the hook's (the access token's)."""
    for label, rules in sorted(policies.items()):
        for rule in rules:
            verdicts = {way: _verdict(way, settings) for way in okta_methods.ways_in(rule)}
            where = f"The authentication policy {label}, rule {rule.get('name')!r},"
            for way, (kind, psc) in verdicts.items():
                if kind == "hook" and psc is not None:
                    report.notes.append(
                        f"{where} lets a user in with {okta_methods.described(way)}: Okta"
                        f" records {' '.join(okta_methods.recorded(way))}, which the hook turns"
                        f" into PSC's {psc.assurance} set in the access token only; the ID"
                        " token keeps Okta's own amr, which a hook may not change."
                    )
            bad = [way for way, (kind, _) in verdicts.items() if kind == "none"]
            if bad:
                fine = {m for way, (kind, _) in verdicts.items() if kind != "none" for m in way}
                _non_psc(where, bad, fine, report)
            elif native := [way for way, (kind, _) in verdicts.items() if kind == "okta"]:
                report.holds.append(
                    f"{where} lets users in with"
                    f" {'; '.join(map(okta_methods.described, native))}, for which Okta itself"
                    " records one of PSC's sets."
                )


def _non_psc(
    where: str, bad: list[okta_methods.Way], fine: set[okta_methods.Method], report: Report
) -> None:
    """The finding of a rule that lets users in without PSC's sets, naming the methods to
    blame (in no way that reaches a set, and with labels in no PSC set: an SMS, a security
    question...), or the ways themselves (the password alone, FastPass alone)."""
    sets = [known.amr for known in PUBLISHED]
    blamed = [
        method
        for method in okta_methods.METHODS
        if any(method in way for way in bad)
        and method not in fine
        and not any(set(method.amr) <= amr for amr in sets)
    ]
    names = [method.label for method in blamed]
    names += [okta_methods.described(way) for way in bad if not set(way) & set(blamed)]
    first = bad[0]
    report.add(
        "policy-allows-non-psc-method",
        f"{where} lets a user in with {', '.join(names)}: Okta records such a sign-in"
        f" ({okta_methods.described(first)}: {' '.join(okta_methods.recorded(first))}) with"
        " none of PSC's amr sets, even after the hook, so PSC may refuse it.",
        "Edit the rule (Security > Authentication Policies > the policy > the rule): require"
        " the password and an Okta Verify push, which Okta itself records as PSC's"
        f" substantiel set in both tokens, and take out {', '.join(names)}; a CPS card comes"
        " through the smart-card IdP of PSC_CPS_IDP_IDS (élevé).",
    )


def audit_apps(
    client: okta_api.OktaClient, settings: Settings, psc: Environment, report: Report
) -> None:
    """Each PSC app (PSC_CLIENT_IDS): it exists, lists PSC's redirect URI, and its
    authentication policy re-authenticates in time and lets users in only with PSC's sets."""
    report.begin("apps")
    apps: dict[str, Mapping[str, Any] | None] = {}
    for client_id in settings.client_ids:
        try:
            apps[client_id] = client.call(okta_api.ApiCall("GET", okta_api.app_path(client_id)))
        except okta_api.NotFound:
            apps[client_id] = None
    app_findings(apps, report)
    redirect_findings(apps, settings, psc, report)
    report.begin("policies")
    policies = authentication_policies(client, apps)
    reauth_findings(policies, settings, report)
    method_findings(policies, settings, report)
