"""The amr table: Okta's labels in, PSC's sets out, and nothing invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hook import amr
from hook.config import ConfigError, load_settings

CPS_IDP = "0oa1cpsSmartCard0Idp7"
#: The shipped table, with the CPS card reader's IdP named (PSC_CPS_IDP_IDS).
TABLE = amr.load_table(cps_idps=frozenset({CPS_IDP}))
THROUGH_CPS = frozenset({CPS_IDP})
SUBSTANTIEL = ("swk", "mfa", "pwd", "okta_verify")
ELEVE = ("sc", "pin", "mfa", "hwk")


@pytest.mark.parametrize(
    ("labels", "after", "assurance"),
    [
        (["pwd", "okta_verify", "otp"], SUBSTANTIEL, "substantiel"),
        (["pwd", "okta_verify", "swk", "mfa"], SUBSTANTIEL, "substantiel"),
        (["PASSWORD", "okta_verify", "phr"], SUBSTANTIEL, "substantiel"),
        (["sc", "swk"], ELEVE, "eleve"),
        (["sc", "hwk", "pin", "mfa"], ELEVE, "eleve"),
        (["pwd", "okta_verify", "sc", "swk"], ELEVE, "eleve"),
        (["pwd"], ("pwd",), "none"),
        (["PASSWORD"], ("pwd",), "none"),
        (["okta_verify", "phr"], ("okta_verify", "phr"), "none"),
        (["pwd", "sms", "mfa"], ("pwd", "sms", "mfa"), "none"),
        ([], (), "none"),
    ],
)
def test_psc_sets(labels, after, assurance) -> None:
    decision = amr.decide(labels, TABLE, THROUGH_CPS)
    assert decision.after == after
    assert decision.assurance == assurance


def test_nothing_is_invented_from_password_alone() -> None:
    decision = amr.decide(["pwd"], TABLE)
    assert not {"mfa", "hwk", "sc", "swk", "pin"} & set(decision.after)
    assert decision.rule is None


def test_unknown_and_malformed_labels() -> None:
    decision = amr.decide(["pwd", "Custom_Factor", 42, None, "", "a b", "x" * 65, "pwd"], TABLE)
    assert decision.before == ("pwd", "custom_factor")
    assert decision.after == ("pwd", "custom_factor")


def test_order_is_deterministic_whatever_the_input_order() -> None:
    first = amr.decide(["otp", "okta_verify", "pwd"], TABLE)
    second = amr.decide(["pwd", "otp", "okta_verify"], TABLE)
    assert first.after == second.after == SUBSTANTIEL


def rules_file(directory: Path, document: dict) -> Path:
    """An operator's ``PSC_AMR_RULES`` file holding ``document``."""
    path = directory / "rules.json"
    path.write_text(json.dumps(document))
    return path


def test_operator_file_extends_aliases_and_rules(tmp_path) -> None:
    fido2 = {
        "name": "fido2-password",
        "when": ["pwd", "pop"],
        "amr": ["pwd", "pop", "hwk", "mfa"],
        "assurance": "substantiel",
    }
    aliases = {"CARTE_CPS": "sc", "webauthn": "pop"}
    document = {"aliases": aliases, "rules": [fido2]}
    table = amr.load_table(rules_file(tmp_path, document), THROUGH_CPS)
    assert amr.decide(["CARTE_CPS"], table, THROUGH_CPS).after == ELEVE
    assert amr.decide(["pwd", "webauthn"], table).assurance == "substantiel"
    assert amr.decide(["pwd", "okta_verify"], table).after == SUBSTANTIEL


def test_operator_rule_replaces_a_shipped_rule_by_name(tmp_path) -> None:
    card = {
        "name": "cps-smart-card",
        "when": ["sc", "pin"],
        "amr": ["sc", "pin", "mfa", "hwk"],
        "assurance": "eleve",
    }
    table = amr.load_table(rules_file(tmp_path, {"rules": [card]}))
    assert amr.decide(["sc", "swk"], table).assurance == "none"
    assert amr.decide(["sc", "pin"], table).assurance == "eleve"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ("[]", "must hold a JSON object"),
        ('{"rules": [{"when": ["pwd"], "amr": ["pwd"]}]}', "needs a name"),
        ('{"rules": [{"name": "r", "when": [], "amr": ["pwd"]}]}', "when must be a non-empty"),
        ('{"rules": [{"name": "r", "when": ["pwd"], "amr": ["PWD"]}]}', "not a lower-case"),
        (
            '{"rules": [{"name": "r", "when": ["pwd"], "amr": ["pwd"], "assurance": "max"}]}',
            "assurance must be",
        ),
        ('{"aliases": {"a": 1}}', "'aliases' must map"),
        ('{"rules": {}}', "'rules' must be a list"),
    ],
)
def test_bad_rules_file_is_a_config_error(tmp_path, env, content, message) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(content)
    env["PSC_AMR_RULES"] = str(rules)
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(env)
    assert str(error.value).startswith("PSC_AMR_RULES: ")


def test_missing_rules_file_is_a_config_error(tmp_path, env) -> None:
    env["PSC_AMR_RULES"] = str(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="PSC_AMR_RULES: cannot read"):
        load_settings(env)


def test_a_decision_is_remembered_and_the_memory_is_bounded() -> None:
    table = amr.load_table()
    first = amr.decide(["pwd", "okta_verify"], table)
    assert amr.decide(("pwd", "okta_verify"), table) is first
    assert amr.decide(["okta_verify", "pwd"], table).after == first.after  # its own entry
    for index in range(amr.KNOWN_DECISIONS + 10):
        assert amr.decide(["pwd", f"factor{index}"], table).assurance == "none"
    assert len(table.known) == amr.KNOWN_DECISIONS
    long_input = ["pwd"] * (amr.KNOWN_LABELS + 1)
    assert amr.decide(long_input, table).after == ("pwd",)
    assert tuple(long_input) not in table.known


def test_remembered_decisions_are_per_table(tmp_path) -> None:
    rule = {"name": "webauthn", "when": ["pwd", "webauthn"], "amr": ["pwd", "hwk", "mfa"]}
    extension = rules_file(tmp_path, {"rules": [{**rule, "assurance": "substantiel"}]})
    shipped, extended = amr.load_table(), amr.load_table(extension)
    assert amr.decide(["pwd", "webauthn"], shipped).assurance == "none"
    assert amr.decide(["pwd", "webauthn"], extended).assurance == "substantiel"


@pytest.mark.parametrize(
    "label",
    ["o\u212ata_verify", "O\u212aTA_VERIFY", "\uff50wd", "pwd\u0301"],
)
def test_a_label_that_is_not_ascii_is_dropped_before_folding(label) -> None:
    """The Kelvin sign lower-cases to k: o\u212ata_verify would become okta_verify."""
    decision = amr.decide(["pwd", label], TABLE)
    assert decision.before == ("pwd",)
    assert decision.assurance == "none"


def test_an_alias_spelled_in_another_script_is_refused(tmp_path, env) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"aliases": {"o\u212ata": "okta_verify"}}), "utf-8")
    env["PSC_AMR_RULES"] = str(rules)
    with pytest.raises(ConfigError, match="ASCII spellings"):
        load_settings(env)
