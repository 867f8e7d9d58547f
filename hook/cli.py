"""``psc-hook``: from a clone to a hook Okta calls, without reading the code.

Each subcommand prints for a person (``--json`` for a machine) and reuses the service's
own parts: the settings loader, the payload parser, ``build_answer`` and Okta's patch
applier (:func:`hook.okta_applier.apply_answer`). Secrets are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hook import __version__, check_token, doctor, okta_api, payload, samples
from hook.claims import ASSURANCE_HELP, span
from hook.cli_environment import (
    REGISTER_CLIENT_SECRET,
    environment,
    exit_on_error,
    okta_api_token,
    register_client_secret,
    send_bearer_token,
)
from hook.commands import build_answer
from hook.config import (
    AUTH_AGE_LEEWAY_SECONDS,
    CLAIM_NAMES,
    ConfigError,
    Settings,
    https_url,
    is_loopback,
    load_settings,
    okta_keys_uri,
)
from hook.fetch import FetchError as JwksError
from hook.oauth import ALGORITHMS
from hook.okta import COMMAND_TYPES, HOOK_PATH, TOKEN_NAMES
from hook.okta import HOOK_NAME as DEFAULT_HOOK_NAME
from hook.okta_applier import apply_answer

GUNICORN_ARGS = ("-c", "python:hook.gunicorn_conf")
DEMO_SAMPLE = "password-okta-verify-push"
#: The argument that stands for standard input.
STDIN = "-"

EXIT_CODES = """\
exit codes:
  0  done
  1  the service or Okta answered with an error (send, register); Okta would void the
     patch, or the payload is not a token hook request (preview); findings (doctor);
     PSC would refuse the token (check-token)
  2  bad configuration or arguments: one line names what is wrong
  3  the service or the Okta org is unreachable (refused, unknown host, timeout), or
     the org's signing keys cannot be fetched (check-token --issuer)
  4  Okta rejected the API token (401) or its permissions (403)
  5  Okta's rate limit is reached (429); the message gives the reset time
"""

CLAIM_SOURCES = {
    "oid": "the user's Okta id (sub, or uid); none without a user",
    "amr": "Okta's methods, enriched by the amr rules",
}


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _indented(data: Any, prefix: str = "  ") -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return "\n".join(prefix + line for line in text.splitlines())


def fingerprint(secret: bytes) -> str:
    """A short sha256 of a secret: enough to tell two apart, nothing to guess it from."""
    return "sha256 " + hashlib.sha256(secret).hexdigest()[:12]


def _progress(args: argparse.Namespace, message: str) -> None:
    if not args.json:
        print(message, file=sys.stderr)


# check-config -----------------------------------------------------------------------------


def _plan(settings: Settings) -> dict[str, Any]:
    """What the service will do, as data: the claims' places, auth, gate, amr table."""
    auth: dict[str, Any] = {"modes": list(settings.auth_modes)}
    if "header" in settings.auth_modes:
        auth["header"] = {
            "name": settings.auth_header,
            "secrets": len(settings.secrets),
            "first": fingerprint(settings.secrets[0]),
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
            }
            for rule in settings.amr_table.rules
        ],
        "amr_aliases": dict(settings.amr_table.aliases),
        "max_body_bytes": settings.max_body_bytes,
        "log": {"level": settings.log_level, "format": settings.log_format},
        "port": settings.port,
        "warnings": list(settings.warnings),
    }


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


