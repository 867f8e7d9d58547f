"""``psc-hook evidence``: the dossier for ANS, without an org and with doctor's audit of the
fake Okta; in French and in English; its checksums checked by the real ``sha256sum``; and
never a person's name, email or login, nor a secret."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hook import samples
from hook.cli import dossier
from hook.cli.audit_log import EXECUTED
from hook.cli.dossier_words import AREA_NAMES, FLOW_NAMES
from tests.support.cli_runner import run
from tests.support.doctor_org import (
    AUTH_POLICY,
    LOCAL_ENV,
    PASSWORD,
    PSC_CLIENT,
    header_hook,
    possession,
    wire,
)
from tests.support.fake_okta import LOG_ACTOR, TOKEN
from tests.support.processes import free_port
from tests.support.settings import OTHER_SECRET, SECRET

#: The org, the service it calls (conftest's okta, hinted_service) and the doctor's settings.
pytestmark = pytest.mark.usefixtures("doctor_env")

#: An Okta Verify code after the password: the hook makes it PSC's set, in one token.
TOTP = possession("totp")
FILES = ("evidence.md", "evidence.json", "SHA256SUMS")
#: The claims and fields of the samples that name a person.
PERSONAL_KEYS = {"name", "given_name", "family_name", "email", "preferred_username", "login",
                 "firstName", "lastName"}  # fmt: skip


def evidence(capsys, out: Path, *extra: str):
    return run(capsys, "evidence", "--out", str(out), *extra)


def read(out: Path) -> tuple[str, dict]:
    return (out / "evidence.md").read_text(), json.loads((out / "evidence.json").read_text())


def personal_values() -> set[str]:
    """Every name, email and login in the shipped samples (and the System Log's actor)."""
    found: set[str] = set(LOG_ACTOR.values()) - {LOG_ACTOR["id"], LOG_ACTOR["type"]}

    def walk(value, key=""):
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, name)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, key)
        elif isinstance(value, str) and (key in PERSONAL_KEYS or "@" in value):
            found.add(value)

    for name in samples.DESCRIPTIONS:
        walk(samples.load(name))
    found -= {"Pro Santé Connect", "oidc_client"}  # the client's name, not a person's
    return found | {part for value in found for part in value.replace("@", " ").split()
                    if len(part) > 4 and part[0].isupper()}  # fmt: skip


# without an org ---------------------------------------------------------------------------


@pytest.mark.process
def test_without_an_org_the_dossier_is_french_and_says_what_is_missing(capsys, tmp_path, okta):
    out = tmp_path / "dossier"
    result = evidence(capsys, out)
    assert result.code == 0, result.err
    assert sorted(path.name for path in out.iterdir()) == sorted(FILES)
    text, data = read(out)
    assert text.startswith("# Dossier de preuve de conformité : psc-token-hook\n")
    for heading in ("## 1. Version", "## 2. Configuration", "## 3. Règles `amr` en vigueur",
                    "## 4. Parcours joués à travers cette configuration",
                    "## 5. Audit de l'org Okta"):  # fmt: skip
        assert f"\n{heading}\n" in text, heading
    assert "a été lancé sans `--org` et n'a donc pas lu l'org Okta" in text
    for area in dossier.AREAS:
        assert AREA_NAMES["fr"][area][1:] in text
    assert data["audit"] == {"done": False, "missing": list(dossier.AREAS), "why": "no-org"}
    assert data["lang"] == "fr"
    for name in samples.DESCRIPTIONS:
        assert f"### {name}: {FLOW_NAMES[name]}" in text
    assert okta.fake.requests == []
    assert "Without --org" in result.out


def test_the_dossier_in_english(capsys, tmp_path):
    out = tmp_path / "dossier"
    assert evidence(capsys, out, "--lang", "en").code == 0
    text, data = read(out)
    assert text.startswith("# Evidence of conformity: psc-token-hook\n")
    assert "## 4. Flows played through this configuration" in text
    assert "ran without `--org`, so it did not read the Okta org" in text
    assert f"### password-only: {samples.DESCRIPTIONS['password-only']}" in text
    assert "| `tid` | `OKTA_chu-exemple` | yes | yes |" in text
    assert data["lang"] == "en"


