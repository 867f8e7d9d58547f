"""The choice of a token's establishment, in-process: service-spec.md's decision table row
by row (hook/establishment.py), the route read from Okta's payload (hook/payload.py), and
the table's own rules (hook/tenants.py). End to end under gunicorn: tests/test_tenants.py."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hook import establishment, payload, samples, tenants
from hook.establishment import CAUSES, choose, refusal
from hook.payload import TenantClaim
from hook.psc_environments import FORMER_SANDBOX, PRODUCTION
from hook.refusals import ESTABLISHMENT_CAUSES, Refusal
from tests.support.tenant_table import CLINIC_CLIENT, NANCY_CLIENT, TABLE, psc_route

GROUP = tenants.parse(TABLE)
BY_TID = {tenant.tid: tenant for tenant in GROUP.tenants}
PSC_CLIENT = "0oa1pscClient0Example7"  # the group's shared PSC app: no establishment's own


def text(value: str) -> TenantClaim:
    return TenantClaim((value,))


def listed(*values: str) -> TenantClaim:
    return TenantClaim(values, listed=True)


def decided(
    claims: list[TenantClaim],
    alias: str | None = None,
    client: str = PSC_CLIENT,
    user: bool = True,
) -> str:
    """The tid chosen, or the refusal's outcome and cause."""
    uri = None if alias is None else psc_route(alias)
    chosen = choose(GROUP, uri, client, claims, user)
    if isinstance(chosen, Refusal):
        cause = next(c for c in CAUSES if refusal(c) == chosen)
        return f"{chosen.outcome}: {cause}"
    return chosen.tid


A, B = "OKTA_chu-a", "OKTA_chu-b"  # aliases and tids; each declares match values
NANCY = "OKTA_chu-nancy"  # the alias of TID-CHU-NANCY, which declares none


@pytest.mark.parametrize(
    ("alias", "client", "claims", "expected"),
    [
        # the route names E, which declares match values
        (A, PSC_CLIENT, [text("chu-a")], A),
        (A, PSC_CLIENT, [listed("GRP_CHU_B", "chu-a")], A),  # a professional of several
        (B, PSC_CLIENT, [listed("GRP_CHU_B", "chu-a")], B),
        (A, PSC_CLIENT, [], "tenant-unmatched: claim-missing"),
        (A, PSC_CLIENT, [text("GRP_CHU_B")], "tenant-unmatched: claim-not-routed"),
        (A, PSC_CLIENT, [listed()], "tenant-unmatched: claim-not-routed"),
        (A, PSC_CLIENT, [text("chu-z")], "tenant-unmatched: claim-not-routed"),
        # the route names E, which declares none
        (NANCY, PSC_CLIENT, [], "TID-CHU-NANCY"),
        (NANCY, PSC_CLIENT, [listed()], "TID-CHU-NANCY"),
        (NANCY, PSC_CLIENT, [listed("Everyone", "chu-z")], "TID-CHU-NANCY"),
        (None, NANCY_CLIENT, [listed("Everyone")], "TID-CHU-NANCY"),
        (None, CLINIC_CLIENT, [], "123456"),
        (NANCY, PSC_CLIENT, [text("chu-a")], "tenant-unmatched: claim-names-another"),
        (NANCY, PSC_CLIENT, [listed("x", "chu-a")], "tenant-unmatched: claim-names-another"),
        (NANCY, PSC_CLIENT, [text("chu-z")], "tenant-unmatched: claim-names-none"),
        (None, CLINIC_CLIENT, [text("Everyone")], "tenant-unmatched: claim-names-none"),
        # nothing routes: the claim names the establishment
        (None, PSC_CLIENT, [text("chu-a")], A),
        (None, PSC_CLIENT, [listed("Everyone", "GRP_CHU_B")], B),
        (None, PSC_CLIENT, [text("chu-z")], "tenant-unmatched: claim-names-none"),
        (None, PSC_CLIENT, [listed()], "tenant-unmatched: claim-names-none"),
        (None, PSC_CLIENT, [], "tenant-unmatched: nothing-names-one"),
        (None, PSC_CLIENT, [listed("chu-a", "GRP_CHU_B")], "tenant-ambiguous: claim-names-several"),
        # the route itself, and what every row refuses
        ("OKTA_chu-z", PSC_CLIENT, [text("chu-a")], "tenant-unmatched: unknown-alias"),
        (NANCY, NANCY_CLIENT, [], "TID-CHU-NANCY"),
        (A, CLINIC_CLIENT, [text("chu-a")], "tenant-ambiguous: route-disagrees"),
        (A, PSC_CLIENT, [text("chu-a"), text("GRP_CHU_B")], "tenant-ambiguous: tokens-disagree"),
        (A, PSC_CLIENT, [text("chu-a"), listed("chu-a", "x")], A),  # the same one, spelt apart
        (NANCY, PSC_CLIENT, [listed(), text("chu-z")], "tenant-unmatched: claim-names-none"),
        (A, PSC_CLIENT, [payload.UNUSABLE_CLAIM], "tenant-unmatched: claim-type"),
        (None, CLINIC_CLIENT, [payload.UNUSABLE_CLAIM], "tenant-unmatched: claim-type"),
        (A, PSC_CLIENT, [text("chu-a"), payload.UNUSABLE_CLAIM], "tenant-unmatched: claim-type"),
    ],
)
def test_the_decision_table(alias, client, claims, expected) -> None:
    assert decided(claims, alias, client) == expected


