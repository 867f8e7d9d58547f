"""The service's settings: read from the environment once, validated once, then immutable.

Nothing else in the package reads ``os.environ`` (:func:`process_environment`). A bad
setting raises :class:`ConfigError`, whose message is the one line an operator sees; only
the commands and gunicorn's hooks turn it into exit code 2. The files the settings name (the
establishments, the amr rules) are read here; how each kind of value is written is
hook/settings_values.py's.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import os
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from hook import amr as amr_rules
from hook import jsonio, payload, psc
from hook import tenants as tenant_table
from hook.okta import TOKEN_KINDS, TOKEN_NAMES, reserved_reason
from hook.settings_values import ConfigError, choice, duration, identifier, listed, whole_number

#: The name the service's own messages start with (the commands' is ``psc-hook``).
SERVICE = "psc-token-hook"
CLAIM_NAMES = ("tid", "oid", "amr", "kc_idp_hint")
#: PSC_CLAIMS_ID_TOKEN / PSC_CLAIMS_ACCESS_TOKEN for "no claim in this token" (empty: unset).
NO_CLAIMS = "none"
ASSURANCE_LEVELS = ("none", "substantiel", "eleve")
AUTH_MODES = ("header", "oauth")
MIN_SECRET_LENGTH = 32
#: A secret starting or ending with one of these was pasted with its quotes.
QUOTES = frozenset("'\"")
DEFAULT_MAX_BODY_BYTES = 262_144
DEFAULT_TENANT_CLAIM = "psc_establishment"
#: A claim name the operator adds to Okta's authorization server (Okta's own rule).
CLAIM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: Claims the service reads or writes already: the tenant claim cannot be one of them.
KNOWN_CLAIMS = frozenset({"sub", "uid", "amr", "idp", "auth_time", "cid", *CLAIM_NAMES})
#: How far Okta's clock may be ahead of or behind this one, for PSC_MAX_AUTH_AGE.
AUTH_AGE_LEEWAY_SECONDS = 60
#: RFC 6749 section 3.3: a scope token is printable ASCII without space, '"' or '\\'.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class Part(enum.Enum):
    """What a command that never uses it leaves out of :func:`load_settings` (PSC_* is
    always read): so that the service's secrets stay off the laptops that run it."""

    CALLERS = "how Okta's calls are authenticated: HOOK_AUTH_MODE, HOOK_AUTH_HEADER, HOOK_OAUTH_*"
    SECRETS = "the secrets callers are checked with: HOOK_SECRETS, METRICS_TOKEN"


EVERY_PART = frozenset(Part)


def load_amr_table(
    extension: Path | None = None, cps_idps: frozenset[str] = frozenset()
) -> amr_rules.AmrTable:
    """The shipped amr table (``hook/amr_rules.json``), extended by an operator's file when
    one is given: the files are read here, the rules checked by hook/amr.py."""
    shipped = json.loads(resources.files("hook").joinpath("amr_rules.json").read_text("utf-8"))
    extra = None if extension is None else jsonio.read_file(extension, amr_rules.AmrRulesError)
    return amr_rules.build_table(shipped, extra, cps_idps)


@dataclass(frozen=True)
class OAuthSettings:
    """What Okta's bearer token must be; its algorithm and leeway are fixed (hook/oauth.py)."""

    issuer: str
    audience: str
    jwks_uri: str
    scopes: tuple[str, ...] = ()
    client_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads, as :func:`load_settings` validated it."""

    tenant_id: str
    auth_modes: tuple[str, ...] = ()
    client_ids: frozenset[str] = frozenset()
    #: PSC_CLIENT_IDS as written: its first is the client the CLI and the doctor play.
    client_order: tuple[str, ...] = ()
    claims: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"identity": ("tid", "oid"), "access": ("tid", "oid", "amr")}
    )
    kc_idp_hint: str | None = None
    min_assurance: str = "none"
    amr_table: amr_rules.AmrTable = field(default_factory=load_amr_table)
    secrets: tuple[bytes, ...] = ()
    auth_header: str = "Authorization"
    oauth: OAuthSettings | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    log_level: str = "info"
    log_format: str = "json"
    #: HOOK_LOG_USER_KEY, keying the log line's user_ref (hook/user_ref.py); None: no user_ref.
    log_user_key: bytes | None = field(default=None, repr=False)
    port: int = 8080
    metrics_token: bytes | None = None
    metrics_dir: Path | None = None
    #: The establishments of a hospital group (PSC_TENANTS); None: PSC_TENANT_ID for all.
    tenants: tenant_table.Table | None = None
    tenant_claim: str = DEFAULT_TENANT_CLAIM
    #: The Okta IdPs that read CPS cards (PSC_CPS_IDP_IDS): the élevé rule fires only there.
    cps_idp_ids: frozenset[str] = frozenset()
    #: Refuse a user token whose authentication is older, in seconds; None: no gate.
    max_auth_age: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def claim_to_read(self) -> str | None:
        """The tenant claim to read in the tokens, when establishments are matched on it."""
        return self.tenant_claim if self.tenants is not None else None

    @property
    def first_client(self) -> str | None:
        """The client a sample is played as: the first of PSC_CLIENT_IDS as written."""
        return self.client_order[0] if self.client_order else min(self.client_ids, default=None)


def _claims(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """A token's placements: empty is unset (the default), ``none`` places nothing."""
    raw = env.get(name, "").strip() or default
    if raw.lower() == NO_CLAIMS:
        return ()
    claims = listed(raw)
    unknown = [claim for claim in claims if claim not in CLAIM_NAMES]
    if unknown:
        raise ConfigError(
            f"{name}: unknown claim {unknown[0]!r}; choose among {', '.join(CLAIM_NAMES)},"
            f" or {NO_CLAIMS} alone for no claim in this token"
        )
    if len(set(claims)) != len(claims):
        raise ConfigError(f"{name}: a claim is listed twice")
    return claims


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): the one host where plain
    http:// is allowed (a key source, a hook URL) and the demo may serve."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def https_url(name: str, value: str) -> str:
    """``value`` when it is https:// (http:// only on loopback), else a ConfigError naming it."""
    parts = urlsplit(value)
    if not parts.hostname:
        raise ConfigError(f"{name}: {value!r} is not an absolute URL")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise ConfigError(f"{name}: must use https:// (http:// only on a loopback host)")
    return value