def _tenant_lines(plan: dict[str, Any]) -> list[str]:
    """The PSC_TENANTS table, one establishment a line."""
    lines = [
        "",
        f"establishments (PSC_TENANTS), matched on the {plan['tenant_claim']!r} claim of the"
        " tokens (PSC_TENANT_CLAIM) or on the client; none or several: refused",
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


def _plan_text(plan: dict[str, Any]) -> str:
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
    lines.append("  otherwise: Okta's labels pass through, nothing is added")
    aliases = ", ".join(f"{key} = {value}" for key, value in plan["amr_aliases"].items())
    lines.append(f"  aliases: {aliases or 'none'}")
    if plan["warnings"]:
        lines += ["", "warnings"] + [f"  ! {warning}" for warning in plan["warnings"]]
    return "\n".join(lines)


def _check_config(args: argparse.Namespace) -> int:
    plan = _plan(load_settings(environment(args.demo)))
    if args.json:
        _print_json(plan)
    else:
        print(_plan_text(plan))
    return 0


# samples ----------------------------------------------------------------------------------


def _samples(args: argparse.Namespace) -> int:
    if args.json:
        _print_json(
            [{"name": name, "description": text} for name, text in samples.DESCRIPTIONS.items()]
        )
        return 0
    width = max(map(len, samples.DESCRIPTIONS))
    for name, text in samples.DESCRIPTIONS.items():
        print(f"{name:<{width}}  {text}")
    print("\nUse one with: psc-hook preview NAME, or psc-hook send NAME --url URL")
    return 0


# preview and send -------------------------------------------------------------------------


#: Claims that name a person, masked in what preview prints unless --show-personal-data.
#: Okta's opaque user ids (the ID token's sub, uid, the oid the hook adds) stay visible:
#: checking them is what preview is for, and they name no one outside the org's directory.
#: The access token's sub is the user's login unless the authorization server says otherwise.
NAME_CLAIMS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "email",
        "login",
        "phone_number",
        "address",
        "birthdate",
        "picture",
        "profile",
        "website",
    }
)
PERSONAL_CLAIMS = {"identity": NAME_CLAIMS, "access": NAME_CLAIMS | {"sub"}}


@dataclass(frozen=True)
class Played:
    """A payload as preview or send play it: its label, its bytes, the client it names."""

    label: str
    raw: bytes
    client: str | None
    why: str


def _read(reference: str) -> tuple[Any, bytes]:
    """A sample by name (as a document), or a file by path (as its exact bytes)."""
    if reference in samples.DESCRIPTIONS:
        return samples.load(reference), b""
    try:
        return None, Path(reference).read_bytes()
    except OSError as error:
        raise ConfigError(
            f"PAYLOAD: {reference!r} is neither a sample (see psc-hook samples)"
            f" nor a readable file ({error.strerror})"
        ) from None


def _as_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _payload(args: argparse.Namespace, settings: Settings) -> Played:
    """The payload as the configured PSC client makes it: a sample plays ``--client``, else
    the first of PSC_CLIENT_IDS (the service skips any other client); a captured file keeps
    its own client unless ``--client`` is given."""
    document, raw = _read(args.payload)
    if document is None:
        if args.client is None:
            raw = _as_user_of(raw, settings, args.claim)
            return Played(args.payload, raw, samples.client_of(_as_json(raw)), "as captured")
        document = _as_json(raw)
    client = args.client or settings.first_client
    if args.client:
        why = "--client"
    elif client:
        why = "the first of PSC_CLIENT_IDS"
    else:
        why = "the sample's own; PSC_CLIENT_IDS is unset"
    if isinstance(document, dict):
        raw = json.dumps(samples.as_client(document, client) if client else document).encode()
    raw = _as_user_of(raw, settings, args.claim)
    return Played(args.payload, raw, samples.client_of(_as_json(raw)), why)


def _say_client(args: argparse.Namespace, played: Played) -> None:
    _progress(args, f"psc-hook: playing client {played.client or 'none'} ({played.why})")


def _masked(tokens: dict[str, Any]) -> dict[str, Any]:
    return {
        kind: {
            claim: okta_api.MASK if claim in PERSONAL_CLAIMS.get(kind, ()) else value
            for claim, value in claims.items()
        }
        for kind, claims in tokens.items()
    }


def _ops_text(body: dict[str, Any]) -> list[str]:
    names = {command_type: TOKEN_NAMES[kind] for kind, command_type in COMMAND_TYPES.items()}
    lines = []
    for command in body.get("commands", []):
        lines.append(f"  {names.get(command.get('type'), command.get('type'))} token")
        for op in command.get("value", []):
            value = json.dumps(op.get("value"), ensure_ascii=False)
            lines.append(f"    {op.get('op')} {op.get('path')} = {value}")
    context = body.get("debugContext") or {}
    if context:
        lines.append("  debugContext: " + ", ".join(f"{k}={v}" for k, v in context.items()))
    return lines


