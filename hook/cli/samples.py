"""``psc-hook samples``: the sign-in flows shipped as payloads, for preview and send."""

from __future__ import annotations

import click

from hook import samples
from hook.cli.options import json_option
from hook.cli.output import epilog, print_json


@click.command(
    "samples",
    epilog=epilog(
        ("psc-hook samples", "psc-hook preview cps-smart-card --demo"),
        {0: "the samples are listed", 2: "bad arguments: a line names what is wrong"},
    ),
)
@json_option
def command(as_json: bool) -> int:
    """List the sample payloads shipped with the package."""
    if as_json:
        print_json(
            [{"name": name, "description": text} for name, text in samples.DESCRIPTIONS.items()]
        )
        return 0
    width = max(map(len, samples.DESCRIPTIONS))
    for name, text in samples.DESCRIPTIONS.items():
        print(f"{name:<{width}}  {text}")
    print("\nUse one with: psc-hook preview NAME, or psc-hook send NAME --url URL")
    return 0
