"""``psc-hook check-config``, ``samples``, ``preview`` and ``send``.

``send`` runs against the real service under gunicorn (the Procfile's command) on loopback,
in header mode and in OAuth mode with a real JWKS server; ``preview`` runs on every sample.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from typing import Any

import pytest

from hook import payload, samples
from hook.answer import build_answer
from hook.cli.environment import DEMO_ENVIRONMENT
from hook.config import ConfigError, load_settings
from tests.support.cli_runner import run, use_env
from tests.support.jwks_server import FIRST_KID, mint, oauth_environment, signing_key
from tests.support.personal import PERSONAL
from tests.support.processes import Server, free_port
from tests.support.settings import BASE_ENV, OTHER_SECRET, SECRET

SAMPLES = list(samples.DESCRIPTIONS)
TENANT = BASE_ENV["PSC_TENANT_ID"]


@pytest.fixture(autouse=True)
def base_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, BASE_ENV)


def token_user(document: dict[str, Any]) -> str | None:
    """Who a sample's tokens are for, read straight from the sample."""
    data = document["data"]
    return ((data.get("identity") or {}).get("claims") or {}).get("sub") or (
        (data.get("access") or {}).get("claims") or {}
    ).get("uid")


def expected_answer(name: str, env: dict[str, str] = BASE_ENV):
    """What the service decides for a sample, in-process (the reference for send)."""
    return build_answer(payload.parse(json.dumps(samples.load(name)).encode()), load_settings(env))


# check-config -----------------------------------------------------------------------------


def test_check_config_prints_the_plan(capsys):
    result = run(capsys, "check-config")
    assert result.code == 0, result.err
    assert "Configuration is valid" in result.out
    assert re.search(r"tid +OKTA_chu-exemple -> ID token and access token", result.out)
    assert re.search(r"amr .* -> access token\n", result.out)
    assert "header: Okta sends the secret in 'Authorization' (1 accepted" in result.out
    assert "min assurance  none (no gate)" in result.out
    assert "password-okta-verify: okta_verify + pwd -> swk mfa pwd okta_verify" in result.out
    [warning] = [line for line in result.out.splitlines() if line.startswith("  ! 'oid'")]
    assert warning == (
        "  ! 'oid' in the ID token: reserved in Okta's docs, yet the PSC reference uses it;"
        " try Preview"
    )
    assert len(warning) <= 100  # one line of a terminal
    assert SECRET not in result.out + result.err


def test_check_config_json_is_the_plan_as_data(capsys, monkeypatch, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"aliases": {"google_otp": "otp"}}))
    for name, value in {
        "PSC_CLIENT_IDS": "0oa1pscClient0Example7",
        "PSC_CLAIMS_ID_TOKEN": "tid,kc_idp_hint",
        "PSC_KC_IDP_HINT": "OKTA_chu-exemple",
        "PSC_MIN_ASSURANCE": "substantiel",
        "PSC_AMR_RULES": str(rules),
        "HOOK_SECRETS": f"{SECRET},{OTHER_SECRET}",
    }.items():
        monkeypatch.setenv(name, value)
    plan = run(capsys, "check-config", "--json").json()
    assert plan["claims"] == {"identity": ["tid", "kc_idp_hint"], "access": ["tid", "oid", "amr"]}
    assert plan["clients"] == ["0oa1pscClient0Example7"]
    assert plan["min_assurance"] == "substantiel"
    first = "sha256 " + hashlib.sha256(SECRET.encode()).hexdigest()[:12]  # the newest
    assert plan["auth"] == {
        "modes": ["header"],
        "header": {"name": "Authorization", "secrets": 2, "first": first},
    }
    assert plan["amr_aliases"]["google_otp"] == "otp"
    assert plan["warnings"] == [
        "PSC_CLAIMS_ID_TOKEN leaves out oid: PSC reads tid and oid in the ID token"
    ]
    assert [rule["name"] for rule in plan["amr_rules"]] == [
        "cps-smart-card",
        "password-okta-verify",
    ]


