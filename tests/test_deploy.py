"""The deployment files: the Procfile's command serves, the platforms' files name every setting,
their defaults are a valid configuration, and ``psc-hook serve --demo`` (``make run``) serves."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from hook.cli.serve import GUNICORN_ARGS
from hook.config import ConfigError, https_url, load_settings
from tests.support.cli_runner import run, use_env
from tests.support.docs import page
from tests.support.processes import Server, free_port, gunicorn_command, stop, wait_until_up
from tests.support.settings import BASE_ENV, ROOT, SECRET

#: The variables of the service's spec; the platforms set PORT themselves.
SPEC_VARIABLES = (
    "PSC_TENANT_ID",
    "PSC_CLIENT_IDS",
    "PSC_CLAIMS_ID_TOKEN",
    "PSC_CLAIMS_ACCESS_TOKEN",
    "PSC_KC_IDP_HINT",
    "PSC_MIN_ASSURANCE",
    "PSC_AMR_RULES",
    "PSC_TENANTS",
    "PSC_TENANT_CLAIM",
    "PSC_CPS_IDP_IDS",
    "PSC_MAX_AUTH_AGE",
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
    "HOOK_LOG_USER_KEY",
)
#: A complete configuration of each auth mode; what each one cannot do without is derived below.
COMPLETE = {
    "header": BASE_ENV,
    "oauth": {
        **BASE_ENV,
        "HOOK_AUTH_MODE": "oauth",
        "HOOK_OAUTH_ISSUER": "https://chu-exemple.okta.com/oauth2/aus9hookCaller0example",
        "HOOK_OAUTH_AUDIENCE": "api://psc-token-hook",
    },
}


def required_in(env: dict[str, str]) -> set[str]:
    """The variables without which this configuration stops the service, naming them."""
    required = set()
    for name in env:
        try:
            load_settings({key: value for key, value in env.items() if key != name})
        except ConfigError as error:
            assert str(error).startswith(f"{name}:"), error
            required.add(name)
    return required


#: What the default mode (header) requires: what the platforms' forms mark as required.
REQUIRED = required_in(COMPLETE["header"])
#: What any mode requires: what every deploy file must name.
REQUIRED_IN_ANY_MODE = set().union(*(required_in(env) for env in COMPLETE.values()))
HEROKU_SECRET = "0123456789abcdef" * 4  # Heroku's generator: 64 hex characters
RENDER_SECRET = "q4J0w3Yc1mZ2gXz7pN8vR5tL6bK9hD0sF2aE4cU1yWo="  # Render's: 256 bits, base64
#: Scalingo's region certified to host health data (HDS).
SCALINGO_HDS_REGION = "osc-secnum-fr1"
#: Clever Cloud's zones certified to host health data (HDS); its default, par, is not.
CLEVER_HDS_ZONES = {"parhds", "grahds", "rbxhds"}
OPENSSL_SECRET = "fedcba9876543210" * 4  # the docs' openssl rand -hex 32
SCALINGO_SECRET = "90ffea2d3071e8d86cafb89ff5060883"  # Scalingo's documented example: 32 hex
PROCFILE = (ROOT / "Procfile").read_text().strip()
RENDER = yaml.safe_load((ROOT / "deploy" / "render.yaml").read_text())
APP_JSON = json.loads((ROOT / "app.json").read_text())
SCALINGO = json.loads((ROOT / "scalingo.json").read_text())
[SERVICE] = RENDER["services"]
RENDER_VARS = {entry["key"]: entry for entry in SERVICE["envVars"]}


def test_the_spec_variables_are_the_ones_the_service_reads():
    source = (ROOT / "hook" / "config.py").read_text()
    for name in SPEC_VARIABLES:
        assert f'"{name}"' in source


def test_the_required_variables_are_derived_from_the_code():
    assert sorted(REQUIRED) == ["HOOK_AUTH_MODE", "HOOK_SECRETS", "PSC_TENANT_ID"]
    oauth_only = sorted(REQUIRED_IN_ANY_MODE - REQUIRED)
    assert oauth_only == ["HOOK_OAUTH_AUDIENCE", "HOOK_OAUTH_ISSUER"]


#: Every place an operator sets the service's variables, as text.
DEPLOY_FILES = {
    "app.json": (ROOT / "app.json").read_text(),
    "deploy/render.yaml": (ROOT / "deploy" / "render.yaml").read_text(),
    "scalingo.json": (ROOT / "scalingo.json").read_text(),
    "deploy/kubernetes": "\n".join(
        path.read_text() for path in sorted((ROOT / "deploy" / "kubernetes").iterdir())
    ),
    "docs/deploy/clever-cloud.md": page("docs/deploy/clever-cloud.md"),
}


@pytest.mark.parametrize("where", DEPLOY_FILES)
def test_every_deploy_file_names_every_required_variable(where):
    missing = [
        name
        for name in sorted(REQUIRED_IN_ANY_MODE)
        if not re.search(rf"\b{name}\b", DEPLOY_FILES[where])
    ]
    assert missing == [], f"{where} does not name {missing}"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_the_procfile_command_names_a_missing_required_variable_and_stops(tmp_path, name):
    """The Procfile names no variable: the process it starts names each one it needs."""
    environment = {key: value for key, value in BASE_ENV.items() if key != name}
    done = subprocess.run(
        gunicorn_command(free_port()), cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], **environment}, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert re.fullmatch(rf"psc-token-hook: configuration error: {name}: [^\n]+\n", done.stderr)


def test_the_buildpacks_install_the_lock_and_run_from_the_tree():
    """requirements.txt is the hash-pinned lock (tests/test_lock.py); the buildpacks run the
    Procfile in the app's directory, so the package is imported from the tree."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert lines[0].startswith("# This file was autogenerated by uv")
    assert "." not in lines


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


