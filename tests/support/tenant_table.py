"""A hospital group's table of establishments (``PSC_TENANTS``) and PSC's route to each, for
the tenant and establishment tests."""

from __future__ import annotations

from hook.psc_environments import SANDBOX, Environment, broker_endpoint

CLINIC_CLIENT = "0oa1clinicC0Example7"
NANCY_CLIENT = "0oa1nancyC0Example77"
#: A hospital group: two establishments matched on the claim, a clinic with its own PSC app,
#: and one that ANS registered as TID-CHU-NANCY, which declares no claim value.
TABLE = {
    "tenants": [
        {"tid": "OKTA_chu-a", "kc_idp_hint": "OKTA_chu-a", "match": ["chu-a"]},
        {"tid": "OKTA_chu-b", "kc_idp_hint": "OKTA_chu-b", "match": ["GRP_CHU_B"]},
        {"tid": "123456", "client_ids": [CLINIC_CLIENT]},
        {"tid": "TID-CHU-NANCY", "kc_idp_hint": "OKTA_chu-nancy", "client_ids": [NANCY_CLIENT]},
    ]
}


def psc_route(alias: str, environment: Environment = SANDBOX) -> str:
    """PSC's broker redirect URI for ``alias``: the route PSC sends its sign-ins by."""
    return broker_endpoint(environment.issuer, alias)
