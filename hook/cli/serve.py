"""``psc-hook serve``: the service under gunicorn with the project's configuration (the
Procfile's command), the settings checked first so that a mistake is one line."""

from __future__ import annotations

import errno
import ipaddress
import os
import shutil
import socket
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


def _host(value: str) -> str:
    """The host without the brackets an IPv6 address may come in (``[::1]``); ``--host`` may
    name no port (gunicorn would read one after its last colon)."""
    host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if ":" in host and not _is_ipv6(host):
        raise ConfigError(
            f"--host: {value!r} is neither a host name nor an IP address (the port goes in --port)"
        )
    return host


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def _address(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets, as gunicorn's ``--bind`` and URLs read it."""
    return f"[{host}]:{port}" if _is_ipv6(host) else f"{host}:{port}"


def _url_host(host: str | None) -> str:
    """Where a client on this machine reaches the service: the loopback address of the
    family when the service listens on every interface."""
    if host is None or host == "0.0.0.0":  # noqa: S104 - naming it, not binding it
        return "127.0.0.1"
    return "::1" if host == "::" else host


def _check_free(host: str, port: int, port_name: str) -> None:
    """Bind where gunicorn will and as it will (``SO_REUSEADDR``, the family of an address,
    IPv4 for a name), then let go: a taken port or an unknown host is one line here, not
    gunicorn's five tries in five seconds, ten log lines and exit 1. gunicorn binds again
    just after; a port taken in between still stops it, the long way."""
    family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
    where = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise ConfigError(f"--host: {host!r} is not a known host ({error.strerror})") from None
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"{port_name}: {where} is already in use: stop what listens there or"
                    " choose another port"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(f"--host: {host} is not an address of this machine") from None
            raise ConfigError(f"{port_name}: cannot listen on {where} ({error.strerror})") from None


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
            2: "bad configuration or arguments (a port in use, an unknown host), or the"
            " service could not start: one line names what is wrong",
        },
    ),
)
@demo_option
@click.option(
    "--host", help="bind address, IPv6 as ::1 or [::1] (default 0.0.0.0; 127.0.0.1 with --demo)"
)
@click.option("--port", type=int, help="port (default PORT, else 8080)")
def command(demo: bool, host: str | None, port: int | None) -> int:
    """Run the service under gunicorn with the project's configuration (the Procfile's
    command)."""
    env = environment(demo)
    if port:
        env["PORT"] = str(port)
    settings = load_settings(env)
    host = _host(host) if host else ("127.0.0.1" if demo else None)
    if demo and not is_loopback(host):
        raise ConfigError("--host: the demo secret is public, so --demo serves on 127.0.0.1 only")
    _check_free(host or "0.0.0.0", settings.port, "--port" if port else "PORT")  # noqa: S104
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS]
    if host:
        command += ["--bind", _address(host, settings.port)]
    where = _address(host, settings.port) if host else f"port {settings.port}, every interface"
    print(f"psc-hook: serving on {where} ({' '.join(GUNICORN_ARGS)})", file=sys.stderr)
    print(
        f"psc-hook: try it from another terminal: {_invoked_as()} send {DEMO_SAMPLE}"
        f" --url http://{_address(_url_host(host), settings.port)}{HOOK_PATH}"
        + (" --demo" if demo else ""),
        file=sys.stderr,
    )
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - the Procfile's command, in place
    return 0  # pragma: no cover - execve does not return