def test_check_config_shows_the_oauth_plan(capsys, monkeypatch):
    for name, value in {
        "HOOK_AUTH_MODE": "header,oauth",
        "HOOK_OAUTH_ISSUER": "https://chu-exemple.okta.com/oauth2/aus9hook",
        "HOOK_OAUTH_AUDIENCE": "api://psc-token-hook",
        "HOOK_OAUTH_SCOPES": "psc.hook",
    }.items():
        monkeypatch.setenv(name, value)
    result = run(capsys, "check-config")
    assert result.code == 0, result.err
    assert (
        "oauth: a bearer from https://chu-exemple.okta.com/oauth2/aus9hook for audience"
        " 'api://psc-token-hook', keys at https://chu-exemple.okta.com/oauth2/aus9hook/v1/keys,"
        " scopes psc.hook, clients any, algorithms RS256"
    ) in result.out
    assert "HOOK_OAUTH_CLIENT_IDS" not in result.out  # a scope is set: no warning


def test_check_config_warns_when_any_token_of_the_issuer_would_do(capsys, monkeypatch):
    for name, value in {
        "HOOK_AUTH_MODE": "oauth",
        "HOOK_OAUTH_ISSUER": "https://chu-exemple.okta.com/oauth2/aus9hook",
        "HOOK_OAUTH_AUDIENCE": "api://psc-token-hook",
    }.items():
        monkeypatch.setenv(name, value)
    result = run(capsys, "check-config")
    assert result.code == 0, result.err
    warnings = [line for line in result.out.splitlines() if line.startswith("  ! ")]
    assert any("HOOK_OAUTH_SCOPES and HOOK_OAUTH_CLIENT_IDS are both unset" in w for w in warnings)


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"PSC_TENANT_ID": ""}, "PSC_TENANT_ID"),
        ({"HOOK_SECRETS": "short"}, "HOOK_SECRETS"),
        ({"PSC_CLAIMS_ACCESS_TOKEN": "tid,email"}, "PSC_CLAIMS_ACCESS_TOKEN"),
    ],
)
def test_check_config_exits_2_with_one_line(capsys, monkeypatch, change, variable):
    for name, value in change.items():
        monkeypatch.setenv(name, value)
    result = run(capsys, "check-config")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"psc-hook: configuration error: {variable}:")
    assert "Traceback" not in result.err


def test_check_config_demo_needs_nothing_else(capsys, monkeypatch):
    use_env(monkeypatch, {})
    assert run(capsys, "check-config").code == 2
    result = run(capsys, "check-config", "--demo", "--json")
    assert result.code == 0, result.err
    assert result.json()["tid"] == DEMO_ENVIRONMENT["PSC_TENANT_ID"]
    assert DEMO_ENVIRONMENT["HOOK_SECRETS"] not in result.out


def test_empty_placements_are_the_defaults_in_the_plan(capsys, monkeypatch):
    """Empty is unset, as for every variable: it never plans a service that patches nothing."""
    monkeypatch.setenv("PSC_CLAIMS_ID_TOKEN", "")
    monkeypatch.setenv("PSC_CLAIMS_ACCESS_TOKEN", "")
    plan = run(capsys, "check-config", "--json").json()
    assert plan["claims"] == {"identity": ["tid", "oid"], "access": ["tid", "oid", "amr"]}
    assert not [warning for warning in plan["warnings"] if "leaves out" in warning]
    answer = run(capsys, "preview", "password-okta-verify-push", "--json").json()["answer"]
    assert answer["status"] == 200


