"""The amr decision: Okta's method labels in, the set Pro Santé Connect accepts out.

Pure functions over a data table (``amr_rules.json``, extendable with ``PSC_AMR_RULES``;
hook/config.py reads the files).
A rule fires only on evidence: every label of its ``when`` must be in the input, so no
factor is ever invented; without a matching rule the normalised input passes through. A
rule with ``through_idps`` fires only when the sign-in came through one of those Okta
identity providers: Okta's ``sc`` means any smart-card IdP of the org, and only the one
reading CPS cards proves a CPS card with its PIN. A rule may answer only what its ``when``
proves (``hook/factors.py``), an alias only respell a factor, unless the rule says why its
evidence is worth more (``assurance_override``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hook.factors import proven, unproven

ASSURANCE_RANK = {"none": 0, "substantiel": 1, "eleve": 2}
#: What the log line and the metrics say for "no rule fired".
NO_RULE = "none"
#: What a table's cache holds, at most: its decisions for so many inputs of so many labels.
KNOWN_DECISIONS = 1024
KNOWN_LABELS = 8
LABEL = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
#: ``through_idps`` may name this setting instead of ids: the IdPs that read CPS cards.
CPS_IDPS_SETTING = "PSC_CPS_IDP_IDS"
#: Okta's ids of identity providers: ``0oa`` then letters and digits (17 in Okta's own).
IDP_ID = re.compile(r"0oa[0-9A-Za-z]{5,60}")
#: Where a rule in force comes from: the table shipped with the package, or the operator's.
SHIPPED = "hook/amr_rules.json"
EXTENSION = "PSC_AMR_RULES"

#: The keys a rules file may hold; any other is refused by name (a misspelt key would
#: otherwise be ignored). A key starting with ``_`` is a comment.
DOCUMENT_KEYS = frozenset({"aliases", "rules"})
RULE_KEYS = frozenset(
    {"name", "when", "amr", "assurance", "why", "assurance_override", "through_idps", "source"}
)


class AmrRulesError(ValueError):
    """The rules file cannot be used; the message says where it is wrong."""


@dataclass(frozen=True)
class AmrRule:
    name: str
    when: frozenset[str]
    amr: tuple[str, ...]
    assurance: str
    #: The IdPs the sign-in must have come through; None: any, or none recorded.
    through: frozenset[str] | None = None
    #: What the evidence dossier says of the rule: which table holds it, the published
    #: source of its set, why it holds, and why its assurance exceeds its evidence.
    origin: str = field(default=SHIPPED, compare=False)
    source: str = field(default="", compare=False)
    why: str = field(default="", compare=False)
    override: str = field(default="", compare=False)

    def fires(self, present: frozenset[str], idps: frozenset[str]) -> bool:
        """Every label of ``when`` is evidenced, and every IdP of the sign-in is allowed."""
        if not self.when <= present:
            return False
        return self.through is None or (bool(idps) and idps <= self.through)


class DecisionCache(dict[tuple[Any, ...], "AmrDecision"]):
    """A table's decisions by input (IdPs, then labels): sign-ins use a handful of method
    sets, and only the first inputs are kept, so an attacker's variety never costs memory.
    A dict subclass: a hit costs no Python call on the hot path."""

    def remember(self, key: tuple[Any, ...], decision: AmrDecision) -> None:
        if len(key) <= KNOWN_LABELS + 1 and len(self) < KNOWN_DECISIONS:
            self[key] = decision


@dataclass(frozen=True)
class AmrTable:
    aliases: Mapping[str, str]
    rules: tuple[AmrRule, ...]  # strongest assurance first, then table order
    #: The table's own cache: not part of what the table is (its equality, its repr).
    cache: DecisionCache = field(default_factory=DecisionCache, compare=False, repr=False)


@dataclass(frozen=True)
class AmrDecision:
    before: tuple[str, ...]
    after: tuple[str, ...]
    assurance: str
    rule: str | None


def _labels(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise AmrRulesError(f"{where} must be a non-empty list of labels")
    if not all(isinstance(label, str) and LABEL.fullmatch(label) for label in value):
        raise AmrRulesError(f"{where} holds a label that is not a lower-case amr value")
    return value


def _through(raw: Any, where: str, cps_idps: frozenset[str]) -> frozenset[str] | None:
    if raw is None:
        return None
    if raw == CPS_IDPS_SETTING:
        return cps_idps
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(idp, str) and IDP_ID.fullmatch(idp) for idp in raw)
    ):
        raise AmrRulesError(
            f"{where}: through_idps must be a non-empty list of Okta IdP ids (0oa...)"
            f" or {CPS_IDPS_SETTING!r}"
        )
    return frozenset(raw)


def _unknown_keys(raw: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(key for key in raw if key not in allowed and not str(key).startswith("_"))
    if unknown:
        raise AmrRulesError(
            f"{where}: unknown key {', '.join(map(repr, unknown))};"
            f" allowed: {', '.join(sorted(allowed))} (or a '_' comment)"
        )


def _rule(raw: Any, index: int, cps_idps: frozenset[str]) -> AmrRule:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise AmrRulesError(f"rules[{index}] needs a name")
    where = f"rule {raw['name']!r}"
    _unknown_keys(raw, RULE_KEYS, where)
    assurance = raw.get("assurance", "none")
    if assurance not in ASSURANCE_RANK:
        raise AmrRulesError(f"{where}: assurance must be one of {', '.join(ASSURANCE_RANK)}")
    amr = _labels(raw.get("amr"), f"{where}: amr")
    override = raw.get("assurance_override")
    if override is not None and not (isinstance(override, str) and override.strip()):
        raise AmrRulesError(f"{where}: assurance_override must be the reason, as text")
    for key in ("why", "source"):
        if not isinstance(raw.get(key, ""), str):
            raise AmrRulesError(f"{where}: {key} must be text")
    rule = AmrRule(
        name=raw["name"],
        when=frozenset(_labels(raw.get("when"), f"{where}: when")),
        amr=tuple(dict.fromkeys(amr)),
        assurance=assurance,
        through=_through(raw.get("through_idps"), where, cps_idps),
        source=raw.get("source", ""),
        why=raw.get("why", ""),
        override=override or "",
    )
    forged = unproven(rule.when, rule.amr, rule.assurance)
    if override is None and forged:
        raise AmrRulesError(
            f"{where}: claims {', '.join(forged)}, which its evidence"
            f" ({' + '.join(sorted(rule.when))}) does not prove: a rule may respell its factors"
            " and add mfa for two factor classes (substantiel needs mfa, eleve mfa and hwk);"
            ' give it "assurance_override": "<why this evidence is worth more>" if it truly is'
        )
    return rule


def _alias(spelling: str, label: str) -> tuple[str, str]:
    """An alias, folded as labels are, when it respells one factor: any other would forge
    one in every sign-in that shows the spelling (kba as okta_verify claims a factor)."""
    folded = spelling.lower()
    if label not in proven([folded]):
        raise AmrRulesError(
            f"alias {spelling!r} -> {label!r}: {folded} does not prove {label}; an alias may only"
            " respell a factor (password as pwd), anything more is a rule with its"
            ' "assurance_override"'
        )
    return folded, label


def _parse(document: Any, cps_idps: frozenset[str]) -> tuple[dict[str, str], list[AmrRule]]:
    if not isinstance(document, dict):
        raise AmrRulesError("the file must hold a JSON object with 'aliases' and/or 'rules'")
    _unknown_keys(document, DOCUMENT_KEYS, "the file")
    aliases = document.get("aliases", {})
    if not isinstance(aliases, dict) or not all(
        isinstance(key, str) and key.isascii() and isinstance(value, str) and LABEL.fullmatch(value)
        for key, value in aliases.items()
    ):
        raise AmrRulesError("'aliases' must map ASCII spellings to lower-case amr values")
    rules = document.get("rules", [])
    if not isinstance(rules, list):
        raise AmrRulesError("'rules' must be a list")
    return dict(_alias(key, value) for key, value in aliases.items()), [
        _rule(raw, index, cps_idps) for index, raw in enumerate(rules)
    ]


def build_table(
    shipped: Any, extension: Any = None, cps_idps: frozenset[str] = frozenset()
) -> AmrTable:
    """The table of the shipped rules document (``amr_rules.json``), extended by an
    operator's when one is given (hook/config.py reads both files); ``cps_idps`` are the
    IdPs that read CPS cards (PSC_CPS_IDP_IDS), none: the CPS rule never fires."""
    aliases, rules = _parse(shipped, cps_idps)
    if extension is not None:
        extra_aliases, extra_rules = _parse(extension, cps_idps)
        extra_rules = [replace(rule, origin=EXTENSION) for rule in extra_rules]
        aliases.update(extra_aliases)
        replaced = {rule.name for rule in extra_rules}
        rules = extra_rules + [rule for rule in rules if rule.name not in replaced]
    ordered = sorted(rules, key=lambda rule: -ASSURANCE_RANK[rule.assurance])
    return AmrTable(aliases=aliases, rules=tuple(ordered))


def normalise(labels: Iterable[Any], aliases: Mapping[str, str]) -> tuple[str, ...]:
    """Lower-case, apply aliases, drop what is not an amr value, keep first-seen order.

    A label that is not ASCII is dropped before folding: ``str.lower`` folds some other
    letters into ASCII (the Kelvin sign K becomes k), which would forge a method's name.
    """
    seen: dict[str, None] = {}
    for label in labels:
        if not isinstance(label, str) or not label.isascii():
            continue
        folded = label.strip().lower()
        folded = aliases.get(folded, folded)
        if LABEL.fullmatch(folded):
            seen[folded] = None
    return tuple(seen)


def decide(
    labels: Iterable[Any], table: AmrTable, idps: frozenset[str] = frozenset()
) -> AmrDecision:
    """Map the evidenced methods to the strongest PSC set they satisfy, or pass them through;
    ``idps`` are the identity providers the sign-in came through.

    A pure function of its input, so an input seen before gets the decision made then
    (the table's :class:`DecisionCache`).
    """
    key = (idps, *labels)
    decision = table.cache.get(key)
    if decision is None:
        decision = _decide(key[1:], table, idps)
        table.cache.remember(key, decision)
    return decision


def _decide(labels: tuple[Any, ...], table: AmrTable, idps: frozenset[str]) -> AmrDecision:
    before = normalise(labels, table.aliases)
    present = frozenset(before)
    for rule in table.rules:
        if rule.fires(present, idps):
            return AmrDecision(before, rule.amr, rule.assurance, rule.name)
    return AmrDecision(before, before, "none", None)
