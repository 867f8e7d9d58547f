"""``psc-hook``: from a clone to a hook Okta calls, without reading the code.

A click group, one module per command (as Flask's own ``flask`` command and Warehouse's
``warehouse/cli/`` are built); ``output`` holds what they print alike. Each command prints
for a person (``--json`` for a machine) and reuses the service's own parts: the settings
loader, the payload parser, ``build_answer`` and Okta's patch applier
(:func:`hook.cli.okta_applier.apply_answer`). Secrets are never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hook.cli import (
    check_config,
    check_token,
    doctor,
    preview,
    register,
    samples,
    send,
    serve,
    user_ref,
)
from hook.cli.output import PROG, configuration_error
from hook.config import ConfigError
from hook.version import __version__

COMMANDS = (check_config, samples, preview, send, register, doctor, check_token, user_ref, serve)


@click.group(
    PROG,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\nexample:\n  psc-hook check-config --demo\n\n"
    "Each command's --help gives an example and the exit codes it can return.",
)
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def cli() -> None:
    """Operate the Okta token inline hook for Pro Santé Connect."""


for _module in COMMANDS:
    cli.add_command(_module.command)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, run one command, return its exit code (2 for a usage
    error or a bad setting, with one line naming it)."""
    try:
        code = cli.main(None if argv is None else list(argv), prog_name=PROG, standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except ConfigError as error:
        return configuration_error(error)
    return code or 0
