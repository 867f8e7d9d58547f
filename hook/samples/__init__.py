"""Realistic Okta token inline hook requests, one per sign-in flow PSC meets.

Built on Okta's published example request (Management OpenAPI ``TokenPayLoadExample``)
with the amr labels Okta documents for each method ("configure AMR claims mapping").
The people in them are fictitious.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

DESCRIPTIONS = {
    "password-okta-verify-push": "Password, then an Okta Verify push: PSC's substantiel set",
    "password-okta-verify-totp": "Password, then an Okta Verify code: PSC's substantiel set",
    "cps-smart-card": "CPS card through Okta's smart card IdP (sc + swk): PSC's eleve set",
    "password-only": "Password alone: amr stays pwd, nothing invented",
    "fastpass": "Okta Verify FastPass without a password: okta_verify + phr, no PSC set reached",
    "refresh": "Refresh grant: the context names another (session) user; the token's own sub wins",
    "client-credentials": "Client credentials: no user, access token only, tid alone",
    "id-token-only": "Implicit flow asking for an ID token only (response_type id_token)",
    "access-token-only": "Access token only: oid from uid, amr from the session",
}


def load(name: str) -> dict[str, Any]:
    """The request body of a shipped sample, by name (``KeyError`` when unknown)."""
    if name not in DESCRIPTIONS:
        raise KeyError(name)
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text("utf-8"))


def _object(parent: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        parent = parent.get(key) if isinstance(parent, dict) else None
    return parent if isinstance(parent, dict) else {}


def as_client(request: dict[str, Any], client: str) -> dict[str, Any]:
    """The request as client ``client`` would make it: the protocol's client and the
    tokens' audience (``aud``, ``cid``) changed in place, in the parts the request has."""
    for place, key in (
        (_object(request, "data", "context", "protocol", "client"), "id"),
        (_object(request, "data", "context", "protocol", "request"), "client_id"),
        (_object(request, "data", "identity", "claims"), "aud"),
        (_object(request, "data", "access", "claims"), "cid"),
    ):
        place[key] = client
    return request


def signed_in_at(request: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The request as if its user had just signed in at ``moment``: the ID token's
    ``auth_time`` and the session's last verifications, where the request has them (the
    samples' own times are fixed, and an age gate would refuse them all)."""
    claims = _object(request, "data", "identity", "claims")
    if "auth_time" in claims:
        claims["auth_time"] = int(moment.timestamp())
    session = _object(request, "data", "context", "session")
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for key in ("lastPasswordVerification", "lastMfaVerification"):
        if key in session:
            session[key] = stamp
    return request


def client_of(request: Any) -> str | None:
    """The client a request names (Okta's protocol client), when it names one."""
    client = _object(request, "data", "context", "protocol", "client").get("id")
    return client if isinstance(client, str) else None
