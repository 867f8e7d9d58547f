"""The hot path's fast paths (the compiled msgspec decoder, msgspec's encoder) change no outcome."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates

from hook import payload
from hook.fastload import compile_decoder
from hook.samples import DESCRIPTIONS, load
from tests.support.read_paths import READ_PATHS

_DECODE = compile_decoder(payload.TokenRequestSchema())
DELETE = object()
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=300),
    st.sampled_from(["", "x" * 255, "x" * 256, payload.EVENT_TYPE]),
    st.lists(st.one_of(st.text(max_size=260), st.none(), st.integers()), max_size=70),
    st.lists(st.just("pwd"), min_size=63, max_size=66),
    st.dictionaries(st.sampled_from(["id", "sub", "uid", "claims", "amr", "x"]), st.text()),
)


#: The decoder when establishments are matched on a claim (PSC_TENANTS), and its schema.
TENANT_CLAIM = "psc_establishment"
_TENANT_DECODE = compile_decoder(payload.schema(TENANT_CLAIM))


def FAST(document: Any, raw: bool = False) -> dict[str, Any] | None:
    """The fast path, on the JSON the standard library writes for ``document``: ASCII with
    ``\\u`` escapes, or (``raw``) UTF-8 as most clients write it."""
    return _DECODE(json.dumps(document, ensure_ascii=not raw).encode("utf-8", "surrogatepass"))


def _marshmallow(document: Any) -> dict[str, Any] | None:
    try:
        return payload.TokenRequestSchema().load(document)
    except ValidationError:
        return None


def _edit(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    parent = document
    for key in path[:-1]:
        parent = parent.get(key)
        if not isinstance(parent, dict):
            return
    if value is DELETE:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value


@pytest.mark.parametrize("name", sorted(DESCRIPTIONS))
def test_every_sample_takes_the_fast_path_and_loads_the_same(name: str) -> None:
    document = load(name)
    loaded = FAST(document)
    assert loaded is not None
    assert loaded == payload.TokenRequestSchema().load(document)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(sorted(DESCRIPTIONS)),
    edits=st.lists(
        st.tuples(st.sampled_from(READ_PATHS), st.one_of(VALUES, st.just(DELETE))), max_size=4
    ),
    raw=st.booleans(),
)
def test_fast_path_never_disagrees_with_marshmallow(name: str, edits: list, raw: bool) -> None:
    document = copy.deepcopy(load(name))
    for path, value in edits:
        _edit(document, path, value)
    expected = _marshmallow(document)
    loaded = FAST(document, raw)
    if expected is None:
        assert loaded is None
    else:
        assert loaded in (None, expected)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(DESCRIPTIONS)),
    edits=st.lists(
        st.tuples(st.sampled_from(READ_PATHS), st.one_of(VALUES, st.just(DELETE))), max_size=4
    ),
)
def test_the_tenant_claims_fast_path_never_disagrees(name: str, edits: list) -> None:
    document = copy.deepcopy(load(name))
    for path, value in edits:
        _edit(document, path, value)
    try:
        expected = payload.schema(TENANT_CLAIM).load(document)
    except ValidationError:
        expected = None
    loaded = _TENANT_DECODE(json.dumps(document).encode("utf-8", "surrogatepass"))
    assert loaded is None if expected is None else loaded in (None, expected)


@pytest.mark.parametrize(
    ("value", "values"),
    [
        ("chu-a", payload.TenantClaim(("chu-a",))),
        (["Everyone", "GRP_CHU_B"], payload.TenantClaim(("Everyone", "GRP_CHU_B"), listed=True)),
        ([], payload.TenantClaim((), listed=True)),
        ([1, None, "chu-a"], payload.UNUSABLE_CLAIM),
        ({"a": 1}, payload.UNUSABLE_CLAIM),
        (42, payload.UNUSABLE_CLAIM),
        (None, payload.UNUSABLE_CLAIM),
    ],
)
def test_the_tenant_claim_is_read_alike_on_both_paths(value: Any, values: Any, monkeypatch) -> None:
    document = copy.deepcopy(load("password-okta-verify-push"))
    for kind in ("identity", "access"):
        document["data"][kind]["claims"][TENANT_CLAIM] = value
    body = json.dumps(document).encode()
    assert _TENANT_DECODE(body) is not None
    fast = payload.parse(body, TENANT_CLAIM)
    monkeypatch.setattr(payload, "_decoder", lambda _claim: lambda _body: None)
    assert fast == payload.parse(body, TENANT_CLAIM)
    assert fast.identity_tenant == fast.access_tenant == values


def test_the_new_fields_take_the_fast_path_and_read_alike(monkeypatch) -> None:
    body = json.dumps(load("cps-smart-card")).encode()
    assert _DECODE(body) is not None
    fast = payload.parse(body)
    monkeypatch.setattr(payload, "_FAST_DECODE", lambda _body: None)
    assert fast == payload.parse(body)
    assert (fast.identity_idp, fast.session_idp) == ("0oa1cpsSmartCard0Idp7",) * 2
    assert fast.auth_time == 1795680070 and len(fast.session_verified) == 1


@pytest.mark.parametrize("key", ["OriginalGrant", "originalGrant"])
def test_the_redirect_uris_take_the_fast_path_and_read_alike(key, monkeypatch) -> None:
    document = copy.deepcopy(load("refresh"))
    protocol = document["data"]["context"]["protocol"]
    protocol[key] = protocol.pop("originalGrant")
    protocol[key]["authorization"]["redirect_uri"] = "https://psc.example/original"
    body = json.dumps(document).encode()
    assert _DECODE(body) is not None
    fast = payload.parse(body)
    monkeypatch.setattr(payload, "_FAST_DECODE", lambda _body: None)
    assert fast == payload.parse(body)
    assert fast.redirect_uri == "https://psc.example/original"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("data", "identity", "claims", "auth_time"), True),
        (("data", "identity", "claims", "auth_time"), 1.5),
        (("data", "identity", "claims", "auth_time"), "1795680070"),
        (("data", "identity", "claims", "idp"), 7),
        (("data", "context", "session", "idp"), "0oa1cpsSmartCard0Idp7"),
        (("data", "context", "protocol", "request", "redirect_uri"), 5),
        (("data", "context", "protocol", "originalGrant", "authorization", "redirect_uri"), []),
        (("data", "context", "protocol", "originalGrant", "authorization"), "x"),
        (("data", "context", "protocol", "OriginalGrant"), ["x"]),
    ],
)
def test_new_fields_of_the_wrong_type_are_left_to_marshmallow(path, value) -> None:
    document = copy.deepcopy(load("refresh"))
    _edit(document, path, value)
    assert FAST(document) is None
    with pytest.raises(payload.InvalidPayload):
        payload.parse(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("eventId",), "x" * 256),
        (("eventType",), "com.okta.other"),
        (("data", "identity", "claims", "sub"), ""),
        (("data", "identity", "claims", "amr"), ["pwd"] * 65),
        (("data", "identity", "claims", "amr"), ["x" * 257]),
        (("data", "context", "session", "amr"), "pwd"),
        (("data", "context"), []),
        (("data", "identity", "claims"), None),
        (("data",), DELETE),
    ],
)
def test_invalid_documents_are_left_to_marshmallow(path: tuple[str, ...], value: Any) -> None:
    document = copy.deepcopy(load("password-okta-verify-push"))
    _edit(document, path, value)
    assert FAST(document) is None
    with pytest.raises(payload.InvalidPayload):
        payload.parse(json.dumps(document).encode())


def test_limits_are_inclusive_like_marshmallow() -> None:
    document = copy.deepcopy(load("password-okta-verify-push"))
    _edit(document, ("eventId",), "x" * 255)
    _edit(document, ("data", "identity", "claims", "amr"), ["pwd"] * 64)
    assert FAST(document) == payload.TokenRequestSchema().load(document)


class _Excluding(Schema):
    """Unknown fields ignored, as in the service's schemas: what the compiler supports."""

    class Meta:
        unknown = EXCLUDE