def _preview_text(result: dict[str, Any]) -> str:
    answer, okta = result["answer"], result["okta"]
    lines = [result["payload"]]
    if result["description"]:
        lines[0] += f": {result['description']}"
    lines += ["", f"hook answer: HTTP {answer['status']} ({answer['outcome']})"]
    if answer["body"] is None:
        lines.append("  no body: nothing to patch")
    elif "error" in answer["body"]:
        lines.append(f"  error: {answer['body']['error'].get('errorSummary')}")
    else:
        lines += _ops_text(answer["body"])
    lines.append("")
    if okta["voided"]:
        lines.append(f"OKTA WOULD REFUSE THE PATCH: {okta['voided']}")
        lines.append("  the tokens are issued unmodified, without the PSC claims")
    elif not okta["minted"]:
        lines.append("Okta mints no token: the client gets server_error")
    else:
        lines.append("Okta applies the answer")
    lines += [f"  note: {note}" for note in okta["notes"]]
    for kind, claims in result["tokens"].items():
        lines += ["", f"{TOKEN_NAMES[kind]} token claims after Okta applies it:", _indented(claims)]
    if result["tokens"] and result["personal_data"] == "masked":
        lines += ["", f"names, emails and logins shown as {okta_api.MASK} (--show-personal-data)"]
    return "\n".join(lines)


def _as_user_of(raw: bytes, settings: Settings, values: list[str] | None) -> bytes:
    """The payload with the tenant claim set in its tokens: one value as a string, several
    as a list (a groups claim), to play a user of an establishment."""
    if not values:
        return raw
    if settings.tenants is None:
        raise ConfigError("--claim: only with PSC_TENANTS (establishments matched on a claim)")
    try:
        document = json.loads(raw)
        tokens = [document["data"].get(kind) for kind in ("identity", "access")]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise ConfigError("--claim: the payload is not a token hook request") from None
    for token in tokens:
        if isinstance(token, dict) and isinstance(token.get("claims"), dict):
            token["claims"][settings.tenant_claim] = values[0] if len(values) == 1 else values
    return json.dumps(document).encode()


def _preview(args: argparse.Namespace) -> int:
    settings = load_settings(environment(args.demo))
    played = _payload(args, settings)
    try:
        request = payload.parse(played.raw, settings.claim_to_read)
    except payload.InvalidPayload as invalid:
        print(f"{played.label}: {invalid}", file=sys.stderr)
        if invalid.errors:
            print(_indented(invalid.errors), file=sys.stderr)
        return 1
    _say_client(args, played)
    answer = build_answer(request, settings)
    tolerate = {"tolerate": ()} if args.strict else {}
    outcome = apply_answer(json.loads(played.raw), answer.status, answer.body, **tolerate)
    result = {
        "payload": played.label,
        "description": samples.DESCRIPTIONS.get(args.payload),
        "client": played.client,
        "answer": {"status": answer.status, "outcome": answer.outcome, "body": answer.body},
        "okta": {"minted": outcome.minted, "voided": outcome.voided, "notes": outcome.notes},
        "tokens": outcome.tokens if args.show_personal_data else _masked(outcome.tokens),
        "personal_data": "shown" if args.show_personal_data else "masked",
    }
    if args.json:
        _print_json(result)
    else:
        print(_preview_text(result))
    return 1 if outcome.voided else 0


def _auth_headers(settings: Settings, bearer: str | None) -> dict[str, str]:
    """What Okta would send: the bearer in OAuth mode when one is given, else the first secret."""
    if bearer and "oauth" in settings.auth_modes:
        return {"Authorization": f"Bearer {bearer}"}
    if "header" in settings.auth_modes:
        return {settings.auth_header: settings.secrets[0].decode()}
    raise ConfigError("HOOK_SEND_BEARER_TOKEN: required by send in oauth mode (or pass --bearer)")


