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

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.cli.audit_apps import audit_apps, psc_at
from hook.cli.audit_hook import choose_hook, hook_findings
from hook.cli.audit_idps import audit_idps
from hook.cli.audit_trial import trial_run
from hook.cli.environment import environment
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
from hook.cli.report import Report
from hook.cli.terminal import LINE, printable, printable_lines
from hook.config import ConfigError, Part, Settings, https_url, load_settings
from hook.psc_environments import ENVIRONMENTS, Environment
from hook.psc_environments import environment as environment_of

#: The environments of PSC an operator names with --psc-env (the former host is recognised
#: in --psc-issuer and in the apps' redirect URIs, never proposed).
PSC_ENVIRONMENTS = tuple(psc.key for psc in ENVIRONMENTS if not psc.former)
DEFAULT_PSC_ENVIRONMENT = "sandbox"
DEFAULT_SAMPLE = "password-okta-verify-push"
ALL_CLIENTS = "ALL_CLIENTS"
ATTACH_BY_HAND = (
    "Security > API > Authorization Servers > the PSC server > Access Policies > the rule >"
    " Edit > Use this inline hook"
)


@dataclass(frozen=True)
class Target:
    """What to look at: the hook (name or id), an authorization server, PSC's environment
    (its issuer gives the redirect URI)."""

    hook: str | None = None
    auth_server: str | None = None
    psc: Environment = field(default_factory=lambda: environment_of(DEFAULT_PSC_ENVIRONMENT))
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
        trial_run(client, hook_id, settings, target.sample, target.psc, report)
    audit_idps(client, settings, report)
    audit_apps(client, settings, target.psc, report)
    return report


# the command ------------------------------------------------------------------------------


def _doctor_text(report: Report, org: str) -> str:
    lines = [f"Checked {org} against this configuration.", ""]
    lines += [f"  ok  {line}" for line in report.holds]
    lines += [f"  note  {line}" for line in report.notes]
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


def _psc(key: str | None, issuer: str | None) -> Environment:
    """The environment of PSC to check, from --psc-env or --psc-issuer (not both)."""
    if issuer is None:
        return environment_of(key or DEFAULT_PSC_ENVIRONMENT)
    if key is not None:
        raise ConfigError("--psc-issuer: give it or --psc-env, not both")
    return psc_at(https_url("--psc-issuer", issuer.strip()))


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
    "--psc-env",
    type=click.Choice(PSC_ENVIRONMENTS),
    help=f"the environment of PSC whose redirect URI the PSC app must list (default"
    f" {DEFAULT_PSC_ENVIRONMENT})",
)
@click.option("--psc-issuer", help="PSC's issuer, for an environment --psc-env does not name")
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
    psc_env: str | None,
    psc_issuer: str | None,
    sample: str,
    timeout: float,
    as_json: bool,
) -> int:
    """Check the Okta org against this configuration: the hook, the rules that call it, a
    test run, PSC's redirect URI in one of its environments (read-only; as a service app,
    OKTA_CLIENT_ID and OKTA_PRIVATE_KEY, or with OKTA_API_TOKEN)."""
    env = environment()
    settings = load_settings(env, parts=(Part.CALLERS,))  # its secrets: never used here
    org = org_url("--org", org)
    psc = _psc(psc_env, psc_issuer)
    auth_server = okta_id("--auth-server", auth_server, "aus") if auth_server else None
    client = okta_auth.connect(
        env,
        org,
        timeout,
        okta_scopes.DOCTOR_READS,
        okta_scopes.TEST_RUN_SCOPES,
        as_json=as_json,
    )
    target = Target(hook, auth_server, psc, sample)
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
