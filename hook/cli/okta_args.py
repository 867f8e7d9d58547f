"""What an operator types to name things in Okta, checked before anything is sent.

An org is an origin: every API path is added to it, so a path left on it (the Admin
Console's ``/admin/...``) ends up in every call. Okta's ids begin with the prefix of their
kind, as Okta's examples and API reference show them (``aus`` an authorization server,
``00p`` a policy, ``0pr`` a policy rule, ``cal`` an inline hook). The hook's address is the
service's ``https://.../token-hook``, which Okta must reach from the internet. A
placeholder copied from the docs (``aus...``), two ids swapped, or a URL that is not the
hook's is one line naming the option and exit 2, never a round trip to Okta.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from hook.config import ConfigError, https_url, is_loopback
from hook.okta import HOOK_PATH

#: Okta's id prefixes, by the kind of object they name.
ID_KINDS = {
    "aus": "an authorization server id",
    "00p": "a policy id",
    "0pr": "a policy rule id",
    "cal": "an inline hook id",
}
#: Okta's default custom authorization server is named, not numbered (``/oauth2/default``).
DEFAULT_SERVER = "default"
#: After the prefix: letters and digits only (Okta's are 17 long; no length is published).
ID_TAIL = re.compile(r"[A-Za-z0-9]{4,60}")
#: The Admin Console's host; the API is on the org's own (Okta's docs: "without -admin").
ADMIN_HOST = re.compile(r"(?P<org>[^.]+)-admin\.(?P<domain>okta(?:preview|-emea|-gov)?\.com)")
#: Okta accepts a hook URI of at most this many characters (its API's validation).
MAX_HOOK_URI = 1024


def _split(option: str, value: str) -> SplitResult:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigError(f"{option}: {value!r} has a port that is not a number") from None
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{option}: {parts.hostname!r} is given with a user and password")
    return parts


def org_url(option: str, value: str) -> str:
    """The org's origin, ``https://<org>.okta.com``, from what was typed (a trailing ``/``
    allowed); anything more is refused rather than glued into every API URL."""
    value = value.strip()
    parts = _split(option, https_url(option, value))
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{option}: {value!r} is not an org's address: give its origin alone, {origin}"
            " (every API path is added to it)"
        )
    if admin := ADMIN_HOST.fullmatch(parts.hostname or ""):
        raise ConfigError(
            f"{option}: {parts.hostname} is the Admin Console's address; the API is on"
            f" https://{admin['org']}.{admin['domain']}"
        )
    return origin


def okta_id(option: str, value: str, prefix: str) -> str:
    """``value`` when it is an Okta id of the kind ``prefix`` names (an authorization server
    may also be Okta's ``default``); otherwise what it looks like instead."""
    value = value.strip()
    if value.startswith(prefix) and ID_TAIL.fullmatch(value[len(prefix) :]):
        return value
    if prefix == "aus" and value == DEFAULT_SERVER:
        return value
    wanted = f"{option} takes {ID_KINDS[prefix]}, which starts with {prefix}"
    if any(mark in value for mark in (".", "…", "<", ">", "{", "}")):
        raise ConfigError(f"{option}: {value!r} is a placeholder; {wanted} (docs/okta-setup.md)")
    for other, kind in ID_KINDS.items():
        if other != prefix and value.startswith(other) and ID_TAIL.fullmatch(value[3:]):
            raise ConfigError(f"{option}: {value!r} is {kind} ({other}...); {wanted}")
    raise ConfigError(f"{option}: {value!r} is not an Okta id; {wanted} then letters and digits")


def hook_url(option: str, value: str) -> str:
    """The hook's address as Okta must call it: https:// on a host Okta can reach from the
    internet, the service's ``/token-hook``, at most 1024 characters (Okta's bound)."""
    parts = _split(option, value)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"{option}: {value!r}: Okta calls inline hooks over https:// only")
    if is_loopback(parts.hostname):
        raise ConfigError(
            f"{option}: {parts.hostname} is this machine; Okta calls the hook from the internet"
        )
    if not parts.path.endswith(HOOK_PATH) or parts.query or parts.fragment:
        raise ConfigError(
            f"{option}: {value!r} is not the hook's address: the service answers Okta at"
            f" {HOOK_PATH} (https://<your service>{HOOK_PATH})"
        )
    if len(value) > MAX_HOOK_URI:
        raise ConfigError(
            f"{option}: the hook URL is {len(value)} characters; Okta accepts {MAX_HOOK_URI}"
        )
    return value
