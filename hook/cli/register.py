"""``psc-hook register``: the token inline hook created in an Okta org, or the one of that
name updated whole, and optionally attached to an access-policy rule. Okta is called as a
service app asking only the scopes this run needs (``hook.cli.okta_auth``), or with
OKTA_API_TOKEN; secrets never come from the command line (``ps`` shows it to every user).
``--dry-run`` checks the arguments without credentials, and with them reads the hook and
the rule and says what would change.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass
from typing import Any

import click

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.cli.environment import (
    REGISTER_CLIENT_SECRET,
    environment,
    okta_access,
    register_client_secret,
)
from hook.cli.okta_args import hook_url, okta_id, org_url
from hook.cli.options import json_option, timeout_option
from hook.cli.output import (
    BAD_INPUT,
    OKTA_ERROR,
    ORG_UNREACHABLE,
    RATE_LIMITED,
    REJECTED,
    STDIN,
    epilog,
    fingerprint,
    print_json,
    progress,
)
from hook.cli.register_plan import DryRun, HookPlan, plan_data, plan_lines, rule_change
from hook.cli.terminal import LINE, printable, printable_lines
from hook.config import ConfigError, https_url, load_settings
from hook.okta import HOOK_NAME as DEFAULT_HOOK_NAME


@dataclass(frozen=True)
class Options:
    """The command line of register, as click parsed it."""

    org: str
    url: str
    name: str
    auth: str
    client_id: str | None
    client_secret: str | None
    hook_key_id: str | None
    token_url: str | None
    scope: str | None
    auth_server: str | None
    policy: str | None
    rule: str | None
    dry_run: bool
    timeout: float
    as_json: bool


def _client_secret(args: Options, env: dict[str, str]) -> tuple[str, str] | None:
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


def _channel(args: Options, url: str, env: dict[str, str]) -> tuple[dict[str, Any], str | None]:
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


def _hook_plan(client: okta_api.OktaClient, name: str, channel: dict[str, Any]) -> HookPlan:
    """Find the token hook of that name (one at most), so that a second run updates it."""
    same = [hook for hook in client.listing(okta_api.TOKEN_HOOKS_PATH) if hook.get("name") == name]
    if len(same) > 1:
        raise okta_api.ApiError(
            f"{len(same)} token inline hooks are named {name!r}"
            f" ({', '.join(str(hook.get('id')) for hook in same)}): delete all but one"
            " (Workflow > Inline Hooks), or give another --name."
        )
    if not same:
        return HookPlan(okta_api.create_hook(name, channel), None, [])
    [current] = same
    call = okta_api.replace_hook(str(current.get("id")), name, channel)
    return HookPlan(call, current, okta_api.hook_changes(current, channel))


def _rule_target(args: Options) -> str | None:
    """The rule's path, each id checked for its kind (``aus``, ``00p``, ``0pr``)."""
    parts = (args.auth_server, args.policy, args.rule)
    if not any(parts):
        return None
    if not all(parts):
        raise ConfigError("--auth-server, --policy and --rule: give all three to attach the hook")
    return okta_api.rule_path(
        okta_id("--auth-server", args.auth_server or "", "aus"),
        okta_id("--policy", args.policy or "", "00p"),
        okta_id("--rule", args.rule or "", "0pr"),
    )


def _scopes(rule: str | None, dry_run: bool) -> list[str]:
    """What this run asks Okta for: reads for a dry run, the writes it makes otherwise."""
    scopes = [okta_scopes.READ_HOOKS] + ([okta_scopes.READ_SERVERS] if rule else [])
    if not dry_run:
        scopes += [okta_scopes.MANAGE_HOOKS] + ([okta_scopes.MANAGE_SERVERS] if rule else [])
    return scopes


def _channel_text(channel: dict[str, Any], secret: str | None) -> str:
    config = channel["config"]
    if channel["type"] == "HTTP":
        return f"authenticated by header {config['authScheme']['key']!r} with {secret}"
    text = (
        f"authenticated by OAuth 2.0 {config['authType']}, client {config['clientId']},"
        f" token URL {config['tokenUrl']}"
    )
    return text + (f", with {secret}" if secret else "")


def _attach(client: okta_api.OktaClient, rule: str, hook_id: str, args: Options) -> dict[str, Any]:
    """Read the rule, then put it back whole with its token action calling the hook."""
    current = client.call(okta_api.ApiCall("GET", rule))
    updated = client.call(okta_api.ApiCall("PUT", rule, okta_api.attach(current, hook_id)))
    return {
        "id": updated.get("id", args.rule),
        "name": updated.get("name"),
        "policy": args.policy,
        "authorization_server": args.auth_server,
        "inline_hook": okta_api.attached_hook(updated),
    }


def _register_text(result: dict[str, Any], channel: dict[str, Any], plan: HookPlan) -> str:
    hook, rule = result["hook"], result["rule"]
    lines = [f"{plan.done.capitalize()} the inline hook {hook['name']!r} (id {hook['id']})."]
    if plan.current is not None:
        lines += plan_lines(plan, hook["name"], hook["secret"])[1:]
    lines.append(f"  Okta calls {hook['uri']}, {_channel_text(channel, hook['secret'])}.")
    if rule is not None:
        lines.append(
            f"Attached it to rule {rule['name']!r} ({rule['id']}) of policy {rule['policy']}"
            f" on authorization server {rule['authorization_server']}."
        )
    lines.append(f"Next: check it in the Admin Console: Workflow > Inline Hooks > {hook['name']}"
                 " > Preview.")  # fmt: skip
    return "\n".join(lines)


