"""A payload as ``preview`` and ``send`` play it: a shipped sample or a captured file, as
the configured PSC client makes it, for a user of an establishment and through PSC's route
to one when asked."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from hook import jsonio, samples
from hook.cli.output import progress
from hook.config import ConfigError, Settings
from hook.psc_environments import SANDBOX, broker_endpoint
from hook.tenants import IDENTIFIER, IDENTIFIER_HELP


@dataclass(frozen=True)
class Reference:
    """What PAYLOAD names: a sample (its document) or a file (its exact bytes)."""

    label: str
    document: Any
    raw: bytes


@dataclass(frozen=True)
class Player:
    """What playing reads from the settings: the client to play, and the tenant claim
    when PSC_TENANTS matches establishments on one (None otherwise)."""

    first_client: str | None
    tenant_claim: str | None

    @classmethod
    def of(cls, settings: Settings) -> Player:
        return cls(settings.first_client, settings.claim_to_read)


@dataclass(frozen=True)
class Played:
    """A payload as preview or send play it: its label, its bytes, the client it names."""

    label: str
    raw: bytes
    client: str | None
    why: str
    #: With PSC_TENANTS: which PSC route is played, said on stderr; None otherwise.
    route: str | None = None


def misspelt(name: str) -> str:
    """The sample a misspelt name was probably meant to be, as a hint (or nothing)."""
    close = difflib.get_close_matches(name, samples.DESCRIPTIONS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class SampleName(click.ParamType):
    """A shipped sample's name: a misspelt one is an argument error with the nearest name."""

    name = "sample"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if value in samples.DESCRIPTIONS:
            return value
        self.fail(f"{value!r} is not a sample{misspelt(value)}; psc-hook samples lists them")


class PayloadReference(click.ParamType):
    """PAYLOAD, checked before any setting is read: a sample name, else a readable file."""

    name = "payload"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, Reference):
            return value
        if value in samples.DESCRIPTIONS:
            return Reference(value, samples.load(value), b"")
        try:
            raw = Path(value).read_bytes()
        except OSError as error:
            self.fail(
                f"{value!r} is neither a sample{misspelt(value)} nor a readable file"
                f" ({error.strerror}); psc-hook samples lists the samples, and --demo plays"
                " them with the demo settings, without configuring anything"
            )
        try:
            jsonio.loads(raw)
        except jsonio.TooDeep as error:  # the commands could not read it either
            self.fail(f"{value!r} is JSON {error}; the service answers such a body 400")
        except ValueError:
            pass  # played as it is: the service's answer says what is wrong
        return Reference(value, None, raw)


def _alias(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not IDENTIFIER.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not an alias ({IDENTIFIER_HELP})")
    return value


def payload_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PAYLOAD, --claim, --client and --redirect-alias: what preview and send play."""
    command = click.option(
        "--redirect-alias",
        "alias",
        metavar="ALIAS",
        callback=_alias,
        help="play PSC's route to the establishment whose kc_idp_hint is ALIAS (PSC_TENANTS):"
        " the redirect URI becomes PSC's sandbox broker endpoint for ALIAS, a refresh's"
        " original grant's too (default: a sample carries no PSC route, a file its own)",
    )(command)
    command = click.option(
        "--client",
        metavar="ID",
        help="play the request as this client (default: a sample plays the first of"
        " PSC_CLIENT_IDS, a file its own client)",
    )(command)
    command = click.option(
        "--claim",
        "claim",
        multiple=True,
        metavar="VALUE",
        help="set the tenant claim (PSC_TENANT_CLAIM) of the payload's tokens to VALUE, to play"
        " a user of an establishment of PSC_TENANTS; repeat it for a list (a groups claim)",
    )(command)
    return click.argument(
        "payload", metavar="PAYLOAD", type=PayloadReference(), help="a sample name or a JSON file"
    )(command)


def _as_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def play(
    reference: Reference,
    player: Player,
    client: str | None,
    values: tuple[str, ...],
    alias: str | None = None,
) -> Played:
    """The payload as the configured PSC client makes it: a sample plays ``--client``, else
    the first of PSC_CLIENT_IDS (the service skips any other client); a captured file keeps
    its own client unless ``--client`` is given. With PSC_TENANTS, ``alias`` plays PSC's
    route to that establishment; without it, a sample's own redirect URI (a placeholder's)
    is left out, a file's kept."""
    sample = reference.document is not None
    if alias is not None and player.tenant_claim is None:
        raise ConfigError("--redirect-alias: only with PSC_TENANTS (establishments PSC routes to)")
    document = reference.document if sample else _as_json(reference.raw)
    if alias is not None and not isinstance(document, dict):
        raise ConfigError("--redirect-alias: the payload is not a token hook request")
    why = "as captured"
    if sample or client:
        played = client or player.first_client
        if client:
            why = "--client"
        elif played:
            why = "the first of PSC_CLIENT_IDS"
        else:
            why = "the sample's own; PSC_CLIENT_IDS is unset"
        if played and isinstance(document, dict):
            samples.as_client(document, played)
    route = None
    if player.tenant_claim is not None and isinstance(document, dict):
        if alias is not None:
            route = f"PSC's route to {alias} (--redirect-alias)"
            samples.as_routed(document, broker_endpoint(SANDBOX.issuer, alias))
        elif sample:
            route = "no PSC route (the sample's redirect URI left out; --redirect-alias plays one)"
            samples.as_routed(document, None)
        else:
            route = "PSC's route as captured"
    raw = reference.raw
    if isinstance(document, dict) and (sample or client or alias):
        raw = json.dumps(document).encode()
    raw = _as_user_of(raw, player, values)
    return Played(reference.label, raw, samples.client_of(_as_json(raw)), why, route)


def say_client(as_json: bool, played: Played) -> None:
    progress(as_json, f"psc-hook: playing client {played.client or 'none'} ({played.why})")
    if played.route is not None:
        progress(as_json, f"psc-hook: playing {played.route}")


def _as_user_of(raw: bytes, player: Player, values: tuple[str, ...]) -> bytes:
    """The payload with the tenant claim set in its tokens: one value as a string, several
    as a list (a groups claim), to play a user of an establishment."""
    if not values:
        return raw
    if player.tenant_claim is None:
        raise ConfigError("--claim: only with PSC_TENANTS (establishments matched on a claim)")
    try:
        document = json.loads(raw)
        tokens = [document["data"].get(kind) for kind in ("identity", "access")]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise ConfigError("--claim: the payload is not a token hook request") from None
    for token in tokens:
        if isinstance(token, dict) and isinstance(token.get("claims"), dict):
            claim = values[0] if len(values) == 1 else list(values)
            token["claims"][player.tenant_claim] = claim
    return json.dumps(document).encode()
