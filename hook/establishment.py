"""Which establishment of ``PSC_TENANTS`` one token is for: what PSC routed to decides, the
claim confirms (service-spec.md, "Establishments"; psc.md, "Which establishment PSC is
signing the user into").

The route is PSC's broker redirect URI (its alias is an establishment's ``kc_idp_hint``) and
the requesting client (an establishment's ``client_ids``); the tenant claim confirms it, or
names the establishment when nothing routes. Never a default, never a guess: a wrong
``tid`` signs a professional into another establishment. A refusal's text comes from the
fixed causes of hook/refusals.py, never from the token. Pure: no Flask, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from hook.outcomes import Outcome
from hook.payload import TenantClaim
from hook.psc_environments import broker_alias
from hook.refusals import ESTABLISHMENT_CAUSES, Refusal, refuse
from hook.tenants import Table, Tenant

UNMATCHED, AMBIGUOUS = Outcome.TENANT_UNMATCHED, Outcome.TENANT_AMBIGUOUS
#: Why a token gets no establishment, and the outcome it is refused with; the words its
#: summary gives are hook/refusals.py's ESTABLISHMENT_CAUSES.
CAUSES: dict[str, Outcome] = {
    "unknown-alias": UNMATCHED,
    "claim-type": UNMATCHED,
    "claim-missing": UNMATCHED,
    "claim-not-routed": UNMATCHED,
    "claim-names-another": UNMATCHED,
    "claim-names-none": UNMATCHED,
    "nothing-names-one": UNMATCHED,
    "route-disagrees": AMBIGUOUS,
    "tokens-disagree": AMBIGUOUS,
    "claim-names-several": AMBIGUOUS,
}


def refusal(cause: str) -> Refusal:
    """The refusal of ``cause``, a key of ``CAUSES``."""
    outcome = CAUSES[cause]
    code = "psc_" + outcome.replace("-", "_")
    return refuse(outcome, code, cause=ESTABLISHMENT_CAUSES[cause])


def route(table: Table, redirect_uri: str | None, client_id: str | None) -> Tenant | Refusal | None:
    """The establishment PSC routed to (its broker redirect URI's alias) or the client is
    of; None when neither names one. An alias of no establishment, or a route and a client
    naming two, is refused."""
    alias = broker_alias(redirect_uri) if redirect_uri else None
    by_alias = None if alias is None else table.by_hint.get(alias)
    if alias is not None and by_alias is None:
        return refusal("unknown-alias")
    by_client = table.by_client.get(client_id) if client_id else None
    if by_alias is not None and by_client is not None and by_alias != by_client:
        return refusal("route-disagrees")
    return by_alias or by_client


def _confirms(routed: Tenant, claim: TenantClaim, named: frozenset[Tenant]) -> str | None:
    """Why one token's claim does not confirm the routed establishment, or None."""
    if routed.match:
        return None if routed in named else "claim-not-routed"
    if named:
        return "claim-names-another"
    return None if claim.listed else "claim-names-none"


def choose(
    table: Table,
    redirect_uri: str | None,
    client_id: str | None,
    claims: Sequence[TenantClaim],
    user: bool,
) -> Tenant | Refusal:
    """The establishment a token is for, or the refusal saying why none: ``claims`` are the
    tenant claims its tokens carry; a token without a user (client credentials) is matched
    by the route alone."""
    routed = route(table, redirect_uri, client_id)
    if isinstance(routed, Refusal):
        return routed
    if not user:
        return routed or refusal("nothing-names-one")
    if any(not claim.usable for claim in claims):
        return refusal("claim-type")
    named = [table.named(claim.values) for claim in claims]
    if len(set(named)) > 1:
        return refusal("tokens-disagree")
    if routed is not None:
        if routed.match and not claims:
            return refusal("claim-missing")
        causes = [_confirms(routed, c, names) for c, names in zip(claims, named, strict=True)]
        cause = next(filter(None, causes), None)
        return routed if cause is None else refusal(cause)
    if not claims:
        return refusal("nothing-names-one")
    if len(named[0]) == 1:
        return next(iter(named[0]))
    return refusal("claim-names-several" if named[0] else "claim-names-none")
