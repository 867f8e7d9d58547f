"""Would Pro Santé Connect accept this token? Pure checks over a token's claims.

``psc-hook check-token`` runs them on the tokens of a real sign-in (or Okta's Token
Preview), ``psc-hook doctor`` on the tokens of its test run. No check repeats the token or
says who the user is (never ``sub``, ``oid``, a name or an email): details name the ``tid``
and ``kc_idp_hint`` values (found and configured: tenant constants, which an operator needs
to see to fix a mismatch), the ``amr`` labels and the assurance. What PSC reads in which
token, and its amr sets, are ``hook/psc.py``'s: a claim the plan leaves out where PSC reads
it is a warning here, as in ``check-config`` and ``preview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from hook import psc
from hook.config import AUTH_AGE_LEEWAY_SECONDS, Settings, okta_keys_uri
from hook.oauth import ALGORITHMS as OAUTH_DEFAULT_ALGORITHMS
from hook.oauth import failure_reason
from hook.okta import OKTA_USER_ID, TOKEN_NAMES
from hook.refusals import span

NOT_OKTA_EXP = "Okta always sets exp to a time: this is not a token Okta issued"
NOT_PATCHED = (
    "Okta issued the token without the hook's claims: run psc-hook doctor, then read the"
    " System Log event inline_hook.response.processed of this sign-in"
)


class NotAJwt(ValueError):
    """The input is not a signed JWT; the message says why, never what it was."""


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, whether it holds, what was found, what to do. A
    warning holds (PSC is not known to refuse the token for it) yet needs a look."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warning: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The keys an issuer publishes, and that issuer: what verifies a token's signature.
Keys = tuple[Mapping[str, jwt.PyJWK], str]


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JOSE header and the claims, unverified; :class:`NotAJwt` when it is not a JWT."""
    if token.count(".") != 2:
        raise NotAJwt("not a JWT: a signed JWT has three parts separated by dots")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise NotAJwt("not a JWT: its header or claims are not base64url-encoded JSON") from None
    return header, claims


def token_kind(claims: Mapping[str, Any]) -> str:
    """``access`` or ``identity``: Okta's access tokens name their client in ``cid``."""
    return "access" if "cid" in claims or "scp" in claims else "identity"


def _absent(name: str, kind: str, settings: Settings) -> Check:
    """A claim the token lacks: the hook's failure where the plan places it; where it does
    not, a warning when PSC reads it there (hook/psc.py), else nothing amiss."""
    if name in settings.claims[kind]:
        return Check(name, False, "missing", NOT_PATCHED)
    if name in psc.NEEDED[kind]:
        setting = psc.PLACEMENT_SETTINGS[kind]
        return Check(
            name,
            True,
            f"missing: {psc.gap(kind, settings.claims[kind])}",
            f"add {name} to {setting} on the service (psc-hook check-config warns of it too)",
            warning=True,
        )
    return Check(name, True, f"not placed in the {TOKEN_NAMES[kind]} token, nor read there")


def _tid(claims: Mapping[str, Any], kind: str, settings: Settings) -> Check:
    value = claims.get("tid")
    if value is None:
        return _absent("tid", kind, settings)
    if settings.tenants is not None:
        if value in settings.tenants.tids():
            return Check("tid", True, f"{value!r}, an establishment of PSC_TENANTS")
        return Check(
            "tid",
            False,
            f"{value!r}, not a tid of PSC_TENANTS ({', '.join(settings.tenants.tids())})",
            "the service that answered Okta runs another PSC_TENANTS table: PSC accepts only"
            " the tids ANS registered; align the table on the service and redeploy",
        )
    if value != settings.tenant_id:
        return Check(
            "tid",
            False,
            f"{value!r}, but PSC_TENANT_ID is {settings.tenant_id!r}",
            "the service that answered Okta runs another PSC_TENANT_ID: PSC accepts only the"
            " tid ANS registered; set it on the service and redeploy",
        )
    return Check("tid", True, f"{value!r}, as PSC_TENANT_ID")


