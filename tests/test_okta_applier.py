"""The Okta-faithful applier refuses what Okta refuses, so the other tests can trust it."""

from __future__ import annotations

import pytest

from hook.cli.okta_applier import apply_answer
from hook.okta import RESERVED_CLAIMS, claim_path, reserved_reason
from tests.support.okta_schemas import EXAMPLES

REQUEST = EXAMPLES["TokenPayLoadExample"]
ID_ONLY = {
    "data": {
        "identity": {
            "claims": {"sub": "00u1", "amr": ["pwd"], "prefs": ["a", "b"], "profile": {"dept": "x"}}
        }
    }
}


def patch(kind: str, *ops: dict) -> dict:
    return {"commands": [{"type": f"com.okta.{kind}.patch", "value": list(ops)}]}


def test_okta_example_answer_applies() -> None:
    outcome = apply_answer(REQUEST, 200, EXAMPLES["TokenHookResponse"])
    assert outcome.voided is None
    assert outcome.tokens["identity"]["extPatientId"] == "1234"
    assert outcome.tokens["access"]["external_guid"].startswith("F0384685")


def test_okta_examples_of_lifetime_and_remove() -> None:
    assert apply_answer(REQUEST, 200, EXAMPLES["TokenHookModifyLifetime"]).voided is None
    answer = EXAMPLES["TokenHookRemoveClaim"]
    # The example removes claims the example request does not carry: Okta voids that.
    assert "does not exist" in apply_answer(REQUEST, 200, answer).voided


@pytest.mark.parametrize(
    ("request_body", "answer", "reason"),
    [
        (
            ID_ONLY,
            patch("access", {"op": "add", "path": "/claims/tid", "value": "t"}),
            "not requested",
        ),
        (ID_ONLY, {"commands": [{"type": "com.okta.saml.patch", "value": []}]}, "unknown type"),
        (
            ID_ONLY,
            patch("identity", {"op": "move", "path": "/claims/tid", "value": "t"}),
            "invalid op",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/iss", "value": "t"}),
            "reserved",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/amr", "value": ["mfa"]}),
            "reserved",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "replace", "path": "/claims/tid", "value": "t"}),
            "does not exist",
        ),
        (ID_ONLY, patch("identity", {"op": "remove", "path": "/claims/tid"}), "does not exist"),
        (
            ID_ONLY,
            patch("identity", {"op": "remove", "path": "/claims/prefs/0", "value": "a"}),
            "other than null",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/prefs/5", "value": "c"}),
            "out of range",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/prefs/01", "value": "c"}),
            "bad array index",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/nope/x", "value": "c"}),
            "does not exist",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/claims/tid", "value": None}),
            "without a value",
        ),
        (
            ID_ONLY,
            patch("identity", {"op": "add", "path": "/token/x", "value": 1}),
            "not under /claims/",
        ),
        (
            ID_ONLY,
            patch(
                "identity", {"op": "replace", "path": "/token/lifetime/expiration", "value": 100}
            ),
            "lifetime",
        ),
        (
            {"data": {"access": {"claims": {}}}},
            patch("access", {"op": "add", "path": "/claims/scp", "value": ["x"]}),
            "reserved",
        ),
    ],
)
def test_one_bad_op_voids_everything(request_body, answer, reason) -> None:
    command = answer["commands"][0]
    good = {"op": "add", "path": "/claims/good", "value": "kept?"}
    command["value"] = [good, *command["value"]]
    outcome = apply_answer(request_body, 200, answer)
    assert reason in outcome.voided
    assert all("good" not in claims for claims in outcome.tokens.values())


def test_members_and_arrays() -> None:
    outcome = apply_answer(
        ID_ONLY,
        200,
        patch(
            "identity",
            {"op": "add", "path": "/claims/prefs/-", "value": "c"},
            {"op": "add", "path": "/claims/prefs/0", "value": "z"},
            {"op": "replace", "path": "/claims/profile/dept", "value": "y"},
            {"op": "add", "path": "/claims/profile/site", "value": "s"},
            {"op": "remove", "path": "/claims/prefs/1", "value": None},
        ),
    )
    assert outcome.voided is None
    assert outcome.tokens["identity"]["prefs"] == ["z", "b", "c"]
    assert outcome.tokens["identity"]["profile"] == {"dept": "y", "site": "s"}


def test_add_replaces_an_existing_claim() -> None:
    outcome = apply_answer(
        ID_ONLY, 200, patch("identity", {"op": "add", "path": "/claims/prefs", "value": "only"})
    )
    assert outcome.tokens["identity"]["prefs"] == "only"


def test_escaped_claim_names() -> None:
    assert claim_path("a/b~c") == "/claims/a~1b~0c"
    outcome = apply_answer(
        ID_ONLY, 200, patch("identity", {"op": "add", "path": claim_path("a/b~c"), "value": "v"})
    )
    assert outcome.tokens["identity"]["a/b~c"] == "v"


def test_oid_in_the_id_token_is_tolerated_with_a_note_unless_strict() -> None:
    answer = patch("identity", {"op": "add", "path": "/claims/oid", "value": "00u1"})
    lenient = apply_answer(ID_ONLY, 200, answer)
    assert lenient.voided is None and "reserved" in lenient.notes[0]
    strict = apply_answer(ID_ONLY, 200, answer, tolerate=())
    assert "reserved" in strict.voided


def test_statuses() -> None:
    assert apply_answer(ID_ONLY, 204).tokens == {"identity": ID_ONLY["data"]["identity"]["claims"]}
    assert "skipped" in apply_answer(ID_ONLY, 500, None).voided
    refused = apply_answer(ID_ONLY, 200, {"error": {"errorSummary": "no"}})
    assert not refused.minted and refused.tokens == {}


def test_reserved_table() -> None:
    assert {"oid", "amr", "sub"} <= RESERVED_CLAIMS["identity"]
    assert {"uid", "scp"} <= RESERVED_CLAIMS["access"]
    assert "amr" not in RESERVED_CLAIMS["access"] and "sub" not in RESERVED_CLAIMS["access"]
    assert reserved_reason("access", "tid") is None
    assert "void" in reserved_reason("identity", "amr")
    assert "PSC reference" in reserved_reason("identity", "oid")