#: A plan that leaves out what PSC reads: the ID token gets no claim, the access token no amr.
THIN_PLAN = {"PSC_CLAIMS_ID_TOKEN": "none", "PSC_CLAIMS_ACCESS_TOKEN": "tid,oid"}
THIN_WARNINGS = [
    "PSC_CLAIMS_ID_TOKEN leaves out tid, oid: PSC reads tid and oid in the ID token",
    "PSC_CLAIMS_ACCESS_TOKEN leaves out amr: PSC reads tid, oid and amr in the access token",
]


def test_a_plan_without_what_psc_reads_is_a_warning_in_check_config(capsys, monkeypatch):
    for name, value in THIN_PLAN.items():
        monkeypatch.setenv(name, value)
    result = run(capsys, "check-config")
    assert result.code == 0, result.err
    assert re.search(r"tid +OKTA_chu-exemple -> access token\n", result.out)
    assert re.search(r"amr .* -> no token\n", result.out)
    for warning in THIN_WARNINGS:
        assert f"  ! {warning}\n" in result.out
    warnings = run(capsys, "check-config", "--json").json()["warnings"]
    assert [warning for warning in warnings if "leaves out" in warning] == THIN_WARNINGS


def test_a_plan_without_what_psc_reads_is_a_warning_in_preview(capsys, monkeypatch):
    for name, value in THIN_PLAN.items():
        monkeypatch.setenv(name, value)
    result = run(capsys, "preview", "password-okta-verify-push")
    assert result.code == 0, result.err
    assert "Okta applies the answer" in result.out
    for warning in THIN_WARNINGS:
        assert f"  warning: {warning}\n" in result.out
    shown = run(capsys, "preview", "password-okta-verify-push", "--json").json()
    assert shown["warnings"] == THIN_WARNINGS
    assert run(capsys, "preview", "cps-smart-card", "--json").json()["warnings"] == THIN_WARNINGS
    use_env(monkeypatch, BASE_ENV)
    assert run(capsys, "preview", "password-okta-verify-push", "--json").json()["warnings"] == []


def test_preview_needs_no_secret(capsys, monkeypatch):
    """It runs the hook in-process: how Okta authenticates to the service is not its business."""
    use_env(monkeypatch, {"PSC_TENANT_ID": TENANT})
    result = run(capsys, "preview", "password-okta-verify-push")
    assert result.code == 0, result.err
    assert "hook answer: HTTP 200 (patched)" in result.out


#: The exit codes each command can return, as its --help lists them (and no other).
EXIT_CODES = {
    "check-config": {0, 2},
    "samples": {0, 2},
    "preview": {0, 1, 2},
    "send": {0, 1, 2, 3},
    "register": {0, 1, 2, 3, 4, 5},
    "doctor": {0, 1, 2, 3, 4, 5},
    "check-token": {0, 1, 2, 3},
    "user-ref": {0, 2},
    "serve": {0, 2},
}


def test_help_documents_the_exit_codes(capsys):
    result = run(capsys, "register", "--help")
    assert result.code == 0
    for code in ("0  done", "2  bad configuration", "3  the Okta org is unreachable",
                 "4  Okta rejected the credentials", "5  Okta's rate limit"):  # fmt: skip
        assert code in result.out


@pytest.mark.parametrize("command", sorted(EXIT_CODES))
def test_each_help_lists_only_its_exit_codes_and_gives_an_example(capsys, command):
    result = run(capsys, command, "--help")
    assert result.code == 0
    codes = result.out.split("exit codes:\n", 1)[1]
    assert {int(code) for code in re.findall(r"^ +([0-9])  ", codes, re.M)} == EXIT_CODES[command]
    examples = result.out.split("example", 1)[1].split("exit codes:", 1)[0]
    assert f"psc-hook {command}" in examples
    assert "psc-token-hook" not in result.out


# samples ----------------------------------------------------------------------------------


def test_samples_lists_every_sample_with_its_description(capsys):
    result = run(capsys, "samples")
    assert result.code == 0
    for name, description in samples.DESCRIPTIONS.items():
        assert re.search(rf"^{re.escape(name)} +{re.escape(description)}$", result.out, re.M)
    listed = run(capsys, "samples", "--json").json()
    assert {entry["name"]: entry["description"] for entry in listed} == samples.DESCRIPTIONS


