"""The deployment files: the Procfile's command serves, the platforms' files name every setting,
their defaults are a valid configuration, and ``psc-hook serve --demo`` (``make run``) serves."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from hook.cli import GUNICORN_ARGS
from hook.config import load_settings
from tests.cli_runner import run, use_env
from tests.conftest import BASE_ENV, ROOT, Server, free_port, stop, wait_until_up

#: The variables of the service's spec; the platforms set PORT themselves.
SPEC_VARIABLES = (
    "PSC_TENANT_ID",
    "PSC_CLIENT_IDS",
    "PSC_CLAIMS_ID_TOKEN",
    "PSC_CLAIMS_ACCESS_TOKEN",
    "PSC_KC_IDP_HINT",
    "PSC_MIN_ASSURANCE",
    "PSC_AMR_RULES",
    "HOOK_AUTH_MODE",
    "HOOK_SECRETS",
    "HOOK_AUTH_HEADER",
    "HOOK_OAUTH_ISSUER",
    "HOOK_OAUTH_AUDIENCE",
    "HOOK_OAUTH_JWKS_URI",
    "HOOK_OAUTH_SCOPES",
    "HOOK_OAUTH_CLIENT_IDS",
    "HOOK_MAX_BODY_BYTES",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS_TOKEN",
)
REQUIRED = {"PSC_TENANT_ID", "HOOK_AUTH_MODE", "HOOK_SECRETS"}
HEROKU_SECRET = "0123456789abcdef" * 4  # Heroku's generator: 64 hex characters
RENDER_SECRET = "q4J0w3Yc1mZ2gXz7pN8vR5tL6bK9hD0sF2aE4cU1yWo="  # Render's: 256 bits, base64
PROCFILE = (ROOT / "Procfile").read_text().strip()
RENDER = yaml.safe_load((ROOT / "deploy" / "render.yaml").read_text())
APP_JSON = json.loads((ROOT / "app.json").read_text())
[SERVICE] = RENDER["services"]
RENDER_VARS = {entry["key"]: entry for entry in SERVICE["envVars"]}


def test_the_spec_variables_are_the_ones_the_service_reads():
    source = (ROOT / "hook" / "config.py").read_text()
    for name in SPEC_VARIABLES:
        assert f'"{name}"' in source


def test_one_start_command_everywhere():
    assert PROCFILE.split() == ["web:", "gunicorn", *GUNICORN_ARGS]
    assert SERVICE["startCommand"] == PROCFILE.removeprefix("web: ")
    assert (ROOT / ".python-version").read_text().strip() == "3.11"


def test_the_procfile_command_starts_the_service(start_server):
    server = start_server(BASE_ENV)
    health = requests.get(f"{server.url}/healthz", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200


# Render -----------------------------------------------------------------------------------


def test_render_blueprint_is_a_python_web_service_checked_on_healthz():
    assert SERVICE["type"] == "web"
    assert SERVICE["runtime"] == "python"
    assert SERVICE["buildCommand"] == "pip install ."
    assert SERVICE["healthCheckPath"] == "/healthz"
    assert SERVICE["plan"] != "free"


def test_render_names_every_variable_with_one_source():
    assert set(RENDER_VARS) == set(SPEC_VARIABLES)
    for name, entry in RENDER_VARS.items():
        sources = [key for key in ("value", "generateValue", "sync") if key in entry]
        assert len(sources) == 1, name
        if "sync" in entry:
            assert entry["sync"] is False, name
    assert RENDER_VARS["HOOK_SECRETS"] == {"key": "HOOK_SECRETS", "generateValue": True}
    assert RENDER_VARS["PSC_TENANT_ID"]["sync"] is False


def test_render_defaults_are_a_valid_configuration():
    env = {name: str(entry["value"]) for name, entry in RENDER_VARS.items() if "value" in entry}
    env.update(PSC_TENANT_ID="OKTA_chu-exemple", HOOK_SECRETS=RENDER_SECRET)
    env.update({name: "" for name, entry in RENDER_VARS.items() if "sync" in entry and
                name not in env})  # fmt: skip
    settings = load_settings(env)
    assert settings.auth_modes == ("header",)
    assert settings.log_format == "json"


# Heroku -----------------------------------------------------------------------------------


def test_app_json_describes_every_variable_and_marks_the_required():
    assert APP_JSON["name"] == "psc-token-hook"
    assert APP_JSON["description"]
    assert APP_JSON["buildpacks"] == [{"url": "heroku/python"}]
    env = APP_JSON["env"]
    assert set(env) == set(SPEC_VARIABLES)
    for name, entry in env.items():
        assert entry["description"], name
        assert entry["required"] is (name in REQUIRED), name  # Heroku's default is required
    assert env["HOOK_SECRETS"]["generator"] == "secret"
    assert "value" not in env["HOOK_SECRETS"]
    assert "value" not in env["PSC_TENANT_ID"]


def test_app_json_defaults_are_a_valid_configuration():
    env = {name: entry["value"] for name, entry in APP_JSON["env"].items() if "value" in entry}
    env.update(PSC_TENANT_ID="OKTA_chu-exemple", HOOK_SECRETS=HEROKU_SECRET)
    settings = load_settings(env)
    assert settings.secrets == (HEROKU_SECRET.encode(),)
    assert settings.claims["access"] == ("tid", "oid", "amr")


# psc-hook serve ---------------------------------------------------------------------------


def psc_hook() -> str:
    return str(Path(sys.executable).with_name("psc-hook"))


def test_serve_demo_serves_and_says_how_to_send_it_a_sample(tmp_path, capsys, monkeypatch):
    port = free_port()
    output = tmp_path / "serve.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [psc_hook(), "serve", "--demo", "--port", str(port)],
            env={"PATH": os.environ["PATH"]},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, output)
    try:
        wait_until_up(server)
        hint = f"psc-hook send password-okta-verify-push --url {server.url}/token-hook --demo"
        assert hint in server.log()
        use_env(monkeypatch, {})
        sent = run(capsys, *hint.split()[1:], "--json")
        assert sent.code == 0, sent.err
        assert sent.json()["status"] == 200
        assert "OKTA_demo-hospital" in json.dumps(sent.json()["answer"])
    finally:
        stop(process)


def test_serve_with_a_bad_configuration_is_one_line_and_exit_2():
    done = subprocess.run(
        [psc_hook(), "serve", "--port", str(free_port())],
        env={"PATH": os.environ["PATH"], "HOOK_AUTH_MODE": "header"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert re.fullmatch(
        r"psc-token-hook: configuration error: PSC_TENANT_ID: [^\n]+\n", done.stderr
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_serve_demo_refuses_to_listen_beyond_loopback(capsys, monkeypatch, host):
    use_env(monkeypatch, {})
    result = run(capsys, "serve", "--demo", "--host", host)
    assert result.code == 2
    assert "--demo serves on 127.0.0.1 only" in result.err
