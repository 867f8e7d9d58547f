"""``psc-hook register``: the token inline hook created in an Okta org, or the one of that
name updated whole, and optionally attached to an access-policy rule. Okta is called as a
service app asking only the scopes this run needs (``hook.cli.okta_auth``), or with
OKTA_API_TOKEN; secrets never come from the command line (``ps`` shows it to every user).
``--dry-run`` checks the arguments without credentials, and with them reads the hook and
the rule and says what would change.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.cli.environment import (
    REGISTER_CLIENT_SECRET,
    environment,
    okta_access,
)
from hook.cli.okta_args import hook_url, okta_id, org_url
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
from hook.cli.register_calls import attach_rule, hook_plan, saved_id
from hook.cli.register_channel import channel_text, hook_channel
from hook.cli.register_plan import DryRun, HookPlan, plan_data, plan_lines, rule_change
from hook.cli.terminal import LINE, printable, printable_lines
from hook.config import ConfigError
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


def _register_text(result: dict[str, Any], channel: dict[str, Any], plan: HookPlan) -> str:
    hook, rule = result["hook"], result["rule"]
    lines = [f"{plan.done.capitalize()} the inline hook {hook['name']!r} (id {hook['id']})."]
    if plan.current is not None:
        lines += plan_lines(plan, hook["name"], hook["secret"])[1:]
    lines.append(f"  Okta calls {hook['uri']}, {channel_text(channel, hook['secret'])}.")
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
    plan = hook_plan(client, args.name, channel)
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


def _register(args: Options) -> int:
    """Create or update the hook, then attach it when a rule is named."""
    env = environment()
    org = org_url("--org", args.org)
    url = hook_url("--url", args.url)
    rule = _rule_target(args)
    channel, secret = hook_channel(args, url, env)
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
        plan = hook_plan(client, args.name, channel)
        progress(args.as_json, f"{plan.doing} the inline hook {args.name!r} ...")
        hook = client.call(plan.call)
        result["hook"] = {key: hook.get(key) for key in ("id", "name", "status")} | {
            "uri": url,
            **plan_data(plan, secret),
            "id": saved_id(hook),
        }
        if rule is not None:
            progress(args.as_json, f"Attaching it to rule {args.rule} ...")
            result["rule"] = attach_rule(
                client,
                rule,
                hook["id"],
                rule_id=args.rule,
                policy=args.policy,
                auth_server=args.auth_server,
            )
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