# preview ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_preview_shows_the_answer_and_the_tokens_okta_would_issue(capsys, name):
    document = samples.load(name)
    result = run(capsys, "preview", name, "--json", "--show-personal-data")
    assert result.code == 0, result.err
    shown = result.json()
    reference = expected_answer(name)
    assert shown["answer"] == {
        "status": reference.status,
        "outcome": reference.outcome,
        "body": reference.body,
    }
    assert shown["okta"]["voided"] is None
    requested = [kind for kind in ("identity", "access") if document["data"].get(kind)]
    assert sorted(shown["tokens"]) == sorted(requested)
    user = token_user(document)
    for kind in requested:
        claims = shown["tokens"][kind]
        original = document["data"][kind]["claims"]
        assert claims["tid"] == TENANT
        assert {key: claims[key] for key in original if key != "amr"} == {
            key: value for key, value in original.items() if key != "amr"
        }
        if user is None:
            assert "oid" not in claims
        else:
            assert claims["oid"] == user
    if "access" in requested and user is not None:
        assert shown["tokens"]["access"]["amr"] == reference.body["commands"][-1]["value"][-1][
            "value"]  # fmt: skip


@pytest.mark.parametrize("name", SAMPLES)
def test_preview_prints_for_a_person(capsys, name):
    result = run(capsys, "preview", name)
    assert result.code == 0, result.err
    assert result.out.startswith(f"{name}: {samples.DESCRIPTIONS[name]}")
    assert "hook answer: HTTP 200 (patched)" in result.out
    assert f'add /claims/tid = "{TENANT}"' in result.out
    assert "Okta applies the answer" in result.out
    assert "token claims after Okta applies it:" in result.out
    if samples.load(name)["data"].get("identity") and token_user(samples.load(name)):
        assert "note: 'oid' in the ID token: reserved in Okta's docs" in result.out


def test_preview_flags_an_op_okta_would_refuse(capsys, monkeypatch):
    monkeypatch.setenv("PSC_CLAIMS_ID_TOKEN", "tid,oid,amr")
    result = run(capsys, "preview", "password-okta-verify-push")
    assert result.code == 1
    assert "OKTA WOULD REFUSE THE PATCH: 'amr' is reserved in the ID token" in result.out
    assert "issued unmodified, without the PSC claims" in result.out
    shown = run(
        capsys, "preview", "password-okta-verify-push", "--json", "--show-personal-data"
    ).json()
    assert shown["okta"]["voided"] == "'amr' is reserved in the ID token"
    original = samples.load("password-okta-verify-push")["data"]
    assert shown["tokens"]["identity"] == original["identity"]["claims"]
    assert shown["tokens"]["access"] == original["access"]["claims"]


def test_preview_strict_treats_oid_in_the_id_token_as_refused(capsys):
    result = run(capsys, "preview", "refresh", "--strict", "--json")
    assert result.code == 1
    assert result.json()["okta"]["voided"] == "'oid' is reserved in the ID token"


def test_preview_shows_a_refused_token(capsys, monkeypatch):
    monkeypatch.setenv("PSC_MIN_ASSURANCE", "eleve")
    result = run(capsys, "preview", "password-only")
    assert result.code == 0
    assert "hook answer: HTTP 200 (refused-assurance)" in result.out
    assert "error: psc_assurance_too_low: Pro Sante Connect needs assurance eleve" in result.out
    assert "Okta mints no token: the client gets server_error" in result.out
    assert "token claims" not in result.out


def test_preview_of_an_out_of_scope_client(capsys, monkeypatch):
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaAnotherApp")
    result = run(capsys, "preview", "fastpass", "--client", "0oaIntranetApp")
    assert result.code == 0
    assert "playing client 0oaIntranetApp (--client)" in result.err
    assert "hook answer: HTTP 204 (out-of-scope-client)" in result.out
    assert "nothing to patch" in result.out


