"""``psc-hook doctor``: is the Okta org wired to this service? Findings as data.

Okta voids a whole patch, or never calls the hook, without a word to the user: tokens
then come out without ``tid``/``oid``/``amr`` and PSC refuses every login. The doctor
reads the org with GETs only, plus Okta's documented test run of the hook (``POST
/api/v1/inlineHooks/{id}/execute``), compares what it finds with the local configuration,
and returns a :class:`Report`: each :class:`Finding` says what is wrong and what to do;
what holds is kept too, so the operator sees what was covered. The command, at the end,
prints the report.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import click

from hook import samples
from hook.cli import check_token, okta_api, okta_auth
from hook.cli.environment import environment
from hook.cli.okta_applier import apply_answer
from hook.cli.okta_args import okta_id, org_url
from hook.cli.options import json_option, timeout_option
from hook.cli.output import (
    BAD_INPUT,
    OKTA_ERROR,
    ORG_UNREACHABLE,
    RATE_LIMITED,
    REJECTED,
    epilog,
    print_json,
    progress,
)
from hook.cli.playing import SampleName
from hook.cli.terminal import LINE, printable, printable_lines
from hook.config import Settings, https_url, load_settings
from hook.okta import HOOK_PATH, TOKEN_NAMES

#: PSC's sandbox issuer (PSC's docs); its Keycloak broker endpoint is the redirect URI.
PSC_SANDBOX_ISSUER = "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet"
DEFAULT_SAMPLE = "password-okta-verify-push"
ALL_CLIENTS = "ALL_CLIENTS"
ATTACH_BY_HAND = (
    "Security > API > Authorization Servers > the PSC server > Access Policies > the rule >"
    " Edit > Use this inline hook"
)
#: The scopes of what the doctor reads (Okta's OpenAPI); the test run of the hook needs a
#: manage scope, asked too but done without (okta-management.md, "Least-privilege access").
SCOPES = (
    okta_auth.READ_HOOKS,
    okta_auth.READ_SERVERS,
    okta_auth.READ_IDPS,
    okta_auth.READ_APPS,
    okta_auth.READ_POLICIES,
)
TEST_RUN_SCOPES = (okta_auth.MANAGE_HOOKS,)
#: Which mode of HOOK_AUTH_MODE serves each of Okta's channel types.
CHANNEL_MODES = {"HTTP": "header", "OAUTH": "oauth"}


@dataclass(frozen=True)
class Finding:
    """Something that keeps PSC's claims out of the tokens: what is wrong, what to do."""

    code: str
    problem: str
    fix: str


@dataclass
class Report:
    """What the doctor found: the findings to fix, in order, and what holds."""

    findings: list[Finding] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    #: The checks not made, and why (the credentials do not allow them).
    skipped: list[str] = field(default_factory=list)

    def add(self, code: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(code, problem, fix))

    def as_dict(self) -> dict[str, Any]:
        findings = [asdict(finding) for finding in self.findings]
        return {"findings": findings, "holds": self.holds, "skipped": self.skipped}


@dataclass(frozen=True)
class Target:
    """What to look at: the hook (name or id), an authorization server, PSC's issuer."""

    hook: str | None = None
    auth_server: str | None = None
    psc_issuer: str = PSC_SANDBOX_ISSUER
    sample: str = DEFAULT_SAMPLE


@dataclass(frozen=True)
class Attachment:
    """An access-policy rule that calls the hook, with its policy's clients."""

    server: Mapping[str, Any]
    policy: Mapping[str, Any]
    rule: Mapping[str, Any]

    @property
    def active(self) -> bool:
        return all(part.get("status") == "ACTIVE" for part in (self.server, self.policy, self.rule))

    @property
    def clients(self) -> list[str]:
        return okta_api.strings(okta_api.at(self.policy, "conditions", "clients", "include"))

    def describe(self) -> str:
        return (
            f"rule {self.rule.get('name')!r} ({self.rule.get('id')}) of policy"
            f" {self.policy.get('name')!r} on authorization server {self.server.get('name')!r}"
            f" ({self.server.get('id')})"
        )


def broker_endpoint(psc_issuer: str, hint: str) -> str:
    """PSC's Keycloak broker endpoint for ``hint``: the redirect URI the PSC app must list."""
    return f"{psc_issuer.rstrip('/')}/broker/{hint}/endpoint"


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