@pytest.mark.process
def test_sha256sum_checks_the_dossier(capsys, tmp_path):
    out = tmp_path / "dossier"
    assert evidence(capsys, out).code == 0
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "coreutils' sha256sum"
    checked = subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "evidence.md: OK\nevidence.json: OK\n"
    with (out / "evidence.md").open("a") as changed:
        changed.write("tampered\n")
    checked = subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert checked.returncode == 1
    assert "evidence.md: FAILED" in checked.stdout


def test_the_release_and_the_locks_hash(capsys, tmp_path):
    out = tmp_path / "dossier"
    assert evidence(capsys, out).code == 0
    text, data = read(out)
    lock = hashlib.sha256((dossier.SOURCE_ROOT / "requirements.txt").read_bytes()).hexdigest()
    assert data["release"]["lock"] == {"file": "requirements.txt", "sha256": lock,
                                       "available": True}  # fmt: skip
    assert f"sha256 `{lock}`" in text
    installed = {d["name"].lower(): d["version"] for d in data["release"]["dependencies"]}
    assert {"flask", "pyjwt", "cryptography", "gunicorn"} <= installed.keys()
    assert all(installed.values())
    assert f"- flask {installed['flask']}" in text
    assert dossier.lock(tmp_path) == {"file": "requirements.txt", "sha256": None,
                                      "available": False}  # fmt: skip


def test_an_installed_package_says_its_lock_is_not_available(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(dossier, "SOURCE_ROOT", tmp_path / "site-packages")
    out = tmp_path / "dossier"
    assert evidence(capsys, out).code == 0
    text, data = read(out)
    assert data["release"]["lock"]["available"] is False
    assert "Fichier de verrouillage des dépendances : non disponible." in text


def test_the_configuration_and_the_amr_rules_with_their_sources(capsys, tmp_path, monkeypatch):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{
        "name": "password-fido2", "when": ["pwd", "pop"], "amr": ["pwd", "pop", "mfa"],
        "assurance": "substantiel", "source": "ANS, courrier du 2 mars 2027",
        "why": "a FIDO2 key with a password"}]}))  # fmt: skip
    monkeypatch.setenv("PSC_AMR_RULES", str(rules))
    monkeypatch.setenv("PSC_MAX_AUTH_AGE", "4h")
    out = tmp_path / "dossier"
    assert evidence(capsys, out).code == 0
    text, data = read(out)
    assert f"- Clients concernés (`PSC_CLIENT_IDS`) : `{PSC_CLIENT}`." in text
    assert "âge maximal de l'authentification (`PSC_MAX_AUTH_AGE`) : 4 h 00 min" in text
    assert ("| `password-fido2` | `pop` + `pwd` | tout IdP | `pwd pop mfa` | substantiel |"
            " `PSC_AMR_RULES` (fichier de l'établissement) |") in text  # fmt: skip
    assert "- `password-fido2`: source du jeu: ANS, courrier du 2 mars 2027" in text
    assert (
        "| `cps-smart-card` | `sc` | `0oa1cpsSmartCard0Idp7` | `sc pin mfa hwk` | eleve |" in text
    )
    shipped = [rule for rule in data["plan"]["amr_rules"] if rule["origin"] != "PSC_AMR_RULES"]
    assert len(shipped) == 2
    assert all("MIE.md" in rule["source"] for rule in shipped)
    # the age gate does not refuse the samples: they are played as sign-ins of just now
    [push] = [flow for flow in data["flows"] if flow["flow"] == "password-okta-verify-push"]
    assert push["answer"]["outcome"] == "patched"
    assert push["tokens"]["access"]["amr"] == ["swk", "mfa", "pwd", "okta_verify"]


