"""Every refusal the hook answers Okta with: a stable code, and the text that goes with it.

Okta hands ``errorSummary`` to the client as OAuth's ``error_description``, which RFC 6749
section 5.2 limits to printable ASCII without '"' or '\\'. So each summary is that, short,
and starts with its code (``psc_<reason>: ...``): the one string a help desk searches for.
A new refusal is a new row of ``REFUSALS``; ``summary`` is the only way to write one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hook.outcomes import Outcome

#: What each assurance level asks of a user, in the words of a refusal (and check-config's).
ASSURANCE_HELP = {
    "substantiel": "password + Okta Verify, or a CPS card",
    "eleve": "a CPS card with its PIN",
}
#: Why a token gets no establishment (hook/establishment.py's causes), as its summary says it.
ESTABLISHMENT_CAUSES = {
    "unknown-alias": "PSC sent it for an establishment this service does not serve",
    "claim-type": "its establishment claim is neither a string nor a list of strings",
    "claim-missing": "it has no establishment claim, which its establishment requires",
    "claim-not-routed": "its establishment claim does not name the establishment PSC sent it for",
    "claim-names-another": "its establishment claim names another establishment than PSC's route",
    "claim-names-none": "its establishment claim names no establishment here",
    "nothing-names-one": "neither PSC's route, its application nor a claim names one",
    "route-disagrees": "PSC's route and its application name different establishments",
    "tokens-disagree": "its ID and access tokens name different establishments",
    "claim-names-several": (
        "its establishment claim names several establishments, and nothing routes it"
    ),
}
#: Code -> text; ``{name}`` fields come from fixed tables (assurance levels, the causes of
#: ESTABLISHMENT_CAUSES), never from Okta.
REFUSALS: dict[str, str] = {
    "psc_assurance_too_low": (
        "Pro Sante Connect needs assurance {required} ({methods}); this sign-in reached"
        " {reached}. Sign out, then sign in again with one of those methods."
    ),
    "psc_tenant_unmatched": (
        "no establishment for this sign-in: {cause}. Ask your administrator to check your"
        " establishment."
    ),
    "psc_tenant_ambiguous": (
        "no establishment for this sign-in: {cause}. Ask your administrator to check your"
        " establishment."
    ),
    "psc_auth_too_old": (
        "Pro Sante Connect needs a sign-in within {limit}; this one is {age} old. Sign out,"
        " then sign in again."
    ),
    "psc_auth_age_unknown": (
        "Pro Sante Connect needs a sign-in within {limit}, and the time of this one is not"
        " known. Request the openid scope on refresh, or sign in again."
    ),
    "psc_user_mismatch": (
        "the ID token and the access token of this sign-in name different users. Sign out,"
        " then sign in again; if it happens again, tell your administrator."
    ),
    "psc_refresh_without_id_token": (
        "this refresh has no ID token: how the user signed in is unknown, so assurance"
        " {required} cannot be checked. Request the openid scope on refresh, or sign in again."
    ),
    "psc_user_unknown": (
        "the token names no user, so its assurance cannot be checked against {required}."
        " Only sign-ins of a user can get Pro Sante Connect tokens."
    ),
}
#: Okta shows the summary to the user on the client's error page: a sentence or two.
MAX_SUMMARY_CHARS = 200
#: RFC 6749 section 5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
ERROR_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")


def summary(code: str, **facts: str) -> str:
    """The ``errorSummary`` of refusal ``code``; a text outside the RFC's limits is a bug."""
    text = f"{code}: {REFUSALS[code].format(**facts)}"
    if len(text) > MAX_SUMMARY_CHARS or not ERROR_DESCRIPTION.fullmatch(text):
        raise ValueError(f"{code}: the summary is not short printable ASCII")
    return text


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """Why a token gets no PSC claims: its outcome (log, metrics) and Okta's errorSummary."""

    outcome: Outcome
    summary: str


def refuse(outcome: Outcome, code: str, **facts: str) -> Refusal:
    """The refusal of ``outcome`` whose summary is refusal ``code``'s."""
    return Refusal(outcome=outcome, summary=summary(code, **facts))


def span(seconds: float) -> str:
    """A duration as people read it: ``4 h 01 min``."""
    minutes = int(max(seconds, 0) // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
