"""The amr table: Okta's labels in, PSC's sets out, and nothing invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hook import amr, factors
from hook.config import ConfigError, load_amr_table, load_settings
from tests.support.cli_runner import run, use_env
from tests.support.settings import BASE_ENV

CPS_IDP = "0oa1cpsSmartCard0Idp7"
#: The shipped table, with the CPS card reader's IdP named (PSC_CPS_IDP_IDS).
TABLE = load_amr_table(cps_idps=frozenset({CPS_IDP}))
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
    totp = {
        "name": "password-totp",
        "when": ["pwd", "otp"],
        "amr": ["pwd", "otp", "mfa"],
        "assurance": "substantiel",
    }
    document = {"aliases": {"Google_OTP": "otp"}, "rules": [totp]}
    table = load_amr_table(rules_file(tmp_path, document), THROUGH_CPS)
    assert table.aliases == {"password": "pwd", "google_otp": "otp"}
    assert amr.decide(["PASSWORD", "google_otp"], table).after == ("pwd", "otp", "mfa")
    assert amr.decide(["pwd", "okta_verify"], table).after == SUBSTANTIEL


def test_operator_rule_replaces_a_shipped_rule_by_name(tmp_path) -> None:
    card = {
        "name": "cps-smart-card",
        "when": ["sc", "pin"],
        "amr": ["sc", "pin", "mfa", "hwk"],
        "assurance": "eleve",
        "assurance_override": "the reader checks the PIN on the card, which holds its key",
    }
    table = load_amr_table(rules_file(tmp_path, {"rules": [card]}))
    assert amr.decide(["sc", "swk"], table).assurance == "none"
    assert amr.decide(["sc", "pin"], table).assurance == "eleve"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON: nested too deep to read"),
        ("[]", "must hold a JSON object"),
        ('{"rules": [{"when": ["pwd"], "amr": ["pwd"]}]}', "needs a name"),
        ('{"rules": [{"name": "r", "when": [], "amr": ["pwd"]}]}', "when must be a non-empty"),
        ('{"rules": [{"name": "r", "when": ["pwd"], "amr": ["PWD"]}]}', "not a lower-case"),
        (
            '{"rules": [{"name": "r", "when": ["pwd"], "amr": ["pwd"], "assurance": "max"}]}',
            "assurance must be",
        ),
        ('{"aliases": {"a": 1}}', "'aliases' must map"),
        (
            '{"rule": [{"name": "r", "when": ["pwd"], "amr": ["pwd"]}]}',
            "the file: unknown key 'rule'; allowed: aliases, rules",
        ),
        (
            '{"rules": [{"name": "r", "when": ["pwd"], "amr": ["pwd"], "asurance": "eleve"}]}',
            "rule 'r': unknown key 'asurance'",
        ),
        (
            '{"rules": [{"name": "r", "when": ["pwd"], "amr": ["pwd"], "assurance_override": ""}]}',
            "assurance_override must be the reason",
        ),
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


FORGERIES = [
    {"when": ["pwd"], "amr": ["pwd", "mfa"], "assurance": "none"},
    {"when": ["swk"], "amr": ["swk", "hwk"], "assurance": "none"},
    {"when": ["pwd"], "amr": ["pwd"], "assurance": "eleve"},
    {"when": ["pwd", "pin"], "amr": ["pwd", "pin", "mfa"], "assurance": "substantiel"},
    {"when": ["okta_verify", "swk"], "amr": ["swk", "hwk", "mfa"], "assurance": "substantiel"},
    {"when": ["custom_card"], "amr": ["sc", "pin", "mfa", "hwk"], "assurance": "eleve"},
    # a factor that did not happen, even one short of mfa
    {"when": ["pwd"], "amr": ["pwd", "otp"], "assurance": "none"},
    {"when": ["pwd"], "amr": ["pwd", "otp"], "assurance": "substantiel"},
    {"when": ["pwd"], "amr": ["pwd"], "assurance": "substantiel"},
    {"when": ["swk"], "amr": ["swk", "okta_verify"], "assurance": "none"},
    {"when": ["pwd", "okta_verify"], "amr": SUBSTANTIEL, "assurance": "eleve"},
    {"when": ["pwd", "okta_verify"], "amr": [*SUBSTANTIEL, "hwk"], "assurance": "substantiel"},
    # a label the table does not know proves nothing but itself
    {"when": ["pwd", "webauthn"], "amr": ["pwd", "webauthn", "mfa"], "assurance": "none"},
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_rule_claiming_what_its_evidence_does_not_prove_is_refused(
    tmp_path, env, forgery
) -> None:
    """SECURITY.md: such a rule forges assurance; it loads only with a stated reason."""
    rule = {"name": "forged", "assurance": "none", **forgery}
    env["PSC_AMR_RULES"] = str(rules_file(tmp_path, {"rules": [rule]}))
    with pytest.raises(ConfigError, match="does not prove") as error:
        load_settings(env)
    assert str(error.value).startswith("PSC_AMR_RULES: rule 'forged': claims ")
    assert "assurance_override" in str(error.value)
    assert "\n" not in str(error.value)
    rule["assurance_override"] = "our card reader checks the PIN itself"
    env["PSC_AMR_RULES"] = str(rules_file(tmp_path, {"rules": [rule]}))
    table = load_settings(env).amr_table
    assert amr.decide(forgery["when"], table).rule == "forged"


@pytest.mark.parametrize(
    ("evidence", "answer", "assurance"),
    [
        (["pwd", "okta_verify"], ["pwd", "okta_verify", "swk", "mfa"], "substantiel"),
        (["pwd", "pop"], ["pwd", "pop", "mfa"], "substantiel"),
        (["pwd", "mfa"], ["pwd", "mfa"], "substantiel"),  # Okta's own record of mfa
        (["fpt", "swk"], ["fpt", "swk", "mfa"], "substantiel"),
        (["pwd", "otp"], ["pwd", "otp", "mfa"], "substantiel"),
        (["google_otp"], ["otp"], "none"),
        (["pin", "hwk"], ["pin", "hwk", "mfa"], "eleve"),
        (["sc", "swk", "pwd"], ["sc", "pwd"], "none"),  # dropping a label forges nothing
    ],
)
def test_a_rule_may_respell_its_factors_and_add_mfa_for_two_classes(
    tmp_path, evidence, answer, assurance
) -> None:
    rule = {"name": "sound", "when": evidence, "amr": answer, "assurance": assurance}
    table = load_amr_table(rules_file(tmp_path, {"rules": [rule]}))
    assert amr.decide(evidence, table).rule == "sound"


@pytest.mark.parametrize(
    ("spelling", "label"),
    [("kba", "okta_verify"), ("pwd", "otp"), ("swk", "okta_verify"), ("carte_cps", "sc"),
     ("email", "mfa"), ("okta verify", "okta_verify")],
)  # fmt: skip
def test_an_alias_that_is_not_the_same_factor_is_refused(tmp_path, env, spelling, label) -> None:
    """SECURITY.md: kba -> okta_verify made the shipped rule claim mfa on a password and a
    security question, two knowledge factors."""
    env["PSC_AMR_RULES"] = str(rules_file(tmp_path, {"aliases": {spelling: label}}))
    with pytest.raises(ConfigError, match="does not prove") as error:
        load_settings(env)
    assert str(error.value).startswith(f"PSC_AMR_RULES: alias {spelling!r} -> {label!r}: ")


@pytest.mark.parametrize(
    ("spelling", "label"),
    [("PASSWORD", "pwd"), ("Okta_Verify", "okta_verify"), ("okta_verify", "swk"),
     ("google_otp", "otp")],
)  # fmt: skip
def test_an_alias_may_respell_a_factor(tmp_path, spelling, label) -> None:
    table = load_amr_table(rules_file(tmp_path, {"aliases": {spelling: label}}))
    assert table.aliases[spelling.lower()] == label


def test_every_factor_of_the_table_has_a_class_and_proves_only_its_own_class() -> None:
    """The factor classes are one table (psc.md): a spelling never crosses a class."""
    classes = {kind for kind, _ in factors.FACTORS.values()}
    assert classes == {"knowledge", "possession", "inherence"}
    for label, (kind, spellings) in factors.FACTORS.items():
        assert amr.LABEL.fullmatch(label)
        for other in spellings:
            assert factors.FACTORS[other][0] == kind, (label, other)
    assert factors.proven(["pwd", "kba", "pin"]) == {"pwd", "kba", "pin"}
    assert "mfa" in factors.proven(["pwd", "okta_verify"])


def test_the_shipped_card_rule_passes_only_by_its_stated_override() -> None:
    """Okta's smart card IdP records sc alone; PSC's own contract (MIE.md) makes it eleve."""
    shipped = json.loads((Path(amr.__file__).parent / "amr_rules.json").read_text("utf-8"))
    [card] = [rule for rule in shipped["rules"] if rule["name"] == "cps-smart-card"]
    assert "MIE.md" in card["assurance_override"]
    del card["assurance_override"]
    with pytest.raises(amr.AmrRulesError, match="rule 'cps-smart-card': claims hwk, mfa, pin,"):
        amr._parse(shipped, frozenset())


def test_the_shipped_push_rule_needs_no_override() -> None:
    """pwd + okta_verify: two factor classes (mfa), and Okta Verify is a software key (swk)."""
    shipped = json.loads((Path(amr.__file__).parent / "amr_rules.json").read_text("utf-8"))
    [push] = [rule for rule in shipped["rules"] if rule["name"] == "password-okta-verify"]
    assert "assurance_override" not in push
    assert factors.unproven(push["when"], push["amr"], push["assurance"]) == []


def test_a_misspelt_rules_key_stops_the_cli_with_one_line(tmp_path, monkeypatch, capsys) -> None:
    path = rules_file(tmp_path, {"rule": [{"name": "r", "when": ["pwd"], "amr": ["pwd"]}]})
    use_env(monkeypatch, {**BASE_ENV, "PSC_AMR_RULES": str(path)})
    result = run(capsys, "check-config")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith("psc-hook: configuration error: PSC_AMR_RULES: the file:")


def test_missing_rules_file_is_a_config_error(tmp_path, env) -> None:
    env["PSC_AMR_RULES"] = str(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="PSC_AMR_RULES: cannot read"):
        load_settings(env)


def test_a_decision_is_remembered_and_the_memory_is_bounded() -> None:
    table = load_amr_table()
    first = amr.decide(["pwd", "okta_verify"], table)
    assert amr.decide(("pwd", "okta_verify"), table) is first
    assert amr.decide(["okta_verify", "pwd"], table).after == first.after  # its own entry
    for index in range(amr.KNOWN_DECISIONS + 10):
        assert amr.decide(["pwd", f"factor{index}"], table).assurance == "none"
    assert len(table.cache) == amr.KNOWN_DECISIONS
    long_input = ["pwd"] * (amr.KNOWN_LABELS + 1)
    assert amr.decide(long_input, table).after == ("pwd",)
    assert (frozenset(), *long_input) not in table.cache
    assert table == load_amr_table()  # the cache is not part of what the table is


def test_remembered_decisions_are_per_table(tmp_path) -> None:
    rule = {"name": "password-key", "when": ["pwd", "pop"], "amr": ["pwd", "pop", "mfa"]}
    extension = rules_file(tmp_path, {"rules": [{**rule, "assurance": "substantiel"}]})
    shipped, extended = load_amr_table(), load_amr_table(extension)
    assert amr.decide(["pwd", "pop"], shipped).assurance == "none"
    assert amr.decide(["pwd", "pop"], extended).assurance == "substantiel"


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
