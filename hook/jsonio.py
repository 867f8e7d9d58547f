"""JSON out, with msgspec where it agrees with the standard library; and JSON in for the
commands and an operator's files (the amr rules, the establishments), its failures in one
sentence.

msgspec writes several times faster than ``json.dumps``, which the hot path feels twice
per call (the answer and the log line). What it refuses (a lone surrogate, which
``json.loads`` lets into a string), the standard library still writes, escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

_SORTED = msgspec.json.Encoder(order="sorted")
_AS_GIVEN = msgspec.json.Encoder()


def _write(value: Any, sort_keys: bool, default: Callable[[Any], Any] | None = None) -> bytes:
    try:
        return (_SORTED if sort_keys else _AS_GIVEN).encode(value)
    except (UnicodeEncodeError, TypeError, msgspec.EncodeError):
        return json.dumps(
            value, sort_keys=sort_keys, default=default, separators=(",", ":")
        ).encode()


def dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8, keys sorted: the same answer is always the same bytes."""
    return _write(value, sort_keys=True)


def dumps_text(value: Any, default: Callable[[Any], Any] | None = None, **_options: Any) -> str:
    """Compact JSON as text, for structlog's ``JSONRenderer(serializer=...)``, which passes
    ``default`` for values JSON has no type for (then the standard library writes them)."""
    return _write(value, sort_keys=False, default=default).decode()


class TooDeep(ValueError):
    """A JSON document nested deeper than the standard library reads: it recurses, and stops
    at the interpreter's recursion limit (about a thousand levels) with a RecursionError."""


def loads(text: str | bytes) -> Any:
    """``json.loads``, a document nested too deep raised as :class:`TooDeep` (a ValueError)
    instead of a RecursionError, which the commands would show as a traceback."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("nested too deep to read (about a thousand levels at most)") from None


def read_file(path: Path, error: type[Exception]) -> Any:
    """The document of an operator's JSON file; ``error`` says why it cannot be had."""
    try:
        return loads(path.read_text("utf-8"))
    except OSError as failure:
        raise error(f"cannot read {str(path)!r}: {failure.strerror}") from None
    except ValueError as failure:
        raise error(f"{str(path)!r} is not valid JSON: {failure}") from None
