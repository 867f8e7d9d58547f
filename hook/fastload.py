"""A fast path for marshmallow's ``Schema.load``, compiled from the schema itself.

marshmallow spends about 0.1 ms walking the nine nested schemas of an Okta request:
half of the hook's in-process cost (``bench/``). :func:`compile_loader` turns a schema
made of plain ``String``, ``List`` and ``Nested`` fields with ``Length`` and ``Equal``
validators into a function that returns what ``schema.load`` returns for a valid
document, and ``None`` for anything else, so that marshmallow decides and words the
errors. The schema stays the one source of truth: whatever else it uses is not compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, missing, validate

Loader = Callable[[Any], Any]


class _Unsure(Exception):
    """Not plainly valid: marshmallow must look at it."""


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


def _check(validator: Any) -> Callable[[Any], bool]:
    if type(validator) is validate.Length and validator.equal is None:
        low = validator.min if validator.min is not None else 0
        high = validator.max if validator.max is not None else float("inf")
        return lambda value: low <= len(value) <= high
    if type(validator) is validate.Equal:
        return lambda value: value == validator.comparable
    raise _Unsupported(repr(validator))


def _string(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    return value


def _converter(field: fields.Field) -> Loader:
    if _plain(field, fields.String):
        return _string
    if _plain(field, fields.List):
        inner = _field(field.inner)

        def load_list(value: Any) -> list[Any]:
            if type(value) is not list:
                raise _Unsure
            return [inner(item) for item in value]

        return load_list
    if (
        _plain(field, fields.Nested)
        and not field.many
        and field.only is None
        and not field.exclude
        and field.unknown in (None, EXCLUDE)
    ):
        return _schema(field.schema)
    raise _Unsupported(type(field).__name__)


def _field(field: fields.Field) -> Loader:
    convert = _converter(field)
    checks = tuple(_check(validator) for validator in field.validators)
    allow_none = field.allow_none

    def load_field(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise _Unsure
        loaded = convert(value)
        for check in checks:
            if not check(loaded):
                raise _Unsure
        return loaded

    def load_unchecked(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise _Unsure
        return convert(value)

    return load_field if checks else load_unchecked


def _schema(schema: Schema) -> Loader:
    if schema.many or schema.partial or schema.unknown != EXCLUDE or any(schema._hooks.values()):
        raise _Unsupported(type(schema).__name__)
    plan = []
    for name, field in schema.load_fields.items():
        if (field.data_key or name) != name or (field.attribute or name) != name:
            raise _Unsupported(name)
        plan.append((name, field.required, _field(field)))

    def load_schema(document: Any) -> dict[str, Any]:
        if type(document) is not dict:
            raise _Unsure
        loaded = {}
        for name, required, load in plan:
            if name in document:
                loaded[name] = load(document[name])
            elif required:
                raise _Unsure
        return loaded

    return load_schema


def compile_loader(schema: Schema) -> Callable[[Any], dict[str, Any] | None]:
    """``schema.load`` for valid documents, ``None`` when marshmallow must decide."""
    try:
        load = _schema(schema)
    except _Unsupported:
        return lambda _document: None

    def loader(document: Any) -> dict[str, Any] | None:
        try:
            return load(document)
        except _Unsure:
            return None

    return loader
