"""Pro Santé Connect's environments as data: each one's issuer (PSC's Keycloak realm) and
login page, and the broker endpoint through which PSC receives a sign-in back.

Source: ANS's own Keycloak provider for relying parties, ``ansforge/keycloak-prosanteconnect``
(``src/main/resources/psc.properties``). Older documents give the sandbox as
``auth.bas.esw.esante.gouv.fr``: a former host, recognised so that an operator who still
uses it is told to move, never proposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REALM_PATH = "/auth/realms/esante-wallet"


@dataclass(frozen=True)
class Environment:
    """One of PSC's environments: ``key`` names it (``sandbox``, ``production``)."""

    key: str
    issuer: str
    login_page: str
    former: bool = False
    note: str = ""


ENVIRONMENTS: tuple[Environment, ...] = (
    Environment(
        "sandbox",
        f"https://auth.bas.psc.esante.gouv.fr{REALM_PATH}",
        "https://wallet.bas.psc.esante.gouv.fr",
        note="PSC's sandbox (bac à sable, BAS), where an establishment tests its delegation",
    ),
    Environment(
        "production",
        f"https://auth.esw.esante.gouv.fr{REALM_PATH}",
        "https://wallet.esw.esante.gouv.fr",
        note="available once ANS has opened delegation for the establishment",
    ),
    Environment(
        "former-sandbox",
        f"https://auth.bas.esw.esante.gouv.fr{REALM_PATH}",
        "https://wallet.bas.esw.esante.gouv.fr",
        former=True,
        note="a former sandbox host, given by older documents: move to auth.bas.psc.esante.gouv.fr",
    ),
)

#: A broker alias: the establishment's kc_idp_hint (letters, digits, ``._-``, 1 to 100).
ALIAS = re.compile(r"[A-Za-z0-9._-]{1,100}")


def environment(key: str) -> Environment:
    """The environment named ``key`` (``KeyError`` when there is none)."""
    for known in ENVIRONMENTS:
        if known.key == key:
            return known
    raise KeyError(key)


def broker_endpoint(issuer: str, alias: str) -> str:
    """PSC's Keycloak broker endpoint for ``alias``: the redirect URI of the PSC app."""
    return f"{issuer.rstrip('/')}/broker/{alias}/endpoint"


def broker_alias(url: str) -> str | None:
    """The alias of ``<PSC issuer>/broker/<alias>/endpoint`` on one of PSC's hosts (the
    former sandbox host included), or None when ``url`` is not such an endpoint."""
    if not isinstance(url, str):
        return None
    for known in ENVIRONMENTS:
        prefix = f"{known.issuer}/broker/"
        if url.startswith(prefix) and url.endswith("/endpoint"):
            alias = url[len(prefix) : -len("/endpoint")]
            return alias if ALIAS.fullmatch(alias) else None
    return None