def test_without_a_user_the_route_alone_decides() -> None:
    assert decided([], A, user=False) == A
    assert decided([], None, CLINIC_CLIENT, user=False) == "123456"
    assert decided([payload.UNUSABLE_CLAIM], A, user=False) == A  # no user's claim to judge
    assert decided([], None, user=False) == "tenant-unmatched: nothing-names-one"
    assert decided([], "OKTA_chu-z", user=False) == "tenant-unmatched: unknown-alias"


@pytest.mark.parametrize("environment", [PRODUCTION, FORMER_SANDBOX], ids=lambda e: e.key)
def test_every_psc_host_routes(environment) -> None:
    chosen = choose(GROUP, psc_route(NANCY, environment), PSC_CLIENT, [], True)
    assert chosen == BY_TID["TID-CHU-NANCY"]


def test_a_redirect_uri_of_no_psc_host_is_no_route() -> None:
    uri = psc_route(A).replace("auth.bas.psc.esante.gouv.fr", "psc.evil.example")
    assert choose(GROUP, uri, PSC_CLIENT, [listed("chu-a", "GRP_CHU_B")], True) == refusal(
        "claim-names-several"
    )


@pytest.mark.parametrize("cause", CAUSES)
def test_each_refusal_is_short_printable_ascii_naming_its_cause(cause) -> None:
    """summary() raises on a text Okta could not pass on: each cause is written once."""
    refused = refusal(cause)
    outcome, words = CAUSES[cause], ESTABLISHMENT_CAUSES[cause]
    assert refused.outcome == outcome
    assert refused.summary.startswith(f"psc_{outcome.replace('-', '_')}: ")
    assert words in refused.summary


# the route, as Okta's payload carries it -------------------------------------------------


def parsed(document: dict[str, Any]) -> payload.HookRequest:
    return payload.parse(json.dumps(document).encode(), "psc_establishment")


def refresh(**grants: str | None) -> dict[str, Any]:
    document = copy.deepcopy(samples.load("refresh"))
    protocol = document["data"]["context"]["protocol"]
    original = protocol.pop("originalGrant")
    for key, uri in grants.items():
        protocol[key] = copy.deepcopy(original)
        protocol[key]["authorization"]["redirect_uri"] = uri
    protocol["request"]["redirect_uri"] = psc_route("own")
    return document


def test_a_code_grant_is_routed_by_its_own_redirect_uri() -> None:
    document = samples.as_routed(copy.deepcopy(samples.load("fastpass")), psc_route(A))
    document["data"]["context"]["protocol"]["originalGrant"] = {
        "authorization": {"redirect_uri": psc_route(B)}  # only a refresh has one
    }
    assert parsed(document).redirect_uri == psc_route(A)


@pytest.mark.parametrize(
    ("grants", "route"),
    [
        ({"originalGrant": psc_route(A)}, psc_route(A)),
        ({"OriginalGrant": psc_route(B)}, psc_route(B)),
        ({"OriginalGrant": psc_route(B), "originalGrant": psc_route(A)}, psc_route(B)),
        ({"OriginalGrant": None, "originalGrant": psc_route(A)}, psc_route(A)),
        ({"originalGrant": None}, psc_route("own")),
        ({}, psc_route("own")),
    ],
)
def test_a_refresh_is_routed_by_its_original_grant(grants, route) -> None:
    assert parsed(refresh(**grants)).redirect_uri == route


@pytest.mark.parametrize(
    ("value", "claim"),
    [
        ("chu-a", text("chu-a")),
        (["chu-a", "x"], listed("chu-a", "x")),
        ([], listed()),
        (42, payload.UNUSABLE_CLAIM),
        ([None, 1], payload.UNUSABLE_CLAIM),
        (None, payload.UNUSABLE_CLAIM),
        (False, payload.UNUSABLE_CLAIM),
    ],
)
def test_the_tenant_claim_is_read_with_its_type(value, claim) -> None:
    """Any JSON value is a valid payload: the choice refuses it, Okta gets no 400."""
    document = copy.deepcopy(samples.load("password-okta-verify-push"))
    document["data"]["access"]["claims"]["psc_establishment"] = value
    request = parsed(document)
    assert (request.identity_tenant, request.access_tenant) == (None, claim)


def test_an_establishment_routed_by_its_alias_alone_is_a_table() -> None:
    table = tenants.parse({"tenants": [{"tid": "TID-CHU-NANCY", "kc_idp_hint": NANCY}]})
    assert table.by_hint[NANCY].tid == "TID-CHU-NANCY"
    assert tenants.unreachable(table, frozenset()) == []
    assert establishment.route(table, psc_route(NANCY), None) == table.tenants[0]


def test_every_cause_has_its_words_and_no_words_lack_a_cause() -> None:
    """The outcome of a cause is the establishment's logic, its words hook/refusals.py's."""
    assert set(ESTABLISHMENT_CAUSES) == set(CAUSES)
