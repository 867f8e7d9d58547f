"""A request run through the hook in-process, then through Okta's applier (like Okta's
Preview tab): the answer, Okta's verdict and the tokens Okta would issue, with people's
names masked. ``psc-hook preview`` prints it; the evidence dossier plays every shipped
flow with it."""

from __future__ import annotations

import json
from typing import Any

from hook.answer import build_answer
from hook.cli import okta_api
from hook.cli.okta_applier import apply_answer
from hook.config import Settings
from hook.payload import parse

#: Claims that name a person, masked in what preview prints unless --show-personal-data.
#: Okta's opaque user ids (the ID token's sub, uid, the oid the hook adds) stay visible:
#: checking them is what preview is for, and they name no one outside the org's directory.
#: The access token's sub is the user's login unless the authorization server says otherwise.
NAME_CLAIMS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "email",
        "login",
        "phone_number",
        "address",
        "birthdate",
        "picture",
        "profile",
        "website",
    }
)
PERSONAL_CLAIMS = {"identity": NAME_CLAIMS, "access": NAME_CLAIMS | {"sub"}}


def masked(tokens: dict[str, Any]) -> dict[str, Any]:
    """The tokens with the claims that name a person shown as ``****``."""
    return {
        kind: {
            claim: okta_api.MASK if claim in PERSONAL_CLAIMS.get(kind, ()) else value
            for claim, value in claims.items()
        }
        for kind, claims in tokens.items()
    }


def played_through(
    raw: bytes, settings: Settings, *, strict: bool = False, show_personal_data: bool = False
) -> dict[str, Any]:
    """A request run through the hook in-process, then through Okta's applier: the answer,
    Okta's verdict and the tokens (people masked unless asked). The evidence dossier plays
    every shipped flow with it; :class:`InvalidPayload` when it is not a token hook request."""
    answer = build_answer(parse(raw, settings.claim_to_read), settings)
    tolerate = {"tolerate": ()} if strict else {}
    outcome = apply_answer(json.loads(raw), answer.status, answer.body, **tolerate)
    return {
        "answer": {"status": answer.status, "outcome": answer.outcome, "body": answer.body},
        "okta": {"minted": outcome.minted, "voided": outcome.voided, "notes": outcome.notes},
        "tokens": outcome.tokens if show_personal_data else masked(outcome.tokens),
        "personal_data": "shown" if show_personal_data else "masked",
    }