def test_every_flow_is_played_with_its_patch_and_both_tokens(capsys, tmp_path):
    out = tmp_path / "dossier"
    assert evidence(capsys, out).code == 0
    text, data = read(out)
    flows = {flow["flow"]: flow for flow in data["flows"]}
    assert list(flows) == list(samples.DESCRIPTIONS)
    push = flows["password-okta-verify-push"]
    assert push["client"] == PSC_CLIENT
    assert push["okta"] == {"minted": True, "voided": None, "notes": push["okta"]["notes"]}
    assert push["tokens"]["identity"]["tid"] == push["tokens"]["access"]["tid"]
    assert push["tokens"]["identity"]["name"] == "****"
    assert '  add /claims/amr = ["swk", "mfa", "pwd", "okta_verify"]' in text
    assert "Claims du jeton d'identité après application :" in text
    assert flows["client-credentials"]["tokens"].keys() == {"access"}


# with the org -----------------------------------------------------------------------------


@pytest.mark.process
def test_with_an_org_the_dossier_holds_doctors_audit_by_area(capsys, tmp_path, okta):
    hook = wire(okta.fake)
    out = tmp_path / "dossier"
    result = evidence(capsys, out, "--org", okta.url, "--lang", "en", "--since", "7d")
    assert result.code == 0, result.out + result.err
    assert "The audit found nothing to fix." in result.out
    text, data = read(out)
    audit = data["audit"]
    assert (audit["done"], audit["findings"], audit["missing"]) == (True, 0, [])
    assert [area["area"] for area in audit["areas"]] == list(dossier.AREAS)
    assert "### The PSC apps' authentication policies" in text
    assert audit["system_log"]["calls"] == 1
    assert f"Org `{okta.url}`, PSC environment `sandbox`" in text
    assert "System Log read over the last 168 hours" in text
    assert "### What Okta did with the calls (System Log)" in text
    assert f"- ✓ The hook 'PSC claims' ({hook['id']}) is ACTIVE." in text
    assert "| 1 | 0 | 1 | 0 |" in text
    [logs] = [r for r in okta.fake.requests if r.path == "/api/v1/logs"]
    since, until = (datetime.fromisoformat(logs.query[key][0]) for key in ("since", "until"))
    assert until - since == timedelta(days=7)


@pytest.mark.process
def test_the_audits_notes_are_in_their_area(capsys, tmp_path, okta):
    """A note of doctor's (an Okta Verify code, PSC's set in the access token only) is in
    the area that made it, not lost with the findings and the holds."""
    wire(okta.fake)
    okta.fake.add_authentication_policy(
        PSC_CLIENT, AUTH_POLICY, constraints=({"knowledge": PASSWORD, "possession": TOTP},)
    )
    out = tmp_path / "dossier"
    assert evidence(capsys, out, "--org", okta.url).code == 0
    text, data = read(out)
    [policies] = [area for area in data["audit"]["areas"] if area["area"] == "policies"]
    [note] = policies["notes"]
    assert "lets a user in with the password + an Okta Verify code (TOTP)" in note
    assert f"- *À savoir :* {note[:40]}" in text


@pytest.mark.process
def test_the_audits_findings_are_in_the_dossier_and_exit_1(capsys, tmp_path, okta):
    hook = wire(okta.fake)
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "Timeout [x](https://evil.example)")
    okta.fake.hooks[hook["id"]]["name"] = "PSC ![pixel](https://evil.example/p.png) <b>x</b>"
    out = tmp_path / "dossier"
    result = evidence(capsys, out, "--org", okta.url, "--psc-env", "production")
    assert result.code == 1
    assert "The audit has 2 finding(s)" in result.out
    text, data = read(out)
    codes = [f["code"] for area in data["audit"]["areas"] for f in area["findings"]]
    assert codes == ["okta-calls-failed", "redirect-uri-missing"]
    assert "- ✗ `okta-calls-failed` Okta's System Log records 1 of its 2 calls" in text
    assert "*À faire :* Okta gives the hook 3 s" in text
    assert "2 constat(s) à corriger." in text
    assert "auth.esw.esante.gouv.fr" in text
    assert not re.search(r"(?<!\\)\]\(https://evil", text), "a link or an image"
    assert "Timeout \\[x\\](https://evil.example)" in text
    assert not re.search(r"(?<!\\)<b>", text), "HTML"
    assert "!\\[pixel\\](https://evil.example/p.png) \\<b>x\\</b>" in text


