"""The issuer's signing keys: loaded at start, kept while the source fails, refreshed as they age.

Okta gives the hook 3 s, so no call waits long for a key: a set ``MAX_KEY_AGE_S`` old is
refreshed in the background (a withdrawn key stops being trusted), and an unknown ``kid`` (a
rotation) refetches at once within a budget a made-up ``kid`` cannot use up. One fetch at a
time, each within 1 s (hook/fetch.py).
"""

from __future__ import annotations

import json
import ssl
import threading
import time

import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from hook import metrics
from hook.auth import AuthFailure
from hook.fetch import FetchError, download

#: The key set's age past which a call starts a background refresh: how long a key Okta has
#: withdrawn may still be trusted. Okta withdraws a key long after it stopped signing with
#: it, unless the key was compromised; 5 minutes bounds that case, and costs Okta one fetch
#: per worker every 5 minutes of traffic.
MAX_KEY_AGE_S = 300.0
#: Unknown-kid refetches a worker may make at once, and the pace they come back at (one per
#: 30 s): a rotated key gets through even right after an attacker's made-up kid used one.
REFETCH_BURST = 3
REFETCH_INTERVAL_S = 30.0
#: Kids remembered as absent (unknown after a fetch, or withdrawn by one) for 30 s each.
MAX_ABSENT_KIDS = 256
FETCH_BUDGET_S = 1.0
PUBLIC_KEY_TYPES = (RSAPublicKey, EllipticCurvePublicKey, Ed25519PublicKey, Ed448PublicKey)

log = structlog.get_logger("psc_token_hook")


class JwksError(FetchError):
    """The key source answered, but not with a usable key set; the message says why."""


def parse_jwks(body: bytes, algorithms: tuple[str, ...]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS document, by ``kid``; parsed once per fetch.

    A key is usable when it has a ``kid``, is public, is meant for signatures, and its
    algorithm is allowed. A document with none is refused whole, so old keys stay.
    """
    try:
        document = json.loads(body)
    except ValueError:
        raise JwksError("not JSON") from None
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        raise JwksError("not a JWKS (no keys list)")
    keys: dict[str, jwt.PyJWK] = {}
    for member in members:
        if not isinstance(member, dict) or member.get("use", "sig") != "sig":
            continue
        kid = member.get("kid")
        try:
            key = jwt.PyJWK(member)
        except jwt.PyJWTError:
            continue
        if (
            isinstance(kid, str)
            and key.algorithm_name in algorithms
            and isinstance(key.key, PUBLIC_KEY_TYPES)
        ):
            keys[kid] = key
    if not keys:
        raise JwksError("no usable signing key")
    return keys


class RefetchBudget:
    """Unknown-kid refetches: ``REFETCH_BURST`` at once, one back every ``REFETCH_INTERVAL_S``."""

    def __init__(self) -> None:
        self._left = float(REFETCH_BURST)
        self._counted_at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        earned = (now - self._counted_at) / REFETCH_INTERVAL_S
        self._left, self._counted_at = min(float(REFETCH_BURST), self._left + earned), now
        if self._left < 1:
            return False
        self._left -= 1
        return True


class KeySet:
    """The signing keys of ``jwks_uri`` whose algorithm is allowed, by ``kid``."""

    def __init__(self, jwks_uri: str, algorithms: tuple[str, ...]) -> None:
        self.jwks_uri = jwks_uri
        self.algorithms = algorithms
        self._tls = ssl.create_default_context() if jwks_uri.startswith("https") else None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._problem = "no key set fetched yet"
        self._lock = threading.Lock()  # one fetch at a time
        self._starting = threading.Lock()  # one background refresh at a time; never fetches
        self._fetches = 0  # fetches ended: a call that waited for one uses its result
        self._fetched_at = time.monotonic()  # when the last fetch began, whatever its result
        self._budget = RefetchBudget()
        self._absent: dict[str, float] = {}  # kid -> when a fetch found it missing
        #: The latest background refresh (tests wait for it to end).
        self.refresher: threading.Thread | None = None
        self._fetch()  # the start-up fetch: not counted against the refetch budget

    def current(self, kid: str) -> jwt.PyJWK | None:
        """The key of ``kid`` now, without fetching: a remembered token checks it is the same."""
        return self._keys.get(kid)

    def key(self, kid: object) -> jwt.PyJWK:
        """The key of ``kid``, refetching the set for an unknown one when the budget allows."""
        if not isinstance(kid, str):
            raise AuthFailure("no-kid")
        key = self._keys.get(kid)
        if key is None:
            self._refetch(kid)
            key = self._keys.get(kid)
        if key is None:
            raise AuthFailure("unknown-kid")
        return key

    def problem(self) -> str | None:
        """None once some keys are loaded (fetching again when none are), else why not."""
        if not self._keys:
            self._refetch(None)
        return None if self._keys else self._problem

    def refresh_when_old(self) -> None:
        """Start a background fetch once the key set is ``MAX_KEY_AGE_S`` old; never wait."""
        if not self._old() or (self.refresher is not None and self.refresher.is_alive()):
            return
        with self._starting:
            if self.refresher is not None and self.refresher.is_alive():
                return
            due = (self._fetches, time.monotonic())  # read here: the thread needs no clock
            self.refresher = threading.Thread(target=self._refresh, args=due, name="jwks-refresh")
            self.refresher.daemon = True
            self.refresher.start()

    def _old(self) -> bool:
        return time.monotonic() - self._fetched_at >= MAX_KEY_AGE_S

    def _refresh(self, fetches: int, began: float) -> None:
        with self._lock:
            if self._fetches == fetches:  # unless a refetch for an unknown kid came first
                self._fetch(began)

    def _refetch(self, kid: str | None) -> None:
        """Fetch the key set again for an unknown ``kid`` (None: for readiness), if allowed.

        One fetch at a time: a call that waited while another fetched uses that fetch's
        result rather than fetching again. A kid a fetch found missing under 30 s ago
        fetches nothing; any other spends one of the budget's refetches. Calls whose key is
        known never take the lock.
        """
        seen = self._fetches
        with self._lock:
            if self._fetches != seen:
                return
            missing_since = self._absent.get(kid) if kid is not None else None
            now = time.monotonic()
            if missing_since is not None and now - missing_since < REFETCH_INTERVAL_S:
                return
            if not self._budget.take():
                return
            self._fetch()
            if kid is not None and kid not in self._keys:
                self._mark_absent([kid], time.monotonic())

    def _mark_absent(self, kids: list[str], when: float) -> None:
        for kid in kids:
            self._absent.pop(kid, None)
            self._absent[kid] = when
        while len(self._absent) > MAX_ABSENT_KIDS:
            del self._absent[next(iter(self._absent))]  # the oldest

    def _fetch(self, began: float | None = None) -> None:
        """Fetch and replace the key set (the caller holds the lock, or is the constructor)."""
        self._fetched_at = time.monotonic() if began is None else began
        try:
            keys = parse_jwks(download(self.jwks_uri, FETCH_BUDGET_S, self._tls), self.algorithms)
        except FetchError as error:
            self._problem = str(error)
            log.warning("jwks-fetch-failed", reason=self._problem, kept_keys=len(self._keys))
            metrics.key_fetched("failed")
        else:
            self._mark_absent([kid for kid in self._keys if kid not in keys], self._fetched_at)
            self._keys = keys
            log.info("jwks-loaded", kids=sorted(keys))
            metrics.key_fetched("loaded")
        finally:
            self._fetches += 1
