"""The ``amr`` sets Pro Santé Connect publishes for Okta, each with its source: facts, not
rules. The amr table (``amr_rules.json``, ``PSC_AMR_RULES``) says how Okta's labels become
a set; this says which sets PSC has published, so that a rule, a token or Okta's own
configuration can be judged against them. ANS's page of accepted amr values is not public
in full: a set appears here only when a public source gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The reference integration's list of amr values for Okta (Lyvoc/okta-prosanteconnect).
MIE = (
    "Lyvoc/okta-prosanteconnect, MIE.md, 'Valeurs AMR spécifiques pour Okta'"
    " (https://github.com/Lyvoc/okta-prosanteconnect/blob/main/MIE.md)"
)


@dataclass(frozen=True)
class PscSet:
    """One published set: its labels (order aside), the assurance it gives, its source."""

    amr: frozenset[str]
    assurance: str
    method: str
    source: str


PUBLISHED: tuple[PscSet, ...] = (
    PscSet(
        frozenset({"swk", "mfa", "pwd", "okta_verify"}),
        "substantiel",
        "password + Okta Verify (push or TOTP)",
        MIE,
    ),
    PscSet(
        frozenset({"sc", "pin", "mfa", "hwk"}),
        "eleve",
        "CPx smart card (CPS card) with its PIN",
        MIE,
    ),
)


def published(labels: Iterable[str]) -> PscSet | None:
    """The published set ``labels`` is exactly (order and case aside), or None."""
    wanted = frozenset(label.lower() for label in labels if isinstance(label, str))
    return next((known for known in PUBLISHED if known.amr == wanted), None)


def of_assurance(assurance: str) -> PscSet:
    """The published set that gives ``assurance`` (``KeyError`` when none does)."""
    for known in PUBLISHED:
        if known.assurance == assurance:
            return known
    raise KeyError(assurance)
