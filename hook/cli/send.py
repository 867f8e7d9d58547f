"""``psc-hook send``: a payload POSTed to a running service, authenticated as Okta would be.

Send plays Okta's call, so it reads only the settings that call carries: how Okta
authenticates (HOOK_AUTH_MODE, HOOK_AUTH_HEADER, HOOK_SECRETS or a bearer), the client
(PSC_CLIENT_IDS) and, for ``--claim`` and ``--redirect-alias``, the tenant claim. The
service checks the rest; when it patches nothing (204), send says which client it played
and why that is the likely cause.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import click

from hook.cli import hook_client
from hook.cli.environment import environment, send_bearer_token
from hook.cli.http_exchange import ExchangeError
from hook.cli.options import demo_option, json_option, timeout_option
from hook.cli.output import BAD_INPUT, epilog, indented, print_json
from hook.cli.playing import Played, Player, Reference, payload_options, play, say_client
from hook.cli.token_input import read_token
from hook.config import claim_to_read, client_order, https_url


def _player(env: Mapping[str, str]) -> Player:
    """The client and tenant claim to play, read as the service reads them."""
    clients = client_order(env)
    return Player(clients[0] if clients else None, claim_to_read(env))


def _why_nothing(played: Played, clients: tuple[str, ...]) -> str:
    """Why the service answered 204: it skips a client outside its PSC_CLIENT_IDS (going
    live, step 3), said with what send knows of the client it played."""
    said = f"client {played.client} ({played.why})" if played.client else "no client"
    if not clients:
        advice = "PSC_CLIENT_IDS is unset here: set it as on the service, and send plays its first"
    elif played.client not in clients:
        advice = "that client is not in PSC_CLIENT_IDS here either: play the PSC app's client"
    else:
        advice = (
            "that client is in PSC_CLIENT_IDS here, so the service runs with another"
            " PSC_CLIENT_IDS (or PSC_CLAIMS_* that place no claim in these tokens): compare"
            " with psc-hook check-config run with the service's variables"
        )
    return (
        "the service patched nothing: it skips a client that is not in its PSC_CLIENT_IDS,"
        f" and this request played {said}; {advice}"
    )


@click.command(
    "send",
    epilog=epilog(
        (
            "psc-hook send password-okta-verify-push \\\n"
            "    --url http://127.0.0.1:8080/token-hook --demo",
        ),
        {
            0: "the service answered 200 or 204",
            1: "the service answered with an error (its status and body are printed)",
            2: BAD_INPUT,
            3: "the service is unreachable (refused, unknown host, timeout)",
        },
    ),
)
@payload_options
@json_option
@demo_option
@click.option("--url", required=True, help="the service's /token-hook URL")
@click.option(
    "--bearer",
    metavar="FILE",
    help="OAuth mode: a file holding the bearer token to present, or - (standard input);"
    " or set HOOK_SEND_BEARER_TOKEN",
)
@timeout_option
def command(
    payload: Reference,
    claim: tuple[str, ...],
    client: str | None,
    alias: str | None,
    as_json: bool,
    demo: bool,
    url: str,
    bearer: str | None,
    timeout: float,
) -> int:
    """POST a payload to a running service with the configured auth."""
    env = environment(demo)
    url = https_url("--url", url)
    bearer = read_token(bearer, "--bearer") if bearer else send_bearer_token(env)
    auth = hook_client.okta_auth_headers(env, bearer)
    played = play(payload, _player(env), client, claim, alias)
    say_client(as_json, played)
    try:
        reply = hook_client.post(url, played.raw, auth, timeout)
    except ExchangeError as error:  # no answer in time, or one larger than any hook's
        print(f"psc-hook send: {error}", file=sys.stderr)
        return error.exit_code
    answer = reply.json()
    why = _why_nothing(played, client_order(env)) if reply.status == 204 else None
    result = {
        "payload": played.label,
        "client": played.client,
        "url": url,
        "status": reply.status,
        "request_id": reply.headers.get("X-Request-Id"),
        "latency_ms": round(reply.elapsed_ms, 1),
        "answer": answer,
        "why_nothing_patched": why,
    }
    if as_json:
        print_json(result)
    else:
        print(
            f"POST {url} ({played.label}): HTTP {reply.status} in {result['latency_ms']} ms,"
            f" request id {result['request_id']}"
        )
        print(indented(answer) if answer is not None else f"  no body: {why or 'nothing'}")
    return 0 if reply.status in (200, 204) else 1