def coverage_findings(
    attachments: list[Attachment], settings: Settings, report: Report, searched: str
) -> None:
    """Which rules call the hook and which clients they serve, against PSC_CLIENT_IDS."""
    active = [attachment for attachment in attachments if attachment.active]
    for attachment in attachments:
        if not attachment.active:
            report.add(
                "rule-inactive",
                f"The {attachment.describe()} calls the hook but is not ACTIVE (the server, the"
                " policy or the rule): Okta does not use it.",
                "Activate it in Security > API > Authorization Servers, or attach the hook to"
                " the active rule PSC's app uses.",
            )
    if not attachments:
        report.add(
            "hook-not-attached",
            f"No access-policy rule on {searched} calls the hook: Okta never calls it, and"
            " issues tokens without tid, oid and amr.",
            "Attach it to the rule PSC's app uses: psc-hook register --auth-server ... --policy"
            f" ... --rule ..., or by hand: {ATTACH_BY_HAND}.",
        )
    for attachment in active:
        clients = ", ".join(attachment.clients) or "no client"
        report.holds.append(f"The {attachment.describe()} calls the hook, for {clients}.")
    covered = {client for attachment in active for client in attachment.clients}
    if not settings.client_ids:
        report.add(
            "clients-unset",
            "PSC_CLIENT_IDS is not set: the service adds PSC's claims to the tokens of every"
            f" client of these rules ({', '.join(sorted(covered)) or 'none'}), and the doctor"
            " cannot find PSC's app.",
            "Set PSC_CLIENT_IDS to the PSC app's client id, here and on the service.",
        )
    for client in sorted(settings.client_ids):
        if active and ALL_CLIENTS not in covered and client not in covered:
            report.add(
                "client-not-covered",
                f"The PSC client {client} (PSC_CLIENT_IDS) is not assigned to any policy whose"
                " active rule calls the hook: its tokens are issued without PSC's claims.",
                f"Add {client} to the policy's Assigned clients, or attach the hook to the rule"
                f" of the policy that serves it ({ATTACH_BY_HAND}).",
            )


def tenant_findings(
    attachments: list[Attachment],
    claims: Mapping[str, list[dict[str, Any]]],
    settings: Settings,
    report: Report,
) -> None:
    """PSC_TENANTS: each establishment's clients reach the hook, and the tenant claim exists
    on the authorization servers whose rules call it."""
    table = settings.tenants
    if table is None:
        return
    active = [attachment for attachment in attachments if attachment.active]
    covered = {client for attachment in active for client in attachment.clients}
    for tenant in table.tenants:
        for client in sorted(tenant.client_ids):
            if active and ALL_CLIENTS not in covered and client not in covered:
                report.add(
                    "tenant-client-not-covered",
                    f"The client {client} of establishment {tenant.tid} (PSC_TENANTS) is not"
                    " assigned to any policy whose active rule calls the hook: its tokens are"
                    " issued without PSC's claims.",
                    f"Add {client} to the policy's Assigned clients ({ATTACH_BY_HAND}).",
                )
    if not any(tenant.match for tenant in table.tenants):
        return
    name = settings.tenant_claim
    for server, found in sorted(claims.items()):
        if any(claim.get("name") == name and claim.get("status") == "ACTIVE" for claim in found):
            report.holds.append(f"The authorization server {server} issues the {name!r} claim.")
            continue
        report.add(
            "tenant-claim-missing",
            f"The authorization server {server} has no active {name!r} claim"
            " (PSC_TENANT_CLAIM): the hook cannot tell its users' establishments apart and"
            " refuses them as tenant-unmatched.",
            f"Add it: Security > API > Authorization Servers > the PSC server > Claims > Add"
            f" Claim, name {name}, in the ID and access tokens, value the profile attribute"
            " naming the establishment (or a Groups filter).",
        )


def _idp_label(idp: Mapping[str, Any]) -> str:
    return f"{idp.get('name')!r} ({idp.get('id')})"