def okta_keys_uri(issuer: str) -> str:
    """Where an Okta authorization server publishes its signing keys."""
    return f"{issuer.rstrip('/')}/v1/keys"


def _oauth(env: Mapping[str, str]) -> OAuthSettings:
    issuer = env.get("HOOK_OAUTH_ISSUER", "").strip().rstrip("/")
    if not issuer:
        raise ConfigError("HOOK_OAUTH_ISSUER: required when HOOK_AUTH_MODE includes oauth")
    https_url("HOOK_OAUTH_ISSUER", issuer)
    audience = env.get("HOOK_OAUTH_AUDIENCE", "").strip()
    if not audience:
        raise ConfigError("HOOK_OAUTH_AUDIENCE: required when HOOK_AUTH_MODE includes oauth")
    jwks_uri = env.get("HOOK_OAUTH_JWKS_URI", "").strip() or okta_keys_uri(issuer)
    scopes = listed(env.get("HOOK_OAUTH_SCOPES"))
    for scope in scopes:
        if not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigError(f"HOOK_OAUTH_SCOPES: {scope!r} is not a valid OAuth scope name")
    client_ids = listed(env.get("HOOK_OAUTH_CLIENT_IDS"))
    for client_id in client_ids:
        if not client_id.isprintable() or " " in client_id:
            raise ConfigError(f"HOOK_OAUTH_CLIENT_IDS: {client_id!r} is not a client id")
    return OAuthSettings(
        issuer=issuer,
        audience=audience,
        jwks_uri=https_url("HOOK_OAUTH_JWKS_URI", jwks_uri),
        scopes=scopes,
        client_ids=frozenset(client_ids),
    )


def header_secrets(env: Mapping[str, str]) -> tuple[bytes, ...]:
    """HOOK_SECRETS: what Okta presents in header mode, the first one by ``psc-hook send``."""
    secrets = listed(env.get("HOOK_SECRETS"))
    if not secrets:
        raise ConfigError("HOOK_SECRETS: required when HOOK_AUTH_MODE includes header")
    for position, secret in enumerate(secrets, start=1):
        if secret[0] in QUOTES or secret[-1] in QUOTES:
            raise ConfigError(
                f"HOOK_SECRETS: secret #{position} is in quotes, which would be part of it;"
                " remove the quotes (platforms and env files take the value as written)"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HOOK_SECRETS: secret #{position} is {len(secret)} characters;"
                f" at least {MIN_SECRET_LENGTH} are required"
            )
    return tuple(secret.encode() for secret in secrets)


def _metrics_token(env: Mapping[str, str]) -> bytes | None:
    token = env.get("METRICS_TOKEN", "").strip()
    if not token:
        return None
    if len(token) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"METRICS_TOKEN: {len(token)} characters; at least {MIN_SECRET_LENGTH} are required"
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError("METRICS_TOKEN: printable ASCII without spaces (it is sent in a header)")
    return token.encode()


