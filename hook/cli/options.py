"""The options several commands take, spelt and explained once."""

from __future__ import annotations

import click

json_option = click.option("--json", "as_json", is_flag=True, help="print JSON for a machine")
demo_option = click.option(
    "--demo",
    is_flag=True,
    help="use the demo settings under the environment (what make run serves)",
)
timeout_option = click.option("--timeout", type=float, default=10.0, help="seconds (default 10)")
