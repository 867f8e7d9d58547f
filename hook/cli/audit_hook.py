"""The doctor's audit of the hook and the rules that call it: the hook's status, URL and
channel against the local configuration, then the access-policy rules that call it, the
clients they serve (PSC_CLIENT_IDS, PSC_TENANTS) and the tenant claim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hook.cli import okta_api
from hook.cli.report import Report
from hook.config import Settings
from hook.okta import HOOK_PATH

ALL_CLIENTS = "ALL_CLIENTS"
ATTACH_BY_HAND = (
    "Security > API > Authorization Servers > the PSC server > Access Policies > the rule >"
    " Edit > Use this inline hook"
)
#: Which mode of HOOK_AUTH_MODE serves each of Okta's channel types.
CHANNEL_MODES = {"HTTP": "header", "OAUTH": "oauth"}


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


@dataclass(frozen=True)
class Wiring:
    """What the audit found of the hook: the hook (None when none is chosen), the rules
    that call it."""

    hook: dict[str, Any] | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def called(self) -> bool:
        """Whether Okta calls the hook: it is active, and an active rule calls it."""
        return (self.hook or {}).get("status") == "ACTIVE" and any(
            attachment.active for attachment in self.attachments
        )


def audit_hook(
    client: okta_api.OktaClient,
    settings: Settings,
    wanted: str | None,
    auth_server: str | None,
    report: Report,
) -> Wiring:
    """The hook (``wanted``: its name or id), then the rules of ``auth_server`` (None: of
    every server) that call it, each in its area."""
    report.begin("hook")
    hook = choose_hook(client.listing(okta_api.TOKEN_HOOKS_PATH), wanted, report)
    if hook is None:
        return Wiring()
    hook_findings(hook, settings, report)
    report.begin("rules")
    servers = _servers(client, auth_server, report)
    if not servers:
        return Wiring(hook)
    attachments = _attachments(client, okta_api.object_id(hook, "an inline hook"), servers)
    coverage_findings(attachments, settings, report, auth_server or "any authorization server")
    tenant_findings(attachments, _claims(client, attachments, settings), settings, report)
    return Wiring(hook, attachments)
