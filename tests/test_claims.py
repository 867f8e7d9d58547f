"""The claim logic on every sample and edge, through Okta's rules, without HTTP."""

from __future__ import annotations

import copy
import json
import re

import pytest

from hook import refusals, samples
from hook.answer import build_answer
from hook.claims import compute
from hook.cli.okta_applier import apply_answer
from hook.config import load_settings
from hook.payload import parse
from tests.support.okta_schemas import validate

USER = "00u1abcd2EFGH3ijk4l5"
SUBSTANTIEL = ["swk", "mfa", "pwd", "okta_verify"]
ELEVE = ["sc", "pin", "mfa", "hwk"]

#: What each sample's tokens carry after Okta applies the answer (default settings).
EXPECTED = {
    "password-okta-verify-push": (USER, SUBSTANTIEL, "substantiel"),
    "password-okta-verify-totp": (USER, SUBSTANTIEL, "substantiel"),
    "cps-smart-card": (USER, ELEVE, "eleve"),
    "password-only": (USER, ["pwd"], "none"),
    "fastpass": (USER, ["okta_verify", "phr"], "none"),
    "refresh": (USER, SUBSTANTIEL, "substantiel"),
    "client-credentials": (None, None, None),
    "id-token-only": (USER, SUBSTANTIEL, "substantiel"),
    "access-token-only": (USER, SUBSTANTIEL, "substantiel"),
}


def run(body: dict, settings) -> tuple:
    answer = build_answer(parse(json.dumps(body).encode()), settings)
    return answer, apply_answer(body, answer.status, answer.body)


def test_every_flow_has_a_sample() -> None:
    assert set(EXPECTED) == set(samples.DESCRIPTIONS)


@pytest.mark.parametrize("name", list(samples.DESCRIPTIONS))
def test_samples_are_okta_token_requests(name) -> None:
    validate("TokenRequest", samples.load(name))


@pytest.mark.parametrize("name", list(samples.DESCRIPTIONS))
def test_every_sample_gets_its_psc_claims(name, settings) -> None:
    body = samples.load(name)
    oid, amr, assurance = EXPECTED[name]
    answer, outcome = run(body, settings)

    assert answer.status == 200
    validate("TokenHookResponse", answer.body)
    assert outcome.voided is None
    assert answer.assurance == assurance
    for kind in ("identity", "access"):
        assert (kind in outcome.tokens) == (kind in body["data"])
    if "identity" in outcome.tokens:
        token = outcome.tokens["identity"]
        assert token["tid"] == "OKTA_chu-exemple"
        assert token["oid"] == oid
        assert token["amr"] == body["data"]["identity"]["claims"]["amr"]  # Okta's own, kept
    if "access" in outcome.tokens:
        token = outcome.tokens["access"]
        assert token["tid"] == "OKTA_chu-exemple"
        assert token.get("oid") == oid
        assert token.get("amr") == amr


@pytest.mark.parametrize("name", list(samples.DESCRIPTIONS))
def test_commands_only_for_tokens_in_the_request(name, settings) -> None:
    body = samples.load(name)
    answer, _ = run(body, settings)
    types = [command["type"] for command in answer.body["commands"]]
    assert ("com.okta.identity.patch" in types) == ("identity" in body["data"])
    assert ("com.okta.access.patch" in types) == ("access" in body["data"])
    ops = [op for command in answer.body["commands"] for op in command["value"]]
    assert {op["op"] for op in ops} == {"add"}
    assert all(op["value"] not in (None, "", []) for op in ops)


def test_refresh_uses_the_tokens_user_not_the_context_user(settings) -> None:
    body = samples.load("refresh")
    assert body["data"]["context"]["user"]["id"] != USER
    decision = compute(parse(json.dumps(body).encode()), settings)
    assert decision.claims["oid"] == USER
    assert decision.context_mismatch


def test_refresh_ignores_the_other_users_session_amr(settings) -> None:
    body = samples.load("refresh")
    body["data"]["identity"]["claims"]["amr"] = ["pwd"]
    body["data"]["context"]["session"]["amr"] = ["sc", "swk"]  # someone else's card login
    decision = compute(parse(json.dumps(body).encode()), settings)
    assert decision.amr.after == ("pwd",)


def test_session_amr_counts_when_it_is_the_same_user(settings) -> None:
    body = samples.load("password-okta-verify-totp")
    body["data"]["identity"]["claims"]["amr"] = ["pwd"]
    body["data"]["context"]["session"]["amr"] = ["okta_verify", "otp"]
    decision = compute(parse(json.dumps(body).encode()), settings)
    assert decision.amr.assurance == "substantiel"