def _send(args: argparse.Namespace) -> int:
    env = environment(args.demo)
    settings = load_settings(env)
    url = https_url("--url", args.url)
    headers = _auth_headers(settings, args.bearer or send_bearer_token(env))
    played = _payload(args, settings)
    _say_client(args, played)
    headers.update({"Content-Type": "application/json", "X-Request-Id": uuid.uuid4().hex})
    try:
        reply = okta_api.exchange("POST", url, headers, played.raw, args.timeout)
    except okta_api.Unreachable as error:
        print(f"psc-hook send: {error}", file=sys.stderr)
        return error.exit_code
    answer = reply.json()
    result = {
        "payload": played.label,
        "client": played.client,
        "url": url,
        "status": reply.status,
        "request_id": reply.headers.get("X-Request-Id"),
        "latency_ms": round(reply.elapsed_ms, 1),
        "answer": answer,
    }
    if args.json:
        _print_json(result)
    else:
        print(
            f"POST {url} ({played.label}): HTTP {reply.status} in {result['latency_ms']} ms,"
            f" request id {result['request_id']}"
        )
        print(_indented(answer) if answer is not None else "  no body")
    return 0 if reply.status in (200, 204) else 1


# register ---------------------------------------------------------------------------------

#: What register does to the hook, as its progress and its result say it.
HOOK_ACTIONS = {"create": ("Creating", "created"), "update": ("Updating", "updated")}


@dataclass(frozen=True)
class _HookPlan:
    """What register does to the org's hook of that name: create it, or replace it whole."""

    call: okta_api.ApiCall
    current: dict[str, Any] | None
    changes: list[okta_api.Change]

    @property
    def action(self) -> str:
        return "create" if self.current is None else "update"

    @property
    def doing(self) -> str:
        return HOOK_ACTIONS[self.action][0]

    @property
    def done(self) -> str:
        return HOOK_ACTIONS[self.action][1]


def _client_secret(args: argparse.Namespace, env: dict[str, str]) -> tuple[str, str] | None:
    """The OAuth client's secret and where it came from: stdin (``-``) or the environment,
    never the command line, which ``ps`` shows every user."""
    if args.client_secret is None:
        secret = register_client_secret(env)
        return (secret, REGISTER_CLIENT_SECRET) if secret else None
    if args.client_secret != STDIN:
        raise ConfigError(
            "--client-secret: a value on the command line is visible in ps; give - to read it"
            f" from standard input, or set {REGISTER_CLIENT_SECRET}"
        )
    # On a terminal, ask without echo; otherwise the first line of what is piped in.
    secret = getpass.getpass("Client secret: ") if sys.stdin.isatty() else sys.stdin.readline()
    secret = secret.strip()
    if not secret:
        raise ConfigError("--client-secret -: standard input holds no secret")
    return secret, "standard input"