def smart_card_findings(idps: list[dict[str, Any]], settings: Settings, report: Report) -> None:
    """PSC_CPS_IDP_IDS against the org's smart-card (X509) IdPs: only a CPS reader gives eleve."""
    cards = {idp["id"]: idp for idp in idps
             if idp.get("type") == "X509" and isinstance(idp.get("id"), str)}  # fmt: skip
    known = ", ".join(map(_idp_label, cards.values())) or "none"
    if not settings.cps_idp_ids:
        if cards:
            report.add(
                "cps-idps-unset",
                f"PSC_CPS_IDP_IDS is not set: a CPS card gives no eleve, though the org has"
                f" smart-card IdPs: {known}.",
                "Set PSC_CPS_IDP_IDS to the id of the IdP that reads CPS cards (Security >"
                " Identity Providers), here and on the service.",
            )
        return
    for idp_id in sorted(settings.cps_idp_ids):
        idp = cards.get(idp_id)
        if idp is None or idp.get("status") != "ACTIVE":
            state = "is not a smart-card IdP of the org" if idp is None else "is not ACTIVE"
            report.add(
                "cps-idp-not-found",
                f"PSC_CPS_IDP_IDS names {idp_id}, which {state} (smart-card IdPs: {known}):"
                " its CPS cards give no eleve.",
                "Set PSC_CPS_IDP_IDS to the id of the active smart-card IdP that reads CPS"
                " cards (Security > Identity Providers > the IdP), here and on the service.",
            )
        else:
            report.holds.append(
                f"The smart-card IdP {_idp_label(idp)} reads CPS cards (PSC_CPS_IDP_IDS)."
            )
    others = [idp for idp_id, idp in cards.items() if idp_id not in settings.cps_idp_ids]
    if others:
        report.holds.append(
            f"Other smart-card IdPs give no eleve: {', '.join(map(_idp_label, others))}."
        )


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
            method = okta_api.at(rule, "actions", "appSignOn", "verificationMethod")
            method = method if isinstance(method, dict) else {}
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


def trial_request(settings: Settings, sample: str) -> dict[str, Any]:
    """A shipped sample whose client is PSC's (the first of PSC_CLIENT_IDS), to execute; with
    PSC_TENANTS, a user of the first establishment."""
    request = samples.load(sample)
    data = request["data"]
    first = settings.tenants.tenants[0] if settings.tenants else None
    if first is not None and first.match:
        for kind in ("identity", "access"):
            if data.get(kind):
                data[kind]["claims"][settings.tenant_claim] = min(first.match)
    if first is not None and not first.match:
        client: str | None = min(first.client_ids)
    else:
        client = settings.first_client
    return request if client is None else samples.as_client(request, client)


def answer_findings(
    request: Mapping[str, Any], answer: Any, settings: Settings, report: Report, sample: str
) -> None:
    """What Okta would do with the hook's answer, then PSC's checks on the tokens."""
    if isinstance(answer, dict) and "error" in answer:
        summary = okta_api.at(answer, "error", "errorSummary")
        report.add(
            "hook-refused",
            f"The hook refused the test sign-in ({sample}): {summary}",
            "The service's PSC_MIN_ASSURANCE is above that sign-in: run the doctor with"
            " --sample cps-smart-card, or check PSC_MIN_ASSURANCE on the service.",
        )
        return
    if not isinstance(answer, dict) or not answer.get("commands"):
        report.add(
            "hook-patched-nothing",
            f"The hook answered the test run ({sample}) with nothing to patch: Okta would issue"
            " the tokens without PSC's claims.",
            "The service skips clients outside its PSC_CLIENT_IDS: give it the same"
            " PSC_CLIENT_IDS as here, and redeploy.",
        )
        return
    outcome = apply_answer(request, 200, answer)
    if outcome.voided:
        report.add(
            "patch-voided",
            f"Okta would refuse the hook's answer and issue the tokens without PSC's claims:"
            f" {outcome.voided}.",
            "Take that claim out of PSC_CLAIMS_ID_TOKEN / PSC_CLAIMS_ACCESS_TOKEN on the service"
            " (psc-hook preview shows the same verdict).",
        )
        return
    report.holds.append(f"Okta's test run ({sample}): Okta would apply the hook's answer.")
    for kind, claims in outcome.tokens.items():
        checks = check_token.assess(claims, settings)
        for check in checks:
            if not check.ok:
                report.add(
                    "token-refused",
                    f"PSC would refuse the {TOKEN_NAMES[kind]} token of the test run:"
                    f" {check.name} is {check.detail}.",
                    check.fix or "",
                )
        if all(check.ok for check in checks):
            verdicts = "; ".join(f"{check.name} {check.detail}" for check in checks)
            report.holds.append(f"PSC would accept its {TOKEN_NAMES[kind]} token: {verdicts}.")


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
        uris = okta_api.strings(okta_api.at(app, "settings", "oauthClient", "redirect_uris"))
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