def test_missing_amr_everywhere_leaves_amr_out(settings) -> None:
    body = samples.load("password-only")
    del body["data"]["identity"]["claims"]["amr"]
    del body["data"]["context"]["session"]["amr"]
    answer, outcome = run(body, settings)
    assert "amr" not in outcome.tokens["access"]
    assert outcome.tokens["access"]["oid"] == USER
    assert answer.assurance == "none"


def test_client_credentials_has_no_oid_and_no_amr(settings) -> None:
    answer, outcome = run(samples.load("client-credentials"), settings)
    assert outcome.tokens == {
        "access": {
            **samples.load("client-credentials")["data"]["access"]["claims"],
            "tid": "OKTA_chu-exemple",
        }
    }
    assert answer.written == {"access": ["tid"]}


def test_client_out_of_scope_gets_204(env) -> None:
    env["PSC_CLIENT_IDS"] = "0oaAnotherClient, 0oaYetAnother"
    answer, outcome = run(samples.load("password-okta-verify-push"), load_settings(env))
    assert answer.status == 204
    assert answer.body is None
    assert "tid" not in outcome.tokens["access"]


def test_client_in_scope_is_patched(env) -> None:
    env["PSC_CLIENT_IDS"] = "0oaAnotherClient,0oa1pscClient0Example7"
    answer, _ = run(samples.load("password-okta-verify-push"), load_settings(env))
    assert answer.status == 200


def test_placement_follows_the_settings(env) -> None:
    env.update(
        PSC_CLAIMS_ID_TOKEN="tid,kc_idp_hint",
        PSC_CLAIMS_ACCESS_TOKEN="oid,amr,kc_idp_hint",
        PSC_KC_IDP_HINT="OKTA_chu-exemple",
    )
    answer, outcome = run(samples.load("cps-smart-card"), load_settings(env))
    assert answer.written == {
        "identity": ["tid", "kc_idp_hint"],
        "access": ["oid", "amr", "kc_idp_hint"],
    }
    assert outcome.tokens["identity"]["kc_idp_hint"] == "OKTA_chu-exemple"
    assert "tid" not in outcome.tokens["access"]
    assert outcome.tokens["access"]["amr"] == ELEVE


def test_kc_idp_hint_unset_is_left_out_not_empty(env) -> None:
    env["PSC_CLAIMS_ACCESS_TOKEN"] = "tid,kc_idp_hint"
    answer, _ = run(samples.load("password-only"), load_settings(env))
    paths = [op["path"] for c in answer.body["commands"] for op in c["value"]]
    assert "/claims/kc_idp_hint" not in paths


def test_nothing_to_place_gives_204(env) -> None:
    env.update(PSC_CLAIMS_ID_TOKEN="none", PSC_CLAIMS_ACCESS_TOKEN="oid")
    answer, _ = run(samples.load("client-credentials"), load_settings(env))
    assert (answer.status, answer.body, answer.outcome) == (204, None, "nothing-to-patch")


@pytest.mark.parametrize(
    ("minimum", "name", "refused"),
    [
        ("substantiel", "password-only", True),
        ("substantiel", "fastpass", True),
        ("substantiel", "password-okta-verify-push", False),
        ("substantiel", "cps-smart-card", False),
        ("eleve", "password-okta-verify-totp", True),
        ("eleve", "cps-smart-card", False),
        ("eleve", "client-credentials", True),  # no user: nothing proves the assurance
    ],
)
def test_assurance_gate(env, minimum, name, refused) -> None:
    env["PSC_MIN_ASSURANCE"] = minimum
    answer, outcome = run(samples.load(name), load_settings(env))
    assert answer.status == 200
    validate("TokenHookResponse", answer.body)
    assert ("error" in answer.body) is refused
    assert outcome.minted is not refused
    if refused:
        summary = answer.body["error"]["errorSummary"]
        assert minimum in summary
        assert "Camille" not in summary and "@" not in summary


def test_debug_context_says_what_was_decided(settings) -> None:
    answer, _ = run(samples.load("password-okta-verify-totp"), settings)
    assert answer.body["debugContext"] == {
        "identityTokenClaims": "tid,oid",
        "accessTokenClaims": "tid,oid,amr",
        "assurance": "substantiel",
        "amrBefore": "pwd okta_verify otp",
        "amrAfter": "swk mfa pwd okta_verify",
        "amrRule": "password-okta-verify",
    }


