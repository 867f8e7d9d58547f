"""The channel ``psc-hook register`` gives Okta: how Okta authenticates to the hook, and
which secret it carries (said by its fingerprint, never its value). A client secret comes
from standard input or the environment, never the command line (``ps`` shows it to every
user)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Mapping
from typing import Any, Protocol

from hook.cli import okta_api
from hook.cli.environment import REGISTER_CLIENT_SECRET, register_client_secret
from hook.cli.output import STDIN, fingerprint
from hook.config import ConfigError, https_url, load_settings


class ChannelArgs(Protocol):
    """What register's command line says of the channel."""

    auth: str
    client_id: str | None
    client_secret: str | None
    hook_key_id: str | None
    token_url: str | None
    scope: str | None


def client_secret(given: str | None, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The OAuth client's secret and where it came from: stdin (``-``) or the environment,
    never the command line, which ``ps`` shows every user."""
    if given is None:
        secret = register_client_secret(env)
        return (secret, REGISTER_CLIENT_SECRET) if secret else None
    if given != STDIN:
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


def hook_channel(
    args: ChannelArgs, url: str, env: Mapping[str, str]
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
    secret = client_secret(args.client_secret, env)
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


def channel_text(channel: dict[str, Any], secret: str | None) -> str:
    """How Okta authenticates to the hook, in words (the secret by its fingerprint)."""
    config = channel["config"]
    if channel["type"] == "HTTP":
        return f"authenticated by header {config['authScheme']['key']!r} with {secret}"
    text = (
        f"authenticated by OAuth 2.0 {config['authType']}, client {config['clientId']},"
        f" token URL {config['tokenUrl']}"
    )
    return text + (f", with {secret}" if secret else "")
