"""PSC's published amr sets, each with its source; the shipped rules cite theirs, and
check-config notes a rule whose output is none of them."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from hook.config import load_amr_table
from hook.psc_amr_sets import MIE, PUBLISHED, of_assurance, published
from tests.support.cli_runner import run, use_env
from tests.support.settings import BASE_ENV

SHIPPED = json.loads(resources.files("hook").joinpath("amr_rules.json").read_text("utf-8"))
#: A rule an operator may add: it invents nothing, and gives no set PSC has published.
UNPUBLISHED = {"name": "password-fido2", "when": ["pwd", "pop"], "amr": ["pwd", "pop"]}


def test_pscs_sets_are_the_reference_integrations_two() -> None:
    assert {(known.assurance, " ".join(sorted(known.amr))) for known in PUBLISHED} == {
        ("substantiel", "mfa okta_verify pwd swk"),
        ("eleve", "hwk mfa pin sc"),
    }
    assert all(known.source == MIE for known in PUBLISHED)
    assert "Lyvoc/okta-prosanteconnect" in MIE and "MIE.md" in MIE
    assert published(["SC", "hwk", "pin", "mfa"]) == of_assurance("eleve")
    assert published(["pwd", "pop", "hwk", "mfa"]) is None  # FIDO2: no published set
    with pytest.raises(KeyError):
        of_assurance("none")


@pytest.mark.parametrize("rule", SHIPPED["rules"], ids=lambda rule: rule["name"])
def test_every_shipped_rule_gives_a_published_set_and_cites_its_source(rule) -> None:
    known = published(rule["amr"])
    assert known is not None
    assert known.assurance == rule["assurance"]
    assert (
        "Lyvoc/okta-prosanteconnect, MIE.md, 'Valeurs AMR spécifiques pour Okta'"
        in (rule["source"])
    )


def test_an_operators_rule_may_cite_its_source(tmp_path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{**UNPUBLISHED, "source": "our own review"}]}))
    table = load_amr_table(path)
    assert "password-fido2" in [rule.name for rule in table.rules]


def test_check_config_notes_a_rule_whose_output_is_no_published_set(
    capsys, monkeypatch, tmp_path
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [UNPUBLISHED]}))
    use_env(monkeypatch, {**BASE_ENV, "PSC_AMR_RULES": str(path)})
    result = run(capsys, "check-config")
    assert result.code == 0, result.err
    note = "amr rule 'password-fido2' gives pwd pop: none of PSC's published sets"
    assert f"  - {note}" in result.out.splitlines()  # among the notes, as the issue says
    assert "  password-fido2: pop + pwd -> pwd pop (none)\n    ! none of PSC's published" in (
        result.out
    )
    assert f"    PSC's substantiel set: {MIE}" in result.out
    plan = run(capsys, "check-config", "--json").json()
    assert note in plan["notes"] and note not in plan["warnings"]
    sets = {rule["name"]: rule["psc_set"] for rule in plan["amr_rules"]}
    assert sets["password-fido2"] is None
    assert sets["cps-smart-card"] == {"assurance": "eleve", "source": MIE}