def _attachments(
    client: okta_api.OktaClient, hook_id: str, servers: list[dict[str, Any]]
) -> list[Attachment]:
    found = []
    for server in servers:
        server_id = okta_api.object_id(server, "an authorization server")
        for policy in client.listing(okta_api.policies_path(server_id)):
            policy_id = okta_api.object_id(policy, "a policy")
            for rule in client.listing(okta_api.rules_path(server_id, policy_id)):
                if okta_api.attached_hook(rule) == hook_id:
                    found.append(Attachment(server, policy, rule))
    return found


def _claims(
    client: okta_api.OktaClient, attachments: list[Attachment], settings: Settings
) -> dict[str, list[dict[str, Any]]]:
    """The custom claims of each active server calling the hook, when PSC_TENANTS needs one."""
    if settings.tenants is None:
        return {}
    servers = {a.server.get("id"): a.server for a in attachments if a.active}
    return {
        f"{server.get('name')!r} ({server_id})": client.listing(okta_api.claims_path(server_id))
        for server_id, server in servers.items()
    }


def _servers(client: okta_api.OktaClient, auth_server: str | None, report: Report) -> list:
    if auth_server is None:
        return client.listing(okta_api.AUTH_SERVERS_PATH)
    try:
        return [client.call(okta_api.ApiCall("GET", okta_api.auth_server_path(auth_server)))]
    except okta_api.NotFound:
        report.add(
            "auth-server-not-found",
            f"No authorization server {auth_server!r} in the org (--auth-server).",
            "Give the id (aus...) of the PSC authorization server: Security > API >"
            " Authorization Servers, or leave --auth-server out to search them all.",
        )
        return []


def _execute(
    client: okta_api.OktaClient, hook_id: str, settings: Settings, sample: str, report: Report
) -> None:
    if not all(client.allows(scope) for scope in TEST_RUN_SCOPES):
        report.skipped.append(
            f"Okta's test run of the hook: it needs {', '.join(TEST_RUN_SCOPES)}, which the"
            " service app was not granted (grant it to have the doctor run it)."
        )
        return
    request = trial_request(settings, sample)
    try:
        answer = client.send(okta_api.execute_call(hook_id, request))
    except okta_api.Forbidden as error:  # a role that may read but not run hooks
        report.skipped.append(f"Okta's test run of the hook: Okta refused it. {error}")
        return
    except (okta_api.Unreachable, okta_api.Unauthorized, okta_api.RateLimited):
        raise
    except okta_api.ApiError as error:
        report.add(
            "hook-test-failed",
            f"Okta's test run of the hook failed: {error}",
            "Okta got no answer it accepts from the service: check that the hook's URL is the"
            " deployed service, that GET /readyz answers 200, and that the secret Okta holds is"
            " one of HOOK_SECRETS (the service's log line then shows no auth_failure).",
        )
        return
    answer_findings(request, answer, settings, report, sample)


def diagnose(client: okta_api.OktaClient, settings: Settings, target: Target) -> Report:
    """Every check, in the order an operator would fix things; Okta's API errors propagate."""
    report = Report()
    hook = choose_hook(client.listing(okta_api.TOKEN_HOOKS_PATH), target.hook, report)
    if hook is not None:
        hook_id = okta_api.object_id(hook, "an inline hook")
        hook_findings(hook, settings, report)
        servers = _servers(client, target.auth_server, report)
        if servers:
            searched = target.auth_server or "any authorization server"
            attachments = _attachments(client, hook_id, servers)
            coverage_findings(attachments, settings, report, searched)
            tenant_findings(attachments, _claims(client, attachments, settings), settings, report)
        _execute(client, hook_id, settings, target.sample, report)
    smart_card_findings(client.listing(okta_api.SMART_CARD_IDPS_PATH), settings, report)
    apps: dict[str, Mapping[str, Any] | None] = {}
    wanted = settings.kc_idp_hint or settings.max_auth_age is not None
    for client_id in settings.client_ids if wanted else ():
        try:
            apps[client_id] = client.call(okta_api.ApiCall("GET", okta_api.app_path(client_id)))
        except okta_api.NotFound:
            apps[client_id] = None
    redirect_findings(apps, settings, target.psc_issuer, report)
    if settings.max_auth_age is not None:
        reauth_findings(_authentication_policies(client, apps), settings, report)
    return report


