"""PSC's environments as data (psc.md, "PSC's environments"), and the broker redirect URI
read the way PSC writes it: ``<issuer>/broker/<alias>/endpoint`` on a PSC host."""

from __future__ import annotations

import pytest

from hook.psc_environments import (
    CURRENT,
    ENVIRONMENTS,
    FORMER_SANDBOX,
    PRODUCTION,
    SANDBOX,
    broker_alias,
    broker_endpoint,
    environment,
    environment_of,
)


def test_the_environments_psc_publishes() -> None:
    assert SANDBOX.issuer == "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
    assert SANDBOX.login_page == "https://wallet.bas.psc.esante.gouv.fr"
    assert PRODUCTION.issuer == "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"
    assert PRODUCTION.login_page == "https://wallet.esw.esante.gouv.fr"
    assert FORMER_SANDBOX.host == "auth.bas.esw.esante.gouv.fr" and FORMER_SANDBOX.former
    assert "auth.bas.psc.esante.gouv.fr" in FORMER_SANDBOX.note
    assert list(CURRENT) == ["sandbox", "production"]
    assert [env for env in ENVIRONMENTS if env.former] == [FORMER_SANDBOX]


def test_an_environment_by_its_key() -> None:
    assert (environment("sandbox"), environment("production")) == (SANDBOX, PRODUCTION)
    with pytest.raises(KeyError):
        environment("staging")


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda env: env.key)
def test_each_environments_broker_endpoint_names_its_alias(environment) -> None:
    url = broker_endpoint(environment.issuer, "OKTA_chu-a")
    assert url == f"{environment.issuer}/broker/OKTA_chu-a/endpoint"
    assert broker_alias(url) == "OKTA_chu-a"
    assert environment_of(url) is environment
    slashed = broker_endpoint(environment.issuer + "/", "x")
    assert slashed == broker_endpoint(environment.issuer, "x")


@pytest.mark.parametrize(
    "url",
    [
        "https://AUTH.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/TID-CHU-NANCY/endpoint",
        "https://auth.bas.psc.esante.gouv.fr:443/auth/realms/esante-wallet/broker/TID-CHU-NANCY/endpoint",
        "HTTPS://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/broker/TID-CHU-NANCY/endpoint?x=1",
    ],
)
def test_a_broker_endpoint_written_otherwise_is_read_alike(url) -> None:
    assert broker_alias(url) == "TID-CHU-NANCY"


@pytest.mark.parametrize(
    "url",
    [
        "https://intranet.chu-a.fr/callback",  # an establishment's own application
        "http://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://auth.bas.psc.esante.gouv.fr:8443/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://auth.bas.psc.esante.gouv.fr.evil.example/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://evil.example/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://x@auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/other/broker/OKTA_a/endpoint",
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker//endpoint",
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/endpoint",
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/a/b/endpoint",
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/broker/OKTA_a/login",
        "https://auth.bas.psc.esante.gouv.fr:x/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "https://[::1/auth/realms/esante-wallet/broker/OKTA_a/endpoint",
        "",
    ],
)
def test_anything_else_is_no_broker_endpoint(url) -> None:
    assert broker_alias(url) is None