def test_preview_plays_the_first_configured_client(capsys, monkeypatch):
    """The samples carry their own client: with the real one configured they must play it,
    not answer 204 as if the service patched nothing."""
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaZZZRealPsc, 0oaAAASecond")
    result = run(capsys, "preview", "password-okta-verify-push")
    assert result.code == 0, result.err
    assert result.err == "psc-hook: playing client 0oaZZZRealPsc (the first of PSC_CLIENT_IDS)\n"
    assert "hook answer: HTTP 200 (patched)" in result.out
    shown = run(capsys, "preview", "password-okta-verify-push", "--json").json()
    assert shown["client"] == "0oaZZZRealPsc"
    assert shown["answer"]["status"] == 200
    assert shown["tokens"]["identity"]["aud"] == "0oaZZZRealPsc"
    assert shown["tokens"]["access"]["cid"] == "0oaZZZRealPsc"
    other = run(capsys, "preview", "password-okta-verify-push", "--client", "0oaAAASecond")
    assert "playing client 0oaAAASecond (--client)" in other.err
    assert "hook answer: HTTP 200 (patched)" in other.out


def test_preview_without_psc_client_ids_plays_the_sample_as_shipped(capsys):
    result = run(capsys, "preview", "refresh")
    assert result.code == 0, result.err
    sample_client = samples.client_of(samples.load("refresh"))
    assert f"playing client {sample_client} (the sample's own; PSC_CLIENT_IDS is unset)" in (
        result.err
    )


def test_preview_of_a_captured_file_keeps_its_client_unless_told(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaRealPsc")
    document = samples.as_client(samples.load("cps-smart-card"), "0oaRealPsc")
    path = tmp_path / "captured.json"
    path.write_text(json.dumps(document))
    result = run(capsys, "preview", str(path))
    assert "playing client 0oaRealPsc (as captured)" in result.err
    assert "hook answer: HTTP 200 (patched)" in result.out
    stranger = run(capsys, "preview", str(path), "--client", "0oaStranger", "--json")
    assert stranger.json()["client"] == "0oaStranger"
    assert stranger.json()["answer"]["status"] == 204


@pytest.mark.parametrize("name", SAMPLES)
def test_preview_masks_names_emails_and_logins(capsys, name):
    """Run on a captured request, preview must not print who signed in (check-token never
    does either); --show-personal-data is the operator's explicit choice."""
    for extra in ((), ("--json",)):
        result = run(capsys, "preview", name, *extra)
        assert result.code == 0, result.err
        for datum in PERSONAL:
            assert datum not in result.out + result.err, datum
    assert "(--show-personal-data)" in run(capsys, "preview", name).out
    shown = run(capsys, "preview", name, "--json").json()
    assert shown["personal_data"] == "masked"
    for kind, claims in shown["tokens"].items():
        original = samples.load(name)["data"][kind]["claims"]
        for claim in ("name", "email", "preferred_username"):
            if claim in original:
                assert claims[claim] == "****"
        assert claims.get("oid") == token_user(samples.load(name))
    visible = run(capsys, "preview", name, "--show-personal-data").out
    identity = (samples.load(name)["data"].get("identity") or {}).get("claims") or {}
    if "email" in identity:
        assert identity["email"] in visible


def test_preview_demo_uses_the_demo_tenant(capsys, monkeypatch):
    use_env(monkeypatch, {})
    shown = run(capsys, "preview", "cps-smart-card", "--demo", "--json").json()
    assert shown["tokens"]["identity"]["tid"] == DEMO_ENVIRONMENT["PSC_TENANT_ID"]
    assert shown["tokens"]["access"]["tid"] == DEMO_ENVIRONMENT["PSC_TENANT_ID"]


def test_preview_of_a_file(capsys, tmp_path):
    document = samples.load("client-credentials")
    document["data"]["access"]["claims"]["tid"] = "stale"
    path = tmp_path / "captured.json"
    path.write_text(json.dumps(document))
    shown = run(capsys, "preview", str(path), "--json").json()
    assert shown["payload"] == str(path)
    assert shown["tokens"]["access"]["tid"] == TENANT


def test_preview_of_a_file_that_is_not_a_hook_request(capsys, tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"eventType": "com.okta.user.pre-registration", "data": {}}))
    result = run(capsys, "preview", str(path))
    assert result.code == 1
    assert "not an Okta token inline hook request" in result.err
    assert "eventType" in result.err
    path.write_text("{not json")
    assert "not valid JSON" in run(capsys, "preview", str(path)).err