def test_render_blueprint_is_a_python_web_service_checked_on_readyz():
    assert SERVICE["type"] == "web"
    assert SERVICE["runtime"] == "python"
    assert SERVICE["buildCommand"] == (
        "pip install --require-hashes -r requirements.txt && pip install --no-deps ."
    )
    assert SERVICE["healthCheckPath"] == "/readyz"  # Render gates each deploy on it
    assert SERVICE["plan"] != "free"


#: Render's own variables in the Blueprint, beside the service's.
RENDER_PLATFORM_VARIABLES = {"PYTHON_VERSION"}


def test_render_names_every_variable_with_one_source():
    assert set(RENDER_VARS) - RENDER_PLATFORM_VARIABLES == set(SPEC_VARIABLES)
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


def test_app_json_runs_two_dynos_that_do_not_sleep():
    """Heroku restarts every dyno once a day, two dynos at different times: with one, the
    hook is down for each restart. Two dynos of a type need Standard or Performance."""
    web = APP_JSON["formation"]["web"]
    assert web["quantity"] >= 2
    assert web["size"].lower().startswith(("standard-", "performance-"))
    heroku = page("docs/deploy/heroku.md")
    assert "heroku features:enable preboot" in heroku
    assert "once a day" in heroku


def test_the_heroku_cli_commands_do_what_app_json_would():
    """Heroku reads app.json only for an app made from a Deploy button: the CLI path must
    scale to its formation and set the secrets it generates, or /metrics is open and one
    Basic dyno (one per process type) serves alone."""
    text = page("docs/deploy/heroku.md").replace("\\\n", " ")
    web = APP_JSON["formation"]["web"]
    assert f"heroku ps:scale web={web['quantity']}:{web['size']}" in text
    [config_set] = [line for line in text.splitlines() if line.startswith("heroku config:set")]
    generated = [name for name, entry in APP_JSON["env"].items() if "generator" in entry]
    assert generated == ["HOOK_SECRETS", "METRICS_TOKEN"]
    for name in generated:
        assert f'{name}="$(openssl rand -hex 32)"' in config_set, name
    assert "chu-exemple-psc-hook.herokuapp.com" not in text  # new apps get a random suffix