def _preview(
    client: okta_api.OktaClient,
    args: Options,
    org: str,
    rule: str | None,
    channel: Any,
    secret: Any,
) -> int:
    """--dry-run with credentials: read the hook of that name and the rule, change nothing."""
    progress(args.as_json, f"Looking for the inline hook {args.name!r} in {org} ...")
    plan = _hook_plan(client, args.name, channel)
    change = None
    if rule is not None:
        progress(args.as_json, f"Reading the rule {args.rule} ...")
        hook_id = None if plan.current is None else plan.current.get("id")
        change = rule_change(client.call(okta_api.ApiCall("GET", rule)), hook_id)
    scheme = client.credentials.authorization("GET", org)["Authorization"].split(" ", 1)[0]
    dry = DryRun(org, args.name, plan, True, rule, change, secret, f"{scheme} {okta_api.MASK}")
    return _print_dry_run(dry, args.as_json)


def _print_dry_run(dry: DryRun, as_json: bool) -> int:
    if as_json:
        print_json(dry.as_dict())
    else:
        print(printable_lines(dry.text()))
    return 0


def _created_id(hook: dict[str, Any]) -> str:
    if not isinstance(hook.get("id"), str) or not hook["id"]:
        raise okta_api.Malformed("Okta's answer names no id for the hook it saved.")
    return hook["id"]


def _register(args: Options) -> int:
    """Create or update the hook, then attach it when a rule is named."""
    env = environment()
    org = org_url("--org", args.org)
    url = hook_url("--url", args.url)
    rule = _rule_target(args)
    channel, secret = _channel(args, url, env)
    access = okta_access(env)
    if args.dry_run and not (access.client_id or access.api_token):
        plan = HookPlan(okta_api.create_hook(args.name, channel), None, [])
        dry = DryRun(org, args.name, plan, False, rule, None, secret, "(Okta's credentials)")
        return _print_dry_run(dry, args.as_json)
    scopes = _scopes(rule, args.dry_run)
    client = okta_auth.connect(env, org, args.timeout, scopes, as_json=args.as_json)
    result: dict[str, Any] = {"hook": None, "rule": None}
    try:
        if args.dry_run:
            return _preview(client, args, org, rule, channel, secret)
        progress(args.as_json, f"Looking for the inline hook {args.name!r} in {org} ...")
        plan = _hook_plan(client, args.name, channel)
        progress(args.as_json, f"{plan.doing} the inline hook {args.name!r} ...")
        hook = client.call(plan.call)
        result["hook"] = {key: hook.get(key) for key in ("id", "name", "status")} | {
            "uri": url,
            **plan_data(plan, secret),
            "id": _created_id(hook),
        }
        if rule is not None:
            progress(args.as_json, f"Attaching it to rule {args.rule} ...")
            result["rule"] = _attach(client, rule, hook["id"], args)
    except okta_api.ExchangeError as error:
        print(f"psc-hook register: {printable(str(error), LINE)}", file=sys.stderr)
        if result["hook"] is not None:
            print(
                f"The hook was {plan.done} (id {result['hook']['id']}) but not"
                " attached: attach it in the Admin Console (Security > API > Authorization"
                " Servers > Access Policies > rule > Use this inline hook).",
                file=sys.stderr,
            )
        if args.as_json:
            print_json({**result, "error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    if args.as_json:
        print_json(result)
    else:
        print(printable_lines(_register_text(result, channel, plan)))
    return 0


@click.command(
    "register",
    epilog=epilog(
        (
            "psc-hook register --org https://chu-exemple.okta.com \\\n"
            "    --url https://hook.chu-exemple.fr/token-hook --dry-run",
        ),
        {
            0: "done (or, with --dry-run, the plan is printed)",
            1: OKTA_ERROR,
            2: BAD_INPUT,
            3: ORG_UNREACHABLE,
            4: REJECTED,
            5: RATE_LIMITED,
        },
    ),
)
@click.option("--org", required=True, help="the org's address alone, https://<org>.okta.com")
@click.option("--url", required=True, help="the hook's public https://.../token-hook URL")
@click.option("--name", default=DEFAULT_HOOK_NAME, help="the hook's display name")
@click.option(
    "--auth",
    type=click.Choice(("header", "oauth")),
    default="header",
    help="header: HOOK_AUTH_HEADER with the first of HOOK_SECRETS (the newest: new,old"
    " during a rotation); oauth: the flags below",
)
@click.option("--client-id", help="oauth: the client Okta gets its token with")
@click.option(
    "--client-secret",
    metavar="-",
    help=f"oauth: client_secret_post with the secret read from standard input (-); or set"
    f" {REGISTER_CLIENT_SECRET}. Never the value itself: ps shows it to every user",
)
@click.option("--hook-key-id", help="oauth: private_key_jwt with this hook key id")
@click.option("--token-url", help="oauth: the token endpoint, https://")
@click.option("--scope", help="oauth: the scope(s) Okta asks for")
@click.option("--auth-server", help="attach: the authorization server id (aus...)")
@click.option("--policy", help="attach: the access policy id (00p...)")
@click.option("--rule", help="attach: the policy rule id (0pr...)")
@click.option(
    "--dry-run",
    is_flag=True,
    help="check the arguments; with credentials, read the hook and the rule and print what"
    " would change and the requests (secrets masked); change nothing",
)
@timeout_option
@json_option
def command(**options: Any) -> int:
    """Create the token inline hook in an Okta org, or update the one of that name, and
    optionally attach it to an access-policy rule (as a service app: OKTA_CLIENT_ID and
    OKTA_PRIVATE_KEY; or with OKTA_API_TOKEN)."""
    return _register(Options(**options))
