"""``psc-hook doctor``: is the Okta org wired to this service? The audit
(:mod:`hook.cli.audit`) reads the org with GETs only, plus Okta's documented test run of
the hook, and returns a report of findings, each saying what is wrong and what to do; this
module parses the options and prints the report, in the order to fix things.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.cli.audit import (
    DEFAULT_PSC_ENVIRONMENT,
    DEFAULT_SAMPLE,
    PSC_ENVIRONMENTS,
    Target,
    diagnose,
)
from hook.cli.audit_apps import psc_at
from hook.cli.environment import environment
from hook.cli.okta_args import okta_id, org_url
from hook.cli.options import (
    auth_server_option,
    hook_option,
    json_option,
    since_option,
    timeout_option,
)
from hook.cli.output import (
    BAD_INPUT,
    OKTA_ERROR,
    ORG_UNREACHABLE,
    RATE_LIMITED,
    REJECTED,
    epilog,
    print_json,
    progress,
)
from hook.cli.playing import SampleName
from hook.cli.report import Report
from hook.cli.terminal import LINE, printable, printable_lines
from hook.config import ConfigError, Part, https_url, load_settings
from hook.psc_environments import Environment
from hook.psc_environments import environment as environment_of


def _doctor_text(report: Report, org: str) -> str:
    lines = [f"Checked {org} against this configuration.", ""]
    lines += [f"  ok  {line}" for line in report.holds]
    lines += [f"  note  {line}" for line in report.notes]
    lines += [f"  --  skipped: {line}" for line in report.skipped]
    if not report.findings:
        lines += ["", "Everything holds: Okta calls the hook and PSC would accept its tokens."]
        return "\n".join(lines)
    lines += ["", f"{len(report.findings)} finding(s), in the order to fix them:"]
    for number, finding in enumerate(report.findings, start=1):
        lines += [
            f"{number}. [{finding.code}] {finding.problem}",
            f"   what to do: {finding.fix}",
        ]
    return "\n".join(lines)


def _psc(key: str | None, issuer: str | None) -> Environment:
    """The environment of PSC to check, from --psc-env or --psc-issuer (not both)."""
    if issuer is None:
        return environment_of(key or DEFAULT_PSC_ENVIRONMENT)
    if key is not None:
        raise ConfigError("--psc-issuer: give it or --psc-env, not both")
    return psc_at(https_url("--psc-issuer", issuer.strip()))


@click.command(
    "doctor",
    epilog=epilog(
        ("psc-hook doctor --org https://chu-exemple.okta.com --auth-server aus1pscExample",),
        {
            0: "everything holds",
            1: f"findings (listed in the order to fix them), or {OKTA_ERROR}",
            2: BAD_INPUT,
            3: ORG_UNREACHABLE,
            4: REJECTED,
            5: RATE_LIMITED,
        },
    ),
)
@click.option("--org", required=True, help="the org's address alone, https://<org>.okta.com")
@hook_option
@auth_server_option
@click.option(
    "--psc-env",
    type=click.Choice(PSC_ENVIRONMENTS),
    help=f"the environment of PSC whose redirect URI the PSC app must list (default"
    f" {DEFAULT_PSC_ENVIRONMENT})",
)
@click.option("--psc-issuer", help="PSC's issuer, for an environment --psc-env does not name")
@click.option(
    "--sample",
    type=SampleName(),
    default=DEFAULT_SAMPLE,
    help=f"the sample sign-in Okta's test run sends (default {DEFAULT_SAMPLE})",
)
@since_option
@timeout_option
@json_option
def command(
    org: str,
    hook: str | None,
    auth_server: str | None,
    psc_env: str | None,
    psc_issuer: str | None,
    sample: str,
    since: timedelta,
    timeout: float,
    as_json: bool,
) -> int:
    """Check the Okta org against this configuration: the hook, the rules that call it,
    Okta's System Log of its calls, a test run, PSC's redirect URI in one of its
    environments (read-only; as a service app, OKTA_CLIENT_ID and OKTA_PRIVATE_KEY, or with
    OKTA_API_TOKEN)."""
    env = environment()
    settings = load_settings(env, parts=(Part.CALLERS,))  # its secrets: never used here
    org = org_url("--org", org)
    psc = _psc(psc_env, psc_issuer)
    auth_server = okta_id("--auth-server", auth_server, "aus") if auth_server else None
    client = okta_auth.connect(
        env, org, timeout, okta_scopes.DOCTOR_READS, okta_scopes.TEST_RUN_SCOPES, as_json=as_json
    )
    target = Target(hook, auth_server, psc, sample, since)
    progress(as_json, f"Reading {org} (GET only, and one test run of the hook) ...")
    try:
        report = diagnose(client, settings, target)
    except okta_api.ExchangeError as error:
        print(f"psc-hook doctor: {printable(str(error), LINE)}", file=sys.stderr)
        if as_json:
            print_json({"error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    if as_json:
        print_json(report.as_dict())
    else:
        print(printable_lines(_doctor_text(report, org)))
    return 1 if report.findings else 0