@pytest.mark.parametrize("command", ["preview", "send"])
def test_a_misspelt_sample_is_an_argument_error_naming_demo(capsys, monkeypatch, command):
    """Checked before any setting is read: with none set, the error is still the name."""
    use_env(monkeypatch, {})
    url = ("--url", "http://127.0.0.1:9/token-hook") if command == "send" else ()
    result = run(capsys, command, "cps-smart-crad", *url)
    assert result.code == 2
    assert "configuration error" not in result.err
    assert "Usage: psc-hook" in result.err
    assert "'cps-smart-crad' is neither a sample (did you mean 'cps-smart-card'?)" in result.err
    assert "--demo" in result.err


@pytest.mark.parametrize("command", ["preview", "send"])
@pytest.mark.parametrize(
    "nested", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000]
)
def test_a_file_nested_too_deep_is_an_argument_error(capsys, tmp_path, command, nested):
    """The standard library's reader recurses: it ended in a RecursionError traceback."""
    path = tmp_path / "deep.json"
    path.write_text(nested)
    url = ("--url", "http://127.0.0.1:9/token-hook") if command == "send" else ()
    result = run(capsys, command, str(path), "--demo", *url)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert f"'{path}' is JSON nested too deep to read" in result.err.splitlines()[-1]


# send, against the real service under gunicorn --------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("name", SAMPLES)
def test_send_every_sample_to_the_service(capsys, module_server: Server, name):
    result = run(capsys, "send", name, "--url", f"{module_server.url}/token-hook", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    reference = expected_answer(name)
    assert shown["status"] == reference.status
    assert shown["answer"] == reference.body
    assert re.fullmatch(r"[0-9a-f]{32}", shown["request_id"])
    assert module_server.log_line(shown["request_id"])["status"] == reference.status
    assert shown["latency_ms"] >= 0


@pytest.mark.process
def test_send_prints_for_a_person(capsys, module_server: Server):
    url = f"{module_server.url}/token-hook"
    result = run(capsys, "send", "cps-smart-card", "--url", url)
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert re.fullmatch(
        rf"POST {re.escape(url)} \(cps-smart-card\): HTTP 200 in [0-9.]+ ms,"
        r" request id [0-9a-f]{32}",
        first,
    )
    assert '"com.okta.identity.patch"' in result.out
    assert SECRET not in result.out + result.err


@pytest.mark.process
def test_send_plays_the_configured_client(capsys, start_server, monkeypatch):
    """Going live, step 3: with the real PSC_CLIENT_IDS the demo sample must be patched."""
    env = {**BASE_ENV, "PSC_CLIENT_IDS": "0oaRealPsc"}
    use_env(monkeypatch, env)
    url = f"{start_server(env).url}/token-hook"
    result = run(capsys, "send", "password-okta-verify-push", "--url", url)
    assert result.code == 0, result.err
    assert result.err == "psc-hook: playing client 0oaRealPsc (the first of PSC_CLIENT_IDS)\n"
    assert "HTTP 200" in result.out
    assert '"com.okta.access.patch"' in result.out
    shown = run(capsys, "send", "password-okta-verify-push", "--url", url, "--json").json()
    assert shown["client"] == "0oaRealPsc"
    assert shown["answer"]["commands"]
    stranger = run(capsys, "send", "refresh", "--url", url, "--client", "0oaStranger", "--json")
    assert stranger.json()["status"] == 204


@pytest.mark.process
def test_send_says_why_the_service_patched_nothing(capsys, start_server, monkeypatch):
    """Going live, step 3: a 204 names the client send played, and the likely cause."""
    url = f"{start_server({**BASE_ENV, 'PSC_CLIENT_IDS': '0oaRealPsc'}).url}/token-hook"
    own = samples.client_of(samples.load("password-okta-verify-push"))
    result = run(capsys, "send", "password-okta-verify-push", "--url", url)
    assert result.code == 0, result.err
    assert "HTTP 204" in result.out
    assert result.out.splitlines()[1] == (
        "  no body: the service patched nothing: it skips a client that is not in its"
        f" PSC_CLIENT_IDS, and this request played client {own} (the sample's own;"
        " PSC_CLIENT_IDS is unset); PSC_CLIENT_IDS is unset here: set it as on the service,"
        " and send plays its first"
    )
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaRealPsc")
    stranger = run(capsys, "send", "refresh", "--url", url, "--client", "0oaStranger", "--json")
    why = stranger.json()["why_nothing_patched"]
    assert "played client 0oaStranger (--client);" in why
    assert why.endswith("not in PSC_CLIENT_IDS here either: play the PSC app's client")
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaTestApp,0oaRealPsc")
    other = run(capsys, "send", "refresh", "--url", url, "--json").json()
    assert other["status"] == 204
    assert "played client 0oaTestApp (the first of PSC_CLIENT_IDS);" in other["why_nothing_patched"]
    assert "the service runs with another PSC_CLIENT_IDS" in other["why_nothing_patched"]
    patched = run(capsys, "send", "refresh", "--url", url, "--client", "0oaRealPsc", "--json")
    assert patched.json()["status"] == 200
    assert patched.json()["why_nothing_patched"] is None


@pytest.mark.process
def test_send_with_a_wrong_secret_shows_the_401(capsys, module_server: Server, monkeypatch):
    monkeypatch.setenv("HOOK_SECRETS", OTHER_SECRET)
    result = run(capsys, "send", "refresh", "--url", f"{module_server.url}/token-hook", "--json")
    assert result.code == 1
    shown = result.json()
    assert shown["status"] == 401
    assert shown["answer"]["title"] == "Unauthorized"
    assert OTHER_SECRET not in result.out


@pytest.mark.process
def test_send_needs_only_the_settings_it_uses(capsys, module_server: Server, monkeypatch):
    """Send plays Okta's call: the secret and the client, not the service's tenant or rules."""
    use_env(monkeypatch, {key: BASE_ENV[key] for key in ("HOOK_AUTH_MODE", "HOOK_SECRETS")})
    result = run(capsys, "send", "refresh", "--url", f"{module_server.url}/token-hook", "--json")
    assert result.code == 0, result.err
    assert result.json()["answer"] == expected_answer("refresh").body
    use_env(monkeypatch, {"HOOK_SECRETS": BASE_ENV["HOOK_SECRETS"]})
    assert run(capsys, "send", "refresh", "--url", f"{module_server.url}/token-hook").code == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HOOK_AUTH_MODE", "header,header", "'header,header' is not header, oauth or"),
        ("HOOK_AUTH_HEADER", "X Okta Secret", "'X Okta Secret' is not a valid header name"),
    ],
)
def test_send_reads_the_callers_settings_as_the_service_does(
    capsys, monkeypatch, variable, value, message
):
    """One reader of HOOK_AUTH_MODE and HOOK_AUTH_HEADER: what the service refuses, send
    refuses with the same words, before any call."""
    use_env(monkeypatch, {**BASE_ENV, variable: value})
    with pytest.raises(ConfigError, match=f"^{variable}: {re.escape(message)}"):
        load_settings(BASE_ENV | {variable: value})
    url = f"http://127.0.0.1:{free_port()}/token-hook"
    result = run(capsys, "send", "refresh", "--url", url)
    assert result.code == 2
    assert result.err.startswith(f"psc-hook: configuration error: {variable}: {message}")


