"""``psc-hook preview``: the hook run in-process on a payload, and the tokens Okta would
issue after applying its answer (like Okta's Preview tab), with people's names masked."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hook import psc, samples
from hook.cli import okta_api
from hook.cli.environment import environment
from hook.cli.options import demo_option, json_option
from hook.cli.output import BAD_INPUT, epilog, indented, print_json
from hook.cli.playing import Player, Reference, payload_options, play, say_client
from hook.cli.preview_run import played_through
from hook.config import load_settings
from hook.okta import COMMAND_TYPES, TOKEN_NAMES
from hook.payload import InvalidPayload


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
    lines += [f"  warning: {warning}" for warning in result["warnings"]]
    for kind, claims in result["tokens"].items():
        lines += ["", f"{TOKEN_NAMES[kind]} token claims after Okta applies it:", indented(claims)]
    if result["tokens"] and result["personal_data"] == "masked":
        lines += ["", f"names, emails and logins shown as {okta_api.MASK} (--show-personal-data)"]
    return "\n".join(lines)


@click.command(
    "preview",
    epilog=epilog(
        (
            "psc-hook preview password-okta-verify-push --demo",
            "psc-hook preview captured.json --claim chu-b --json",
            "psc-hook preview refresh --redirect-alias OKTA_chu-b --claim chu-b",
        ),
        {
            0: "Okta applies the answer (or mints no token, when the answer refuses it)",
            1: "Okta would void the patch, or the payload is not a token hook request",
            2: BAD_INPUT,
        },
    ),
)
@payload_options
@json_option
@demo_option
@click.option(
    "--strict",
    is_flag=True,
    help="treat every claim Okta documents as reserved as refused (oid in the ID token too)",
)
@click.option(
    "--show-personal-data",
    is_flag=True,
    help="print the tokens' names, emails and logins (masked by default)",
)
def command(
    payload: Reference,
    claim: tuple[str, ...],
    client: str | None,
    alias: str | None,
    as_json: bool,
    demo: bool,
    strict: bool,
    show_personal_data: bool,
) -> int:
    """Run the hook in-process on a payload; print the answer and the tokens after Okta
    applies it (like Okta's Preview tab)."""
    settings = load_settings(environment(demo), parts=())  # it authenticates no one
    played = play(payload, Player.of(settings), client, claim, alias)
    try:
        outcome = played_through(
            played.raw, settings, strict=strict, show_personal_data=show_personal_data
        )
    except InvalidPayload as invalid:
        print(f"{played.label}: {invalid}", file=sys.stderr)
        if invalid.errors:
            print(indented(invalid.errors), file=sys.stderr)
        return 1
    say_client(as_json, played)
    result = {
        "payload": played.label,
        "description": samples.DESCRIPTIONS.get(payload.label),
        "client": played.client,
        **outcome,
        "warnings": list(psc.plan_gaps(settings.claims)),
    }
    if as_json:
        print_json(result)
    else:
        print(_preview_text(result))
    return 1 if outcome["okta"]["voided"] else 0
