"""Turn a decision into Okta's answer: JSON Patch commands, the error object, or nothing.

Only ``add`` ops (Okta replaces an existing claim with them), only for tokens the request
carries, and never a claim without a value: each of those would make Okta void the patch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hook.amr import NO_RULE
from hook.claims import Decision, compute, in_scope
from hook.config import Settings
from hook.okta import COMMAND_TYPES, TOKEN_KINDS, claim_path
from hook.outcomes import Outcome
from hook.payload import HookRequest


@dataclass(frozen=True, kw_only=True)
class Answer:
    """The HTTP answer to Okta, and the facts the canonical log line records."""

    status: int
    body: dict[str, Any] | None
    outcome: Outcome
    #: The claims written, by token kind ("identity", "access").
    written: dict[str, list[str]] = field(default_factory=dict)
    assurance: str | None = None
    #: Okta's context named another user than the token's (hook/claims.py).
    context_mismatch: bool = False
    amr_rule: str | None = None  # the amr table's rule that fired, "none" if none did
    tid: str | None = None  # the establishment's, once known (PSC_TENANTS: for the metrics)
    user_id: str | None = None  # the token's own user (oid), once known: the log's user_ref


def _placed(decision: Decision, request: HookRequest, settings: Settings) -> dict[str, list[str]]:
    present = {"identity": request.has_identity, "access": request.has_access}
    return {
        kind: [name for name in settings.claims[kind] if name in decision.claims]
        for kind in TOKEN_KINDS
        if present[kind]
    }


def _debug_context(decision: Decision, placed: dict[str, list[str]]) -> dict[str, str]:
    context = {f"{kind}TokenClaims": ",".join(names) or "-" for kind, names in placed.items()}
    if decision.amr is not None:
        context.update(
            assurance=decision.amr.assurance,
            amrBefore=" ".join(decision.amr.before) or "-",
            amrAfter=" ".join(decision.amr.after) or "-",
            amrRule=decision.amr.rule or "-",
        )
    return context


def build_answer(request: HookRequest, settings: Settings) -> Answer:
    """Scope, claims, assurance gate, commands, in the order the spec gives them."""
    if not in_scope(request, settings):
        return Answer(status=204, body=None, outcome=Outcome.OUT_OF_SCOPE_CLIENT)
    decision = compute(request, settings)
    facts = {
        "assurance": decision.amr.assurance if decision.amr else None,
        "amr_rule": (decision.amr.rule or NO_RULE) if decision.amr else None,
        "tid": decision.tid,
        "user_id": decision.user_id,
    }
    if decision.refusal is not None:
        return Answer(
            status=200,
            body={"error": {"errorSummary": decision.refusal.summary}},
            outcome=decision.refusal.outcome,
            context_mismatch=decision.context_mismatch,
            **facts,
        )
    placed = _placed(decision, request, settings)
    commands = [
        {
            "type": COMMAND_TYPES[kind],
            "value": [
                {"op": "add", "path": claim_path(name), "value": decision.claims[name]}
                for name in names
            ],
        }
        for kind, names in placed.items()
        if names
    ]
    if not commands:
        return Answer(status=204, body=None, outcome=Outcome.NOTHING_TO_PATCH, **facts)
    return Answer(
        status=200,
        body={"commands": commands, "debugContext": _debug_context(decision, placed)},
        outcome=Outcome.PATCHED,
        written={kind: names for kind, names in placed.items() if names},
        context_mismatch=decision.context_mismatch,
        **facts,
    )