def log_user_key(env: Mapping[str, str]) -> bytes | None:
    """HOOK_LOG_USER_KEY, or None when unset: the service and ``psc-hook user-ref`` read it
    alike. A secret: the message says how long it is, never what it holds."""
    key = env.get("HOOK_LOG_USER_KEY", "").strip()
    if not key:
        return None
    if key[0] in QUOTES or key[-1] in QUOTES:
        raise ConfigError(
            "HOOK_LOG_USER_KEY: in quotes, which would be part of it; remove the quotes"
        )
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"HOOK_LOG_USER_KEY: {len(key)} characters; at least {MIN_SECRET_LENGTH} are required"
        )
    return key.encode()


def _metrics_dir(env: Mapping[str, str]) -> Path | None:
    """prometheus_client's own variable, so that one name means one directory; unset, the
    service makes a private one at start (``hook/metrics_files.py``)."""
    raw = env.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_absolute():
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR: {raw!r} is not an absolute path")
    existing = next(place for place in (path, *path.parents) if place.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR: {raw!r} is not a writable directory")
    return path


def _tenancy(env: Mapping[str, str]) -> tuple[str, tenant_table.Table | None]:
    """PSC_TENANT_ID for every token, or the PSC_TENANTS table of establishments."""
    path = env.get("PSC_TENANTS", "").strip()
    tenant_id = identifier(env, "PSC_TENANT_ID")
    if path and tenant_id is not None:
        raise ConfigError("PSC_TENANTS: set it or PSC_TENANT_ID, not both")
    if path:
        try:
            return "", tenant_table.parse(jsonio.read_file(Path(path), tenant_table.TenantsError))
        except tenant_table.TenantsError as error:
            raise ConfigError(f"PSC_TENANTS: {error}") from None
    if tenant_id is None:
        raise ConfigError(
            "PSC_TENANT_ID: required (the tid value PSC knows your establishment by),"
            " or PSC_TENANTS for several establishments"
        )
    return tenant_id, None


def _placements(env: Mapping[str, str], hinted: bool, source: str) -> dict[str, tuple[str, ...]]:
    """Where each claim goes. A configured hint goes in the ID token, where PSC's broker
    reads it, unless the placements are given; given without it, the start refuses."""
    claims = {
        "identity": _claims(
            env, "PSC_CLAIMS_ID_TOKEN", "tid,oid,kc_idp_hint" if hinted else "tid,oid"
        ),
        "access": _claims(env, "PSC_CLAIMS_ACCESS_TOKEN", "tid,oid,amr"),
    }
    if hinted and not any("kc_idp_hint" in placed for placed in claims.values()):
        raise ConfigError(
            f"{source}: a kc_idp_hint is set, but neither PSC_CLAIMS_ID_TOKEN nor"
            " PSC_CLAIMS_ACCESS_TOKEN places kc_idp_hint: add it to one, or unset the hint"
        )
    return claims


def tenant_claim(env: Mapping[str, str]) -> str:
    """PSC_TENANT_CLAIM: the claim of the tokens that names their establishment."""
    name = env.get("PSC_TENANT_CLAIM", "").strip() or DEFAULT_TENANT_CLAIM
    if not CLAIM_NAME.fullmatch(name) or name in KNOWN_CLAIMS or payload.schema_name(name):
        raise ConfigError(
            f"PSC_TENANT_CLAIM: {name!r} is not a claim name of your own (letters, digits, _;"
            f" not one of {', '.join(sorted(KNOWN_CLAIMS))})"
        )
    return name


def _reserved_warnings(claims: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(
        f"{claim!r} in the {TOKEN_NAMES[kind]} token: {reason}"
        for kind in TOKEN_KINDS
        for claim in claims[kind]
        if (reason := reserved_reason(kind, claim))
    )


def auth_modes(env: Mapping[str, str]) -> tuple[str, ...]:
    """HOOK_AUTH_MODE: header, oauth or both; empty when unset (the service requires it)."""
    modes = listed(env.get("HOOK_AUTH_MODE", "").lower())
    if any(mode not in AUTH_MODES for mode in modes) or len(set(modes)) != len(modes):
        raise ConfigError(
            f"HOOK_AUTH_MODE: {env['HOOK_AUTH_MODE']!r} is not header, oauth or header,oauth"
        )
    return modes


def auth_header(env: Mapping[str, str]) -> str:
    """HOOK_AUTH_HEADER: the header Okta presents the secret in, in header mode."""
    name = env.get("HOOK_AUTH_HEADER", "").strip() or "Authorization"
    if not name.replace("-", "").isalnum():
        raise ConfigError(f"HOOK_AUTH_HEADER: {name!r} is not a valid header name")
    return name


def _callers(env: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
    """HOOK_AUTH_MODE, required, and HOOK_AUTH_HEADER."""
    modes = auth_modes(env)
    if not modes:
        raise ConfigError("HOOK_AUTH_MODE: required; header, oauth, or header,oauth")
    return modes, auth_header(env)


def client_order(env: Mapping[str, str]) -> tuple[str, ...]:
    """PSC_CLIENT_IDS as written: its first is the client the commands play."""
    return listed(env.get("PSC_CLIENT_IDS"))


def claim_to_read(env: Mapping[str, str]) -> str | None:
    """The tenant claim the service reads in the tokens: with PSC_TENANTS only."""
    return tenant_claim(env) if env.get("PSC_TENANTS", "").strip() else None


def load_settings(env: Mapping[str, str], parts: Collection[Part] = EVERY_PART) -> Settings:
    """Build the one :class:`Settings` object from an environment mapping. The parts left
    out of ``parts`` are neither required nor read: their fields keep their defaults (no
    mode, no secret), for a command that never uses them."""
    tenant_id, tenants = _tenancy(env)
    modes, auth_header = _callers(env) if Part.CALLERS in parts else ((), "Authorization")

    kc_idp_hint = identifier(env, "PSC_KC_IDP_HINT")
    if tenants and kc_idp_hint is not None:
        raise ConfigError("PSC_KC_IDP_HINT: with PSC_TENANTS, give each tenant its kc_idp_hint")
    hinted = kc_idp_hint is not None or any(
        tenant.kc_idp_hint for tenant in (tenants.tenants if tenants else ())
    )
    claims = _placements(env, hinted, "PSC_TENANTS" if tenants else "PSC_KC_IDP_HINT")
    warnings = [*_reserved_warnings(claims), *psc.plan_gaps(claims)]
    if not hinted and any("kc_idp_hint" in placed for placed in claims.values()):
        warnings.append("kc_idp_hint is placed in a token but PSC_KC_IDP_HINT is unset: omitted")

    cps_idp_ids = frozenset(listed(env.get("PSC_CPS_IDP_IDS")))
    for idp_id in cps_idp_ids:
        if not amr_rules.IDP_ID.fullmatch(idp_id):
            raise ConfigError(f"PSC_CPS_IDP_IDS: {idp_id!r} is not an Okta IdP id (0oa...)")
    rules_path = env.get("PSC_AMR_RULES", "").strip()
    try:
        table = load_amr_table(Path(rules_path) if rules_path else None, cps_idp_ids)
    except amr_rules.AmrRulesError as error:
        raise ConfigError(f"PSC_AMR_RULES: {error}") from None
    if not cps_idp_ids:
        warnings.append(
            "PSC_CPS_IDP_IDS is unset: a CPS card gives no eleve (the cps-smart-card rule fires"
            " only through the smart-card IdPs it names)"
        )
    clients = client_order(env)
    client_ids = frozenset(clients)
    if tenants:
        warnings += tenant_table.unreachable(tenants, client_ids)

    secrets = header_secrets(env) if "header" in modes and Part.SECRETS in parts else ()
    oauth = _oauth(env) if "oauth" in modes else None
    if oauth is not None and not oauth.scopes and not oauth.client_ids:
        warnings.append(
            "HOOK_OAUTH_SCOPES and HOOK_OAUTH_CLIENT_IDS are both unset: any token"
            " HOOK_OAUTH_ISSUER mints for HOOK_OAUTH_AUDIENCE is accepted, whichever client"
            " asked for it; set them to the hook's scope and API Services app"
        )

    return Settings(
        tenant_id=tenant_id,
        auth_modes=modes,
        client_ids=client_ids,
        client_order=clients,
        claims=claims,
        kc_idp_hint=kc_idp_hint,
        min_assurance=choice(env, "PSC_MIN_ASSURANCE", ASSURANCE_LEVELS, "none"),
        amr_table=table,
        secrets=secrets,
        auth_header=auth_header,
        oauth=oauth,
        max_body_bytes=whole_number(
            env, "HOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024, 10_485_760
        ),
        log_level=choice(
            env, "LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), "info"
        ),
        log_format=choice(
            env, "LOG_FORMAT", ("json", "console"), "console" if sys.stderr.isatty() else "json"
        ),
        log_user_key=log_user_key(env),
        port=whole_number(env, "PORT", 8080, 1, 65535),
        metrics_token=_metrics_token(env) if Part.SECRETS in parts else None,
        metrics_dir=_metrics_dir(env),
        tenants=tenants,
        tenant_claim=tenant_claim(env),
        cps_idp_ids=cps_idp_ids,
        max_auth_age=duration(env, "PSC_MAX_AUTH_AGE"),
        warnings=tuple(warnings),
    )


def one_line(error: ConfigError, program: str = SERVICE) -> str:
    """What an operator sees of a bad setting, before exit code 2: ``program`` is the
    service's name (gunicorn's hooks) or the command's (``psc-hook``)."""
    return f"{program}: configuration error: {error}"


def process_environment() -> Mapping[str, str]:
    """The process's environment: the one place the package reads ``os.environ``."""
    return os.environ


def settings_from_environment() -> Settings:
    """The process's settings; a bad one raises :class:`ConfigError`."""
    return load_settings(process_environment())
