"""``psc-hook user-ref``: the ``user_ref`` the service's log lines carry for one Okta user,
so that an investigation can find that professional's sign-ins without names in the logs.

It needs ``HOOK_LOG_USER_KEY`` alone, the service's own key: an investigator need not hold
the hook's other secrets or settings.
"""

from __future__ import annotations

import click

from hook.cli.environment import environment
from hook.cli.output import BAD_INPUT, epilog
from hook.config import ConfigError, log_user_key
from hook.okta import OKTA_USER_ID
from hook.user_ref import UserRef


@click.command(
    "user-ref",
    epilog=epilog(
        (
            "psc-hook user-ref 00u1abcd2EFGH3ijk4l5",
            'grep "$(psc-hook user-ref 00u1abcd2EFGH3ijk4l5)" hook-2026-*.log',
        ),
        {0: "the user_ref is printed", 2: BAD_INPUT},
    ),
)
@click.argument("user_id", metavar="OKTA_USER_ID")
def command(user_id: str) -> int:
    """Print the user_ref the log lines carry for an Okta user id (00u...)."""
    key = log_user_key(environment())
    if key is None:
        raise ConfigError(
            "HOOK_LOG_USER_KEY: required by user-ref; set it to the service's own value"
        )
    if not OKTA_USER_ID.fullmatch(user_id):  # not echoed: it could be a login or an email
        raise ConfigError(
            "OKTA_USER_ID: not an Okta user id (00u followed by 17 letters or digits);"
            " give the user's id, never a login or an email"
        )
    print(UserRef(key)(user_id))
    return 0
