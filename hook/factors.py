"""What an amr label proves: its factor class, and the labels that name the same factor.

The guard on the amr table (``hook/amr.py``) reads it: a rule may answer only what its
evidence proves, and an alias may only respell a factor. RFC 8176's labels and Okta's
("configure AMR claims mapping"), by what they prove: knowledge, possession, inherence.
Okta Verify proves a software key, so ``swk`` is sound for it; ``mfa`` needs two classes
(or Okta's own ``mfa``). A label not listed proves nothing but itself.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Label -> (factor class, the other labels of that same factor: Okta's or PSC's spelling).
FACTORS: dict[str, tuple[str, frozenset[str]]] = {
    "pwd": ("knowledge", frozenset()),
    "password": ("knowledge", frozenset({"pwd"})),  # Okta's session says PASSWORD
    "pin": ("knowledge", frozenset()),
    "kba": ("knowledge", frozenset()),
    "sc": ("possession", frozenset()),
    "swk": ("possession", frozenset()),
    "hwk": ("possession", frozenset()),
    "otp": ("possession", frozenset()),
    "sms": ("possession", frozenset()),
    "tel": ("possession", frozenset()),
    "okta_verify": ("possession", frozenset({"swk"})),
    "pop": ("possession", frozenset()),
    "google_otp": ("possession", frozenset({"otp"})),  # Google Authenticator: a TOTP
    "fpt": ("inherence", frozenset()),
    "face": ("inherence", frozenset()),
    "bio": ("inherence", frozenset()),
    "iris": ("inherence", frozenset()),
    "retina": ("inherence", frozenset()),
    "vbm": ("inherence", frozenset()),
}
#: What several factor classes prove; Okta's own record of it proves it too.
SEVERAL_FACTORS = "mfa"
#: What each assurance level needs proven (PSC's sets: substantiel holds mfa, eleve hwk too).
ASSURANCE_NEEDS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "substantiel": frozenset({SEVERAL_FACTORS}),
    "eleve": frozenset({SEVERAL_FACTORS, "hwk"}),
}


def proven(evidence: Iterable[str]) -> frozenset[str]:
    """Every label the evidence proves: its own, the same factors' other spellings, and
    ``mfa`` when it holds two factor classes."""
    labels = frozenset(evidence)
    known = [FACTORS[label] for label in labels if label in FACTORS]
    spellings = frozenset().union(*(also for _, also in known))
    several = {SEVERAL_FACTORS} if len({kind for kind, _ in known}) >= 2 else set()
    return labels | spellings | several


def unproven(evidence: Iterable[str], answer: Iterable[str], assurance: str) -> list[str]:
    """What an answer (its labels and the labels its assurance needs) claims beyond what the
    evidence proves, sorted; empty when the answer forges nothing."""
    return sorted((set(answer) | ASSURANCE_NEEDS[assurance]) - proven(evidence))
