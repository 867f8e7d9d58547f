"""The options several commands take, spelt and explained once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from hook.cli.audit_log import DEFAULT_SINCE, parse_since

json_option = click.option("--json", "as_json", is_flag=True, help="print JSON for a machine")
demo_option = click.option(
    "--demo",
    is_flag=True,
    help="use the demo settings under the environment (what make run serves)",
)
timeout_option = click.option("--timeout", type=float, default=10.0, help="seconds (default 10)")
#: What doctor and evidence audit.
hook_option = click.option(
    "--hook", help="the hook's name or id (default: the org's only token inline hook)"
)
auth_server_option = click.option(
    "--auth-server", help="the PSC authorization server id (default: search them all)"
)


class Period(click.ParamType):
    """``--since``: how far back to read Okta's System Log."""

    name = "period"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_since(str(value))
        except ValueError as error:
            self.fail(str(error))


since_option = click.option(
    "--since",
    type=Period(),
    default=DEFAULT_SINCE,
    help=f"how far back to read Okta's System Log: 30m, 24h, 7d (default {DEFAULT_SINCE})",
)