def _oid(claims: Mapping[str, Any], kind: str, settings: Settings) -> Check:
    user_claim = "uid" if kind == "access" else "sub"
    user, value = claims.get(user_claim), claims.get("oid")
    if user is None:
        return Check(
            "oid",
            False,
            f"the token has no user ({user_claim}): PSC accepts only a user's sign-in",
            "check a token from a sign-in of a user, not a client credentials token",
        )
    if value is None:
        return _absent("oid", kind, settings)
    if not isinstance(value, str) or not OKTA_USER_ID.fullmatch(value):
        return Check(
            "oid",
            False,
            "not an Okta user id (00u followed by 17 letters or digits)",
            "oid must be the user's immutable Okta id, never a login or an email: only"
            " psc-token-hook should write it",
        )
    if value != user:
        return Check(
            "oid",
            False,
            f"an Okta user id, but not the token's {user_claim}",
            "the hook must read the user from the token's own claims: upgrade psc-token-hook"
            " on the service, and check no other claim rule writes oid",
        )
    return Check("oid", True, f"an Okta user id, equal to {user_claim}")


def _labels(labels: Any) -> str:
    if labels is None:
        return "missing"
    if not isinstance(labels, list):
        return f"not a list ({type(labels).__name__})"
    return " ".join(map(str, labels)) or "empty"


def _label_set(labels: Any) -> frozenset[str] | None:
    """The labels of an amr claim, order aside; None when it is not a list of strings."""
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return None
    return frozenset(labels)


def _assurance(labels: Any) -> str | None:
    """The assurance of the PSC set ``labels`` is exactly, or None (not a set of PSC's)."""
    present = _label_set(labels)
    return None if present is None else psc.published_assurance(present)


def _okta_amr(labels: Any) -> Check:
    """The ID token's amr, which Okta reserves: Okta's own labels, judged against PSC's sets.
    Whether PSC reads it there is not published, so falling short is a warning."""
    shown = _labels(labels)
    if (assurance := _assurance(labels)) is not None:
        return Check("amr", True, f"{shown}: PSC's {assurance} set, as Okta emits it")
    return Check(
        "amr",
        True,
        f"{shown}: none of PSC's sets; Okta's own labels, which the hook cannot patch",
        psc.OKTA_AMR_ADVICE,
        warning=True,
    )


def _amr(claims: Mapping[str, Any], kind: str, settings: Settings) -> Check:
    labels = claims.get("amr")
    if kind == "identity" and "amr" not in settings.claims[kind]:
        return _okta_amr(labels)
    if labels is None:
        return _absent("amr", kind, settings)
    shown, present = _labels(labels), _label_set(labels)
    rule = next((r for r in settings.amr_table.rules if frozenset(r.amr) == present), None)
    if (assurance := _assurance(labels)) is not None:
        by = f" ({rule.name})" if rule is not None else ""
        return Check("amr", True, f"{shown}: PSC's {assurance} set{by}")
    if rule is not None:
        return Check(
            "amr",
            True,
            f"{shown}: the {rule.assurance} set of the amr rule {rule.name!r}, which no PSC"
            " source publishes",
            "ask ANS whether PSC accepts it (its list of amr values is not public in full)",
            warning=True,
        )
    return Check(
        "amr",
        False,
        f"{shown}: none of PSC's sets ({psc.PUBLISHED_SETS_TEXT})",
        "sign in with one of those methods (password and Okta Verify, or a CPS card); if the"
        " sign-in used them, compare Okta's labels with the amr rules (psc-hook check-config)",
    )


def _expected_hint(claims: Mapping[str, Any], settings: Settings) -> tuple[str | None, str]:
    """The kc_idp_hint the token should carry, and the setting that says so."""
    if settings.tenants is None:
        return settings.kc_idp_hint, "PSC_KC_IDP_HINT"
    tenant = next((t for t in settings.tenants.tenants if t.tid == claims.get("tid")), None)
    return (tenant.kc_idp_hint if tenant else None), "its tenant's kc_idp_hint in PSC_TENANTS"


def _hint(claims: Mapping[str, Any], settings: Settings) -> Check:
    value = claims.get("kc_idp_hint")
    expected, source = _expected_hint(claims, settings)
    if value != expected:
        found = "missing" if value is None else f"{value!r}"
        return Check(
            "kc_idp_hint",
            False,
            f"{found}, but {source} is {expected!r}",
            f"align {source} on the service with this one and with what ANS registered",
        )
    return Check("kc_idp_hint", True, f"{value!r}, as {source}")


def _hinted(claims: Mapping[str, Any], settings: Settings) -> bool:
    if "kc_idp_hint" not in settings.claims[token_kind(claims)]:
        return False
    return bool(settings.kc_idp_hint) or (
        settings.tenants is not None and _expected_hint(claims, settings)[0] is not None
    )


