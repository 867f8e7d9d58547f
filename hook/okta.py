"""The token hook's contract with Okta: its event, path and name, its commands, reserved claims.

Each written once: the service, the commands and Okta's model (hook/cli/okta_applier.py) read
them here, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: What Okta sends in ``eventType`` and registers the hook as (``type``).
EVENT_TYPE = "com.okta.oauth2.tokens.transform"
#: Where the service answers Okta's call.
HOOK_PATH = "/token-hook"
#: The name ``psc-hook register`` gives the hook in Okta's Admin Console.
HOOK_NAME = "Pro Santé Connect claims (psc-token-hook)"
#: Okta's user ids: ``00u`` and 17 letters or digits (``oid`` is one, never a login).
OKTA_USER_ID = re.compile(r"00u[0-9A-Za-z]{17}")
TOKEN_KINDS = ("identity", "access")
#: The grant type of a refresh (``data.context.protocol.request.grant_type``).
REFRESH_GRANT = "refresh_token"
#: Where a refresh's original grant is: Okta's spec spells it OriginalGrant, its code
#: originalGrant (okta-token-hook.md, "Observed quirks"); both are read.
ORIGINAL_GRANT = ("OriginalGrant", "originalGrant")
COMMAND_TYPES = {"identity": "com.okta.identity.patch", "access": "com.okta.access.patch"}
TOKEN_NAMES = {"identity": "ID", "access": "access"}
RESERVED_CLAIMS_SOURCE = (
    "https://developer.okta.com/docs/reference/token-hook/ (reserved claims, Jan 2024)"
)

_BOTH = {
    "acr",
    "auth_time",
    "cid",
    "cnf",
    "exp",
    "groups",
    "iat",
    "iss",
    "jti",
    "sid",
    "token_type",
    "ver",
}

#: Claims a hook must never add or modify, per token (Okta's token hook reference).
RESERVED_CLAIMS: Mapping[str, frozenset[str]] = {
    "identity": frozenset(
        _BOTH
        | {
            "active",
            "aid",
            "amr",
            "app_id",
            "app_type",
            "at_hash",
            "aud",
            "c_hash",
            "client_id",
            "client_ip",
            "client_req_id",
            "client_type",
            "client_user_agent",
            "device_compliance",
            "device_id",
            "device_known",
            "device_managed",
            "device_name",
            "device_trust",
            "did",
            "dst",
            "group",
            "hotk",
            "idp",
            "idp_iss",
            "mac_key",
            "may_act",
            "nonce",
            "oid",
            "okta_emailVerified",
            "okta_lastUpdated",
            "orig",
            "permissions",
            "purpose",
            "pwd_exp_days",
            "pwd_exp_time",
            "rid",
            "role",
            "scope",
            "scopes",
            "sub",
            "term",
            "user_ip",
        }
    ),
    "access": frozenset(
        _BOTH
        | {
            "as_uri",
            "authorization_details",
            "rpt",
            "rsi",
            "scp",
            "uid",
            "username",
        }
    ),
}

#: Documented as reserved, yet reported to work: the PSC reference integration
#: (Lyvoc/okta-prosanteconnect) adds ``oid`` to the ID token from a hook in PSC's sandbox.
ACCEPTED_IN_PRACTICE: Mapping[tuple[str, str], str] = {
    # The PSC reference integration reports that Okta accepts it from a hook.
    ("identity", "oid"): "yet the PSC reference uses it",
}


def reserved_reason(kind: str, claim: str) -> str | None:
    """Why placing ``claim`` in this token is risky, in a line (the table's source is
    RESERVED_CLAIMS_SOURCE), or None when it is not reserved."""
    if claim not in RESERVED_CLAIMS[kind]:
        return None
    if accepted := ACCEPTED_IN_PRACTICE.get((kind, claim)):
        return f"reserved in Okta's docs, {accepted}; try Preview"
    return "reserved in Okta's docs; Okta may void the patch, PSC claims and all"


def claim_path(name: str) -> str:
    """The JSON pointer of a top-level claim (RFC 6901 escaping)."""
    return "/claims/" + name.replace("~", "~0").replace("/", "~1")
