"""Shared fixtures only: settings, the Flask app and client, and a real gunicorn on loopback.

Constants and helpers live in ``tests/support/`` (see its docstring)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from hook import create_app
from hook.config import Settings, load_settings
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