def test_app_json_defaults_are_a_valid_configuration():
    env = {name: entry["value"] for name, entry in APP_JSON["env"].items() if "value" in entry}
    env.update(PSC_TENANT_ID="OKTA_chu-exemple", HOOK_SECRETS=HEROKU_SECRET)
    settings = load_settings(env)
    assert settings.secrets == (HEROKU_SECRET.encode(),)
    assert settings.claims["access"] == ("tid", "oid", "amr")


# Scalingo ---------------------------------------------------------------------------------


def test_scalingo_json_describes_every_variable_and_generates_the_secret():
    assert SCALINGO["name"] == "psc-token-hook"
    env = SCALINGO["env"]
    assert set(env) == set(SPEC_VARIABLES)
    for name, entry in env.items():
        assert entry["description"], name
        assert entry["required"] is (name in REQUIRED), name
        assert ("value" in entry) != ("generator" in entry), name  # Scalingo takes one
    assert env["HOOK_SECRETS"]["generator"] == "secret"
    generated = [name for name, entry in env.items() if "generator" in entry]
    assert generated == ["HOOK_SECRETS", "METRICS_TOKEN"]
    assert env["PSC_TENANT_ID"]["value"] == ""  # nothing to keep: the form asks for it


def test_scalingo_runs_two_web_containers_in_its_hds_region():
    assert SCALINGO["formation"] == {"web": {"amount": 2, "size": "S"}}
    lines = page("docs/deploy/scalingo.md").splitlines()
    [create] = [shlex.split(line) for line in lines if line.startswith("scalingo --region")]
    assert create[1:4] == ["--region", SCALINGO_HDS_REGION, "create"]


def test_scalingo_defaults_are_a_valid_configuration():
    env = {name: entry["value"] for name, entry in SCALINGO["env"].items() if "value" in entry}
    env.update(PSC_TENANT_ID="OKTA_chu-exemple", HOOK_SECRETS=SCALINGO_SECRET)
    settings = load_settings(env)
    assert settings.secrets == (SCALINGO_SECRET.encode(),)
    assert (settings.auth_modes, settings.log_format) == (("header",), "json")


# Clever Cloud (the commands of docs/deploy/clever-cloud.md) ------------------------------


def clever_commands() -> list[list[str]]:
    """The Clever Cloud page's commands, as the shell splits them."""
    lines = page("docs/deploy/clever-cloud.md").splitlines()
    return [shlex.split(line) for line in lines if line.startswith("clever ")]


def clever_env() -> dict[str, str]:
    """The variables the Clever Cloud page's commands set."""
    return {cmd[3]: cmd[4] for cmd in clever_commands() if cmd[1:3] == ["env", "set"]}


def test_clever_cloud_runs_the_procfile_command_checks_readyz_in_an_hds_zone():
    env = clever_env()
    assert env["CC_RUN_COMMAND"] == PROCFILE.removeprefix("web: ")
    assert env["CC_PYTHON_VERSION"] == (ROOT / ".python-version").read_text().strip()
    assert env["CC_HEALTH_CHECK_PATH"] == "/readyz"
    [create] = [command for command in clever_commands() if command[1] == "create"]
    assert create[create.index("--region") + 1] in CLEVER_HDS_ZONES


def test_clever_cloud_settings_are_a_valid_configuration():
    env = {name: value for name, value in clever_env().items() if not name.startswith("CC_")}
    assert env["HOOK_SECRETS"] == env["METRICS_TOKEN"] == "$(openssl rand -hex 32)"
    settings = load_settings(
        {**env, "HOOK_SECRETS": OPENSSL_SECRET, "METRICS_TOKEN": OPENSSL_SECRET}
    )
    assert (settings.tenant_id, settings.log_format) == ("OKTA_chu-exemple", "json")
    assert settings.metrics_token == OPENSSL_SECRET.encode()  # /metrics is not left open
    assert settings.port == 9000  # where the Python runtime's proxy sends the calls