def _authentication_policies(
    client: okta_api.OktaClient, apps: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, list[dict[str, Any]]]:
    """The rules of each PSC app's authentication policy, by the app's label."""
    found = {}
    for app in apps.values():
        href = okta_api.at(app, "_links", "accessPolicy", "href")
        if isinstance(href, str) and href:
            policy = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
            found[f"the app {app.get('label')!r}"] = client.listing(
                okta_api.policy_rules_path(policy)
            )
    return found


# the command ------------------------------------------------------------------------------


def _doctor_text(report: Report, org: str) -> str:
    lines = [f"Checked {org} against this configuration.", ""]
    lines += [f"  ok  {line}" for line in report.holds]
    lines += [f"  --  skipped: {line}" for line in report.skipped]
    if not report.findings:
        lines += ["", "Everything holds: Okta calls the hook and PSC would accept its tokens."]
        return "\n".join(lines)
    lines += ["", f"{len(report.findings)} finding(s), in the order to fix them:"]
    for number, finding in enumerate(report.findings, start=1):
        lines += [
            f"{number}. [{finding.code}] {finding.problem}",
            f"   what to do: {finding.fix}",
        ]
    return "\n".join(lines)


@click.command(
    "doctor",
    epilog=epilog(
        ("psc-hook doctor --org https://chu-exemple.okta.com --auth-server aus1pscExample",),
        {
            0: "everything holds",
            1: f"findings (listed in the order to fix them), or {OKTA_ERROR}",
            2: BAD_INPUT,
            3: ORG_UNREACHABLE,
            4: REJECTED,
            5: RATE_LIMITED,
        },
    ),
)
@click.option("--org", required=True, help="the org's address alone, https://<org>.okta.com")
@click.option("--hook", help="the hook's name or id (default: the org's only token inline hook)")
@click.option("--auth-server", help="the PSC authorization server id (default: search them all)")
@click.option(
    "--psc-issuer",
    default=PSC_SANDBOX_ISSUER,
    help="PSC's issuer, for its broker redirect URI (default: PSC's sandbox)",
)
@click.option(
    "--sample",
    type=SampleName(),
    default=DEFAULT_SAMPLE,
    help=f"the sample sign-in Okta's test run sends (default {DEFAULT_SAMPLE})",
)
@timeout_option
@json_option
def command(
    org: str,
    hook: str | None,
    auth_server: str | None,
    psc_issuer: str,
    sample: str,
    timeout: float,
    as_json: bool,
) -> int:
    """Check the Okta org against this configuration: the hook, the rules that call it, a
    test run, PSC's redirect URI (read-only; as a service app, OKTA_CLIENT_ID and
    OKTA_PRIVATE_KEY, or with OKTA_API_TOKEN)."""
    env = environment()
    settings = load_settings(env)
    org = org_url("--org", org)
    psc_issuer = https_url("--psc-issuer", psc_issuer.strip().rstrip("/"))
    auth_server = okta_id("--auth-server", auth_server, "aus") if auth_server else None
    client = okta_auth.connect(env, org, timeout, SCOPES, TEST_RUN_SCOPES, as_json=as_json)
    target = Target(hook, auth_server, psc_issuer, sample)
    progress(as_json, f"Reading {org} (GET only, and one test run of the hook) ...")
    try:
        report = diagnose(client, settings, target)
    except okta_api.ApiError as error:
        print(f"psc-hook doctor: {printable(str(error), LINE)}", file=sys.stderr)
        if as_json:
            print_json({"error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    if as_json:
        print_json(report.as_dict())
    else:
        print(printable_lines(_doctor_text(report, org)))
    return 1 if report.findings else 0
