"""The OAuth 2.0 scopes of the Management API calls the commands make: a service app asks
for the scopes of the calls its command makes, and no other (least privilege)."""

from __future__ import annotations

from urllib.parse import urlsplit

READ_HOOKS = "okta.inlineHooks.read"
#: Also what Okta's test run of a hook (``POST /api/v1/inlineHooks/{id}/execute``) needs.
MANAGE_HOOKS = "okta.inlineHooks.manage"
READ_SERVERS = "okta.authorizationServers.read"
MANAGE_SERVERS = "okta.authorizationServers.manage"
READ_APPS = "okta.apps.read"
READ_IDPS = "okta.idps.read"
READ_POLICIES = "okta.policies.read"
READ_LOGS = "okta.logs.read"

#: The OAuth 2.0 scope each Management API call needs, by method and resource (the
#: segment after /api/v1/): Okta's Management OpenAPI, each operation's ``security``
#: (tests/okta/management-schemas.json keeps those of idps, logs and policy rules).
SCOPES = {
    ("GET", "inlineHooks"): READ_HOOKS,
    ("POST", "inlineHooks"): MANAGE_HOOKS,  # create, and the test run (execute)
    ("PUT", "inlineHooks"): MANAGE_HOOKS,
    ("GET", "authorizationServers"): READ_SERVERS,
    ("PUT", "authorizationServers"): MANAGE_SERVERS,
    ("GET", "apps"): READ_APPS,
    ("GET", "idps"): READ_IDPS,
    ("GET", "policies"): READ_POLICIES,
    ("GET", "logs"): READ_LOGS,
}
#: What ``doctor`` (and ``evidence --org``) reads: hooks, authorization servers and their
#: claims, policies and rules, apps, smart-card IdPs, authentication policies and their
#: rules, the System Log.
DOCTOR_READS = (READ_HOOKS, READ_SERVERS, READ_APPS, READ_IDPS, READ_POLICIES, READ_LOGS)
#: Okta's test run of the hook, which Okta puts under okta.inlineHooks.manage though it
#: changes nothing: asked too, but the doctor does without it (okta-management.md,
#: "Least-privilege access").
TEST_RUN_SCOPES = (MANAGE_HOOKS,)
DOCTOR_SCOPES = DOCTOR_READS + TEST_RUN_SCOPES


def scope(method: str, path: str) -> str:
    """The OAuth scope of a call to ``path`` (``/api/v1/...``); ``KeyError`` for a call the
    table does not know, so that a new call cannot go out without its scope."""
    parts = urlsplit(path).path.split("/")
    return SCOPES[(method, parts[3] if len(parts) > 3 else "")]
