"""How one environment value is read: a list, a choice, a whole number, a duration, an
identifier; a bad one raises :class:`ConfigError` naming its variable.

hook/config.py says which variables there are and what they mean; this module, how each
kind of value is written. Pure: it reads the mapping it is given, never the process's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hook.tenants import identifier_problem

DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def listed(value: str | None) -> tuple[str, ...]:
    """The comma-separated values of ``value``, stripped, the empty ones left out."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is outside {low}..{high}")
    return value


def duration(env: Mapping[str, str], name: str) -> int | None:
    """Seconds, or a number with ``s``, ``m`` or ``h``; None when unset."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    found = re.fullmatch(r"([0-9]{1,7})\s*([smh]?)", raw)
    seconds = int(found[1]) * DURATION_UNITS[found[2]] if found else 0
    if not 60 <= seconds <= 30 * 86400:
        raise ConfigError(f"{name}: {raw!r} is not a duration of 60s..30 days (14400, 240m, 4h)")
    return seconds


def identifier(env: Mapping[str, str], name: str) -> str | None:
    """A tid or kc_idp_hint as PSC's forms take it (hook/tenants.py), or None when unset."""
    raw = env.get(name, "")
    if not raw.strip():
        return None
    problem = identifier_problem(raw.strip())
    if problem or raw != raw.strip(" "):
        raise ConfigError(f"{name}: {problem or 'spaces around the value'}")
    return raw.strip()
