"""PSC's environments as data: one table, the broker endpoint and its alias."""

from __future__ import annotations

import pytest

from hook.psc_environments import ENVIRONMENTS, broker_alias, broker_endpoint, environment


def test_the_sandbox_and_production_are_anss_own_and_the_former_host_is_marked() -> None:
    assert environment("sandbox").issuer == (
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
    )
    assert environment("production").issuer == (
        "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"
    )
    [former] = [known for known in ENVIRONMENTS if known.former]
    assert former.issuer.startswith("https://auth.bas.esw.esante.gouv.fr/")
    assert "auth.bas.psc.esante.gouv.fr" in former.note
    with pytest.raises(KeyError):
        environment("staging")


@pytest.mark.parametrize("known", ENVIRONMENTS, ids=lambda known: known.key)
def test_a_broker_endpoint_gives_back_its_alias(known) -> None:
    url = broker_endpoint(known.issuer + "/", "OKTA_chu-exemple")
    assert url == f"{known.issuer}/broker/OKTA_chu-exemple/endpoint"
    assert broker_alias(url) == "OKTA_chu-exemple"


@pytest.mark.parametrize(
    "url",
    [
        "https://intranet.chu-exemple.fr/callback",
        "https://auth.example.org/auth/realms/esante-wallet/broker/OKTA_x/endpoint",
        "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/broker//endpoint",
        "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/broker/a/b/endpoint",
        "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/broker/OKTA_x/login",
    ],
)
def test_anything_else_has_no_alias(url: str) -> None:
    assert broker_alias(url) is None