@pytest.mark.process
def test_an_org_without_the_hook_says_which_parts_the_audit_could_not_read(capsys, tmp_path, okta):
    okta.fake.add_app(PSC_CLIENT, [])
    out = tmp_path / "dossier"
    assert evidence(capsys, out, "--org", okta.url, "--lang", "en").code == 1
    text, data = read(out)
    assert data["audit"]["missing"] == ["rules", "system-log", "test-run"]
    assert data["audit"]["why"] == "no-hook"
    assert ("Without a hook in the org, the audit could not read: the rule that calls it and"
            " its clients; what Okta did with the calls (System Log); the test run of the hook"
            " by Okta.") in text  # fmt: skip
    assert "`hook-not-found`" in text


def test_an_org_that_cannot_be_read_writes_nothing(capsys, tmp_path):
    out = tmp_path / "dossier"
    result = evidence(capsys, out, "--org", f"http://127.0.0.1:{free_port()}")
    assert result.code == 3
    assert "connection refused Nothing was written." in result.err
    assert not out.exists()


def test_a_directory_that_cannot_be_written_is_2(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    result = evidence(capsys, tmp_path / "file" / "dossier")
    assert result.code == 2
    assert result.err.startswith("psc-hook: configuration error: --out: cannot write to")
    assert len(result.err.splitlines()) == 1


# no personal data, no secret --------------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_dossier_holds_no_personal_data_and_no_secret(capsys, tmp_path, okta, monkeypatch,
                                                          lang):  # fmt: skip
    secrets = {"HOOK_SECRETS": f"{SECRET},{OTHER_SECRET}", "OKTA_API_TOKEN": TOKEN,
               "METRICS_TOKEN": "metrics-token-0123456789-abcdefghijklmnop",
               "HOOK_SEND_BEARER_TOKEN": "send-bearer-0123456789-abcdefghijklmnop",
               "HOOK_REGISTER_CLIENT_SECRET": "register-secret-0123456789-abcdefgh"}  # fmt: skip
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    hook = wire(okta.fake, channel=header_hook(secret=SECRET))
    okta.fake.add_log_event(EXECUTED, hook["id"], "FAILURE", "Timeout")
    out = tmp_path / lang
    assert evidence(capsys, out, "--org", okta.url, "--lang", lang).code == 1
    written = "\n".join((out / name).read_text() for name in FILES).lower()
    personal = personal_values()
    assert {"Camille Martin", "camille.martin@chu-exemple.fr", "Camille", "Martin"} <= personal
    assert sorted(value for value in personal if value.lower() in written) == []
    for value in {*secrets.values(), SECRET, OTHER_SECRET, LOCAL_ENV["OKTA_API_TOKEN"]}:
        assert value.lower() not in written
    assert "****" in written  # the samples' people, masked


def test_the_dossier_reads_no_secret_of_the_service(capsys, tmp_path, monkeypatch):
    """Like doctor, evidence runs without HOOK_SECRETS: the plan says the channel's header
    and that its secrets stay on the service, with no count and no fingerprint."""
    monkeypatch.delenv("HOOK_SECRETS", raising=False)
    out = tmp_path / "dossier"
    assert evidence(capsys, out, "--lang", "en").code == 0
    text, data = read(out)
    assert data["plan"]["auth"]["header"]["secrets"] is None
    assert data["plan"]["auth"]["header"]["first"] is None
    assert "(`HOOK_SECRETS` is not read for the dossier: the secrets stay on the service)" in text


def test_the_demo_settings_make_a_dossier_to_look_at(capsys, monkeypatch, tmp_path):
    """As the other commands take --demo: what make run serves, without an environment."""
    for name in ("PSC_TENANT_ID", "HOOK_AUTH_MODE", "HOOK_SECRETS"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "dossier"
    result = run(capsys, "evidence", "--out", str(out), "--demo")
    assert result.code == 0, result.err
    text, data = read(out)
    assert "`OKTA_demo-hospital`" in text
    assert data["audit"]["done"] is False
