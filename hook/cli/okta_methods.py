"""Okta's authentication methods as an authentication policy names them, the ``amr`` Okta
records for each, and the sign-ins a policy rule lets through: data and pure functions.

Sources: Okta's Management OpenAPI (``AccessPolicyConstraint``: ``methods``, ``types``,
``authenticationMethods``; ``PossessionConstraint``; ``AuthenticationMethodChain``) and
Okta's "configure AMR claims mapping" guide for the labels (password ``pwd``, Okta Verify
push ``okta_verify swk``, code ``okta_verify otp``, FastPass ``okta_verify phr``, WebAuthn
``pop``, SMS ``sms``, voice ``tel``, email ``email``...; ``mfa`` when more than one factor
was verified). A smart card (``cert``) or an identity provider (``idp``) is not listed:
a CPS card's sign-in is judged through the smart-card IdP's own AMR values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from hook.cli import okta_api

KNOWLEDGE, POSSESSION = "knowledge", "possession"
REQUIRED = "REQUIRED"


@dataclass(frozen=True)
class Method:
    """One method: its name in a policy, its authenticator (``key``) and type, the labels
    Okta records, and what a possession constraint can require of it."""

    name: str
    label: str
    key: str
    type: str
    amr: tuple[str, ...]
    factor: str
    phishing_resistant: bool = False
    #: Not a phone or an email (Okta's "device bound"; hardware protection excludes them too).
    device_bound: bool = True
    #: With user verification (biometrics, a PIN) Okta may count it as two factor types.
    alone: bool = False


METHODS: tuple[Method, ...] = (
    Method("password", "the password", "okta_password", "password", ("pwd",), KNOWLEDGE),
    Method("security_question", "a security question", "security_question",
           "security_question", ("kba",), KNOWLEDGE),
    Method("push", "Okta Verify push", "okta_verify", "app", ("okta_verify", "swk"), POSSESSION),
    Method("totp", "an Okta Verify code (TOTP)", "okta_verify", "app", ("okta_verify", "otp"),
           POSSESSION),
    Method("signed_nonce", "Okta FastPass (signed_nonce)", "okta_verify", "app",
           ("okta_verify", "phr"), POSSESSION, phishing_resistant=True, alone=True),
    Method("otp", "a one-time code app (otp)", "google_otp", "app", ("google_otp",), POSSESSION),
    Method("webauthn", "a FIDO2 key or passkey (webauthn)", "webauthn", "security_key",
           ("pop",), POSSESSION, phishing_resistant=True, alone=True),
    Method("sms", "an SMS code (sms)", "phone_number", "phone", ("sms",), POSSESSION,
           device_bound=False),
    Method("voice", "a voice call (voice)", "phone_number", "phone", ("tel",), POSSESSION,
           device_bound=False),
    Method("email", "an email (email)", "okta_email", "email", ("email",), POSSESSION,
           device_bound=False),
    Method("duo", "Duo (duo)", "duo", "app", ("duo",), POSSESSION),
)  # fmt: skip
#: A way in: the methods one sign-in uses, in order.
Way = tuple[Method, ...]


def recorded(way: Way) -> tuple[str, ...]:
    """The ``amr`` Okta records for a sign-in: each method's labels, ``mfa`` for two."""
    labels = dict.fromkeys(label for method in way for label in method.amr)
    if len({method.factor for method in way}) > 1:
        labels["mfa"] = None
    return tuple(labels)


def described(way: Way) -> str:
    """A way in as an operator reads it: ``the password + an SMS code (sms)``."""
    return " + ".join(method.label for method in way) + (" alone" if len(way) == 1 else "")


def _named(entries: Any) -> list[Method] | None:
    """The methods an ``authenticationMethods`` list names (``key`` and maybe ``method``)."""
    if not isinstance(entries, list) or not entries:
        return None
    wanted = [entry for entry in entries if isinstance(entry, dict)]
    return [
        method
        for method in METHODS
        if any(
            entry.get("key") == method.key and entry.get("method") in (None, method.name)
            for entry in wanted
        )
    ]


def allowed(constraint: Any, factor: str) -> list[Method]:
    """The methods of ``factor`` a constraint allows; no constraint: every one."""
    methods = [method for method in METHODS if method.factor == factor]
    if not isinstance(constraint, dict):
        return methods
    if isinstance(constraint.get("methods"), list):
        methods = [method for method in methods if method.name in constraint["methods"]]
    if isinstance(constraint.get("types"), list):
        methods = [method for method in methods if method.type in constraint["types"]]
    if (named := _named(constraint.get("authenticationMethods"))) is not None:
        methods = [method for method in methods if method in named]
    if (excluded := _named(constraint.get("excludedAuthenticationMethods"))) is not None:
        methods = [method for method in methods if method not in excluded]
    if constraint.get("phishingResistant") == REQUIRED:
        methods = [method for method in methods if method.phishing_resistant]
    if REQUIRED in (constraint.get("deviceBound"), constraint.get("hardwareProtection")):
        methods = [method for method in methods if method.device_bound]
    return methods


def _required(constraint: Mapping[str, Any], factor: str) -> bool:
    part = constraint.get(factor)
    return isinstance(part, dict) and part.get("required") is not False


def _assurance_ways(method: Mapping[str, Any]) -> list[Way]:
    """An ``ASSURANCE`` method: each constraint object is one way to satisfy it."""
    two = method.get("factorMode") == "2FA"  # Okta's other mode, and a missing one: 1FA
    ways: list[Way] = []
    constraints = method.get("constraints")
    for constraint in constraints if isinstance(constraints, list) and constraints else [{}]:
        if not isinstance(constraint, dict):
            continue
        knowledge = allowed(constraint.get(KNOWLEDGE), KNOWLEDGE)
        possession = allowed(constraint.get(POSSESSION), POSSESSION)
        needs_knowledge = _required(constraint, KNOWLEDGE)
        needs_possession = _required(constraint, POSSESSION)
        if two or (needs_knowledge and needs_possession):
            ways += list(product(knowledge, possession))
            if two and not needs_knowledge:
                ways += [(factor,) for factor in possession if factor.alone]
        elif needs_knowledge or needs_possession:
            ways += [(factor,) for factor in (knowledge if needs_knowledge else possession)]
        else:
            ways += [(factor,) for factor in knowledge + possession]
    return ways


def _chain_ways(chains: Any) -> list[Way]:
    """An ``AUTH_METHOD_CHAIN`` method: one method of each step, step after step."""
    ways: list[Way] = []
    for chain in chains if isinstance(chains, list) else ():
        if not isinstance(chain, dict):
            continue
        steps = _named(chain.get("authenticationMethods")) or []
        rest = _chain_ways(chain.get("next")) or [()]
        ways += [(step, *after) for step in steps for after in rest]
    return ways


def ways_in(rule: Mapping[str, Any]) -> list[Way]:
    """The sign-ins an ACTIVE, ALLOW rule of an authentication policy lets through (none
    for another rule, or a verification method of another type)."""
    sign_on = okta_api.at(rule, "actions", "appSignOn")
    if rule.get("status") != "ACTIVE" or okta_api.at(sign_on, "access") != "ALLOW":
        return []
    method = okta_api.at(sign_on, "verificationMethod")
    method = method if isinstance(method, dict) else {}
    if method.get("type") == "AUTH_METHOD_CHAIN":
        return _unique(_chain_ways(method.get("chains")))
    if method.get("type") in (None, "ASSURANCE"):
        return _unique(_assurance_ways(method))
    return []


def _unique(ways: Iterable[Way]) -> list[Way]:
    return list(dict.fromkeys(ways))
