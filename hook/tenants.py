"""Establishments: which ``tid`` and ``kc_idp_hint`` a token gets, and the table that says.

One Okta org may serve several establishments (a hospital group): ``PSC_TENANTS`` names
them, each with the values of the tenant claim (``match``) and the PSC apps
(``client_ids``) that are its. A token gets the one establishment it matches, or none at
all: PSC checks ``tid`` against its whitelist, so a default or a guess would sign a user
into another establishment. Pure: no Flask, no environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hook import jsonio

#: What ANS registers as a tid or kc_idp_hint: 1 to 100 of letters, digits and ``._-`` (the
#: reference integration's own example is ``TID-CHU-NANCY``; an Okta domain prefix such as
#: ``dev-123456`` is one too).
IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,100}")
IDENTIFIER_HELP = "1 to 100 of letters, digits and . _ -"
#: PSC's usual forms (psc.md): ``OKTA_<alias>``, a UUID, an Okta org id (``00o...``), a
#: Datapass number. Another value is taken, and noted: ANS may have registered it.
USUAL_FORM = re.compile(
    r"OKTA_[A-Za-z0-9][A-Za-z0-9._-]*"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|00o[0-9A-Za-z]{5,60}"
    r"|[0-9]{1,20}"
)
USUAL_FORMS = "OKTA_<alias>, a UUID, an Okta org id (00o...) or a Datapass number"
#: What ``match`` and ``client_ids`` may hold: printable, no spaces, bounded.
VALUE = re.compile(r"[\x21-\x7e]{1,255}")
TENANT_KEYS = frozenset({"tid", "kc_idp_hint", "match", "client_ids"})
#: The ``tid`` label of the metrics when no establishment was chosen.
NO_TENANT = "none"


class TenantsError(ValueError):
    """The tenants file cannot be used; the message says where it is wrong."""


def identifier_problem(value: str) -> str | None:
    """Why ``value`` cannot be a tid or kc_idp_hint, or None when it can be one."""
    if IDENTIFIER.fullmatch(value):
        return None
    return f"{value!r} is not an identifier PSC takes ({IDENTIFIER_HELP})"


def identifier_note(name: str, value: str) -> str | None:
    """A note when ``value`` is none of PSC's usual forms: right only if ANS registered it."""
    if USUAL_FORM.fullmatch(value):
        return None
    return (
        f"{name} {value!r} is none of PSC's usual forms ({USUAL_FORMS}): check that it is"
        " exactly what ANS registered"
    )


@dataclass(frozen=True)
class Tenant:
    tid: str
    kc_idp_hint: str | None = None
    match: frozenset[str] = frozenset()
    client_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Table:
    """The establishments, and indexes from a claim value or a client id to them."""

    tenants: tuple[Tenant, ...]
    by_value: Mapping[str, tuple[Tenant, ...]]
    by_client: Mapping[str, tuple[Tenant, ...]]

    def tids(self) -> tuple[str, ...]:
        return tuple(tenant.tid for tenant in self.tenants)

    def candidates(self, values: Iterable[str], client_id: str | None) -> set[Tenant]:
        """Every establishment a claim value or the client names."""
        found = set(self.by_client.get(client_id, ())) if client_id else set()
        for value in values:
            found.update(self.by_value.get(value, ()))
        return found


def _strings(raw: Any, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and VALUE.fullmatch(v) for v in raw):
        raise TenantsError(f"{where} must be a list of printable strings without spaces")
    return frozenset(raw)


def _identifier(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise TenantsError(f"{where} must be a string")
    problem = identifier_problem(raw)
    if problem:
        raise TenantsError(f"{where}: {problem}")
    return raw


def _tenant(raw: Any, index: int) -> Tenant:
    where = f"tenants[{index}]"
    if not isinstance(raw, dict):
        raise TenantsError(f"{where} must be an object")
    unknown = sorted(set(raw) - TENANT_KEYS)
    if unknown:
        raise TenantsError(
            f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(TENANT_KEYS))}"
        )
    if "tid" not in raw:
        raise TenantsError(f"{where} needs a tid")
    tid = _identifier(raw["tid"], f"{where}.tid")
    where = f"tenant {tid!r}"
    hint = raw.get("kc_idp_hint")
    tenant = Tenant(
        tid=tid,
        kc_idp_hint=None if hint is None else _identifier(hint, f"{where}: kc_idp_hint"),
        match=_strings(raw.get("match", []), f"{where}: match"),
        client_ids=_strings(raw.get("client_ids", []), f"{where}: client_ids"),
    )
    if not tenant.match and not tenant.client_ids:
        raise TenantsError(f"{where} needs match or client_ids: nobody could reach it")
    return tenant


def _index(tenants: tuple[Tenant, ...], key: str) -> dict[str, tuple[Tenant, ...]]:
    index: dict[str, tuple[Tenant, ...]] = {}
    for tenant in tenants:
        for value in getattr(tenant, key):
            index[value] = (*index.get(value, ()), tenant)
    return index


def parse(document: Any) -> Table:
    """The table a tenants document describes, or :class:`TenantsError`."""
    if not isinstance(document, dict) or set(document) != {"tenants"}:
        raise TenantsError('the file must hold {"tenants": [...]}')
    raws = document["tenants"]
    if not isinstance(raws, list) or not raws:
        raise TenantsError("'tenants' must be a non-empty list")
    tenants = tuple(_tenant(raw, index) for index, raw in enumerate(raws))
    tids = [tenant.tid for tenant in tenants]
    duplicate = next((tid for tid in tids if tids.count(tid) > 1), None)
    if duplicate:
        raise TenantsError(f"tid {duplicate!r} is listed twice")
    return Table(tenants, _index(tenants, "match"), _index(tenants, "client_ids"))


def load(path: Path) -> Table:
    """The table of a ``PSC_TENANTS`` file."""
    return parse(jsonio.read_file(path, TenantsError))


def unreachable(table: Table, scope: frozenset[str]) -> list[str]:
    """Warnings: an establishment no token can get, because each of its claim values and
    clients is another's too (always ambiguous), or its clients are outside ``scope``
    (PSC_CLIENT_IDS, when set) and it has no claim value."""
    warnings = []
    for tenant in table.tenants:
        clients = {c for c in tenant.client_ids if not scope or c in scope}
        if tenant.client_ids and not clients and not tenant.match:
            warnings.append(
                f"tenant {tenant.tid!r}: none of its client_ids is in PSC_CLIENT_IDS, and it has"
                " no match: no token can get it"
            )
            continue
        own_values = [v for v in tenant.match if len(table.by_value[v]) == 1]
        own_clients = [c for c in clients if len(table.by_client[c]) == 1]
        if not own_values and not own_clients:
            warnings.append(
                f"tenant {tenant.tid!r}: each of its match values and client_ids is another"
                " tenant's too: its users are always refused as ambiguous"
            )
    return warnings