class _Counted(_Excluding):
    count = fields.Integer()


class _Raising(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String()


class _Hooked(_Excluding):
    name = fields.String(validate=validate.Length(max=3))

    @validates("name")
    def _no_x(self, value: str, **_kwargs: Any) -> None:
        if "x" in value:
            raise ValidationError("no x")


class _Defaulted(_Excluding):
    name = fields.String(load_default="anonymous")


class _EqualToANumber(_Excluding):
    code = fields.String(validate=validate.Equal(5))


class _Plain(_Excluding):
    name = fields.String()


class _SizedNested(_Excluding):
    inner = fields.Nested(_Plain, validate=validate.Length(max=1))


@pytest.mark.parametrize(
    ("schema", "document"),
    [
        (_Counted(), {"count": 1}),
        (_Raising(), {"name": "a", "other": 1}),
        (_Hooked(), {"name": "x"}),
        (_Defaulted(), {}),
        (_EqualToANumber(), {"code": 5}),
        (_SizedNested(), {"inner": {}}),
    ],
)
def test_schemas_using_anything_else_always_defer(schema: Schema, document: dict) -> None:
    assert compile_decoder(schema)(json.dumps(document).encode()) is None


TRICKY_BODIES = [
    b'{"eventType": NaN}',
    b'{"eventId": 1e400}',
    b'{"eventId": 123456789012345678901234567890}',
    b"[" * 5000 + b"]" * 5000,
    b'\xef\xbb\xbf{"eventType": "com.okta.oauth2.tokens.transform", "data": {}}',
    '{"eventType": "com.okta.oauth2.tokens.transform", "data": {}}'.encode("utf-16"),
    b'{"eventType": "com.okta.oauth2.tokens.transform", "eventId": "\\ud800", "data": {}}',
    b'{"eventType": "x", "eventType": "com.okta.oauth2.tokens.transform", "data": {}}',
    b'{"data": {}, "eventType": "com.okta.oauth2.tokens.transform"} \xff',
    b"12345678901234567890123",
    b"",
    b'{"eventType": "com.okta.oauth2.tokens.transform", "data": {"identity": {"claims": '
    b'{"\\u0073ub": "escaped-key", "sub": "x" , "sub": "last-wins"}}}}',
    b'{"eventType": "com.okta.oauth2.tokens.transform", "data": {"identity": {"claims": '
    b'{"sub": "' + b"x" * 300 + b'", "sub": "short"}}}}',
    *(  # bytes that are not UTF-8, or a surrogate written as UTF-8, read and skipped
        b'{"eventType": "com.okta.oauth2.tokens.transform", "data": {"identity": {"claims": '
        b'{"sub": "' + raw + b'"}}}, "skipped": "' + raw + b'"}'
        for raw in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"caf\xc3\xa9")
    ),
    *(
        b'{"eventType": "com.okta.oauth2.tokens.transform", "data": {}, "skipped": "' + raw + b'"}'
        for raw in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80")
    ),
]


