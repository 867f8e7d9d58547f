"""Would Pro Santé Connect accept this token? Pure checks over a token's claims.

``psc-hook check-token`` decodes a token from a real sign-in (or Okta's Token Preview),
may verify its signature with the org's published keys, then runs these checks; ``psc-hook
doctor`` runs the same checks on the tokens of its test run. No check repeats the token
or says who the user is (never ``sub``, ``oid``, a name or an email): details name the
``tid`` and ``kc_idp_hint`` values (found and configured: tenant constants, which an
operator needs to see to fix a mismatch), the ``amr`` labels and the assurance. The
command, at the end, reads the token and prints the verdicts.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import jwt

from hook.amr import AmrRule, normalise
from hook.claims import span
from hook.cli.environment import environment
from hook.cli.options import json_option
from hook.cli.output import BAD_INPUT, STDIN, epilog, print_json
from hook.config import (
    AUTH_AGE_LEEWAY_SECONDS,
    ConfigError,
    Settings,
    https_url,
    load_settings,
    okta_keys_uri,
)
from hook.fetch import FetchError as JwksError
from hook.fetch import download
from hook.keyset import parse_jwks
from hook.oauth import ALGORITHMS as OAUTH_DEFAULT_ALGORITHMS
from hook.oauth import failure_reason
from hook.okta import OKTA_USER_ID, TOKEN_NAMES

KEYS_BUDGET_S = 5.0
NOT_OKTA_EXP = "Okta always sets exp to a time: this is not a token Okta issued"
NOT_PATCHED = (
    "Okta issued the token without the hook's claims: run psc-hook doctor, then read the"
    " System Log event inline_hook.response.processed of this sign-in"
)


class NotAJwt(ValueError):
    """The input is not a signed JWT; the message says why, never what it was."""


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, whether it holds, what was found, what to do."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def psc_set(labels: Any, settings: Settings) -> AmrRule | None:
    """The rule of the amr table whose set ``labels`` is exactly (order aside), if any."""
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return None
    present = set(normalise(labels, settings.amr_table.aliases))
    return next((rule for rule in settings.amr_table.rules if set(rule.amr) == present), None)


def _tid(claims: Mapping[str, Any], settings: Settings) -> Check:
    value = claims.get("tid")
    if value is None:
        return Check("tid", False, "missing", NOT_PATCHED)
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


def _oid(claims: Mapping[str, Any], kind: str) -> Check:
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
        return Check("oid", False, "missing", NOT_PATCHED)
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


def _amr(claims: Mapping[str, Any], kind: str, settings: Settings) -> Check:
    labels = claims.get("amr")
    placed = "amr" in settings.claims[kind]
    rule = psc_set(labels, settings)
    if rule is not None:
        return Check("amr", True, f"{' '.join(labels)}: PSC's {rule.assurance} set ({rule.name})")
    shown = "missing" if labels is None else f"not a list ({type(labels).__name__})"
    if isinstance(labels, list):
        shown = " ".join(map(str, labels))
    if not placed:
        return Check(
            "amr", True, f"{shown}: Okta's own labels, not required here (amr is not placed in it)"
        )
    if labels is None:
        return Check("amr", False, "missing", NOT_PATCHED)
    rules = settings.amr_table.rules
    sets = "; ".join(f"{' '.join(known.amr)} ({known.assurance})" for known in rules)
    return Check(
        "amr",
        False,
        f"{shown}: none of PSC's sets ({sets})",
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
    checks = [_tid(claims, settings), _oid(claims, kind), _amr(claims, kind, settings)]
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


def org_keys(issuer: str) -> dict[str, jwt.PyJWK]:
    """The signing keys the issuer publishes (``hook.fetch.FetchError`` when it cannot say)."""
    uri = okta_keys_uri(issuer)
    tls = ssl.create_default_context() if uri.startswith("https") else None
    return parse_jwks(download(uri, KEYS_BUDGET_S, tls), OAUTH_DEFAULT_ALGORITHMS)


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


# the command ------------------------------------------------------------------------------


def _token_input(source: str) -> str:
    """The token from ``-`` (stdin), a file, or the argument itself."""
    if source == STDIN:
        token = sys.stdin.read().strip()
        if not token:
            raise ConfigError("TOKEN -: no token was read from standard input (it was empty)")
        return token
    path = Path(source)
    try:
        is_file = path.is_file()
    except OSError:  # a token is longer than a file name may be
        is_file = False
    if not is_file:
        return source.strip()
    try:
        return path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"TOKEN: cannot read the file {source!r}") from None


def _token_text(result: dict[str, Any]) -> str:
    kind = result["kind"]
    issuer = result["issuer"] or "an issuer it does not name (no iss)"
    lines = [f"{TOKEN_NAMES[kind]} token from {issuer}:" if kind else "The input:"]
    for check in result["checks"]:
        verdict = "ok  " if check["ok"] else "FAIL"
        lines.append(f"  {verdict}  {check['name']:<12} {check['detail']}")
        if check["fix"] and not check["ok"]:
            lines.append(f"        what to do: {check['fix']}")
    verdict = "would accept" if result["accepted"] else "would refuse"
    lines += ["", f"PSC {verdict} this token."]
    return "\n".join(lines)


def _checks(token: str, issuer: str | None, settings: Settings) -> dict[str, Any]:
    """Every check of a token, as data; raises JwksError when the org's keys are unavailable."""
    try:
        header, claims = decode(token)
    except NotAJwt as error:
        failed = Check(
            "token", False, str(error), "give the whole id_token or access_token (eyJ...)"
        )
        return {"kind": None, "issuer": None, "accepted": False, "checks": [failed.as_dict()]}
    first = signature(token, header, org_keys(issuer), issuer) if issuer else unverified()
    now = datetime.now(UTC)
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


@click.command(
    "check-token",
    epilog=epilog(
        (
            "psc-hook check-token token.txt --issuer https://chu-exemple.okta.com/oauth2/aus1psc",
            "pbpaste | psc-hook check-token - --json",
        ),
        {
            0: "PSC would accept the token",
            1: "PSC would refuse it (each failed check says what to do)",
            2: BAD_INPUT,
            3: "the org's signing keys cannot be fetched (--issuer)",
        },
    ),
)
@click.argument("token", metavar="TOKEN", help="the token, a file holding it, or - (stdin)")
@click.option(
    "--issuer", help="verify the signature with <issuer>/v1/keys (the PSC server's issuer)"
)
@json_option
def command(token: str, issuer: str | None, as_json: bool) -> int:
    """Say whether PSC would accept an ID or access token from a real sign-in (the token is
    never printed)."""
    settings = load_settings(environment())
    issuer = https_url("--issuer", issuer.strip().rstrip("/")) if issuer else None
    token = _token_input(token)
    try:
        result = _checks(token, issuer, settings)
    except JwksError as error:
        print(
            f"psc-hook check-token: no signing keys from {okta_keys_uri(issuer or '')}: {error}",
            file=sys.stderr,
        )
        return 3
    if as_json:
        print_json(result)
    else:
        print(_token_text(result))
    return 0 if result["accepted"] else 1
