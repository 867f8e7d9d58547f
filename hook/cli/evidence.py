"""``psc-hook evidence``: the conformity dossier an establishment gives ANS and its security
officer, written to a directory with the checksums that show it was not changed since."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.cli.audit import DEFAULT_PSC_ENVIRONMENT, Target, diagnose
from hook.cli.dossier import Audit, build
from hook.cli.dossier_text import markdown
from hook.cli.environment import environment
from hook.cli.okta_args import okta_id, org_url
from hook.cli.options import (
    auth_server_option,
    demo_option,
    hook_option,
    since_option,
    timeout_option,
)
from hook.cli.output import BAD_INPUT, ORG_UNREACHABLE, RATE_LIMITED, REJECTED, epilog, progress
from hook.cli.terminal import LINE, printable
from hook.config import ConfigError, Part, load_settings
from hook.psc_environments import CURRENT

CHECKSUMS = "SHA256SUMS"


def write(out: Path, files: dict[str, str]) -> None:
    """The files, then ``SHA256SUMS`` in the format ``sha256sum -c`` reads."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        sums = []
        for name, text in files.items():
            data = text.encode("utf-8")
            (out / name).write_bytes(data)
            sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
        (out / CHECKSUMS).write_text("".join(sums), encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"--out: cannot write to {out}: {error.strerror}") from None


@click.command(
    "evidence",
    epilog=epilog(
        (
            "psc-hook evidence --out dossier --demo",
            "psc-hook evidence --out dossier",
            "psc-hook evidence --out dossier --org https://chu-exemple.okta.com --psc-env"
            " production",
        ),
        {
            0: "the dossier is written (with --org: and the audit found nothing to fix)",
            1: "the dossier is written and the audit has findings (listed in it); or Okta"
            " answered with an error, and nothing is written",
            2: BAD_INPUT,
            3: ORG_UNREACHABLE,
            4: REJECTED,
            5: RATE_LIMITED,
        },
    ),
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="the directory to write evidence.md, evidence.json and SHA256SUMS to",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default="fr",
    help="the language of evidence.md (default fr)",
)
@click.option("--org", help="the org URL, https://<org>.okta.com: adds doctor's audit of it")
@click.option(
    "--psc-env",
    type=click.Choice(tuple(CURRENT)),
    default=DEFAULT_PSC_ENVIRONMENT,
    help="the PSC environment the flows come through and whose redirect URI the audit checks"
    f" (default {DEFAULT_PSC_ENVIRONMENT})",
)
@hook_option
@auth_server_option
@since_option
@timeout_option
@demo_option
def command(
    out: Path,
    lang: str,
    org: str | None,
    psc_env: str,
    hook: str | None,
    auth_server: str | None,
    since: timedelta,
    timeout: float,
    demo: bool,
) -> int:
    """Write the conformity dossier for ANS: the release, the configuration, the amr rules,
    every flow played, and with --org doctor's audit of the org (read-only; as a service
    app, OKTA_CLIENT_ID and OKTA_PRIVATE_KEY, or with OKTA_API_TOKEN). No personal data,
    no secret."""
    env = environment(demo)
    settings = load_settings(env, parts=(Part.CALLERS,))  # its secrets: never used here
    psc = CURRENT[psc_env]
    audit = None
    if org is not None:
        org = org_url("--org", org)
        auth_server = okta_id("--auth-server", auth_server, "aus") if auth_server else None
        client = okta_auth.connect(
            env, org, timeout, okta_scopes.DOCTOR_READS, okta_scopes.TEST_RUN_SCOPES
        )
        target = Target(hook, auth_server, psc, since=since)
        progress(False, f"Reading {org} (GET only, and one test run of the hook) ...")
        try:
            report = diagnose(client, settings, target)
        except okta_api.ExchangeError as error:
            shown = printable(str(error), LINE)
            print(f"psc-hook evidence: {shown} Nothing was written.", file=sys.stderr)
            return error.exit_code
        audit = Audit(org, since, report)
    data = build(settings, psc, audit, lang)
    write(
        out,
        {
            "evidence.md": markdown(data),
            "evidence.json": json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        },
    )
    print(f"Wrote {out / 'evidence.md'}, evidence.json and {CHECKSUMS} (sha256sum -c {CHECKSUMS}).")
    if audit is None:
        print("Without --org the dossier says the audit of the Okta org is missing.")
        return 0
    found = len(audit.report.findings)
    print(
        f"The audit has {found} finding(s): fix them before giving the dossier to ANS."
        if found
        else "The audit found nothing to fix."
    )
    return 1 if found else 0
