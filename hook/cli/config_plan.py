"""What the service will do with a valid configuration, claim by claim (the plan), as data
and as text, secrets shown only as fingerprints: what ``psc-hook check-config`` prints and
the evidence dossier shows."""

from __future__ import annotations

from typing import Any

from hook.cli.output import fingerprint
from hook.config import AUTH_AGE_LEEWAY_SECONDS, CLAIM_NAMES, Settings
from hook.oauth import ALGORITHMS
from hook.okta import TOKEN_NAMES
from hook.psc_amr_sets import published
from hook.refusals import ASSURANCE_HELP, span
from hook.tenants import Tenant, identifier_note

CLAIM_SOURCES = {
    "oid": "the user's Okta id (sub, or uid); none without a user",
    "amr": "Okta's methods, enriched by the amr rules",
}


def _notes(settings: Settings) -> list[str]:
    """What is taken but worth a look: a tid or kc_idp_hint in none of PSC's usual forms."""
    named = [("PSC_TENANT_ID", settings.tenant_id), ("PSC_KC_IDP_HINT", settings.kc_idp_hint)]
    for tenant in settings.tenants.tenants if settings.tenants else ():
        named += [("PSC_TENANTS tid", tenant.tid)]
        named += [(f"PSC_TENANTS kc_idp_hint (tenant {tenant.tid!r})", tenant.kc_idp_hint)]
    return [note for name, value in named if value and (note := identifier_note(name, value))]


def plan(settings: Settings) -> dict[str, Any]:
    """What the service will do, as data: the claims' places, auth, gate, amr table (each
    rule with where it comes from); secrets only as fingerprints. The evidence dossier
    shows the same."""
    auth: dict[str, Any] = {"modes": list(settings.auth_modes)}
    if "header" in settings.auth_modes:
        read = bool(settings.secrets)  # None: a command that leaves HOOK_SECRETS unread
        auth["header"] = {
            "name": settings.auth_header,
            "secrets": len(settings.secrets) if read else None,
            "first": fingerprint(settings.secrets[0]) if read else None,
        }
    if settings.oauth is not None:
        oauth = settings.oauth
        auth["oauth"] = {
            "issuer": oauth.issuer,
            "audience": oauth.audience,
            "jwks_uri": oauth.jwks_uri,
            "scopes": list(oauth.scopes),
            "client_ids": sorted(oauth.client_ids),
            "algorithms": list(ALGORITHMS),
        }
    tenants = settings.tenants
    return {
        "tid": settings.tenant_id or None,
        "tenants": None
        if tenants is None
        else [
            {
                "tid": tenant.tid,
                "kc_idp_hint": tenant.kc_idp_hint,
                "match": sorted(tenant.match),
                "client_ids": sorted(tenant.client_ids),
                "route": _route(tenant),
            }
            for tenant in tenants.tenants
        ],
        "tenant_claim": settings.tenant_claim if tenants else None,
        "cps_idp_ids": sorted(settings.cps_idp_ids),
        "max_auth_age": settings.max_auth_age,
        "clients": sorted(settings.client_ids),
        "claims": {kind: list(names) for kind, names in settings.claims.items()},
        "kc_idp_hint": settings.kc_idp_hint,
        "min_assurance": settings.min_assurance,
        "auth": auth,
        "amr_rules": [
            {
                "name": rule.name,
                "when": sorted(rule.when),
                "through_idps": None if rule.through is None else sorted(rule.through),
                "amr": list(rule.amr),
                "assurance": rule.assurance,
                "origin": rule.origin,
                "source": rule.source,
                "why": rule.why,
                "assurance_override": rule.override or None,
                "psc_set": _psc_set(rule.amr),
            }
            for rule in settings.amr_table.rules
        ],
        "amr_aliases": dict(settings.amr_table.aliases),
        "max_body_bytes": settings.max_body_bytes,
        "log": {
            "level": settings.log_level,
            "format": settings.log_format,
            "user_ref": settings.log_user_key is not None,  # the key itself is never shown
        },
        "port": settings.port,
        "warnings": list(settings.warnings),
        "notes": [*_notes(settings), *_unpublished(settings)],
    }


def _psc_set(amr: tuple[str, ...]) -> dict[str, str] | None:
    """The published PSC set a rule's output is, with its assurance and source."""
    known = published(amr)
    return None if known is None else {"assurance": known.assurance, "source": known.source}


def _unpublished(settings: Settings) -> list[str]:
    """A note for each amr rule whose output is none of PSC's published sets: PSC may
    refuse it, and no source says it will not."""
    return [
        f"amr rule {rule.name!r} gives {' '.join(rule.amr)}: none of PSC's published sets"
        for rule in settings.amr_table.rules
        if published(rule.amr) is None
    ]


def _auth_lines(auth: dict[str, Any]) -> list[str]:
    lines = []
    if header := auth.get("header"):
        lines.append(
            f"header: Okta sends the secret in {header['name']!r}"
            f" ({header['secrets']} accepted; values not shown)"
        )
        lines.append(
            f"  newest first: register gives Okta the first ({header['first']}), send sends it"
        )
    if oauth := auth.get("oauth"):
        lines.append(
            f"oauth: a bearer from {oauth['issuer']} for audience {oauth['audience']!r},"
            f" keys at {oauth['jwks_uri']}, scopes {', '.join(oauth['scopes']) or 'any'},"
            f" clients {', '.join(oauth['client_ids']) or 'any'},"
            f" algorithms {', '.join(oauth['algorithms'])}"
        )
    return lines


