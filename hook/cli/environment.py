"""What only the commands read of the environment.

The service never needs these: the demo's settings, the Management API token, the secrets
``register`` and ``send`` take from the environment rather than the command line.
"""

from __future__ import annotations

from collections.abc import Mapping

from hook.config import ConfigError, process_environment

#: The Okta IdP id the shipped samples sign in through with a CPS card.
DEMO_CPS_IDP_ID = "0oa1cpsSmartCard0Idp7"
#: What ``psc-hook serve --demo`` and ``make run`` use: a complete, harmless setup.
DEMO_ENVIRONMENT = {
    "PSC_TENANT_ID": "OKTA_demo-hospital",
    "PSC_KC_IDP_HINT": "OKTA_demo-hospital",
    "PSC_CPS_IDP_IDS": DEMO_CPS_IDP_ID,
    "HOOK_AUTH_MODE": "header",
    "HOOK_SECRETS": "demo-secret-0123456789-abcdefghijklmnop",
    "LOG_FORMAT": "console",
}
#: Where ``psc-hook register --auth oauth`` reads the OAuth client's secret (not the service).
REGISTER_CLIENT_SECRET = "HOOK_REGISTER_CLIENT_SECRET"  # noqa: S105 - a variable's name


def environment(demo: bool = False) -> dict[str, str]:
    """A copy of the process environment, with the demo settings under it when asked."""
    env = dict(process_environment())
    return {**DEMO_ENVIRONMENT, **env} if demo else env


def okta_api_token(env: Mapping[str, str]) -> str:
    """The Management API token ``psc-hook register`` sends as ``SSWS``."""
    token = env.get("OKTA_API_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "OKTA_API_TOKEN: required by register and doctor"
            " (Admin Console > Security > API > Tokens)"
        )
    return token


def register_client_secret(env: Mapping[str, str]) -> str | None:
    """The client_secret_post secret register gives Okta, when not read from stdin."""
    return env.get(REGISTER_CLIENT_SECRET, "").strip() or None


def send_bearer_token(env: Mapping[str, str]) -> str | None:
    """The bearer ``psc-hook send`` presents in OAuth mode, when not given with --bearer."""
    return env.get("HOOK_SEND_BEARER_TOKEN", "").strip() or None
