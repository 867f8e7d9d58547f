"""``psc-hook check-token``: would Pro Santé Connect accept the tokens of a real sign-in?

Reads an ID token, an access token or both (files or standard input), may fetch the org's
signing keys, runs the checks of ``hook/cli/token_checks.py`` on each token and prints the
verdicts. It reads only the settings that decide the claims: no secret, no auth mode.
"""

from __future__ import annotations

import ssl
import sys
from datetime import UTC, datetime
from typing import Any

import click

from hook.cli.environment import environment
from hook.cli.options import json_option
from hook.cli.output import BAD_INPUT, STDIN, epilog, print_json
from hook.cli.token_checks import Keys, judge
from hook.cli.token_input import read_tokens
from hook.config import ConfigError, Settings, https_url, load_settings, okta_keys_uri
from hook.fetch import FetchError as JwksError
from hook.fetch import download
from hook.keyset import parse_jwks
from hook.oauth import ALGORITHMS as OAUTH_DEFAULT_ALGORITHMS
from hook.okta import TOKEN_KINDS, TOKEN_NAMES

KEYS_BUDGET_S = 5.0
#: The options that say which token a file holds, by token kind.
KIND_OPTIONS = {"identity": "--id-token", "access": "--access-token"}


def org_keys(issuer: str) -> Keys:
    """The signing keys the issuer publishes (``hook.fetch.FetchError`` when it cannot say)."""
    uri = okta_keys_uri(issuer)
    tls = ssl.create_default_context() if uri.startswith("https") else None
    return parse_jwks(download(uri, KEYS_BUDGET_S, tls), OAUTH_DEFAULT_ALGORITHMS), issuer


def _inputs(
    token: str | None, id_token: str | None, access_token: str | None
) -> list[tuple[str, str | None]]:
    """Each token to check, with the kind its option declares (None: TOKEN, any kind)."""
    given = [
        (value, option, kind)
        for value, option, kind in (
            (token, "TOKEN", None),
            (id_token, KIND_OPTIONS["identity"], "identity"),
            (access_token, KIND_OPTIONS["access"], "access"),
        )
        if value is not None
    ]
    if not given:
        raise ConfigError("TOKEN: give a file holding the token(s), or - for standard input")
    if sum(value == STDIN for value, _, _ in given) > 1:
        raise ConfigError("-: standard input can be read once; give the other token as a file")
    inputs = []
    for value, option, kind in given:
        tokens = read_tokens(value, option)
        if kind is not None and len(tokens) > 1:
            raise ConfigError(f"{option}: {len(tokens)} tokens where one was expected")
        inputs += [(text, kind) for text in tokens]
    if len(inputs) > 2:
        raise ConfigError(
            f"TOKEN: {len(inputs)} tokens; give an ID token, an access token, or one of each"
        )
    return inputs


def _results(
    inputs: list[tuple[str, str | None]], settings: Settings, keys: Keys | None
) -> list[dict[str, Any]]:
    """Each token's verdicts, the ID token first; a token of the wrong kind for its option,
    or two of one kind, is a bad argument."""
    now = datetime.now(UTC)
    results = []
    for text, declared in inputs:
        result = judge(text, settings, now, keys)
        if declared is not None and result["kind"] not in (None, declared):
            raise ConfigError(
                f"{KIND_OPTIONS[declared]}: this is an {TOKEN_NAMES[result['kind']]} token"
                " (its claims say so: an access token names its client in cid)"
            )
        results.append(result)
    kinds = [result["kind"] for result in results if result["kind"]]
    if len(kinds) != len(set(kinds)):
        raise ConfigError(
            f"TOKEN: two {TOKEN_NAMES[kinds[0]]} tokens; give an ID token and an access token"
        )
    order = {kind: position for position, kind in enumerate(TOKEN_KINDS)}
    return sorted(results, key=lambda result: order.get(result["kind"], len(order)))


def _token_lines(result: dict[str, Any]) -> list[str]:
    kind = result["kind"]
    issuer = result["issuer"] or "an issuer it does not name (no iss)"
    lines = [f"{TOKEN_NAMES[kind]} token from {issuer}:" if kind else "The input:"]
    for check in result["checks"]:
        verdict = "warn" if check["warning"] else "ok  " if check["ok"] else "FAIL"
        lines.append(f"  {verdict}  {check['name']:<12} {check['detail']}")
        if check["fix"] and (check["warning"] or not check["ok"]):
            lines.append(f"        what to do: {check['fix']}")
    return lines


def _verdict(results: list[dict[str, Any]]) -> str:
    if len(results) == 1:
        return f"PSC would {'accept' if results[0]['accepted'] else 'refuse'} this token."
    refused = [result for result in results if not result["accepted"]]
    if not refused:
        return "PSC would accept both tokens."
    if len(refused) == 2:
        return "PSC would refuse both tokens."
    kind = refused[0]["kind"]
    return f"PSC would refuse the {TOKEN_NAMES[kind] if kind else 'first'} token."


def _text(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for result in results:
        lines += [*_token_lines(result), ""]
    return "\n".join([*lines, _verdict(results)])


@click.command(
    "check-token",
    epilog=epilog(
        (
            "psc-hook check-token token.txt --issuer https://chu-exemple.okta.com/oauth2/aus1psc",
            "psc-hook check-token --id-token id.txt --access-token access.txt",
            "pbpaste | psc-hook check-token - --json",
        ),
        {
            0: "PSC would accept the token(s)",
            1: "PSC would refuse a token (each failed check says what to do)",
            2: BAD_INPUT,
            3: "the org's signing keys cannot be fetched (--issuer)",
        },
    ),
)
@click.argument(
    "token",
    metavar="[TOKEN]",
    required=False,
    help="a file holding the token, or an ID and an access token, or - (standard input)",
)
@click.option("--id-token", metavar="FILE", help="a file holding the ID token, or - (stdin)")
@click.option(
    "--access-token", metavar="FILE", help="a file holding the access token, or - (stdin)"
)
@click.option(
    "--issuer", help="verify the signature with <issuer>/v1/keys (the PSC server's issuer)"
)
@json_option
def command(
    token: str | None,
    id_token: str | None,
    access_token: str | None,
    issuer: str | None,
    as_json: bool,
) -> int:
    """Say whether PSC would accept the ID token, the access token, or both, of a real
    sign-in (the tokens are never printed)."""
    settings = load_settings(environment(), parts=())
    issuer = https_url("--issuer", issuer.strip().rstrip("/")) if issuer else None
    inputs = _inputs(token, id_token, access_token)
    try:
        keys = org_keys(issuer) if issuer else None
    except JwksError as error:
        print(
            f"psc-hook check-token: no signing keys from {okta_keys_uri(issuer or '')}: {error}",
            file=sys.stderr,
        )
        return 3
    results = _results(inputs, settings, keys)
    accepted = all(result["accepted"] for result in results)
    if as_json:
        print_json(results[0] if len(results) == 1 else {"accepted": accepted, "tokens": results})
    else:
        print(_text(results))
    return 0 if accepted else 1