def test_claim_values_are_not_aliased_between_tokens(settings) -> None:
    body = copy.deepcopy(samples.load("cps-smart-card"))
    answer, outcome = run(body, settings)
    outcome.tokens["access"]["amr"].append("x")
    assert build_answer(parse(json.dumps(body).encode()), settings).body == answer.body


# --- the gate fails closed ------------------------------------------------------------------

GATES = ("substantiel", "eleve")


@pytest.mark.parametrize("minimum", GATES)
@pytest.mark.parametrize("name", ["client-credentials", "password-okta-verify-push"])
def test_with_a_gate_a_request_without_a_user_is_refused(env, minimum, name) -> None:
    env["PSC_MIN_ASSURANCE"] = minimum
    body = samples.load(name)
    for token, claim in (("identity", "sub"), ("access", "uid")):
        body["data"].get(token, {}).get("claims", {}).pop(claim, None)
    answer, outcome = run(body, load_settings(env))
    assert answer.status == 200
    validate("TokenHookResponse", answer.body)
    assert answer.body["error"]["errorSummary"].startswith("psc_user_unknown: ")
    assert answer.outcome == "refused-assurance"
    assert outcome.minted is False


def test_without_a_gate_a_request_without_a_user_still_gets_tid(settings) -> None:
    answer, outcome = run(samples.load("client-credentials"), settings)
    assert answer.outcome == "patched"
    assert outcome.tokens["access"]["tid"] == "OKTA_chu-exemple"


def test_a_session_without_user_id_is_no_evidence(env) -> None:
    """A password-only token became substantiel on an anonymous session's Okta Verify."""
    env["PSC_MIN_ASSURANCE"] = "substantiel"
    body = samples.load("password-only")
    body["data"]["context"]["session"].pop("userId", None)
    body["data"]["context"]["session"]["amr"] = ["pwd", "okta_verify", "otp"]
    decision = compute(parse(json.dumps(body).encode()), load_settings(env))
    assert decision.amr.assurance == "none"
    assert decision.refusal.summary.startswith("psc_assurance_too_low: ")


def test_a_kelvin_sign_does_not_fold_into_okta_verify(env) -> None:
    env["PSC_MIN_ASSURANCE"] = "substantiel"
    body = samples.load("password-only")
    body["data"]["identity"]["claims"]["amr"] = ["pwd", "o\u212ata_verify"]
    answer, outcome = run(body, load_settings(env))
    assert answer.body["error"]["errorSummary"].startswith("psc_assurance_too_low: ")
    assert outcome.minted is False


# --- what Okta passes on as error_description -------------------------------------------------


def _every_refusal(env) -> list[str]:
    """The summaries of every refusal path, under every gate and every reached level."""
    summaries = []
    for minimum in GATES:
        env["PSC_MIN_ASSURANCE"] = minimum
        settings = load_settings(env)
        for name in samples.DESCRIPTIONS:
            body = samples.load(name)
            for anonymous in (False, True):
                if anonymous:
                    for token, claim in (("identity", "sub"), ("access", "uid")):
                        body["data"].get(token, {}).get("claims", {}).pop(claim, None)
                answer, _ = run(body, settings)
                if answer.body and "error" in answer.body:
                    summaries.append(answer.body["error"]["errorSummary"])
    return summaries


def test_every_error_summary_is_short_printable_ascii_with_a_known_code(env) -> None:
    summaries = _every_refusal(env)
    codes = {summary.partition(": ")[0] for summary in summaries}
    assert {"psc_assurance_too_low", "psc_user_unknown"} <= codes  # each path was reached
    for summary in summaries:
        assert summary.partition(": ")[0] in refusals.REFUSALS
        assert refusals.ERROR_DESCRIPTION.fullmatch(summary), summary  # RFC 6749 5.2
        assert len(summary) <= refusals.MAX_SUMMARY_CHARS
    assert any("reached none" in summary for summary in summaries)
    assert any("reached substantiel" in summary for summary in summaries)


def test_every_code_is_psc_and_a_summary_outside_the_rfc_is_a_bug() -> None:
    for code, text in refusals.REFUSALS.items():  # rows no sample reaches are checked too
        assert re.fullmatch(r"psc_[a-z_]+", code)
        assert refusals.ERROR_DESCRIPTION.fullmatch(f"{code}: {text}"), code
    with pytest.raises(ValueError, match="printable ASCII"):
        refusals.summary("psc_user_unknown", required="Santé")
