"""What Pro Santé Connect reads in Okta's tokens: which claim in which token, and the amr
sets it publishes. Pure data and functions.

One rule for every judge of a plan: the service's start (and so ``check-config``),
``preview`` and ``check-token`` all warn from :func:`plan_gaps` / :func:`gap`, so a plan
that leaves out what PSC reads is a warning in each, never a pass in one and a refusal in
another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hook.okta import TOKEN_KINDS, TOKEN_NAMES

#: The claims PSC reads in each token. The PSC reference integration puts ``tid`` and
#: ``oid`` in the ID and the access token (Lyvoc/okta-prosanteconnect,
#: docs/20-Okta-AuthzServer-Claims.md) and its hook puts ``amr`` in the access token; the ID
#: token's ``amr`` is Okta's own (reserved), which only Okta's configuration decides.
NEEDED: Mapping[str, tuple[str, ...]] = {
    "identity": ("tid", "oid"),
    "access": ("tid", "oid", "amr"),
}
#: The setting that places claims in each token.
PLACEMENT_SETTINGS: Mapping[str, str] = {
    "identity": "PSC_CLAIMS_ID_TOKEN",
    "access": "PSC_CLAIMS_ACCESS_TOKEN",
}

#: The amr sets PSC publishes for Okta, and the assurance each gives (MIE.md of the PSC
#: reference integration, "Valeurs AMR spécifiques pour Okta"). No other set is PSC's.
PUBLISHED_SETS: Mapping[frozenset[str], str] = {
    frozenset({"swk", "mfa", "pwd", "okta_verify"}): "substantiel",
    frozenset({"sc", "pin", "mfa", "hwk"}): "eleve",
}
#: How an operator reads them: in PSC's order, with their assurance.
PUBLISHED_SETS_TEXT = "swk mfa pwd okta_verify (substantiel); sc pin mfa hwk (eleve)"
#: What makes Okta emit a PSC set in the ID token, where the hook cannot write ``amr``.
OKTA_AMR_ADVICE = (
    "only Okta's configuration decides the ID token's amr: a CPS card through a smart-card"
    " IdP whose AMR values (additionalAmr) hold hwk, pin and mfa (Security > Identity"
    " Providers > the IdP), or password + Okta Verify push, make Okta emit PSC's sets"
)


def published_assurance(labels: Iterable[str]) -> str | None:
    """The assurance of the PSC set ``labels`` is exactly (order aside), or None."""
    return PUBLISHED_SETS.get(frozenset(labels))


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def gap(kind: str, placed: Iterable[str]) -> str | None:
    """What a token's placements leave out of what PSC reads there, as a warning; None when
    nothing is left out."""
    placed = set(placed)
    missing = tuple(claim for claim in NEEDED[kind] if claim not in placed)
    if not missing:
        return None
    return (
        f"{PLACEMENT_SETTINGS[kind]} leaves out {', '.join(missing)}: PSC reads"
        f" {_listed(NEEDED[kind])} in the {TOKEN_NAMES[kind]} token"
    )


def plan_gaps(placements: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """One warning per token whose placements leave out a claim PSC reads there."""
    return tuple(
        warning for kind in TOKEN_KINDS if (warning := gap(kind, placements[kind])) is not None
    )
