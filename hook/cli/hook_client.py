"""Calling the hook as Okta would: a payload POSTed to a running service with the
configured auth (what ``psc-hook send`` plays), its answer read within the bounds of one
exchange (:func:`hook.cli.http_exchange.exchange`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from hook.cli.http_exchange import Reply, exchange
from hook.config import AUTH_MODES, ConfigError, auth_header, auth_modes, header_secrets


def okta_auth_headers(env: Mapping[str, str], bearer: str | None) -> dict[str, str]:
    """What Okta would send: the bearer in OAuth mode when one is given, else the first
    secret; with HOOK_AUTH_MODE unset, whichever of the two is at hand."""
    modes = auth_modes(env) or AUTH_MODES
    if bearer and "oauth" in modes:
        return {"Authorization": f"Bearer {bearer}"}
    if "header" in modes and ("oauth" not in modes or env.get("HOOK_SECRETS", "").strip()):
        return {auth_header(env): header_secrets(env)[0].decode()}
    if "header" in modes:
        raise ConfigError(
            "HOOK_SECRETS or HOOK_SEND_BEARER_TOKEN: send presents the first secret (header"
            " mode) or a bearer (oauth mode; or pass --bearer)"
        )
    raise ConfigError("HOOK_SEND_BEARER_TOKEN: required by send in oauth mode (or pass --bearer)")


def post(url: str, payload: bytes, auth: Mapping[str, str], timeout: float) -> Reply:
    """POST ``payload`` to the hook at ``url`` with ``auth`` and a fresh request id: any
    status is a :class:`Reply`; no whole answer in time, or one larger than any hook's,
    is an :class:`hook.cli.http_exchange.ExchangeError`."""
    headers = {**auth, "Content-Type": "application/json", "X-Request-Id": uuid.uuid4().hex}
    return exchange("POST", url, headers, payload, timeout)