def auth_age(claims: Mapping[str, Any], settings: Settings, now: datetime) -> Check:
    """When the user authenticated (``auth_time``), against PSC_MAX_AUTH_AGE when set."""
    when = _instant(claims.get("auth_time"))
    limit = settings.max_auth_age
    if when is None:
        found = "missing" if claims.get("auth_time") is None else "not a time"
        if limit is None:
            return Check("auth_time", True, f"{found} (PSC_MAX_AUTH_AGE is not set)")
        return Check(
            "auth_time",
            False,
            f"{found}: the hook refuses a sign-in of unknown age (PSC_MAX_AUTH_AGE)",
            "request the openid scope, on refresh too, so that Okta sends the ID token",
        )
    age = (now - when).total_seconds()
    detail = f"{when:%Y-%m-%d %H:%M:%S} UTC, {span(age)} ago"
    if limit is not None and age > limit + AUTH_AGE_LEEWAY_SECONDS:
        return Check(
            "auth_time",
            False,
            f"{detail}: older than PSC_MAX_AUTH_AGE ({span(limit)})",
            "sign in again; PSC requires a fresh authentication at least every 4 hours",
        )
    return Check("auth_time", True, detail)


def assess(claims: Mapping[str, Any], settings: Settings) -> list[Check]:
    """PSC's checks on a token's claims: tid, oid, amr, and kc_idp_hint when configured."""
    kind = token_kind(claims)
    checks = [
        _tid(claims, kind, settings),
        _oid(claims, kind, settings),
        _amr(claims, kind, settings),
    ]
    if _hinted(claims, settings):
        checks.append(_hint(claims, settings))
    return checks


def _instant(value: Any) -> datetime | None:
    """A NumericDate claim as a time, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def lifetime(claims: Mapping[str, Any], now: datetime) -> Check:
    """Whether the token is still valid at ``now`` (PSC refuses an expired token)."""
    expiry = claims.get("exp")
    when = _instant(expiry)
    if when is None:
        found = "missing" if expiry is None else "not a time"
        return Check("exp", False, found, NOT_OKTA_EXP)
    if when <= now:
        return Check(
            "exp",
            False,
            f"expired at {when:%Y-%m-%d %H:%M:%S} UTC",
            "sign in again (or generate a new token in Okta's Token Preview), then check it",
        )
    return Check("exp", True, f"valid until {when:%Y-%m-%d %H:%M:%S} UTC")


def signature(
    token: str, header: Mapping[str, Any], keys: Mapping[str, jwt.PyJWK], issuer: str
) -> Check:
    """Whether the issuer's keys verify the token and ``iss`` names that issuer."""
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in OAUTH_DEFAULT_ALGORITHMS:
        return Check(
            "signature",
            False,
            f"alg {algorithm!r} is not {', '.join(OAUTH_DEFAULT_ALGORITHMS)}",
            "Okta signs its tokens with RS256: this token was not minted by Okta",
        )
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        return Check(
            "signature",
            False,
            f"signed with a key ({kid!r}) that {okta_keys_uri(issuer)} does not publish",
            "check --issuer is the authorization server that minted the token",
        )
    try:
        jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer.rstrip("/"),
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        return Check(
            "signature",
            False,
            f"refused ({failure_reason(error)})",
            "the token was altered, or --issuer is not the server that minted it",
        )
    return Check("signature", True, f"verified with {okta_keys_uri(issuer)} (key {kid})")


def unverified() -> Check:
    """What is said of the signature when no issuer was given."""
    return Check("signature", True, "not verified: pass --issuer to check it with the org's keys")


def judge(
    token: str, settings: Settings, now: datetime, keys: Keys | None = None
) -> dict[str, Any]:
    """Every check of one token, as data: its kind, its issuer, whether PSC would accept it.
    With ``keys`` (the org's, and the issuer they are for), its signature is verified."""
    try:
        header, claims = decode(token)
    except NotAJwt as error:
        failed = Check(
            "token", False, str(error), "give the whole id_token or access_token (eyJ...)"
        )
        return {"kind": None, "issuer": None, "accepted": False, "checks": [failed.as_dict()]}
    first = unverified() if keys is None else signature(token, header, keys[0], keys[1])
    checks = [
        first,
        lifetime(claims, now),
        auth_age(claims, settings, now),
        *assess(claims, settings),
    ]
    return {
        "kind": token_kind(claims),
        "issuer": claims.get("iss"),
        "accepted": all(check.ok for check in checks),
        "checks": [check.as_dict() for check in checks],
    }
