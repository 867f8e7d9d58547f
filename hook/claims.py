"""Compute the PSC claims for one token request. Pure: no Flask, no I/O.

``oid`` is the user the token is for, read from the token's own claims: on refresh
grants Okta's context may name another user (OKTA-869758), so a context that disagrees
is reported, and its session (amr, IdP, verification times) is evidence only when it names
this very user. The establishment is PSC's route, confirmed by the token's claims, never
Okta's context (hook/establishment.py). With a gate, what cannot be proven is refused: a
token with no user, for one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hook import establishment
from hook.amr import ASSURANCE_RANK, AmrDecision, decide
from hook.config import AUTH_AGE_LEEWAY_SECONDS, Settings
from hook.evidence import gather
from hook.outcomes import Outcome
from hook.payload import HookRequest
from hook.refusals import ASSURANCE_HELP, Refusal, refuse, span
from hook.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What the claim logic decided for one token request; hook/answer.py answers Okta with it."""

    claims: dict[str, Any]
    #: The token's own user (its oid), once known.
    user_id: str | None
    #: Okta's context names another user than the token's: its session is not evidence.
    context_mismatch: bool = False
    amr: AmrDecision | None = None
    #: Why the token gets no PSC claims (its outcome and Okta's errorSummary); None: it does.
    refusal: Refusal | None = None
    #: The establishment's tid the claims carry; None when refused for want of one.
    tid: str | None = None


def _token_user(request: HookRequest) -> str | None:
    return request.identity_sub or request.access_uid


def _users_differ(request: HookRequest) -> bool:
    """The ID token's ``sub`` and the access token's ``uid`` name two users: which one the
    tokens are for cannot be told, so neither gets PSC's claims."""
    sub, uid = request.identity_sub, request.access_uid
    return sub is not None and uid is not None and sub != uid


def _too_low(amr: AmrDecision, minimum: str, unrecorded: bool) -> Refusal:
    """The refusal of an assurance under PSC_MIN_ASSURANCE."""
    if unrecorded:  # a refresh without an ID token: its assurance is not known, not "none"
        return refuse(Outcome.REFUSED_ASSURANCE, "psc_refresh_without_id_token", required=minimum)
    return refuse(
        Outcome.REFUSED_ASSURANCE,
        "psc_assurance_too_low",
        required=minimum,
        methods=ASSURANCE_HELP[minimum],
        reached=amr.assurance,
    )


def in_scope(request: HookRequest, settings: Settings) -> bool:
    """Whether the requesting client is one whose tokens get PSC claims."""
    return not settings.client_ids or request.client_id in settings.client_ids


def _tenant(request: HookRequest, settings: Settings, user: str | None) -> Tenant | Refusal:
    """The establishment of the table the token is for, or the refusal saying why none."""
    assert settings.tenants is not None
    tokens = (request.identity_tenant, request.access_tenant)
    return establishment.choose(
        settings.tenants,
        request.redirect_uri,
        request.client_id,
        [claim for claim in tokens if claim is not None],
        user is not None,
    )


def _auth_age(times: tuple[float, ...], settings: Settings) -> Refusal | None:
    """PSC_MAX_AUTH_AGE: the refusal of a user token authenticated too long ago, or None;
    ``times`` are when the user authenticated, as the evidence says (hook/evidence.py)."""
    limit = settings.max_auth_age
    if limit is None:
        return None
    age = time.time() - max(times) if times else None
    if age is None or age < -AUTH_AGE_LEEWAY_SECONDS:
        return refuse(Outcome.AUTH_AGE_UNKNOWN, "psc_auth_age_unknown", limit=span(limit))
    if age > limit + AUTH_AGE_LEEWAY_SECONDS:
        return refuse(Outcome.AUTH_TOO_OLD, "psc_auth_too_old", limit=span(limit), age=span(age))
    return None


def compute(request: HookRequest, settings: Settings) -> Decision:
    """Decide tid, oid, amr and kc_idp_hint, and whether a gate (establishment, age of the
    authentication, assurance) refuses."""
    user_id = _token_user(request)
    if _users_differ(request):
        refusal = refuse(Outcome.USER_MISMATCH, "psc_user_mismatch")
        return Decision(claims={}, user_id=None, refusal=refusal)
    context_users = {request.context_user_id, request.session_user_id} - {None}
    mismatch = user_id is not None and bool(context_users - {user_id})
    tid, hint = settings.tenant_id, settings.kc_idp_hint
    if settings.tenants is not None:
        tenant = _tenant(request, settings, user_id)
        if isinstance(tenant, Refusal):  # refused, but whose sign-in is known
            return Decision(claims={}, user_id=user_id, refusal=tenant)
        tid, hint = tenant.tid, tenant.kc_idp_hint
    claims: dict[str, Any] = {"tid": tid}
    if hint:
        claims["kc_idp_hint"] = hint
    if user_id is None:
        minted = request.has_identity or request.has_access  # else there is nothing to refuse
        gated = settings.min_assurance != "none" and minted
        refusal = (
            refuse(Outcome.REFUSED_ASSURANCE, "psc_user_unknown", required=settings.min_assurance)
            if gated
            else None
        )
        return Decision(claims=claims, user_id=None, refusal=refusal, tid=tid)

    claims["oid"] = user_id
    labels, idps, times, unrecorded = gather(request, user_id, mismatch)
    too_old = _auth_age(times, settings)
    if too_old is not None:
        return Decision(
            claims={}, user_id=user_id, context_mismatch=mismatch, refusal=too_old, tid=tid
        )
    amr = decide(labels, settings.amr_table, idps)
    if amr.after:
        claims["amr"] = list(amr.after)
    refusal = None
    if ASSURANCE_RANK[amr.assurance] < ASSURANCE_RANK[settings.min_assurance]:
        refusal = _too_low(amr, settings.min_assurance, unrecorded)
    return Decision(
        claims=claims,
        user_id=user_id,
        context_mismatch=mismatch,
        amr=amr,
        refusal=refusal,
        tid=tid,
    )
