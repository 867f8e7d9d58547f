"""The ``user_ref`` of the canonical log line: a pseudonym of an Okta user id, keyed.

HMAC-SHA256 under ``HOOK_LOG_USER_KEY``, cut to 128 bits, in hex. The same user gets the
same reference for as long as the key lasts, so an auditor can follow one professional
over months with no name in the logs. Keyed because Okta user ids are not secret (every
Okta administrator sees them): a plain hash of one would be undone by hashing the org's
user list. The service and ``psc-hook user-ref`` both use :class:`UserRef`, so the
reference an investigator computes is the one the lines carry.
"""

from __future__ import annotations

import hmac

#: 128 bits of the digest, as hex: no collision among any org's users, half the width.
HEX_DIGITS = 32


class UserRef:
    """Keyed once, at start: a call copies the prepared HMAC (its key already hashed into
    it), about 1.5 µs, instead of keying a new one."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod="sha256")

    def __call__(self, user_id: str) -> str:
        """The reference of one Okta user id (``00u...``)."""
        mac = self._keyed.copy()
        mac.update(user_id.encode())
        return mac.hexdigest()[:HEX_DIGITS]
