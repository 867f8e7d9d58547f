"""PSC's environments, as data: where PSC's Keycloak lives, and how to read its broker
redirect URI (psc.md, "PSC's environments").

Source: ANS's own Keycloak provider for relying parties, ``ansforge/keycloak-prosanteconnect``
(``src/main/resources/psc.properties``). Older documents (the LemonLDAP::NG guide among them)
give the sandbox as ``auth.bas.esw.esante.gouv.fr``: a former host, recognised in a redirect
URI so that an org still registered there is routed, never recommended. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

#: The path of PSC's broker endpoint under its issuer: ``<issuer>/broker/<alias>/endpoint``.
BROKER = "/broker/"
ENDPOINT = "/endpoint"


@dataclass(frozen=True)
class Environment:
    """One PSC environment: its Keycloak's issuer and the page testers sign in on."""

    key: str
    name: str
    issuer: str
    #: None for the former host: no source gives its login page.
    login_page: str | None
    #: A host to recognise, not to recommend; ``note`` says where to move.
    former: bool = False
    note: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.issuer).hostname or ""


SANDBOX = Environment(
    "sandbox",
    "sandbox (bac à sable)",
    "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet",
    "https://wallet.bas.psc.esante.gouv.fr",
)
PRODUCTION = Environment(
    "production",
    "production",
    "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
    "https://wallet.esw.esante.gouv.fr",
)
FORMER_SANDBOX = Environment(
    "former-sandbox",
    "former sandbox host",
    "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet",
    None,
    former=True,
    note=(
        "auth.bas.esw.esante.gouv.fr is PSC's former sandbox host (older documents give it):"
        " register the sandbox's current one, auth.bas.psc.esante.gouv.fr"
    ),
)
ENVIRONMENTS: tuple[Environment, ...] = (SANDBOX, PRODUCTION, FORMER_SANDBOX)
#: The environments to choose among (``--psc-env``): the current ones, by key.
CURRENT = {environment.key: environment for environment in ENVIRONMENTS if not environment.former}


def environment(key: str) -> Environment:
    """The environment named ``key`` (``KeyError`` when there is none)."""
    for known in ENVIRONMENTS:
        if known.key == key:
            return known
    raise KeyError(key)


def broker_endpoint(issuer: str, alias: str) -> str:
    """PSC's Keycloak broker endpoint for ``alias``: the redirect URI PSC's app uses."""
    return f"{issuer.rstrip('/')}{BROKER}{alias}{ENDPOINT}"


def environment_of(url: str) -> Environment | None:
    """The PSC environment whose host serves ``url`` over https, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or port not in (None, 443) or "@" in parts.netloc:
        return None
    return next((env for env in ENVIRONMENTS if env.host == parts.hostname), None)


def broker_alias(url: str) -> str | None:
    """The alias of PSC's broker endpoint ``url`` names (``<issuer>/broker/<alias>/endpoint``
    on a PSC host), or None when ``url`` is no such endpoint. The alias is returned as
    written: whether it is an establishment's is the caller's question."""
    environment = environment_of(url)
    if environment is None:
        return None
    path = urlsplit(url).path
    prefix = urlsplit(environment.issuer).path + BROKER
    if not (path.startswith(prefix) and path.endswith(ENDPOINT)):
        return None
    alias = path[len(prefix) : -len(ENDPOINT)]
    return alias if alias and "/" not in alias else None
