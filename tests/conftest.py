"""Shared fixtures only: settings, the Flask app and client, and a real gunicorn on loopback.

Constants and helpers live in ``tests/support/`` (see its docstring)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from freezegun import freeze_time

from hook import create_app, oauth
from hook.config import Settings, load_settings
from hook.oauth import OAuthAuthenticator
from tests.support.cli_runner import use_env
from tests.support.doctor_org import LOCAL_ENV
from tests.support.fake_okta import FakeOkta, FakeOktaServer
from tests.support.jwks_server import FIRST_KID, JwksServer, oauth_settings, signing_key
from tests.support.processes import Server, launch, stop
from tests.support.settings import BASE_ENV, SECRET


@pytest.fixture
def env() -> dict[str, str]:
    """The environment a test's settings are built from; tests may change it first."""
    return dict(BASE_ENV)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers() -> dict[str, str]:
    return {"Authorization": SECRET}


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Start the real service under gunicorn (the Procfile's command) on a loopback port."""
    started: list[subprocess.Popen] = []

    def start(environment: dict[str, str], extra_args: tuple[str, ...] = ()) -> Server:
        server = launch(environment, tmp_path, extra_args)
        started.append(server.process)
        return server

    yield start
    for process in started:
        stop(process)


@pytest.fixture(scope="module")
def module_server(tmp_path_factory) -> Iterator[Server]:
    """One gunicorn for a whole test module, with the base settings."""
    server = launch(BASE_ENV, tmp_path_factory.mktemp("server"))
    yield server
    stop(server.process)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    """A JWKS server on loopback serving ``signing_key(FIRST_KID)``."""
    server = JwksServer([signing_key(FIRST_KID)])
    yield server
    server.close()


@pytest.fixture
def clock() -> Iterator[Any]:
    """A frozen clock (freezegun): time moves only when a test ticks it."""
    with freeze_time("2026-03-02 09:00:00") as frozen:
        yield frozen


@pytest.fixture
def authenticator(jwks: JwksServer, clock: Any) -> OAuthAuthenticator:
    """Built under the frozen clock, as ``create_app`` builds it: it fetches the keys once."""
    return OAuthAuthenticator(oauth_settings(jwks))


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT was asked to verify, in order."""
    seen: list[str] = []
    real = oauth.jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(oauth.jwt, "decode", counting)
    return seen


# the doctor's org (test_doctor, test_doctor_log, test_evidence) ----------------------------


@pytest.fixture
def doctor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The doctor's settings in the CLI's environment (``usefixtures`` in its test modules)."""
    use_env(monkeypatch, LOCAL_ENV)


@pytest.fixture(scope="module")
def hinted_service(tmp_path_factory) -> Iterator[Server]:
    """The service with the doctor's settings: PSC's client, and the hint in the ID token."""
    env = {key: value for key, value in LOCAL_ENV.items() if key != "OKTA_API_TOKEN"}
    server = launch(env, tmp_path_factory.mktemp("hinted"))
    yield server
    stop(server.process)


@pytest.fixture
def okta(hinted_service: Server) -> Iterator[FakeOktaServer]:
    """An empty org whose hooks reach the service with the doctor's settings (the tests of
    other commands define their own ``okta``)."""
    server = FakeOktaServer(FakeOkta(service_url=hinted_service.url))
    yield server
    server.close()
