"""``psc-hook check-config``: the environment validated, and what the service will do with
it, claim by claim (the plan, :mod:`hook.cli.config_plan`), secrets shown only as
fingerprints."""

from __future__ import annotations

import click

from hook.cli.config_plan import plan, plan_text
from hook.cli.environment import environment
from hook.cli.options import demo_option, json_option
from hook.cli.output import BAD_INPUT, epilog, print_json
from hook.config import load_settings


@click.command(
    "check-config",
    epilog=epilog(
        ("psc-hook check-config --demo", "psc-hook check-config --json | jq .warnings"),
        {0: "the configuration is valid: the plan is printed", 2: BAD_INPUT},
    ),
)
@json_option
@demo_option
def command(as_json: bool, demo: bool) -> int:
    """Validate the environment and print the effective plan."""
    found = plan(load_settings(environment(demo)))
    if as_json:
        print_json(found)
    else:
        print(plan_text(found))
    return 0