def test_send_to_nothing_is_unreachable(capsys):
    url = f"http://127.0.0.1:{free_port()}/token-hook"
    result = run(capsys, "send", "refresh", "--url", url)
    assert result.code == 3
    assert "connection refused" in result.err


def test_send_refuses_plain_http_off_loopback(capsys):
    result = run(capsys, "send", "refresh", "--url", "http://hook.chu-exemple.fr/token-hook")
    assert result.code == 2
    assert "--url: must use https://" in result.err


@pytest.fixture
def oauth_server(jwks, start_server, monkeypatch) -> Server:
    env = {**BASE_ENV, **oauth_environment(jwks)}
    del env["HOOK_SECRETS"]
    use_env(monkeypatch, env)
    return start_server(env)


@pytest.mark.process
def test_send_in_oauth_mode_needs_a_bearer(capsys, oauth_server):
    result = run(capsys, "send", "refresh", "--url", f"{oauth_server.url}/token-hook")
    assert result.code == 2
    assert "HOOK_SEND_BEARER_TOKEN" in result.err


@pytest.mark.process
def test_send_presents_the_bearer_from_a_file_or_stdin(capsys, oauth_server, tmp_path):
    token = mint(signing_key(FIRST_KID))
    url = f"{oauth_server.url}/token-hook"
    path = tmp_path / "bearer.txt"
    path.write_text(f"Bearer {token}\n")
    result = run(capsys, "send", "fastpass", "--url", url, "--bearer", str(path), "--json")
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.json()["answer"] == expected_answer("fastpass").body
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(token))
        piped = run(capsys, "send", "fastpass", "--url", url, "--bearer", "-", "--json")
    assert piped.code == 0, piped.err
    assert piped.json()["status"] == 200
    assert token not in result.out + result.err + piped.out + piped.err
    assert token not in oauth_server.log()


