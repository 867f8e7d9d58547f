"""The audit ``psc-hook doctor`` and ``psc-hook evidence`` run: is the Okta org wired to
this service? Findings as data.

Okta voids a whole patch, or never calls the hook, without a word to the user: tokens
then come out without ``tid``/``oid``/``amr`` and PSC refuses every login. The audit
reads the org with GETs only, plus Okta's documented test run of the hook (``POST
/api/v1/inlineHooks/{id}/execute``), compares what it finds with the local configuration,
and returns a :class:`Report`: each :class:`Finding` says what is wrong and what to do;
what holds is kept too, so the operator sees what was covered. Each audit module adds its
area (``audit_hook``, ``audit_log``, ``audit_trial``, ``audit_idps``, ``audit_apps``);
this one runs them in the order an operator would fix things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hook.cli import okta_api
from hook.cli.audit_apps import audit_apps
from hook.cli.audit_hook import audit_hook
from hook.cli.audit_idps import audit_idps
from hook.cli.audit_log import DEFAULT_PERIOD, audit_log
from hook.cli.audit_trial import trial_run
from hook.cli.report import Report
from hook.config import Settings
from hook.psc_environments import CURRENT, Environment
from hook.psc_environments import environment as environment_of

#: The environments of PSC an operator names with --psc-env (the former host is recognised
#: in --psc-issuer and in the apps' redirect URIs, never proposed).
PSC_ENVIRONMENTS = tuple(CURRENT)
DEFAULT_PSC_ENVIRONMENT = "sandbox"
DEFAULT_SAMPLE = "password-okta-verify-push"


@dataclass(frozen=True)
class Target:
    """What to look at: the hook (name or id), an authorization server, PSC's environment
    (its issuer gives the redirect URI), the sample of the test run, and how far back
    Okta's System Log is read."""

    hook: str | None = None
    auth_server: str | None = None
    psc: Environment = field(default_factory=lambda: environment_of(DEFAULT_PSC_ENVIRONMENT))
    sample: str = DEFAULT_SAMPLE
    since: timedelta = DEFAULT_PERIOD


def diagnose(client: okta_api.OktaClient, settings: Settings, target: Target) -> Report:
    """Every check, in the order an operator would fix things; Okta's API errors propagate.
    The System Log is read before the test run, which it would otherwise count as a call."""
    report = Report()
    wiring = audit_hook(client, settings, target.hook, target.auth_server, report)
    if wiring.hook is not None:
        hook_id = okta_api.object_id(wiring.hook, "an inline hook")
        audit_log(client, hook_id, wiring.called, settings, target.since, report)
        trial_run(client, hook_id, settings, target.sample, target.psc, report)
    audit_idps(client, settings, report)
    audit_apps(client, settings, target.psc, report)
    return report
