"""Validate Okta's token inline hook request and keep only what the service reads.

The schemas follow Okta's ``TokenRequest`` (Management OpenAPI) for the fields used
here; every other field is accepted and ignored, because Okta adds fields over time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from hook.fastload import compile_decoder
from hook.okta import EVENT_TYPE, ORIGINAL_GRANT, REFRESH_GRANT

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
    idp = fields.String(**_ID)
    auth_time = fields.Integer(strict=True)


class _AccessClaims(_Lenient):
    uid = fields.String(**_ID)


class _Identity(_Lenient):
    claims = fields.Nested(_IdentityClaims, required=True)


class _Access(_Lenient):
    claims = fields.Nested(_AccessClaims, required=True)


class _Client(_Lenient):
    id = fields.String(**_ID)


class _Authorization(_Lenient):
    redirect_uri = fields.String(allow_none=True)


class _ProtocolRequest(_Authorization):
    grant_type = fields.String(validate=validate.Length(max=255))


class _OriginalGrant(_Lenient):
    authorization = fields.Nested(_Authorization, allow_none=True)


class _Protocol(_Lenient):
    request = fields.Nested(_ProtocolRequest, allow_none=True)
    client = fields.Nested(_Client, allow_none=True)
    # ORIGINAL_GRANT: Okta's spec spells it OriginalGrant, Okta's own code originalGrant.
    OriginalGrant = fields.Nested(_OriginalGrant, allow_none=True)
    originalGrant = fields.Nested(_OriginalGrant, allow_none=True)


class _Idp(_Lenient):
    id = fields.String(**_ID)


class _Session(_Lenient):
    userId = fields.String(**_ID)
    amr = _Amr()
    idp = fields.Nested(_Idp, allow_none=True)
    lastPasswordVerification = fields.String(validate=validate.Length(max=64), allow_none=True)
    lastMfaVerification = fields.String(validate=validate.Length(max=64), allow_none=True)


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


def schema_name(name: str) -> bool:
    """Whether a claim name is taken by marshmallow's Schema (it cannot be a field)."""
    return hasattr(Schema, name)


def _nest(outer: type[Schema], key: str, inner: type[Schema], **options: Any) -> type[Schema]:
    return outer.from_dict({key: fields.Nested(inner, **options)}, name=outer.__name__)


@cache
def schema(tenant_claim: str | None = None) -> Schema:
    """The request schema, reading the tenant claim of both tokens when one is named: any
    JSON value, which the choice of the establishment judges (hook/establishment.py)."""
    if tenant_claim is None:
        return TokenRequestSchema()
    tenant = {tenant_claim: fields.Raw(allow_none=True)}
    identity_claims = _IdentityClaims.from_dict(tenant, name="_IdentityClaims")
    access_claims = _AccessClaims.from_dict(tenant, name="_AccessClaims")
    identity = _nest(_Identity, "claims", identity_claims, required=True)
    access = _nest(_Access, "claims", access_claims, required=True)
    data = _Data.from_dict(
        {
            "identity": fields.Nested(identity, allow_none=True),
            "access": fields.Nested(access, allow_none=True),
        },
        name="_Data",
    )
    return _nest(TokenRequestSchema, "data", data, required=True)()


@cache
def _decoder(tenant_claim: str | None) -> Any:
    return compile_decoder(schema(tenant_claim))


_SCHEMA = schema()
_FAST_DECODE = compile_decoder(_SCHEMA)


@dataclass(frozen=True)
class TenantClaim:
    """The tenant claim as one token carries it: a string, or a list of strings (a groups
    claim); any other JSON value is kept as unusable, for the establishment's choice to
    refuse (a token's claim is no malformed payload)."""

    values: tuple[str, ...]
    listed: bool = False
    usable: bool = True


UNUSABLE_CLAIM = TenantClaim((), usable=False)


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
    #: The IdP of the sign-in: the ID token's ``idp``, the session's ``idp.id``.
    identity_idp: str | None = None
    session_idp: str | None = None
    #: When the user authenticated: the ID token's ``auth_time``, the session's last
    #: verifications (seconds since the epoch, unparseable times left out).
    auth_time: int | None = None
    session_verified: tuple[float, ...] = ()
    #: The tenant claim in each token; None: the token or the claim is absent.
    identity_tenant: TenantClaim | None = None
    access_tenant: TenantClaim | None = None
    #: The redirect URI of the grant: the request's, or on a refresh the original grant's.
    redirect_uri: str | None = None


def _get(mapping: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not mapping:
            return None
        mapping = mapping.get(key)
    return mapping


def _instant(value: Any) -> float | None:
    """An ISO 8601 time Okta writes (``2026-11-20T08:01:10.000Z``), in epoch seconds."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _tenant_claim(claims: dict[str, Any] | None, name: str | None) -> TenantClaim | None:
    """The tenant claim of one token's claims, or None when it has none."""
    if name is None or not claims or name not in claims:
        return None
    value = claims[name]
    if isinstance(value, str):
        return TenantClaim((value,))
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return TenantClaim(tuple(value), listed=True)
    return UNUSABLE_CLAIM


def _redirect_uri(protocol: dict[str, Any] | None) -> str | None:
    """Where the grant's authorization was sent: on a refresh, the original grant's."""
    own = _get(protocol, "request", "redirect_uri")
    if _get(protocol, "request", "grant_type") != REFRESH_GRANT:
        return own
    originals = (_get(protocol, key, "authorization", "redirect_uri") for key in ORIGINAL_GRANT)
    return next((uri for uri in originals if uri is not None), own)


def _load(body: bytes, tenant_claim: str | None = None) -> dict[str, Any]:
    """The standard library and marshmallow: the slow path, and the word on every error."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidPayload("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidPayload("The body must be a JSON object.")
    try:
        return schema(tenant_claim).load(document)
    except ValidationError as error:
        raise InvalidPayload(
            "The body is not an Okta token inline hook request.", error.normalized_messages()
        ) from None


def parse(body: bytes, tenant_claim: str | None = None) -> HookRequest:
    """Decode and validate a request body, or raise :class:`InvalidPayload`; with a tenant
    claim (PSC_TENANTS), read its values in both tokens too."""
    loaded = (_FAST_DECODE if tenant_claim is None else _decoder(tenant_claim))(body)
    if loaded is None:
        loaded = _load(body, tenant_claim)
    data = loaded["data"]
    context = data.get("context")
    identity, access = data.get("identity"), data.get("access")
    session = _get(context, "session")
    verified = (_get(session, key) for key in ("lastPasswordVerification", "lastMfaVerification"))
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
        identity_idp=_get(identity, "claims", "idp"),
        session_idp=_get(session, "idp", "id"),
        auth_time=_get(identity, "claims", "auth_time"),
        session_verified=tuple(t for t in map(_instant, verified) if t is not None),
        identity_tenant=_tenant_claim(_get(identity, "claims"), tenant_claim),
        access_tenant=_tenant_claim(_get(access, "claims"), tenant_claim),
        redirect_uri=_redirect_uri(_get(context, "protocol")),
    )