def _channel(
    args: argparse.Namespace, url: str, env: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """Okta's channel, and which secret it carries (a fingerprint, never the value)."""
    if args.auth == "header":
        settings = load_settings(env)
        if "header" not in settings.auth_modes:
            raise ConfigError("HOOK_AUTH_MODE: register --auth header needs header among the modes")
        channel = okta_api.header_channel(url, settings.auth_header, settings.secrets[0].decode())
        return channel, f"the first of HOOK_SECRETS ({fingerprint(settings.secrets[0])})"
    if not args.client_id or not args.token_url:
        raise ConfigError("--client-id and --token-url: required by register --auth oauth")
    secret = _client_secret(args, env)
    if (secret is None) == (args.hook_key_id is None):
        raise ConfigError(
            f"--client-secret - or {REGISTER_CLIENT_SECRET} (client_secret_post), or"
            " --hook-key-id (private_key_jwt): give one"
        )
    channel = okta_api.oauth_channel(
        url,
        client_id=args.client_id,
        token_url=https_url("--token-url", args.token_url),
        client_secret=secret[0] if secret else None,
        hook_key_id=args.hook_key_id,
        scope=args.scope,
    )
    if secret is None:
        return channel, None
    return channel, f"the client secret from {secret[1]} ({fingerprint(secret[0].encode())})"


def _hook_plan(client: okta_api.OktaClient, name: str, channel: dict[str, Any]) -> _HookPlan:
    """Find the token hook of that name (one at most), so that a second run updates it."""
    same = [hook for hook in client.listing(okta_api.TOKEN_HOOKS_PATH) if hook.get("name") == name]
    if len(same) > 1:
        raise okta_api.ApiError(
            f"{len(same)} token inline hooks are named {name!r}"
            f" ({', '.join(str(hook.get('id')) for hook in same)}): delete all but one"
            " (Workflow > Inline Hooks), or give another --name."
        )
    if not same:
        return _HookPlan(okta_api.create_hook(name, channel), None, [])
    [current] = same
    call = okta_api.replace_hook(str(current.get("id")), name, channel)
    return _HookPlan(call, current, okta_api.hook_changes(current, channel))


def _rule_target(args: argparse.Namespace) -> str | None:
    parts = (args.auth_server, args.policy, args.rule)
    if not any(parts):
        return None
    if not all(parts):
        raise ConfigError("--auth-server, --policy and --rule: give all three to attach the hook")
    return okta_api.rule_path(*parts)


def _plan_data(plan: _HookPlan, secret: str | None) -> dict[str, Any]:
    return {
        "action": plan.action,
        "id": None if plan.current is None else plan.current.get("id"),
        "changes": [asdict(change) for change in plan.changes],
        "secret": secret,
    }


def _plan_lines(plan: _HookPlan, name: str, secret: str | None) -> list[str]:
    """The difference, field by field; a secret is never shown, and Okta never returns it."""
    if plan.current is None:
        return [f"No token inline hook is named {name!r}: it is created."]
    hook_id = plan.current.get("id")
    lines = [f"The inline hook {name!r} exists (id {hook_id}): it is replaced whole."]
    lines += [f"  {c.field}: {c.before!r} -> {c.after!r}" for c in plan.changes]
    if not plan.changes:
        lines.append("  URL, channel and client: unchanged")
    if secret is not None:
        lines.append(
            f"  secret: set to {secret}; Okta never returns the one it holds, so whether it"
            " changes cannot be told"
        )
    return lines


def _dry_run(
    args: argparse.Namespace,
    org: str,
    plan: _HookPlan,
    rule: str | None,
    secret: str | None,
) -> int:
    attaching = [okta_api.ApiCall("GET", rule), okta_api.ApiCall("PUT", rule)] if rule else []
    shown = [
        {
            "method": call.method,
            "url": org + call.path,
            "headers": {"Authorization": f"SSWS {okta_api.MASK}"},
            "body": okta_api.masked(call.body),
        }
        for call in [plan.call, *attaching]
    ]
    if args.json:
        _print_json({"dry_run": True, "hook": _plan_data(plan, secret), "requests": shown})
        return 0
    print(f"Dry run: {org} was only read.")
    print("\n".join(_plan_lines(plan, args.name, secret)))
    print("\nThe requests it would send, secrets masked:")
    for request in shown:
        print(f"\n{request['method']} {request['url']}")
        print(f"Authorization: {request['headers']['Authorization']}")
        if request["body"] is not None:
            print(_indented(request["body"], prefix=""))
        elif request["method"] == "PUT":
            print("(the rule as the GET returns it, with actions.token.inlineHook.id set)")
    return 0


def _channel_text(channel: dict[str, Any], secret: str | None) -> str:
    config = channel["config"]
    if channel["type"] == "HTTP":
        return f"authenticated by header {config['authScheme']['key']!r} with {secret}"
    text = (
        f"authenticated by OAuth 2.0 {config['authType']}, client {config['clientId']},"
        f" token URL {config['tokenUrl']}"
    )
    return text + (f", with {secret}" if secret else "")


def _attach(
    client: okta_api.OktaClient, rule: str, hook_id: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Read the rule, then put it back whole with its token action calling the hook."""
    current = client.call(okta_api.ApiCall("GET", rule))
    updated = client.call(okta_api.ApiCall("PUT", rule, okta_api.attach(current, hook_id)))
    token_action = updated.get("actions", {}).get("token", {})
    return {
        "id": updated.get("id", args.rule),
        "name": updated.get("name"),
        "policy": args.policy,
        "authorization_server": args.auth_server,
        "inline_hook": (token_action.get("inlineHook") or {}).get("id"),
    }


def _register_text(result: dict[str, Any], channel: dict[str, Any], plan: _HookPlan) -> str:
    hook, rule = result["hook"], result["rule"]
    lines = [f"{plan.done.capitalize()} the inline hook {hook['name']!r} (id {hook['id']})."]
    if plan.current is not None:
        lines += _plan_lines(plan, hook["name"], hook["secret"])[1:]
    lines.append(f"  Okta calls {hook['uri']}, {_channel_text(channel, hook['secret'])}.")
    if rule is not None:
        lines.append(
            f"Attached it to rule {rule['name']!r} ({rule['id']}) of policy {rule['policy']}"
            f" on authorization server {rule['authorization_server']}."
        )
    lines.append(f"Next: check it in the Admin Console: Workflow > Inline Hooks > {hook['name']}"
                 " > Preview.")  # fmt: skip
    return "\n".join(lines)


def _register(args: argparse.Namespace) -> int:
    env = environment()
    org = https_url("--org", args.org.strip().rstrip("/"))
    try:
        url = okta_api.hook_url(args.url)
    except ValueError as error:
        raise ConfigError(f"--url: {error}") from None
    rule = _rule_target(args)
    channel, secret = _channel(args, url, env)
    client = okta_api.OktaClient(org, okta_api_token(env), args.timeout)
    result: dict[str, Any] = {"hook": None, "rule": None}
    try:
        _progress(args, f"Looking for the inline hook {args.name!r} in {org} ...")
        plan = _hook_plan(client, args.name, channel)
        if args.dry_run:
            return _dry_run(args, org, plan, rule, secret)
        _progress(args, f"{plan.doing} the inline hook {args.name!r} ...")
        hook = client.call(plan.call)
        result["hook"] = {key: hook.get(key) for key in ("id", "name", "status")} | {
            "uri": url,
            **_plan_data(plan, secret),
            "id": hook.get("id"),
        }
        if rule is not None:
            _progress(args, f"Attaching it to rule {args.rule} ...")
            result["rule"] = _attach(client, rule, hook["id"], args)
    except okta_api.ApiError as error:
        print(f"psc-hook register: {error}", file=sys.stderr)
        if result["hook"] is not None:
            print(
                f"The hook was {plan.done} (id {result['hook']['id']}) but not"
                " attached: attach it in the Admin Console (Security > API > Authorization"
                " Servers > Access Policies > rule > Use this inline hook).",
                file=sys.stderr,
            )
        if args.json:
            _print_json({**result, "error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    if args.json:
        _print_json(result)
    else:
        print(_register_text(result, channel, plan))
    return 0


# doctor -----------------------------------------------------------------------------------


def _doctor_text(report: doctor.Report, org: str) -> str:
    lines = [f"Checked {org} against this configuration.", ""]
    lines += [f"  ok  {line}" for line in report.holds]
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


def _doctor(args: argparse.Namespace) -> int:
    env = environment()
    settings = load_settings(env)
    org = https_url("--org", args.org.strip().rstrip("/"))
    psc_issuer = https_url("--psc-issuer", args.psc_issuer.strip().rstrip("/"))
    client = okta_api.OktaClient(org, okta_api_token(env), args.timeout)
    target = doctor.Target(args.hook, args.auth_server, psc_issuer, args.sample)
    _progress(args, f"Reading {org} (GET only, and one test run of the hook) ...")
    try:
        report = doctor.diagnose(client, settings, target)
    except okta_api.ApiError as error:
        print(f"psc-hook doctor: {error}", file=sys.stderr)
        if args.json:
            _print_json({"error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    if args.json:
        _print_json(report.as_dict())
    else:
        print(_doctor_text(report, org))
    return 1 if report.findings else 0


# check-token ------------------------------------------------------------------------------


def _token_input(source: str) -> str:
    """The token from ``-`` (stdin), a file, or the argument itself."""
    if source == "-":
        return sys.stdin.read().strip()
    path = Path(source)
    try:
        is_file = path.is_file()
    except OSError:  # a token is longer than a file name may be
        is_file = False
    if not is_file:
        return source.strip()
    try:
        return path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"TOKEN: cannot read the file {source!r}") from None


def _token_text(result: dict[str, Any]) -> str:
    kind = result["kind"]
    issuer = result["issuer"] or "an issuer it does not name (no iss)"
    lines = [f"{TOKEN_NAMES[kind]} token from {issuer}:" if kind else "The input:"]
    for check in result["checks"]:
        verdict = "ok  " if check["ok"] else "FAIL"
        lines.append(f"  {verdict}  {check['name']:<12} {check['detail']}")
        if check["fix"] and not check["ok"]:
            lines.append(f"        what to do: {check['fix']}")
    verdict = "would accept" if result["accepted"] else "would refuse"
    lines += ["", f"PSC {verdict} this token."]
    return "\n".join(lines)


def _checks(token: str, issuer: str | None, settings: Settings) -> dict[str, Any]:
    """Every check of a token, as data; raises JwksError when the org's keys are unavailable."""
    try:
        header, claims = check_token.decode(token)
    except check_token.NotAJwt as error:
        failed = check_token.Check(
            "token", False, str(error), "give the whole id_token or access_token (eyJ...)"
        )
        return {"kind": None, "issuer": None, "accepted": False, "checks": [failed.as_dict()]}
    first = (
        check_token.signature(token, header, check_token.org_keys(issuer), issuer)
        if issuer
        else check_token.unverified()
    )
    now = datetime.now(UTC)
    checks = [
        first,
        check_token.lifetime(claims, now),
        check_token.auth_age(claims, settings, now),
        *check_token.assess(claims, settings),
    ]
    return {
        "kind": check_token.token_kind(claims),
        "issuer": claims.get("iss"),
        "accepted": all(check.ok for check in checks),
        "checks": [check.as_dict() for check in checks],
    }


def _check_token(args: argparse.Namespace) -> int:
    settings = load_settings(environment())
    issuer = https_url("--issuer", args.issuer.strip().rstrip("/")) if args.issuer else None
    token = _token_input(args.token)
    try:
        result = _checks(token, issuer, settings)
    except JwksError as error:
        print(
            f"psc-hook check-token: no signing keys from {okta_keys_uri(issuer or '')}: {error}",
            file=sys.stderr,
        )
        return 3
    if args.json:
        _print_json(result)
    else:
        print(_token_text(result))
    return 0 if result["accepted"] else 1


# serve ------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    env = environment(args.demo)
    if args.port:
        env["PORT"] = str(args.port)
    settings = load_settings(env)
    host = args.host or ("127.0.0.1" if args.demo else None)
    if args.demo and not is_loopback(host):
        raise ConfigError("--host: the demo secret is public, so --demo serves on 127.0.0.1 only")
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS]
    if host:
        command += ["--bind", f"{host}:{settings.port}"]
    where = f"{host}:{settings.port}" if host else f"port {settings.port}, every interface"
    print(f"psc-hook: serving on {where} ({' '.join(GUNICORN_ARGS)})", file=sys.stderr)
    print(
        f"psc-hook: try it: psc-hook send {DEMO_SAMPLE}"
        f" --url http://{host or '127.0.0.1'}:{settings.port}{HOOK_PATH}"
        + (" --demo" if args.demo else ""),
        file=sys.stderr,
    )
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - the Procfile's command, in place
    return 0  # pragma: no cover - execve does not return


# the parser -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="psc-hook",
        description="Operate psc-token-hook, the Okta token inline hook for Pro Santé Connect.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"psc-hook {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON for a machine")
    demo = argparse.ArgumentParser(add_help=False)
    demo.add_argument(
        "--demo",
        action="store_true",
        help="use the demo settings under the environment (what make run serves)",
    )
    payload_arg = argparse.ArgumentParser(add_help=False)
    payload_arg.add_argument("payload", metavar="PAYLOAD", help="a sample name or a JSON file")
    payload_arg.add_argument(
        "--claim",
        action="append",
        metavar="VALUE",
        help="set the tenant claim (PSC_TENANT_CLAIM) of the payload's tokens to VALUE, to play"
        " a user of an establishment of PSC_TENANTS; repeat it for a list (a groups claim)",
    )
    payload_arg.add_argument(
        "--client",
        metavar="ID",
        help="play the request as this client (default: a sample plays the first of"
        " PSC_CLIENT_IDS, a file its own client)",
    )

    def add(name: str, run: Callable[[argparse.Namespace], int], text: str, *parents):
        sub = commands.add_parser(
            name,
            parents=list(parents),
            help=text,
            description=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        return sub

    add(
        "check-config",
        _check_config,
        "validate the environment and print the effective plan",
        as_json,
        demo,
    )
    add("samples", _samples, "list the sample payloads shipped with the package", as_json)
    preview = add(
        "preview",
        _preview,
        "run the hook in-process on a payload; print the answer and the tokens after Okta"
        " applies it (like Okta's Preview tab)",
        payload_arg,
        as_json,
        demo,
    )
    preview.add_argument(
        "--strict",
        action="store_true",
        help="treat every claim Okta documents as reserved as refused (oid in the ID token too)",
    )
    preview.add_argument(
        "--show-personal-data",
        action="store_true",
        help="print the tokens' names, emails and logins (masked by default)",
    )
    send = add(
        "send",
        _send,
        "POST a payload to a running service with the configured auth",
        payload_arg,
        as_json,
        demo,
    )
    send.add_argument("--url", required=True, help="the service's /token-hook URL")
    send.add_argument(
        "--bearer", help="OAuth mode: the bearer token to present (or HOOK_SEND_BEARER_TOKEN)"
    )
    send.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")

    register = add(
        "register",
        _register,
        "create the token inline hook in an Okta org (SSWS token from OKTA_API_TOKEN), or update"
        " the one of that name, and optionally attach it to an access-policy rule",
        as_json,
    )
    register.add_argument("--org", required=True, help="the org URL, https://<org>.okta.com")
    register.add_argument("--url", required=True, help="the hook's public https:// URL")
    register.add_argument("--name", default=DEFAULT_HOOK_NAME, help="the hook's display name")
    register.add_argument(
        "--auth",
        choices=("header", "oauth"),
        default="header",
        help="header: HOOK_AUTH_HEADER with the first of HOOK_SECRETS (the newest: new,old"
        " during a rotation); oauth: the flags below",
    )
    register.add_argument("--client-id", help="oauth: the client Okta gets its token with")
    register.add_argument(
        "--client-secret",
        metavar="-",
        help=f"oauth: client_secret_post with the secret read from standard input (-); or set"
        f" {REGISTER_CLIENT_SECRET}. Never the value itself: ps shows it to every user",
    )
    register.add_argument("--hook-key-id", help="oauth: private_key_jwt with this hook key id")
    register.add_argument("--token-url", help="oauth: the token endpoint, https://")
    register.add_argument("--scope", help="oauth: the scope(s) Okta asks for")
    register.add_argument("--auth-server", help="attach: the authorization server id (aus...)")
    register.add_argument("--policy", help="attach: the access policy id (00p...)")
    register.add_argument("--rule", help="attach: the policy rule id (0pr...)")
    register.add_argument(
        "--dry-run",
        action="store_true",
        help="read the org, print the difference and the requests (secrets masked); change nothing",
    )
    register.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")

    doctor_command = add(
        "doctor",
        _doctor,
        "check the Okta org against this configuration: the hook, the rules that call it, a"
        " test run, PSC's redirect URI (read-only; API token from OKTA_API_TOKEN)",
        as_json,
    )
    doctor_command.add_argument("--org", required=True, help="the org URL, https://<org>.okta.com")
    doctor_command.add_argument(
        "--hook", help="the hook's name or id (default: the org's only token inline hook)"
    )
    doctor_command.add_argument(
        "--auth-server", help="the PSC authorization server id (default: search them all)"
    )
    doctor_command.add_argument(
        "--psc-issuer",
        default=doctor.PSC_SANDBOX_ISSUER,
        help="PSC's issuer, for its broker redirect URI (default: PSC's sandbox)",
    )
    doctor_command.add_argument(
        "--sample",
        choices=list(samples.DESCRIPTIONS),
        default=doctor.DEFAULT_SAMPLE,
        help=f"the sample sign-in Okta's test run sends (default {doctor.DEFAULT_SAMPLE})",
    )
    doctor_command.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")

    check = add(
        "check-token",
        _check_token,
        "say whether PSC would accept an ID or access token from a real sign-in (the token is"
        " never printed)",
        as_json,
    )
    check.add_argument("token", metavar="TOKEN", help="the token, a file holding it, or - (stdin)")
    check.add_argument(
        "--issuer", help="verify the signature with <issuer>/v1/keys (the PSC server's issuer)"
    )

    serve = add(
        "serve",
        _serve,
        "run the service under gunicorn with the project's configuration (the Procfile's command)",
        demo,
    )
    serve.add_argument("--host", help="bind address (default 0.0.0.0; 127.0.0.1 with --demo)")
    serve.add_argument("--port", type=int, help="port (default PORT, else 8080)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, run one subcommand, return its exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        exit_on_error(error)
