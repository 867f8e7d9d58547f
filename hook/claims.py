"""Compute the PSC claims for one token request. Pure: no Flask, no I/O.

``oid`` is the user the token is for, read from the token's own claims: on refresh
grants Okta's context may name another user (OKTA-869758), so a context that disagrees
is reported, and its session amr is used as evidence only when the session names this
user. With an assurance gate, what cannot be proven is refused: a token with no user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hook.amr import ASSURANCE_RANK, AmrDecision, decide
from hook.config import Settings
from hook.payload import HookRequest
from hook.refusals import summary

ASSURANCE_HELP = {
    "substantiel": "password + Okta Verify, or a CPS card",
    "eleve": "a CPS card with its PIN",
}


@dataclass(frozen=True)
class Decision:
    claims: dict[str, Any]
    user_id: str | None
    context_mismatch: bool
    amr: AmrDecision | None
    refusal: str | None = None


def _token_user(request: HookRequest) -> str | None:
    return request.identity_sub or request.access_uid


def _refusal(amr: AmrDecision, minimum: str) -> str:
    return summary(
        "psc_assurance_too_low",
        required=minimum,
        methods=ASSURANCE_HELP[minimum],
        reached=amr.assurance,
    )


def in_scope(request: HookRequest, settings: Settings) -> bool:
    """Whether the requesting client is one whose tokens get PSC claims."""
    return not settings.client_ids or request.client_id in settings.client_ids


def compute(request: HookRequest, settings: Settings) -> Decision:
    """Decide tid, oid, amr and kc_idp_hint, and whether the assurance gate refuses."""
    user_id = _token_user(request)
    context_users = {request.context_user_id, request.session_user_id} - {None}
    mismatch = user_id is not None and bool(context_users - {user_id})
    claims: dict[str, Any] = {"tid": settings.tenant_id}
    if settings.kc_idp_hint:
        claims["kc_idp_hint"] = settings.kc_idp_hint
    if user_id is None:
        minted = request.has_identity or request.has_access  # else there is nothing to refuse
        gated = settings.min_assurance != "none" and minted
        refusal = summary("psc_user_unknown", required=settings.min_assurance) if gated else None
        return Decision(claims, None, False, None, refusal)

    claims["oid"] = user_id
    # Only a session that names this very user is evidence: one without userId proves nothing.
    session_is_users = request.session_user_id == user_id and not mismatch
    evidence = request.identity_amr + (request.session_amr if session_is_users else ())
    amr = decide(evidence, settings.amr_table)
    if amr.after:
        claims["amr"] = list(amr.after)
    refusal = None
    if ASSURANCE_RANK[amr.assurance] < ASSURANCE_RANK[settings.min_assurance]:
        refusal = _refusal(amr, settings.min_assurance)
    return Decision(claims, user_id, mismatch, amr, refusal)
