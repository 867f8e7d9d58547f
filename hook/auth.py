"""Prove the call comes from Okta: a shared secret header, an OAuth 2.0 bearer, or either.

Every check compares in constant time. A failure names its reason for the log line
only; the caller gets the same 401 whatever failed.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Protocol


class AuthFailure(Exception):
    """The call is not authenticated; ``reason`` is for the log, never for the answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Authenticator(Protocol):
    mode: str

    def authenticate(self, headers: Mapping[str, str]) -> None:
        """Return when the call is authentic, raise :class:`AuthFailure` otherwise."""

    def ready(self) -> str | None:
        """None when able to authenticate, else why not (for ``/readyz``)."""


class HeaderAuthenticator:
    """Okta's HTTP channel: the configured value, as typed by the admin, in one header."""

    mode = "header"

    def __init__(self, header: str, secrets: Sequence[bytes]) -> None:
        self.header = header
        self.secrets = tuple(secrets)

    def authenticate(self, headers: Mapping[str, str]) -> None:
        value = headers.get(self.header)
        if not value:
            raise AuthFailure("header-missing")
        presented = value.encode("latin-1", "replace")
        matched = False
        for secret in self.secrets:  # no early exit: every secret is compared
            matched |= hmac.compare_digest(presented, secret)
        if not matched:
            raise AuthFailure("header-mismatch")

    def ready(self) -> str | None:
        return None


class AnyOf:
    """Several channels at once (a migration from header to OAuth): the first that accepts."""

    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self.authenticators = tuple(authenticators)
        self.mode = ",".join(auth.mode for auth in self.authenticators)

    def authenticate(self, headers: Mapping[str, str]) -> str:
        """The mode that accepted the call."""
        reasons = []
        for authenticator in self.authenticators:
            try:
                authenticator.authenticate(headers)
            except AuthFailure as failure:
                reasons.append(f"{authenticator.mode}:{failure.reason}")
            else:
                return authenticator.mode
        raise AuthFailure(" ".join(reasons))

    def ready(self) -> str | None:
        problems = [problem for auth in self.authenticators if (problem := auth.ready())]
        return "; ".join(problems) or None
