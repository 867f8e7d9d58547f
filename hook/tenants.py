"""Establishments: the table of ``PSC_TENANTS``, each with its ``tid`` and ``kc_idp_hint``.

One Okta org may serve several establishments (a hospital group): ``PSC_TENANTS`` names
them, each with the alias PSC routes its sign-ins by (``kc_idp_hint``), the PSC apps that
are its (``client_ids``) and the values of the tenant claim that name it (``match``).
Which one a token is for is hook/establishment.py's decision. A client id or an alias
belongs to one establishment at most, or the table is refused: the route must name one.
Pure: no Flask, no environment, no file (hook/config.py reads ``PSC_TENANTS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
    """The establishments, and indexes from a claim value, a client id or an alias to them."""

    tenants: tuple[Tenant, ...]
    by_value: Mapping[str, tuple[Tenant, ...]]
    by_client: Mapping[str, Tenant]
    by_hint: Mapping[str, Tenant]

    def tids(self) -> tuple[str, ...]:
        return tuple(tenant.tid for tenant in self.tenants)

    def named(self, values: Iterable[str]) -> frozenset[Tenant]:
        """Every establishment whose ``match`` holds one of ``values``."""
        return frozenset(tenant for value in values for tenant in self.by_value.get(value, ()))


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
    if not (tenant.kc_idp_hint or tenant.match or tenant.client_ids):
        raise TenantsError(f"{where} needs kc_idp_hint, match or client_ids: nobody could reach it")
    return tenant


def _index(tenants: tuple[Tenant, ...]) -> dict[str, tuple[Tenant, ...]]:
    index: dict[str, tuple[Tenant, ...]] = {}
    for tenant in tenants:
        for value in tenant.match:
            index[value] = (*index.get(value, ()), tenant)
    return index


def _owners(pairs: Iterable[tuple[str, Tenant]], what: str) -> dict[str, Tenant]:
    """Each key's one establishment; a key two establishments give is a TenantsError."""
    owners: dict[str, Tenant] = {}
    for key, tenant in pairs:
        if key in owners:
            raise TenantsError(
                f"{what} {key!r} is given to tenants {owners[key].tid!r} and {tenant.tid!r}:"
                " it may name one establishment at most"
            )
        owners[key] = tenant
    return owners


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
    clients = ((client, tenant) for tenant in tenants for client in sorted(tenant.client_ids))
    hints = ((tenant.kc_idp_hint, tenant) for tenant in tenants if tenant.kc_idp_hint)
    return Table(
        tenants, _index(tenants), _owners(clients, "client id"), _owners(hints, "kc_idp_hint")
    )


def unreachable(table: Table, scope: frozenset[str]) -> list[str]:
    """Warnings: an establishment PSC's sign-ins cannot reach, because it has no
    ``kc_idp_hint`` (PSC's broker redirect URI names an alias, and one of no establishment
    is refused), or nothing else names it alone: its clients are outside ``scope``
    (PSC_CLIENT_IDS, when set), its claim values are other establishments' too."""
    warnings = []
    for tenant in table.tenants:
        if tenant.kc_idp_hint:
            continue
        warnings.append(
            f"tenant {tenant.tid!r} has no kc_idp_hint: a sign-in through PSC names its"
            " alias in PSC's redirect URI, and the hook refuses an alias of no establishment;"
            " give it the kc_idp_hint PSC routes it by"
        )
        clients = [c for c in tenant.client_ids if not scope or c in scope]
        own_values = [v for v in tenant.match if len(table.by_value[v]) == 1]
        if tenant.client_ids and not clients and not tenant.match:
            warnings.append(
                f"tenant {tenant.tid!r}: none of its client_ids is in PSC_CLIENT_IDS, and it has"
                " no match: no token can get it"
            )
        elif not own_values and not clients:
            warnings.append(
                f"tenant {tenant.tid!r}: each of its match values is another tenant's too, and"
                " no client of it is in scope: its users are always refused as ambiguous"
            )
    return warnings
