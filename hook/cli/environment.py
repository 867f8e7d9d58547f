"""What only the commands read of the environment.

The service never needs these: the demo's settings, the Management API credentials, the
secrets ``register`` and ``send`` take from the environment rather than the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class OktaAccess:
    """How the commands may authenticate to Okta's Management API: a service app (its
    client id and the path of its private key, a PEM or JWK file), or an API token."""

    client_id: str | None = None
    private_key: str | None = None
    private_key_id: str | None = None
    api_token: str | None = field(default=None, repr=False)


def okta_access(env: Mapping[str, str]) -> OktaAccess:
    """The Management API credentials the environment gives, each of a service app's
    settings only with the others it needs (none at all is the command's to judge)."""
    names = ("OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY", "OKTA_PRIVATE_KEY_ID", "OKTA_API_TOKEN")
    access = OktaAccess(*(env.get(name, "").strip() or None for name in names))
    if access.client_id and not access.private_key:
        raise ConfigError(
            "OKTA_PRIVATE_KEY: required with OKTA_CLIENT_ID (the path of the service app's"
            " private key, a PEM or JWK file)"
        )
    if access.private_key and not access.client_id:
        raise ConfigError("OKTA_CLIENT_ID: required with OKTA_PRIVATE_KEY (the service app's)")
    if access.private_key_id and not access.private_key:
        raise ConfigError("OKTA_PRIVATE_KEY_ID: the kid of OKTA_PRIVATE_KEY, which is not set")
    return access


def register_client_secret(env: Mapping[str, str]) -> str | None:
    """The client_secret_post secret register gives Okta, when not read from stdin."""
    return env.get(REGISTER_CLIENT_SECRET, "").strip() or None


def send_bearer_token(env: Mapping[str, str]) -> str | None:
    """The bearer ``psc-hook send`` presents in OAuth mode, when not given with --bearer."""
    return env.get("HOOK_SEND_BEARER_TOKEN", "").strip() or None