def _route(tenant: Tenant) -> str:
    """How a sign-in reaches ``tenant``: what routes to it, and what the claim must say."""
    routes = []
    if tenant.kc_idp_hint:
        routes.append(f"PSC's redirect URI .../broker/{tenant.kc_idp_hint}/endpoint")
    if tenant.client_ids:
        routes.append(f"client {', '.join(sorted(tenant.client_ids))}")
    values = " or ".join(sorted(tenant.match))
    if not routes:
        return f"no route: its claim names it alone (with {values}); never through PSC's broker"
    if tenant.match:
        return f"{' or '.join(routes)}; the claim must contain {values}"
    return f"{' or '.join(routes)}; the claim must be absent, or a list naming no other one"


def _tenant_lines(plan: dict[str, Any]) -> list[str]:
    """The PSC_TENANTS table, one establishment a line, then how each is routed."""
    lines = [
        "",
        "establishments (PSC_TENANTS): PSC's route decides (its broker redirect URI's alias is"
        f" a kc_idp_hint, or the client), the {plan['tenant_claim']!r} claim (PSC_TENANT_CLAIM)"
        " confirms; none or two: refused",
    ]
    rows = [
        (
            tenant["tid"],
            tenant["kc_idp_hint"] or "-",
            ", ".join(tenant["match"]) or "-",
            ", ".join(tenant["client_ids"]) or "-",
        )
        for tenant in plan["tenants"]
    ]
    table = [("tid", "kc_idp_hint", "claim values", "clients"), *rows]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    for row in table:
        cells = [f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)]
        lines.append("  " + "  ".join([*cells, row[3]]))
    lines += ["", "routes (a sign-in gets the establishment when)"]
    width = max(len(tenant["tid"]) for tenant in plan["tenants"])
    lines += [f"  {tenant['tid']:<{width}}  {tenant['route']}" for tenant in plan["tenants"]]
    return lines


def _gate_lines(plan: dict[str, Any]) -> list[str]:
    cps = plan["cps_idp_ids"]
    age = plan["max_auth_age"]
    return [
        "cps card IdPs  "
        + (
            f"{', '.join(cps)}: eleve only through them (PSC_CPS_IDP_IDS)"
            if cps
            else "none (PSC_CPS_IDP_IDS unset): a CPS card gives no eleve"
        ),
        "max auth age   "
        + (
            f"{span(age)} (+{AUTH_AGE_LEEWAY_SECONDS} s of clock leeway): older sign-ins, and"
            " those of unknown age, are refused"
            if age
            else "no gate (PSC_MAX_AUTH_AGE unset)"
        ),
    ]


def plan_text(plan: dict[str, Any]) -> str:
    """The plan as check-config prints it."""
    tenants = plan["tenants"]
    values = {
        **CLAIM_SOURCES,
        "tid": plan["tid"] or f"the token's establishment, among {len(tenants or ())}",
        "kc_idp_hint": plan["kc_idp_hint"]
        or (
            "the token's establishment's, when it has one"
            if tenants
            else "not set (PSC_KC_IDP_HINT): never emitted"
        ),
    }
    lines = ["Configuration is valid. The plan:"]
    if tenants:
        lines += _tenant_lines(plan)
    lines += ["", "claims (value -> tokens)"]
    for claim in CLAIM_NAMES:
        tokens = [TOKEN_NAMES[kind] for kind, names in plan["claims"].items() if claim in names]
        where = " and ".join(f"{name} token" for name in tokens) or "no token"
        lines.append(f"  {claim:<12} {values[claim]} -> {where}")
    gate = plan["min_assurance"]
    lines += [
        "",
        f"clients        {', '.join(plan['clients']) or 'every client of the server'}",
        f"min assurance  {gate}"
        + (" (no gate)" if gate == "none" else f": user tokens need {ASSURANCE_HELP[gate]}"),
        *_gate_lines(plan),
        "auth           " + "\n               ".join(_auth_lines(plan["auth"])),
        f"limits         body up to {plan['max_body_bytes']} bytes; log {plan['log']['level']}"
        f" as {plan['log']['format']}; port {plan['port']}",
        "user_ref       "
        + (
            "each line names its user by a keyed hash (HOOK_LOG_USER_KEY; value not shown)"
            if plan["log"]["user_ref"]
            else "not logged (HOOK_LOG_USER_KEY unset)"
        ),
        "",
        "amr rules in force (strongest first; extend with PSC_AMR_RULES)",
    ]
    for rule in plan["amr_rules"]:
        through = rule["through_idps"]
        idps = "" if through is None else f" through {', '.join(through) or 'no IdP: never'}"
        lines.append(
            f"  {rule['name']}: {' + '.join(rule['when'])}{idps} -> {' '.join(rule['amr'])}"
            f" ({rule['assurance']})"
        )
        psc = rule["psc_set"]
        lines.append(
            f"    PSC's {psc['assurance']} set: {psc['source']}"
            if psc
            else "    ! none of PSC's published sets"
        )
    lines.append("  otherwise: Okta's labels pass through, nothing is added")
    aliases = ", ".join(f"{key} = {value}" for key, value in plan["amr_aliases"].items())
    lines.append(f"  aliases: {aliases or 'none'}")
    if plan["warnings"]:
        lines += ["", "warnings"] + [f"  ! {warning}" for warning in plan["warnings"]]
    if plan["notes"]:
        lines += ["", "notes"] + [f"  - {note}" for note in plan["notes"]]
    return "\n".join(lines)
