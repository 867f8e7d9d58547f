"""The OAuth 2.0 scopes of the Management API calls the commands make: a service app asks
for the scopes of the calls its command makes, and no other (least privilege)."""

from __future__ import annotations

from urllib.parse import urlsplit

#: The OAuth 2.0 scope each Management API call needs, by method and resource (the
#: segment after /api/v1/): Okta's Management OpenAPI, each operation's ``security``
#: (tests/okta/management-schemas.json keeps those of idps, logs and policy rules).
SCOPES = {
    ("GET", "inlineHooks"): "okta.inlineHooks.read",
    ("POST", "inlineHooks"): "okta.inlineHooks.manage",  # create, and the test run (execute)
    ("PUT", "inlineHooks"): "okta.inlineHooks.manage",
    ("GET", "authorizationServers"): "okta.authorizationServers.read",
    ("PUT", "authorizationServers"): "okta.authorizationServers.manage",
    ("GET", "apps"): "okta.apps.read",
    ("GET", "idps"): "okta.idps.read",
    ("GET", "policies"): "okta.policies.read",
    ("GET", "logs"): "okta.logs.read",
}
#: What ``doctor`` (and ``evidence --org``) reads (hooks, authorization servers and their
#: claims, policies and rules, apps, smart-card IdPs, authentication policies and their
#: rules, the System Log) and its test run of the hook, which Okta puts under
#: okta.inlineHooks.manage though it changes nothing.
DOCTOR_SCOPES = (
    "okta.inlineHooks.read",
    "okta.inlineHooks.manage",
    "okta.authorizationServers.read",
    "okta.apps.read",
    "okta.idps.read",
    "okta.policies.read",
    "okta.logs.read",
)


def scope(method: str, path: str) -> str:
    """The OAuth scope of a call to ``path`` (``/api/v1/...``); ``KeyError`` for a call the
    table does not know, so that a new call cannot go out without its scope."""
    parts = urlsplit(path).path.split("/")
    return SCOPES[(method, parts[3] if len(parts) > 3 else "")]
