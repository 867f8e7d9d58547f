"""Validate Okta's token inline hook request and keep only what the service reads.

The schemas follow Okta's ``TokenRequest`` (Management OpenAPI) for the fields used
here; every other field is accepted and ignored, because Okta adds fields over time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from hook.fastload import compile_decoder

EVENT_TYPE = "com.okta.oauth2.tokens.transform"
_ID = {"validate": validate.Length(min=1, max=255)}


class InvalidPayload(ValueError):
    """The body is not a token inline hook request; ``errors`` maps fields to messages."""

    def __init__(self, detail: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class _Amr(fields.List):
    def __init__(self) -> None:
        super().__init__(
            fields.String(validate=validate.Length(max=256)),
            validate=validate.Length(max=64),
            allow_none=True,
        )


class _IdentityClaims(_Lenient):
    sub = fields.String(**_ID)
    amr = _Amr()


class _AccessClaims(_Lenient):
    uid = fields.String(**_ID)


class _Identity(_Lenient):
    claims = fields.Nested(_IdentityClaims, required=True)


class _Access(_Lenient):
    claims = fields.Nested(_AccessClaims, required=True)


class _Client(_Lenient):
    id = fields.String(**_ID)


class _ProtocolRequest(_Lenient):
    grant_type = fields.String(validate=validate.Length(max=255))


class _Protocol(_Lenient):
    request = fields.Nested(_ProtocolRequest, allow_none=True)
    client = fields.Nested(_Client, allow_none=True)


class _Session(_Lenient):
    userId = fields.String(**_ID)
    amr = _Amr()


class _User(_Lenient):
    id = fields.String(**_ID)


class _Context(_Lenient):
    protocol = fields.Nested(_Protocol, allow_none=True)
    session = fields.Nested(_Session, allow_none=True)
    user = fields.Nested(_User, allow_none=True)


class _Data(_Lenient):
    context = fields.Nested(_Context, allow_none=True)
    identity = fields.Nested(_Identity, allow_none=True)
    access = fields.Nested(_Access, allow_none=True)


class TokenRequestSchema(_Lenient):
    eventType = fields.String(required=True, validate=validate.Equal(EVENT_TYPE))
    eventId = fields.String(validate=validate.Length(max=255))
    data = fields.Nested(_Data, required=True)


_SCHEMA = TokenRequestSchema()
_FAST_DECODE = compile_decoder(_SCHEMA)


@dataclass(frozen=True)
class HookRequest:
    """The fields of Okta's request that decide the answer."""

    event_id: str | None
    client_id: str | None
    grant_type: str | None
    context_user_id: str | None
    session_user_id: str | None
    session_amr: tuple[str, ...]
    has_identity: bool
    has_access: bool
    identity_sub: str | None
    identity_amr: tuple[str, ...]
    access_uid: str | None


def _get(mapping: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not mapping:
            return None
        mapping = mapping.get(key)
    return mapping


def _load(body: bytes) -> dict[str, Any]:
    """The standard library and marshmallow: the slow path, and the word on every error."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidPayload("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidPayload("The body must be a JSON object.")
    try:
        return _SCHEMA.load(document)
    except ValidationError as error:
        raise InvalidPayload(
            "The body is not an Okta token inline hook request.", error.normalized_messages()
        ) from None


def parse(body: bytes) -> HookRequest:
    """Decode and validate a request body, or raise :class:`InvalidPayload`."""
    loaded = _FAST_DECODE(body)
    if loaded is None:
        loaded = _load(body)
    data = loaded["data"]
    context = data.get("context")
    identity, access = data.get("identity"), data.get("access")
    return HookRequest(
        event_id=loaded.get("eventId"),
        client_id=_get(context, "protocol", "client", "id"),
        grant_type=_get(context, "protocol", "request", "grant_type"),
        context_user_id=_get(context, "user", "id"),
        session_user_id=_get(context, "session", "userId"),
        session_amr=tuple(_get(context, "session", "amr") or ()),
        has_identity=identity is not None,
        has_access=access is not None,
        identity_sub=_get(identity, "claims", "sub"),
        identity_amr=tuple(_get(identity, "claims", "amr") or ()),
        access_uid=_get(access, "claims", "uid"),
    )