# psc-hook serve ---------------------------------------------------------------------------


def psc_hook() -> str:
    return str(Path(sys.executable).with_name("psc-hook"))


def test_serve_demo_serves_and_says_how_to_send_it_a_sample(tmp_path, capsys, monkeypatch):
    port = free_port()
    output = tmp_path / "serve.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [psc_hook(), "serve", "--demo", "--port", str(port)],
            env={"PATH": "/usr/bin:/bin"},  # as after make run: .venv/bin is not on the PATH
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, output)
    try:
        wait_until_up(server)
        hint = f"psc-hook send password-okta-verify-push --url {server.url}/token-hook --demo"
        assert f"try it from another terminal: {psc_hook()} send" in server.log()
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
    assert re.fullmatch(r"psc-hook: configuration error: PSC_TENANT_ID: [^\n]+\n", done.stderr)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_serve_demo_refuses_to_listen_beyond_loopback(capsys, monkeypatch, host):
    use_env(monkeypatch, {})
    result = run(capsys, "serve", "--demo", "--host", host)
    assert result.code == 2
    assert "--demo serves on 127.0.0.1 only" in result.err
    with pytest.raises(ConfigError, match="http:// only on a loopback host"):
        https_url("--url", f"http://{host}:8080/token-hook")


@pytest.mark.parametrize("host", ["127.0.0.2", "localhost"])
def test_serve_demo_and_plain_http_urls_share_one_loopback_rule(capsys, monkeypatch, host):
    """hook.config.is_loopback decides both: where the demo may listen (its secret is
    public) is where http:// is allowed, any loopback address (the commands took only two)."""
    use_env(monkeypatch, {})
    executed: list[tuple[object, ...]] = []
    monkeypatch.setattr(os, "execve", lambda *args: executed.append(args))
    port = free_port()
    assert run(capsys, "serve", "--demo", "--host", host, "--port", str(port)).code == 0
    [(_, command, _)] = executed
    assert command[-2:] == ["--bind", f"{host}:{port}"]
    assert https_url("--url", f"http://{host}:{port}/token-hook")


def free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("host", "env", "demo", "url"),
    [
        ("::1", {}, ("--demo",), "[::1]"),
        ("[::1]", {}, ("--demo",), "[::1]"),
        ("::", BASE_ENV, (), "[::1]"),
        ("[::]", BASE_ENV, (), "[::1]"),
        ("0.0.0.0", BASE_ENV, (), "127.0.0.1"),
    ],
)
def test_serve_brackets_an_ipv6_host_for_gunicorn_and_in_its_url(
    capsys, monkeypatch, host, env, demo, url
):
    """``::1`` and ``[::1]`` are loopback for the demo; gunicorn reads ``[::1]:8080``
    (``::1:8080`` failed: "'' is not a valid port number"); a client reaches a service on
    every interface at the loopback address of its family."""
    use_env(monkeypatch, env)
    executed: list[tuple[object, ...]] = []
    monkeypatch.setattr(os, "execve", lambda *args: executed.append(args))
    port = free_ipv6_port() if ":" in host else free_port()
    result = run(capsys, "serve", *demo, "--host", host, "--port", str(port))
    assert result.code == 0, result.err
    [(_, command, _)] = executed
    bound = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
    assert command[-2:] == ["--bind", bound]
    assert f"psc-hook: serving on {bound} (" in result.err
    assert f" --url http://{url}:{port}/token-hook" in result.err


