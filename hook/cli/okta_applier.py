"""Okta's model: what Okta does with a hook's answer, for the commands and the tests.

Any command Okta would refuse voids the whole result and the tokens are issued unmodified
("One bad op voids everything", Okta's Management OpenAPI, Troubleshoot). The tests run
every answer through it and ``psc-hook preview`` shows its verdict.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from hook.okta import (
    ACCEPTED_IN_PRACTICE,
    COMMAND_TYPES,
    RESERVED_CLAIMS,
    TOKEN_KINDS,
    TOKEN_NAMES,
    reserved_reason,
)

#: The one non-claim path Okta lets a hook patch, and the lifetimes it takes there.
LIFETIME_PATH = "/token/lifetime/expiration"
LIFETIME_RANGE = (300, 86_400)


class Voided(Exception):
    """Okta would refuse this answer and issue the tokens unmodified."""


@dataclass
class Outcome:
    """What Okta does with an answer: the tokens' claims and why, as an operator sees it."""

    tokens: dict[str, dict[str, Any]]
    minted: bool = True
    voided: str | None = None
    notes: list[str] = field(default_factory=list)


def _segments(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[2:]]


def _index(container: list[Any], segment: str, *, adding: bool) -> int:
    if adding and segment == "-":
        return len(container)
    if not segment.isdigit() or (len(segment) > 1 and segment.startswith("0")):
        raise Voided(f"bad array index {segment!r}")
    index = int(segment)
    if index > len(container) or (index == len(container) and not adding):
        raise Voided(f"array index {index} out of range")
    return index


def _apply_op(kind: str, claims: dict[str, Any], op: Any, tolerate: Collection) -> str | None:
    if not isinstance(op, dict) or not isinstance(op.get("path"), str):
        raise Voided("an op is not an object with a path")
    name, path = op.get("op"), op["path"]
    if name not in ("add", "replace", "remove"):
        raise Voided(f"invalid op {name!r}")
    if path == LIFETIME_PATH:
        low, high = LIFETIME_RANGE
        lifetime = op.get("value")
        if name != "replace" or not isinstance(lifetime, int) or not low <= lifetime <= high:
            raise Voided(f"lifetime must be replaced with {low}..{high} seconds")
        return None
    if not path.startswith("/claims/") or path == "/claims/":
        raise Voided(f"path {path!r} is not under /claims/")
    segments = _segments(path)
    note = None
    if segments[0] in RESERVED_CLAIMS[kind]:
        if (kind, segments[0]) not in tolerate:
            raise Voided(f"{segments[0]!r} is reserved in the {TOKEN_NAMES[kind]} token")
        reason = reserved_reason(kind, segments[0])
        note = f"{segments[0]!r} in the {TOKEN_NAMES[kind]} token: {reason}"
    if name == "remove" and op.get("value") is not None:
        raise Voided("remove carries a value other than null")
    if name != "remove" and op.get("value") is None:
        raise Voided(f"{name} without a value")
    value = copy.deepcopy(op.get("value"))  # Okta copies the value into the token
    parent: Any = claims
    for segment in segments[:-1]:
        if isinstance(parent, dict) and segment in parent:
            parent = parent[segment]
        elif isinstance(parent, list):
            parent = parent[_index(parent, segment, adding=False)]
        else:
            raise Voided(f"{path!r} goes through a member that does not exist")
    last = segments[-1]
    if isinstance(parent, list):
        index = _index(parent, last, adding=name == "add")
        if name == "add":
            parent.insert(index, value)
        elif name == "replace":
            parent[index] = value
        else:
            del parent[index]
    elif isinstance(parent, dict):
        if name != "add" and last not in parent:
            raise Voided(f"{name} of {path!r}, which does not exist")
        if name == "remove":
            del parent[last]
        else:
            parent[last] = value
    else:
        raise Voided(f"{path!r} goes into a value that is not an object or array")
    return note


def apply_answer(
    request: Mapping[str, Any],
    status: int,
    answer: Any = None,
    *,
    tolerate: Collection[tuple[str, str]] = ACCEPTED_IN_PRACTICE.keys(),
) -> Outcome:
    """Apply a hook answer to the request's tokens the way Okta does.

    ``tolerate`` names reserved (token, claim) slots treated as accepted; pass ``()`` for
    the documented table alone.
    """
    data = request.get("data") or {}
    original = {
        kind: copy.deepcopy((data.get(kind) or {}).get("claims") or {})
        for kind in TOKEN_KINDS
        if isinstance(data.get(kind), dict)
    }
    if status == 204:
        return Outcome(original, notes=["nothing to patch: tokens issued as Okta built them"])
    if status != 200 or not isinstance(answer, dict):
        return Outcome(original, voided=f"HTTP {status}: the hook is skipped, tokens unmodified")
    if "error" in answer:
        summary = (answer.get("error") or {}).get("errorSummary")
        return Outcome({}, minted=False, notes=[f"token refused (server_error): {summary}"])
    tokens = copy.deepcopy(original)
    notes: list[str] = []
    try:
        commands = answer.get("commands", [])
        if not isinstance(commands, list):
            raise Voided("commands is not an array")
        by_type = {command_type: kind for kind, command_type in COMMAND_TYPES.items()}
        for command in commands:
            kind = by_type.get(command.get("type")) if isinstance(command, dict) else None
            if kind is None:
                raise Voided("a command has an unknown type")
            if kind not in tokens:
                raise Voided(f"patches the {TOKEN_NAMES[kind]} token, which was not requested")
            if not isinstance(command.get("value"), list):
                raise Voided("a command's value is not an array of ops")
            for op in command["value"]:
                if note := _apply_op(kind, tokens[kind], op, tolerate):
                    notes.append(note)
    except Voided as reason:
        return Outcome(original, voided=str(reason))
    return Outcome(tokens, notes=notes)
