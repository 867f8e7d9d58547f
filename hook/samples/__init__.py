"""Realistic Okta token inline hook requests, one per sign-in flow PSC meets.

Built on Okta's published example request (Management OpenAPI ``TokenPayLoadExample``)
with the amr labels Okta documents for each method ("configure AMR claims mapping").
The people in them are fictitious.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from hook.okta import ORIGINAL_GRANT

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


#: Where a request holds times Okta writes in ISO 8601: the event's, then the session's.
ISO_TIMES = (
    ((), "eventTime"),
    (("data", "context", "session"), "createdAt"),
    (("data", "context", "session"), "expiresAt"),
    (("data", "context", "session"), "lastPasswordVerification"),
    (("data", "context", "session"), "lastMfaVerification"),
)
#: The tokens' NumericDate claims; the first two say when the sign-in happened.
EPOCH_CLAIMS = ("auth_time", "iat", "exp")


def _iso(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _epoch(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def happening_at(request: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The request moved in time, in place, so that it happens at ``now``: the event and
    the session's times shift so that ``eventTime`` is ``now``, the tokens' times so that
    the latest of ``auth_time`` and ``iat`` is ``now`` (each family keeps its own gaps), so
    that a sample's sign-in passes an age gate (PSC_MAX_AUTH_AGE) whenever it is played."""
    if (event := _iso(request.get("eventTime"))) is not None:
        for keys, key in ISO_TIMES:
            place = _object(request, *keys)
            if (moment := _iso(place.get(key))) is not None:
                place[key] = (moment + (now - event)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    every = [_object(request, "data", kind, "claims") for kind in ("identity", "access")]
    signed_in = [t for claims in every for n in EPOCH_CLAIMS[:2] if (t := _epoch(claims.get(n)))]
    if signed_in:
        offset = round(now.timestamp()) - max(signed_in)
        for claims in every:
            for name in EPOCH_CLAIMS:
                if (value := _epoch(claims.get(name))) is not None:
                    claims[name] = value + offset
    return request


def as_routed(request: dict[str, Any], redirect_uri: str | None) -> dict[str, Any]:
    """The request as PSC's route ``redirect_uri`` makes it (None: no redirect URI), in
    place: the request's redirect URI, and a refresh's original grant's when it has one."""
    protocol = _object(request, "data", "context", "protocol")
    places = [_object(protocol, "request")]
    places += [_object(protocol, key, "authorization") for key in ORIGINAL_GRANT]
    for place in places:  # an absent part is a new dict here: nothing is added to the request
        if redirect_uri is None:
            place.pop("redirect_uri", None)
        else:
            place["redirect_uri"] = redirect_uri
    return request


def client_of(request: Any) -> str | None:
    """The client a request names (Okta's protocol client), when it names one."""
    client = _object(request, "data", "context", "protocol", "client").get("id")
    return client if isinstance(client, str) else None