def test_serve_demo_serves_on_the_ipv6_loopback(tmp_path):
    port = free_ipv6_port()
    output = tmp_path / "serve.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [psc_hook(), "serve", "--demo", "--host", "::1", "--port", str(port)],
            env={"PATH": "/usr/bin:/bin"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://[::1]:{port}", process, output)
    try:
        wait_until_up(server)
        assert f"--url {server.url}/token-hook --demo" in server.log()
    finally:
        stop(process)


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [psc_hook(), "serve", *args],
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("flag", [True, False])
def test_serve_on_a_taken_port_is_one_line_and_exit_2_before_any_banner(flag):
    """Not gunicorn's five tries in five seconds, ten log lines and exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if flag:
            done = serve("--demo", "--port", str(port))
        else:
            done = serve("--demo", env={"PORT": str(port)})
    name = "--port" if flag else "PORT"
    assert done.returncode == 2
    assert done.stderr == (
        f"psc-hook: configuration error: {name}: 127.0.0.1:{port} is already in use: stop what"
        " listens there or choose another port\n"
    )


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("no-such-host.invalid", "--host: 'no-such-host.invalid' is not a known host ("),
        ("192.0.2.10", "--host: 192.0.2.10 is not an address of this machine"),
        ("127.0.0.1:8080", "--host: '127.0.0.1:8080' is neither a host name nor an IP address"),
    ],
)
def test_serve_on_a_host_it_cannot_listen_on_is_one_line_and_exit_2(host, said):
    done = serve("--host", host, "--port", str(free_port()), env=BASE_ENV)
    assert done.returncode == 2
    assert done.stderr.startswith(f"psc-hook: configuration error: {said}")
    assert done.stderr.count("\n") == 1, done.stderr


# Every way the docs deploy protects /metrics ---------------------------------------------


@pytest.mark.parametrize(
    "section",
    [
        f"docs/{lang}deploy/{name}.md"
        for lang in ("", "fr/")
        for name in ("heroku", "scalingo", "clever-cloud", "container", "kubernetes")
    ],
)
def test_every_deployment_the_docs_describe_sets_a_metrics_token(section):
    """Unset, /metrics tells anyone the sign-in volume and the assurance mix."""
    commands = [line for line in page(section).splitlines() if "METRICS_TOKEN" in line]
    assert any('METRICS_TOKEN="$(openssl rand -hex 32)"' in line for line in commands) or any(
        'METRICS_TOKEN "$(openssl rand -hex 32)"' in line for line in commands
    ), section
    assert not any("optional" in line for line in commands), section


def manifest_defaults() -> dict[str, dict[str, str]]:
    """Each platform's own defaults, as the platform sets them (an empty value for what it
    asks the operator, who leaves it empty)."""
    render = {name: str(entry.get("value", "")) for name, entry in RENDER_VARS.items()}
    kubernetes = {}
    for line in (ROOT / "deploy/kubernetes/settings.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            kubernetes[name] = value
    return {
        "app.json": {name: e.get("value", "") for name, e in APP_JSON["env"].items()},
        "scalingo.json": {name: e.get("value", "") for name, e in SCALINGO["env"].items()},
        "render.yaml": render,
        "settings.env": kubernetes,
    }


@pytest.mark.parametrize("manifest", ["app.json", "scalingo.json", "render.yaml", "settings.env"])
def test_setting_the_hint_on_a_platform_puts_it_in_the_id_token(manifest):
    """The deploy files leave the ID token's placement to its default, which follows the
    hint: pinning tid,oid there stopped every start that set PSC_KC_IDP_HINT."""
    env = {**manifest_defaults()[manifest], "PSC_TENANT_ID": "OKTA_chu-exemple"}
    env.update(HOOK_SECRETS=SECRET, METRICS_TOKEN=SECRET, PSC_KC_IDP_HINT="OKTA_chu-exemple")
    settings = load_settings(env)
    assert settings.claims["identity"] == ("tid", "oid", "kc_idp_hint")
    assert settings.claims["access"] == ("tid", "oid", "amr")
