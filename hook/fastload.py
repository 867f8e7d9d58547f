"""A fast path for decoding and validating a body, compiled from the marshmallow schema.

``json.loads`` then ``Schema.load`` were the largest part of the hook's own cost (bench/):
:func:`compile_decoder` makes a msgspec decoder that checks the same rules in one pass in C
and returns what ``schema.load(json.loads(body))`` returns for a valid body, ``None`` for
anything else, so that marshmallow decides and words the errors. The schema stays the one
source of truth: whatever else it uses is not compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import msgspec
from marshmallow import EXCLUDE, Schema, fields, missing, validate

Decoder = Callable[[bytes], dict[str, Any] | None]


class _Unsupported(Exception):
    """The schema uses something this compiler does not reproduce."""


def _plain(field: fields.Field, base: type[fields.Field]) -> bool:
    kind = type(field)
    return (
        isinstance(field, base)
        and kind._deserialize is base._deserialize
        and kind.deserialize is fields.Field.deserialize
        and kind._validate is fields.Field._validate
        and not field.pre_load
        and not field.post_load
        and field.load_default is missing
    )


def _base_type(field: fields.Field) -> Any:
    if _plain(field, fields.String):
        return str
    if (
        _plain(field, fields.Integer) and type(field) is fields.Integer and field.strict
    ):  # both refuse floats and booleans
        return int
    if _plain(field, fields.Raw) and type(field) is fields.Raw and field.allow_none:
        return Any  # any JSON value, null included, as marshmallow passes it through
    if _plain(field, fields.List):
        return list[_field_type(field.inner)]  # type: ignore[misc]
    if (
        _plain(field, fields.Nested)
        and not field.many
        and field.only is None
        and not field.exclude
        and field.unknown in (None, EXCLUDE)
    ):
        return _typed_dict(field.schema)
    raise _Unsupported(type(field).__name__)


def _field_type(field: fields.Field) -> Any:
    """The msgspec type of one field: its base type, constrained as its validators say."""
    kind = _base_type(field)
    sized = isinstance(field, fields.String | fields.List)
    for validator in field.validators:
        if type(validator) is validate.Length and validator.equal is None and sized:
            kind = Annotated[kind, msgspec.Meta(min_length=validator.min, max_length=validator.max)]
        elif (
            type(validator) is validate.Equal
            and kind is str
            and isinstance(validator.comparable, str)
            and len(field.validators) == 1
        ):
            kind = Literal[validator.comparable]
        else:
            raise _Unsupported(repr(validator))
    return kind | None if field.allow_none else kind


def _typed_dict(schema: Schema) -> Any:
    if schema.many or schema.partial or schema.unknown != EXCLUDE or any(schema._hooks.values()):
        raise _Unsupported(type(schema).__name__)
    members = {}
    for name, field in schema.load_fields.items():
        if (field.data_key or name) != name or (field.attribute or name) != name:
            raise _Unsupported(name)
        kind = _field_type(field)
        members[name] = Required[kind] if field.required else NotRequired[kind]
    return TypedDict(type(schema).__name__, members)  # type: ignore[operator]


def compile_decoder(schema: Schema) -> Decoder:
    """``schema.load(json.loads(body))`` for valid bodies, ``None`` when marshmallow must
    decide (invalid JSON or values, lone surrogates, NaN, deep nesting, other encodings).

    msgspec checks the UTF-8 of the strings it reads, not of those it skips, so the body
    is checked first as ``json.loads`` reads it (UTF-8, surrogates let through).
    """
    try:
        decoder = msgspec.json.Decoder(_typed_dict(schema))
    except _Unsupported:
        return lambda _body: None

    def decode(body: bytes) -> dict[str, Any] | None:
        try:
            body.decode("utf-8", "surrogatepass")
            return decoder.decode(body)
        except (msgspec.MsgspecError, ValueError, RecursionError):  # UnicodeDecodeError too
            return None

    return decode
