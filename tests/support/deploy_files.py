"""The deployment files as the deploy tests read them: the spec's variables, the Procfile's
command, Render's service and the variables the Clever Cloud page sets."""

from __future__ import annotations

import shlex

import yaml

from tests.support.docs import page
from tests.support.settings import ROOT

#: The variables of the service's spec; the platforms set PORT themselves.
SPEC_VARIABLES = (
    "PSC_TENANT_ID",
    "PSC_CLIENT_IDS",
    "PSC_CLAIMS_ID_TOKEN",
    "PSC_CLAIMS_ACCESS_TOKEN",
    "PSC_KC_IDP_HINT",
    "PSC_MIN_ASSURANCE",
    "PSC_AMR_RULES",
    "PSC_TENANTS",
    "PSC_TENANT_CLAIM",
    "PSC_CPS_IDP_IDS",
    "PSC_MAX_AUTH_AGE",
    "HOOK_AUTH_MODE",
    "HOOK_SECRETS",
    "HOOK_AUTH_HEADER",
    "HOOK_OAUTH_ISSUER",
    "HOOK_OAUTH_AUDIENCE",
    "HOOK_OAUTH_JWKS_URI",
    "HOOK_OAUTH_SCOPES",
    "HOOK_OAUTH_CLIENT_IDS",
    "HOOK_MAX_BODY_BYTES",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS_TOKEN",
    "HOOK_LOG_USER_KEY",
)
PROCFILE = (ROOT / "Procfile").read_text().strip()
RENDER = yaml.safe_load((ROOT / "deploy" / "render.yaml").read_text())
[SERVICE] = RENDER["services"]


def clever_commands() -> list[list[str]]:
    """The Clever Cloud page's commands, as the shell splits them."""
    lines = page("docs/deploy/clever-cloud.md").splitlines()
    return [shlex.split(line) for line in lines if line.startswith("clever ")]


def clever_env() -> dict[str, str]:
    """The variables the Clever Cloud page's commands set."""
    return {cmd[3]: cmd[4] for cmd in clever_commands() if cmd[1:3] == ["env", "set"]}