def _outcome(body: bytes) -> Any:
    try:
        return payload.parse(body)
    except payload.InvalidPayload as invalid:
        return (str(invalid), invalid.errors)


@pytest.mark.parametrize(
    "body",
    [*TRICKY_BODIES, *(json.dumps(load(name)).encode() for name in sorted(DESCRIPTIONS))],
)
def test_the_fast_decoder_changes_no_outcome(body: bytes, monkeypatch) -> None:
    fast = _outcome(body)
    monkeypatch.setattr(payload, "_FAST_DECODE", lambda _body: None)
    assert fast == _outcome(body)


def test_an_answer_msgspec_refuses_is_still_written(client, auth_headers) -> None:
    document = copy.deepcopy(load("password-okta-verify-push"))
    _edit(document, ("data", "identity", "claims", "sub"), "user-\ud800")
    _edit(document, ("data", "access", "claims", "uid"), "user-\ud800")
    body = json.dumps(document).encode()
    answer = client.post(
        "/token-hook", data=body, headers={**auth_headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 200
    commands = answer.get_json()["commands"]
    assert "user-\ud800" in [op["value"] for command in commands for op in command["value"]]


def test_the_answer_is_the_same_json_with_sorted_keys(client, auth_headers) -> None:
    answer = client.post("/token-hook", json=load("cps-smart-card"), headers=auth_headers)
    document = answer.get_json()
    assert answer.data == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