@pytest.mark.process
def test_send_warns_of_a_bearer_on_the_command_line(capsys, oauth_server, tmp_path):
    token = mint(signing_key(FIRST_KID))
    url = f"{oauth_server.url}/token-hook"
    result = run(capsys, "send", "fastpass", "--url", url, "--bearer", token, "--json")
    assert result.code == 0, result.err
    assert result.json()["answer"] == expected_answer("fastpass").body
    assert result.err == (
        "psc-hook: warning: --bearer: a token on the command line is visible in ps and in your"
        " shell's history; give a file, or - to read it from standard input\n"
    )
    assert token not in result.out + result.err
    assert token not in oauth_server.log()
    missing = run(capsys, "send", "fastpass", "--url", url, "--bearer", str(tmp_path / "no.txt"))
    assert missing.code == 2
    assert "--bearer: no file" in missing.err


@pytest.mark.process
def test_send_presents_the_bearer_from_the_environment(capsys, oauth_server, monkeypatch):
    monkeypatch.setenv("HOOK_SEND_BEARER_TOKEN", mint(signing_key(FIRST_KID)))
    result = run(capsys, "send", "access-token-only", "--url", f"{oauth_server.url}/token-hook")
    assert result.code == 0, result.err
    monkeypatch.setenv("HOOK_SEND_BEARER_TOKEN", mint(signing_key("key-stranger")))
    refused = run(capsys, "send", "access-token-only", "--url", f"{oauth_server.url}/token-hook")
    assert refused.code == 1
    assert "HTTP 401" in refused.out
