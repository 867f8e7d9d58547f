"""The doctor's trial: Okta's test run of the hook with a shipped sample sign-in, then what
Okta would do with the hook's answer and what PSC would say of the tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hook import samples
from hook.cli import okta_api, okta_scopes, token_checks
from hook.cli.okta_applier import apply_answer
from hook.cli.report import Report
from hook.config import Settings
from hook.okta import TOKEN_NAMES
from hook.psc_environments import Environment, broker_endpoint


def trial_request(settings: Settings, sample: str, psc: Environment) -> dict[str, Any]:
    """A shipped sample whose client is PSC's (the first of PSC_CLIENT_IDS), to execute; with
    PSC_TENANTS, a user of the first establishment, through PSC's route to it. It happens
    now, so that it passes an age gate (PSC_MAX_AUTH_AGE), and comes through the checked
    environment of PSC when the establishment's alias is known."""
    request = samples.happening_at(samples.load(sample), datetime.now(UTC))
    data = request["data"]
    first = settings.tenants.tenants[0] if settings.tenants else None
    alias = first.kc_idp_hint if first is not None else settings.kc_idp_hint
    if first is not None or alias:  # with PSC_TENANTS, the sample's own route is no alias's
        samples.as_routed(request, broker_endpoint(psc.issuer, alias) if alias else None)
    if first is not None and first.match:
        for kind in ("identity", "access"):
            if data.get(kind):
                data[kind]["claims"][settings.tenant_claim] = min(first.match)
    if first is not None and first.client_ids:
        client: str | None = min(first.client_ids)
    else:
        client = settings.first_client
    return request if client is None else samples.as_client(request, client)


def answer_findings(
    request: Mapping[str, Any], answer: Any, settings: Settings, report: Report, sample: str
) -> None:
    """What Okta would do with the hook's answer, then PSC's checks on the tokens."""
    if isinstance(answer, dict) and "error" in answer:
        summary = okta_api.at(answer, "error", "errorSummary")
        report.add(
            "hook-refused",
            f"The hook refused the test sign-in ({sample}): {summary}",
            "The service's PSC_MIN_ASSURANCE is above that sign-in: run the doctor with"
            " --sample cps-smart-card, or check PSC_MIN_ASSURANCE on the service.",
        )
        return
    if not isinstance(answer, dict) or not answer.get("commands"):
        report.add(
            "hook-patched-nothing",
            f"The hook answered the test run ({sample}) with nothing to patch: Okta would issue"
            " the tokens without PSC's claims.",
            "The service skips clients outside its PSC_CLIENT_IDS: give it the same"
            " PSC_CLIENT_IDS as here, and redeploy.",
        )
        return
    outcome = apply_answer(request, 200, answer)
    if outcome.voided:
        report.add(
            "patch-voided",
            f"Okta would refuse the hook's answer and issue the tokens without PSC's claims:"
            f" {outcome.voided}.",
            "Take that claim out of PSC_CLAIMS_ID_TOKEN / PSC_CLAIMS_ACCESS_TOKEN on the service"
            " (psc-hook preview shows the same verdict).",
        )
        return
    report.holds.append(f"Okta's test run ({sample}): Okta would apply the hook's answer.")
    for kind, claims in outcome.tokens.items():
        checks = token_checks.assess(claims, settings)
        for check in checks:
            if not check.ok:
                report.add(
                    "token-refused",
                    f"PSC would refuse the {TOKEN_NAMES[kind]} token of the test run:"
                    f" {check.name} is {check.detail}.",
                    check.fix or "",
                )
        if all(check.ok for check in checks):
            verdicts = "; ".join(f"{check.name} {check.detail}" for check in checks)
            report.holds.append(f"PSC would accept its {TOKEN_NAMES[kind]} token: {verdicts}.")


def trial_run(
    client: okta_api.OktaClient,
    hook_id: str,
    settings: Settings,
    sample: str,
    psc: Environment,
    report: Report,
) -> None:
    """Okta's test run of the hook with the sample, and what Okta and PSC make of it; skipped,
    and said so, when the credentials may not run it."""
    report.begin("test-run")
    if not all(client.allows(scope) for scope in okta_scopes.TEST_RUN_SCOPES):
        report.skipped.append(
            f"Okta's test run of the hook: it needs {', '.join(okta_scopes.TEST_RUN_SCOPES)},"
            " which the service app was not granted (grant it to have the doctor run it)."
        )
        return
    request = trial_request(settings, sample, psc)
    try:
        answer = client.send(okta_api.execute_call(hook_id, request))
    except okta_api.Forbidden as error:  # a role that may read but not run hooks
        report.skipped.append(f"Okta's test run of the hook: Okta refused it. {error}")
        return
    except (okta_api.Unreachable, okta_api.Unauthorized, okta_api.RateLimited):
        raise
    except okta_api.ExchangeError as error:
        report.add(
            "hook-test-failed",
            f"Okta's test run of the hook failed: {error}",
            "Okta got no answer it accepts from the service: check that the hook's URL is the"
            " deployed service, that GET /readyz answers 200, and that the secret Okta holds is"
            " one of HOOK_SECRETS (the service's log line then shows no auth_failure).",
        )
        return
    answer_findings(request, answer, settings, report, sample)
