"""``psc-hook serve``: the service under gunicorn with the project's configuration (the
Procfile's command), the settings checked first so that a mistake is one line."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from hook.cli.environment import environment
from hook.cli.options import demo_option
from hook.cli.output import epilog
from hook.config import ConfigError, is_loopback, load_settings
from hook.okta import HOOK_PATH

GUNICORN_ARGS = ("-c", "python:hook.gunicorn_conf")
DEMO_SAMPLE = "password-okta-verify-push"


def _invoked_as() -> str:
    """How to run this psc-hook again: its name when the PATH finds this one, else its path
    (make run starts .venv/bin/psc-hook, which is not on the PATH)."""
    me = Path(sys.argv[0])
    found = shutil.which("psc-hook")
    if me.name != "psc-hook" or (found and Path(found).resolve() == me.resolve()):
        return "psc-hook"
    return str(me)


@click.command(
    "serve",
    epilog=epilog(
        ("psc-hook serve --demo", "psc-hook serve --host 127.0.0.1 --port 8081"),
        {
            0: "the service stopped (SIGTERM or SIGINT) after draining its calls",
            2: "bad configuration or arguments, or the service could not start: one line"
            " names what is wrong",
        },
    ),
)
@demo_option
@click.option("--host", help="bind address (default 0.0.0.0; 127.0.0.1 with --demo)")
@click.option("--port", type=int, help="port (default PORT, else 8080)")
def command(demo: bool, host: str | None, port: int | None) -> int:
    """Run the service under gunicorn with the project's configuration (the Procfile's
    command)."""
    env = environment(demo)
    if port:
        env["PORT"] = str(port)
    settings = load_settings(env)
    host = host or ("127.0.0.1" if demo else None)
    if demo and not is_loopback(host):
        raise ConfigError("--host: the demo secret is public, so --demo serves on 127.0.0.1 only")
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS]
    if host:
        command += ["--bind", f"{host}:{settings.port}"]
    where = f"{host}:{settings.port}" if host else f"port {settings.port}, every interface"
    print(f"psc-hook: serving on {where} ({' '.join(GUNICORN_ARGS)})", file=sys.stderr)
    print(
        f"psc-hook: try it from another terminal: {_invoked_as()} send {DEMO_SAMPLE}"
        f" --url http://{host or '127.0.0.1'}:{settings.port}{HOOK_PATH}"
        + (" --demo" if demo else ""),
        file=sys.stderr,
    )
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - the Procfile's command, in place
    return 0  # pragma: no cover - execve does not return
