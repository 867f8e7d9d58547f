"""Hospital groups and PSC's own rules: establishments (PSC_TENANTS), élevé only through the
CPS card reader's IdP (PSC_CPS_IDP_IDS), re-authentication every 4 hours (PSC_MAX_AUTH_AGE),
and tid/kc_idp_hint as PSC's forms take them. End to end under gunicorn, then each rule
in-process (freezegun for the clock)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from freezegun import freeze_time

from hook import payload, samples
from hook.answer import build_answer
from hook.claims import compute
from hook.config import ConfigError, load_settings
from hook.psc_environments import FORMER_SANDBOX, SANDBOX
from tests.support.cli_runner import run, use_env
from tests.support.okta_tokens import minted, sign, verdicts
from tests.support.processes import Server, launch, stop
from tests.support.settings import BASE_ENV, SECRET
from tests.support.tenant_table import CLINIC_CLIENT, NANCY_CLIENT, TABLE, psc_route

AUTH = {"Authorization": SECRET}
CPS_IDP = "0oa1cpsSmartCard0Idp7"
BADGE_IDP = "0oa9staffBadge0Idp01"  # another smart-card IdP of the org: a staff badge
FOUR_HOURS = 4 * 3600
LEEWAY = 60


def tenants_env(directory: Path, table: dict[str, Any] = TABLE, **changes: str) -> dict[str, str]:
    path = directory / "tenants.json"
    path.write_text(json.dumps(table))
    env = {key: value for key, value in BASE_ENV.items() if key != "PSC_TENANT_ID"}
    return {**env, "PSC_TENANTS": str(path), "PSC_MAX_AUTH_AGE": "4h", **changes}


def signed_in(
    sample: str = "password-okta-verify-push",
    claim: Any = None,
    age: float | None = 60,
    client: str | None = None,
    alias: str | None = None,
) -> dict[str, Any]:
    """A sample sign-in: the tenant claim set in its tokens, authenticated ``age`` s ago,
    through PSC's route to ``alias`` (None: no PSC redirect URI)."""
    body = copy.deepcopy(samples.load(sample))
    data = body["data"]
    for kind in ("identity", "access"):
        if data.get(kind) and claim is not None:
            data[kind]["claims"]["psc_establishment"] = claim
    if data.get("identity") and age is not None:
        data["identity"]["claims"]["auth_time"] = int(time.time() - age)
    if client:
        data["context"]["protocol"]["client"]["id"] = client
    return samples.as_routed(body, None if alias is None else psc_route(alias))


def through(body: dict[str, Any], idp: str) -> dict[str, Any]:
    body["data"]["identity"]["claims"]["idp"] = idp
    body["data"]["context"]["session"]["idp"]["id"] = idp
    return body


def patched(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The claims each token gets, by command type."""
    return {
        command["type"].rsplit(".", 2)[-2]: {
            op["path"].removeprefix("/claims/"): op["value"] for op in command["value"]
        }
        for command in answer["commands"]
    }


def request_id(*parts: Any) -> str:
    text = "-".join(json.dumps(part) for part in parts)
    return "".join(c for c in text if c.isalnum() or c in "-_.")[:120]


# under gunicorn ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> Iterator[Server]:
    """One deployment for a hospital group of four establishments, with both gates."""
    directory = tmp_path_factory.mktemp("group")
    env = tenants_env(directory, PSC_CPS_IDP_IDS=CPS_IDP, PSC_CLAIMS_ACCESS_TOKEN="tid,oid,amr")
    server = launch(env, directory)
    yield server
    stop(server.process)


def post(server: Server, body: dict[str, Any], request_id: str) -> requests.Response:
    headers = {**AUTH, "X-Request-Id": request_id}
    return requests.post(f"{server.url}/token-hook", json=body, headers=headers, timeout=5)


TWO = ["chu-a", "GRP_CHU_B"]  # a professional of two establishments of the group


@pytest.mark.process
@pytest.mark.parametrize(
    ("claim", "client", "alias", "tid"),
    [
        ("chu-a", None, None, "OKTA_chu-a"),  # by claim: a profile attribute, a string
        (["Everyone", "GRP_CHU_B"], None, None, "OKTA_chu-b"),  # by a groups claim
        (None, CLINIC_CLIENT, None, "123456"),  # by client: the establishment's own PSC app
        ([], CLINIC_CLIENT, None, "123456"),  # a groups array naming none confirms it
        (None, None, "OKTA_chu-nancy", "TID-CHU-NANCY"),  # by PSC's redirect URI
        (["Everyone"], NANCY_CLIENT, "OKTA_chu-nancy", "TID-CHU-NANCY"),  # route and client
        (TWO, None, "OKTA_chu-a", "OKTA_chu-a"),  # a professional of two: PSC's route decides
        (TWO, None, "OKTA_chu-b", "OKTA_chu-b"),
        ("GRP_CHU_B", None, "OKTA_chu-b", "OKTA_chu-b"),
    ],
)
def test_each_user_gets_the_establishment_psc_routed_to(group, claim, client, alias, tid) -> None:
    rid = request_id("own", claim, client, alias)
    answer = post(group, signed_in(claim=claim, client=client, alias=alias), rid)
    assert answer.status_code == 200
    claims = patched(answer.json())
    assert claims["identity"]["tid"] == claims["access"]["tid"] == tid
    hint = next(t.get("kc_idp_hint") for t in TABLE["tenants"] if t["tid"] == tid)
    assert claims["identity"].get("kc_idp_hint") == hint
    line = group.log_line(rid)
    assert (line["outcome"], line["tid"]) == ("patched", tid)


@pytest.mark.process
@pytest.mark.parametrize(
    ("claim", "client", "alias", "outcome"),
    [
        # the route names an establishment that declares match values
        (None, None, "OKTA_chu-a", "tenant-unmatched"),  # no claim
        ("GRP_CHU_B", None, "OKTA_chu-a", "tenant-unmatched"),  # none of its values
        ([], None, "OKTA_chu-a", "tenant-unmatched"),
        # the route names one that declares none
        ("chu-a", None, "OKTA_chu-nancy", "tenant-unmatched"),  # the claim names another
        (["Everyone", "chu-a"], None, "OKTA_chu-nancy", "tenant-unmatched"),
        ("chu-z", None, "OKTA_chu-nancy", "tenant-unmatched"),  # a string naming none
        ("chu-z", CLINIC_CLIENT, None, "tenant-unmatched"),
        ("chu-a", CLINIC_CLIENT, None, "tenant-unmatched"),
        # nothing routes
        ("chu-z", None, None, "tenant-unmatched"),
        (None, None, None, "tenant-unmatched"),
        (["Everyone"], None, None, "tenant-unmatched"),
        (TWO, None, None, "tenant-ambiguous"),
        # the route itself
        ("chu-a", None, "OKTA_chu-z", "tenant-unmatched"),  # an alias of no establishment
        ("chu-a", CLINIC_CLIENT, "OKTA_chu-a", "tenant-ambiguous"),  # PSC and the client differ
        # a claim of another type: refused, whatever else names an establishment
        (42, CLINIC_CLIENT, None, "tenant-unmatched"),
        ([None, 1], CLINIC_CLIENT, None, "tenant-unmatched"),
        (["chu-a", 1], None, "OKTA_chu-a", "tenant-unmatched"),
        ({"chu-a": True}, None, "OKTA_chu-a", "tenant-unmatched"),
        (True, NANCY_CLIENT, "OKTA_chu-nancy", "tenant-unmatched"),
    ],
)
def test_a_sign_in_the_table_does_not_give_one_establishment_is_refused(
    group, claim, client, alias, outcome
) -> None:
    rid = request_id("refused", claim, client, alias)
    answer = post(group, signed_in(claim=claim, client=client, alias=alias), rid)
    assert answer.status_code == 200
    assert "commands" not in answer.json()
    text = answer.json()["error"]["errorSummary"]
    assert text.startswith("psc_" + outcome.replace("-", "_") + ": ")
    assert text.isascii() and text.isprintable()
    for value in ("chu-", "GRP", "OKTA", "0oa", "42", "broker"):  # nothing from the token
        assert value not in text
    line = group.log_line(rid)
    assert (line["outcome"], line["tid"]) == (outcome, "none")


def refresh(claim: Any, original: str | None, own: str | None, key: str) -> dict[str, Any]:
    """A refresh grant whose original grant (``key`` spelt as Okta's spec or its code) was
    sent to PSC's route ``original``, and whose own request names ``own``."""
    body = signed_in("refresh", claim=claim)
    protocol = body["data"]["context"]["protocol"]
    grant = protocol.pop("originalGrant")
    if original is not None:
        grant["authorization"]["redirect_uri"] = psc_route(original)
    protocol[key] = grant
    if own is not None:
        protocol["request"]["redirect_uri"] = psc_route(own)
    return body


@pytest.mark.process
@pytest.mark.parametrize("key", ["originalGrant", "OriginalGrant"])
def test_a_refresh_is_routed_by_its_original_grant(group, key) -> None:
    body = refresh(TWO, original="OKTA_chu-b", own="OKTA_chu-a", key=key)
    claims = patched(post(group, body, f"refresh-{key}").json())
    assert claims["identity"]["tid"] == claims["access"]["tid"] == "OKTA_chu-b"
    body = refresh(TWO, original=None, own="OKTA_chu-a", key=key)  # no original URI: its own
    assert patched(post(group, body, f"refresh-own-{key}").json())["access"]["tid"] == "OKTA_chu-a"
    body = refresh("chu-a", original="OKTA_chu-z", own="OKTA_chu-a", key=key)
    refused = post(group, body, f"refresh-unknown-{key}").json()
    assert refused["error"]["errorSummary"].startswith("psc_tenant_unmatched: ")


@pytest.mark.process
def test_psc_s_former_sandbox_host_routes_too(group) -> None:
    body = signed_in(claim=TWO, alias="OKTA_chu-b")
    samples.as_routed(body, psc_route("OKTA_chu-b", FORMER_SANDBOX))
    assert patched(post(group, body, "former-host").json())["access"]["tid"] == "OKTA_chu-b"
    body = signed_in(claim=TWO)  # an establishment's own redirect URI is no PSC route
    samples.as_routed(body, psc_route("OKTA_chu-a").replace(SANDBOX.host, "intranet.chu-a.fr"))
    refused = post(group, body, "not-psc").json()
    assert refused["error"]["errorSummary"].startswith("psc_tenant_ambiguous: ")


@pytest.mark.process
@pytest.mark.parametrize(
    ("place", "value"),
    [(("request",), 5), (("request",), ["x"]), (("originalGrant", "authorization"), {"a": 1})],
)
def test_a_redirect_uri_that_is_no_string_is_a_bad_payload(group, place, value) -> None:
    body = signed_in("refresh", claim="chu-a")
    target = body["data"]["context"]["protocol"]
    for key in place:
        target = target[key]
    target["redirect_uri"] = value
    answer = post(group, body, request_id("bad-uri", place))
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    errors = answer.json()["errors"]["data"]["context"]["protocol"]
    for key in place:
        errors = errors[key]
    assert errors == {"redirect_uri": ["Not a valid string."]}


@pytest.mark.process
def test_tokens_naming_different_establishments_are_refused(group) -> None:
    body = signed_in(claim="chu-a")
    body["data"]["access"]["claims"]["psc_establishment"] = "GRP_CHU_B"
    answer = post(group, body, "tokens-disagree").json()
    text = answer["error"]["errorSummary"]
    assert text.startswith("psc_tenant_ambiguous: ") and "ID and access tokens" in text
    body = signed_in(claim="chu-a", alias="OKTA_chu-a")  # the route does not settle it
    body["data"]["access"]["claims"]["psc_establishment"] = TWO
    answer = post(group, body, "tokens-disagree-routed").json()
    assert "ID and access tokens" in answer["error"]["errorSummary"]


@pytest.mark.process
def test_a_refresh_keeps_the_token_users_establishment(group) -> None:
    body = signed_in("refresh", claim="chu-a")  # the context names another user
    other = body["data"]["context"]
    assert other["session"]["userId"] != body["data"]["identity"]["claims"]["sub"]
    other["user"] = {"id": other["session"]["userId"], "profile": {"psc_establishment": "chu-b"}}
    claims = patched(post(group, body, "refresh-keeps").json())
    assert claims["identity"]["tid"] == claims["access"]["tid"] == "OKTA_chu-a"


@pytest.mark.process
def test_client_credentials_are_matched_by_client_alone(group) -> None:
    body = signed_in("client-credentials", client=CLINIC_CLIENT, age=None)
    body["data"]["access"]["claims"]["psc_establishment"] = "chu-a"  # not a user's: ignored
    assert patched(post(group, body, "cc-clinic").json())["access"]["tid"] == "123456"
    refused = post(group, signed_in("client-credentials", age=None), "cc-unknown").json()
    assert refused["error"]["errorSummary"].startswith("psc_tenant_unmatched: ")
    routed = signed_in("client-credentials", age=None, alias="OKTA_chu-a")
    routed["data"]["access"]["claims"]["psc_establishment"] = 42  # not a user's: ignored
    assert patched(post(group, routed, "cc-routed").json())["access"]["tid"] == "OKTA_chu-a"


@pytest.mark.process
def test_the_cps_rule_fires_through_the_cps_reader_only(group) -> None:
    card = signed_in("cps-smart-card", claim="chu-a")
    assert patched(post(group, card, "cps-reader").json())["access"]["amr"] == [
        "sc",
        "pin",
        "mfa",
        "hwk",
    ]
    badge = through(signed_in("cps-smart-card", claim="chu-a"), BADGE_IDP)
    assert patched(post(group, badge, "staff-badge").json())["access"]["amr"] == ["sc", "swk"]
    assert group.log_line("staff-badge")["amr_rule"] == "none"


@pytest.mark.process
def test_the_age_gate_refuses_past_four_hours_and_leeway(group) -> None:
    old = post(group, signed_in(claim="chu-a", age=FOUR_HOURS + LEEWAY + 1), "too-old").json()
    assert old["error"]["errorSummary"].startswith("psc_auth_too_old: ")
    assert group.log_line("too-old")["outcome"] == "auth-too-old"
    recent = post(group, signed_in(claim="chu-a", age=FOUR_HOURS + LEEWAY - 5), "recent")
    assert patched(recent.json())["identity"]["tid"] == "OKTA_chu-a"


@pytest.mark.process
def test_a_sign_in_of_unknown_age_is_refused(group) -> None:
    body = signed_in("refresh", claim="chu-a", age=None)
    del body["data"]["identity"]  # a refresh without openid: no ID token
    body["data"]["access"]["claims"]["psc_establishment"] = "chu-a"
    answer = post(group, body, "age-unknown").json()
    assert answer["error"]["errorSummary"].startswith("psc_auth_age_unknown: ")
    assert "openid" in answer["error"]["errorSummary"]


# each rule in-process ---------------------------------------------------------------------


def decide(body: dict[str, Any], env: dict[str, str]):
    settings = load_settings(env)
    return build_answer(payload.parse(json.dumps(body).encode(), settings.claim_to_read), settings)


AUTH_TIME = 1_795_680_070


@pytest.mark.parametrize(
    ("elapsed", "outcome"),
    [
        (FOUR_HOURS + LEEWAY + 1, "auth-too-old"),
        (FOUR_HOURS + LEEWAY, "patched"),
        (FOUR_HOURS + LEEWAY - 1, "patched"),
        (-LEEWAY - 1, "auth-age-unknown"),  # authenticated in the future: not a time to trust
    ],
)
def test_the_age_gate_at_its_boundary(elapsed, outcome) -> None:
    env = {**BASE_ENV, "PSC_MAX_AUTH_AGE": "240m"}
    body = signed_in()
    body["data"]["identity"]["claims"]["auth_time"] = AUTH_TIME
    with freeze_time(datetime.fromtimestamp(AUTH_TIME + elapsed, UTC)):
        assert decide(body, env).outcome == outcome


def test_without_an_id_token_the_session_says_when() -> None:
    env = {**BASE_ENV, "PSC_MAX_AUTH_AGE": "14400"}
    body = signed_in("access-token-only")
    verified = datetime.fromisoformat(
        body["data"]["context"]["session"]["lastPasswordVerification"]
    )
    with freeze_time(verified + timedelta(seconds=FOUR_HOURS)):
        assert decide(body, env).outcome == "patched"
    body["data"]["context"]["session"]["lastMfaVerification"] = "2026-11-20T11:00:00.000Z"
    with freeze_time(verified + timedelta(seconds=FOUR_HOURS + LEEWAY + 1)):
        assert decide(body, env).outcome == "patched"  # the latest verification counts
    with freeze_time("2026-11-20T15:01:01Z"):
        assert decide(body, env).outcome == "auth-too-old"


def test_no_gate_without_the_setting() -> None:
    body = signed_in(age=30 * 86400)
    assert decide(body, BASE_ENV).outcome == "patched"


def test_the_cps_rule_never_fires_without_its_setting() -> None:
    env = {key: value for key, value in BASE_ENV.items() if key != "PSC_CPS_IDP_IDS"}
    settings = load_settings(env)
    assert any("PSC_CPS_IDP_IDS is unset" in warning for warning in settings.warnings)
    decision = compute(payload.parse(json.dumps(samples.load("cps-smart-card")).encode()), settings)
    assert decision.amr.assurance == "none" and decision.amr.rule is None


def test_two_idps_of_one_sign_in_must_both_be_the_cps_reader() -> None:
    body = copy.deepcopy(samples.load("cps-smart-card"))
    body["data"]["context"]["session"]["idp"]["id"] = BADGE_IDP
    decision = compute(payload.parse(json.dumps(body).encode()), load_settings(BASE_ENV))
    assert decision.amr.assurance == "none"


def test_an_operator_rule_names_its_own_idps(tmp_path) -> None:
    rules = tmp_path / "rules.json"
    rule = {"name": "badge", "when": ["sc"], "through_idps": [BADGE_IDP], "amr": ["sc"]}
    rules.write_text(json.dumps({"rules": [rule]}))
    body = through(copy.deepcopy(samples.load("cps-smart-card")), BADGE_IDP)
    settings = load_settings({**BASE_ENV, "PSC_AMR_RULES": str(rules)})
    assert compute(payload.parse(json.dumps(body).encode()), settings).amr.rule == "badge"
    rules.write_text(json.dumps({"rules": [{**rule, "through_idps": ["not an id"]}]}))
    with pytest.raises(ConfigError, match=r"^PSC_AMR_RULES: rule 'badge': through_idps must be"):
        load_settings({**BASE_ENV, "PSC_AMR_RULES": str(rules)})


# identifiers and settings: one line, exit 2 -------------------------------------------------


def config_error(capsys, monkeypatch, env: dict[str, str]) -> str:
    use_env(monkeypatch, env)
    result = run(capsys, "check-config")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    return result.err.removeprefix("psc-hook: configuration error: ")


@pytest.mark.parametrize(
    "value",
    ["OKTA_chu exemple", "OKTA_chu-exemple\x07", "OKTA_chu\texemple", "OKTA_chu/a", "chu-é",
     " OKTA_chu-exemple", "x" * 101],
)  # fmt: skip
@pytest.mark.parametrize("name", ["PSC_TENANT_ID", "PSC_KC_IDP_HINT"])
def test_an_identifier_psc_does_not_take_is_refused(capsys, monkeypatch, name, value) -> None:
    error = config_error(capsys, monkeypatch, {**BASE_ENV, name: value})
    assert error.startswith(f"{name}: ")
    assert "1 to 100 of letters, digits and . _ -" in error or "spaces around" in error


@pytest.mark.parametrize(
    "value",
    ["OKTA_chu-exemple", "OKTA_CHU_Nantes.2", "123e4567-e89b-12d3-a456-426614174000",
     "00o1orgId0Example7", "2024123456"],
)  # fmt: skip
def test_the_identifiers_psc_takes(capsys, monkeypatch, value) -> None:
    env = {**BASE_ENV, "PSC_TENANT_ID": value, "PSC_KC_IDP_HINT": value}
    settings = load_settings(env)
    assert (settings.tenant_id, settings.kc_idp_hint) == (value, value)
    use_env(monkeypatch, env)
    assert run(capsys, "check-config", "--json").json()["notes"] == []


@pytest.mark.parametrize(
    "value", ["TID-CHU-NANCY", "dev-123456", "chu-exemple", "OKTA_", "a", "x" * 100]
)
def test_any_identifier_ans_registered_is_taken_and_noted(capsys, monkeypatch, value) -> None:
    """The reference's own example and an Okta domain prefix: taken, with a note to check
    it is what ANS registered, never a refusal."""
    env = {**BASE_ENV, "PSC_TENANT_ID": value, "PSC_KC_IDP_HINT": value}
    assert load_settings(env).tenant_id == value
    use_env(monkeypatch, env)
    result = run(capsys, "check-config")
    assert result.code == 0
    notes = result.out.split("\nnotes\n", 1)[1].splitlines()
    assert notes == [
        f"  - {name} {value!r} is none of PSC's usual forms (OKTA_<alias>, a UUID, an Okta org"
        " id (00o...) or a Datapass number): check that it is exactly what ANS registered"
        for name in ("PSC_TENANT_ID", "PSC_KC_IDP_HINT")
    ]


def test_an_establishments_identifiers_ans_registered_are_noted(
    capsys, monkeypatch, tmp_path
) -> None:
    table = {"tenants": [{"tid": "TID-CHU-NANCY", "kc_idp_hint": "dev-123456", "match": ["a"]}]}
    use_env(monkeypatch, tenants_env(tmp_path, table))
    notes = run(capsys, "check-config", "--json").json()["notes"]
    assert [note.split(" is none")[0] for note in notes] == [
        "PSC_TENANTS tid 'TID-CHU-NANCY'",
        "PSC_TENANTS kc_idp_hint (tenant 'TID-CHU-NANCY') 'dev-123456'",
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tenants": [{"tid": "OKTA_a b", "match": ["a"]}]}, "tenants[0].tid: 'OKTA_a b' is not"),
        (
            {"tenants": [{"tid": "OKTA_a", "kc_idp_hint": "OKTA_\n", "match": ["a"]}]},
            "tenant 'OKTA_a': kc_idp_hint: ",
        ),
        (
            {"tenants": [{"tid": "OKTA_a"}]},
            "tenant 'OKTA_a' needs kc_idp_hint, match or client_ids",
        ),
        (
            {
                "tenants": [
                    {"tid": "A", "client_ids": ["0oaApp"]},
                    {"tid": "B", "client_ids": ["0oaApp"]},
                ]
            },
            "client id '0oaApp' is given to tenants 'A' and 'B': it may name one establishment",
        ),
        (
            {
                "tenants": [
                    {"tid": "A", "kc_idp_hint": "OKTA_x"},
                    {"tid": "B", "kc_idp_hint": "OKTA_x"},
                ]
            },
            "kc_idp_hint 'OKTA_x' is given to tenants 'A' and 'B': it may name one establishment",
        ),
        ({"tenants": [{"match": ["a"]}]}, "tenants[0] needs a tid"),
        (
            {"tenants": [{"tid": "OKTA_a", "match": ["a"]}, {"tid": "OKTA_a", "match": ["b"]}]},
            "tid 'OKTA_a' is listed twice",
        ),
        ({"tenants": [{"tid": "OKTA_a", "match": ["a"], "hint": "x"}]}, "unknown key 'hint'"),
        ({"tenants": [{"tid": "OKTA_a", "match": "a"}]}, "tenant 'OKTA_a': match must be a list"),
        ({"tenants": []}, "'tenants' must be a non-empty list"),
        ([], 'the file must hold {"tenants": [...]}'),
    ],
)
def test_a_tenants_file_psc_cannot_use_is_refused(
    capsys, monkeypatch, tmp_path, table, message
) -> None:
    error = config_error(capsys, monkeypatch, tenants_env(tmp_path, table))
    assert error.startswith("PSC_TENANTS: ") and message in error


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PSC_TENANT_ID": "OKTA_chu-exemple"}, "PSC_TENANTS: set it or PSC_TENANT_ID, not both"),
        ({"PSC_KC_IDP_HINT": "OKTA_chu-a"}, "PSC_KC_IDP_HINT: with PSC_TENANTS"),
        ({"PSC_TENANT_CLAIM": "sub"}, "PSC_TENANT_CLAIM: 'sub' is not"),
        ({"PSC_TENANT_CLAIM": "load"}, "PSC_TENANT_CLAIM: 'load' is not"),
        ({"PSC_TENANT_CLAIM": "my claim"}, "PSC_TENANT_CLAIM: 'my claim' is not"),
        ({"PSC_MAX_AUTH_AGE": "4 days"}, "PSC_MAX_AUTH_AGE: '4 days' is not a duration"),
        ({"PSC_MAX_AUTH_AGE": "10"}, "PSC_MAX_AUTH_AGE: '10' is not a duration"),
        ({"PSC_CPS_IDP_IDS": "cps-reader"}, "PSC_CPS_IDP_IDS: 'cps-reader' is not an Okta IdP"),
        ({"PSC_CLAIMS_ID_TOKEN": "tid,oid"}, "PSC_TENANTS: a kc_idp_hint is set, but neither"),
    ],
)
def test_a_setting_of_establishments_or_gates_psc_cannot_use(
    capsys, monkeypatch, tmp_path, changes, message
) -> None:
    assert config_error(capsys, monkeypatch, tenants_env(tmp_path, **changes)).startswith(message)


@pytest.mark.parametrize(("raw", "seconds"), [("14400", 14400), ("240m", 14400), ("4h", 14400)])
def test_the_age_takes_seconds_minutes_or_hours(raw, seconds) -> None:
    assert load_settings({**BASE_ENV, "PSC_MAX_AUTH_AGE": raw}).max_auth_age == seconds


def test_the_hint_alone_goes_in_the_id_token() -> None:
    env = {**BASE_ENV, "PSC_KC_IDP_HINT": "OKTA_chu-exemple"}
    claims = patched(decide(signed_in(), env).body)
    assert claims["identity"]["kc_idp_hint"] == "OKTA_chu-exemple"


def test_a_hint_no_placement_carries_stops_the_start(capsys, monkeypatch) -> None:
    env = {**BASE_ENV, "PSC_KC_IDP_HINT": "OKTA_chu-exemple", "PSC_CLAIMS_ID_TOKEN": "tid,oid"}
    assert config_error(capsys, monkeypatch, env).startswith(
        "PSC_KC_IDP_HINT: a kc_idp_hint is set, but neither PSC_CLAIMS_ID_TOKEN nor"
    )


@pytest.mark.process
def test_a_bad_tenants_file_stops_gunicorn_with_one_line(tmp_path) -> None:
    env = tenants_env(tmp_path, {"tenants": [{"tid": "OKTA_a b", "match": ["a"]}]})
    with pytest.raises(AssertionError, match="server exited 2") as raised:
        launch(env, tmp_path)
    assert "psc-token-hook: configuration error: PSC_TENANTS: tenants[0].tid:" in str(raised.value)
    assert "Traceback" not in str(raised.value)


@pytest.mark.process
def test_the_start_says_cps_cards_give_no_eleve_without_the_setting(start_server) -> None:
    env = {key: value for key, value in BASE_ENV.items() if key != "PSC_CPS_IDP_IDS"}
    warnings = [
        json.loads(line)
        for line in start_server(env).log().splitlines()
        if line.startswith("{") and "configuration-warning" in line
    ]
    assert any(w["detail"].startswith("PSC_CPS_IDP_IDS is unset: a CPS card gives no eleve")
               for w in warnings)  # fmt: skip


# the commands -----------------------------------------------------------------------------


def test_check_config_prints_the_table_and_warns_of_a_tenant_nobody_reaches(
    capsys, monkeypatch, tmp_path
) -> None:
    table = copy.deepcopy(TABLE)
    table["tenants"].append({"tid": "OKTA_chu-d", "match": ["chu-a"]})  # chu-a's value too
    use_env(monkeypatch, tenants_env(tmp_path, table))
    out = run(capsys, "check-config").out
    assert "establishments (PSC_TENANTS): PSC's route decides (its broker redirect URI's" in out
    assert "the 'psc_establishment' claim (PSC_TENANT_CLAIM) confirms" in out
    assert "  OKTA_chu-b     OKTA_chu-b      GRP_CHU_B     -" in out
    assert f"  123456         -               -             {CLINIC_CLIENT}" in out
    assert "! tenant 'OKTA_chu-d': each of its match values is another tenant's too" in out
    assert "! tenant '123456' has no kc_idp_hint: a sign-in through PSC names its alias" in out
    assert "! tenant 'OKTA_chu-a' has" not in out
    assert "max auth age   4 h 00 min (+60 s of clock leeway)" in out
    assert "cps card IdPs  0oa1cpsSmartCard0Idp7: eleve only through them" in out
    plan = run(capsys, "check-config", "--json").json()
    assert [tenant["tid"] for tenant in plan["tenants"]] == [
        "OKTA_chu-a",
        "OKTA_chu-b",
        "123456",
        "TID-CHU-NANCY",
        "OKTA_chu-d",
    ]
    assert (plan["tid"], plan["max_auth_age"]) == (None, FOUR_HOURS)


def test_check_config_prints_how_each_establishment_is_routed(
    capsys, monkeypatch, tmp_path
) -> None:
    table = copy.deepcopy(TABLE)
    table["tenants"][1]["client_ids"] = ["0oa1chuBC0Example777"]
    table["tenants"].append({"tid": "OKTA_chu-d", "match": ["chu-d", "GRP_CHU_D"]})
    use_env(monkeypatch, tenants_env(tmp_path, table))
    out = run(capsys, "check-config").out
    routes = out.split("\nroutes (a sign-in gets the establishment when)\n", 1)[1]
    assert routes.split("\n\n", 1)[0].splitlines() == [
        "  OKTA_chu-a     PSC's redirect URI .../broker/OKTA_chu-a/endpoint; the claim must"
        " contain chu-a",
        "  OKTA_chu-b     PSC's redirect URI .../broker/OKTA_chu-b/endpoint or client"
        " 0oa1chuBC0Example777; the claim must contain GRP_CHU_B",
        f"  123456         client {CLINIC_CLIENT}; the claim must be absent, or a list naming no"
        " other one",
        "  TID-CHU-NANCY  PSC's redirect URI .../broker/OKTA_chu-nancy/endpoint or client"
        f" {NANCY_CLIENT}; the claim must be absent, or a list naming no other one",
        "  OKTA_chu-d     no route: its claim names it alone (with GRP_CHU_D or chu-d); never"
        " through PSC's broker",
    ]
    plan = run(capsys, "check-config", "--json").json()
    assert plan["tenants"][0]["route"] == (
        "PSC's redirect URI .../broker/OKTA_chu-a/endpoint; the claim must contain chu-a"
    )


def test_check_config_says_cps_cards_give_no_eleve_without_the_setting(capsys, monkeypatch) -> None:
    use_env(monkeypatch, {k: v for k, v in BASE_ENV.items() if k != "PSC_CPS_IDP_IDS"})
    out = run(capsys, "check-config").out
    assert "cps card IdPs  none (PSC_CPS_IDP_IDS unset): a CPS card gives no eleve" in out
    assert "cps-smart-card: sc through no IdP: never" in out


def test_preview_plays_a_user_of_an_establishment(capsys, monkeypatch, tmp_path) -> None:
    use_env(monkeypatch, tenants_env(tmp_path, PSC_MAX_AUTH_AGE=""))
    shown = run(capsys, "preview", "password-okta-verify-push", "--claim", "chu-a", "--json")
    assert shown.json()["tokens"]["identity"]["tid"] == "OKTA_chu-a"
    groups = run(capsys, "preview", "fastpass", "--claim", "x", "--claim", "GRP_CHU_B", "--json")
    assert groups.json()["tokens"]["access"]["tid"] == "OKTA_chu-b"
    nobody = run(capsys, "preview", "fastpass")
    assert "error: psc_tenant_unmatched: " in nobody.out


def test_preview_claim_needs_establishments(capsys, monkeypatch) -> None:
    use_env(monkeypatch, BASE_ENV)
    result = run(capsys, "preview", "fastpass", "--claim", "chu-a")
    assert result.code == 2 and "--claim: only with PSC_TENANTS" in result.err
    result = run(capsys, "preview", "fastpass", "--redirect-alias", "OKTA_chu-a")
    assert result.code == 2 and "--redirect-alias: only with PSC_TENANTS" in result.err


def test_preview_plays_psc_s_route(capsys, monkeypatch, tmp_path) -> None:
    use_env(monkeypatch, tenants_env(tmp_path, PSC_MAX_AUTH_AGE=""))
    two = ("--claim", "chu-a", "--claim", "GRP_CHU_B")
    result = run(capsys, "preview", "password-okta-verify-push", *two, "--redirect-alias",
                 "OKTA_chu-b")  # fmt: skip
    assert "psc-hook: playing PSC's route to OKTA_chu-b (--redirect-alias)" in result.err
    assert 'add /claims/tid = "OKTA_chu-b"' in result.out
    shown = run(capsys, "preview", "refresh", *two, "--redirect-alias", "OKTA_chu-a", "--json")
    assert shown.json()["tokens"]["access"]["tid"] == "OKTA_chu-a"
    unrouted = run(capsys, "preview", "password-okta-verify-push", *two)
    assert "playing no PSC route (the sample's redirect URI left out" in unrouted.err
    assert "error: psc_tenant_ambiguous: " in unrouted.out
    nancy = run(capsys, "preview", "fastpass", "--redirect-alias", "OKTA_chu-nancy", "--json")
    assert nancy.json()["tokens"]["access"]["tid"] == "TID-CHU-NANCY"
    bad = run(capsys, "preview", "fastpass", "--redirect-alias", "OKTA chu")
    assert bad.code == 2 and "'OKTA chu' is not an alias" in bad.err


def test_preview_of_a_captured_file_keeps_its_route_unless_told(
    capsys, monkeypatch, tmp_path
) -> None:
    use_env(monkeypatch, tenants_env(tmp_path, PSC_MAX_AUTH_AGE=""))
    captured = signed_in(claim=TWO, alias="OKTA_chu-a")
    path = tmp_path / "captured.json"
    path.write_text(json.dumps(captured))
    result = run(capsys, "preview", str(path), "--json")
    assert result.json()["tokens"]["access"]["tid"] == "OKTA_chu-a"
    rerouted = run(capsys, "preview", str(path), "--redirect-alias", "OKTA_chu-b", "--json")
    assert rerouted.json()["tokens"]["access"]["tid"] == "OKTA_chu-b"
    assert rerouted.json()["client"] == captured["data"]["context"]["protocol"]["client"]["id"]
    assert "PSC's route as captured" in run(capsys, "preview", str(path)).err
    path.write_text("{not json")
    broken = run(capsys, "preview", str(path), "--redirect-alias", "OKTA_chu-b")
    assert broken.code == 2 and "--redirect-alias: the payload is not a token hook" in broken.err


def test_check_token_accepts_any_tid_of_the_table_and_says_which(
    capsys, monkeypatch, tmp_path
) -> None:
    use_env(monkeypatch, tenants_env(tmp_path, PSC_MAX_AUTH_AGE=""))
    claims = minted("password-okta-verify-push", "access")
    shown = verdicts(capsys, sign({**claims, "tid": "OKTA_chu-b", "kc_idp_hint": "OKTA_chu-b"}))
    assert shown["tid"] == (True, "'OKTA_chu-b', an establishment of PSC_TENANTS")
    other = verdicts(capsys, sign({**claims, "tid": "OKTA_chu-z"}))
    assert other["tid"][0] is False and "not a tid of PSC_TENANTS" in other["tid"][1]


def test_check_token_reports_the_age_of_the_authentication(capsys, monkeypatch) -> None:
    use_env(monkeypatch, {**BASE_ENV, "PSC_MAX_AUTH_AGE": "4h"})
    claims = minted("password-okta-verify-push", "access")
    fresh = verdicts(capsys, sign({**claims, "auth_time": int(time.time()) - 3600}))
    assert fresh["auth_time"][0] is True and fresh["auth_time"][1].endswith("1 h 00 min ago")
    stale = verdicts(capsys, sign({**claims, "auth_time": int(time.time()) - 5 * 3600}))
    assert stale["auth_time"][0] is False and "older than PSC_MAX_AUTH_AGE" in stale["auth_time"][1]


@pytest.mark.process
def test_send_plays_a_user_of_an_establishment(capsys, monkeypatch, tmp_path, group) -> None:
    use_env(monkeypatch, tenants_env(tmp_path))
    url = f"{group.url}/token-hook"
    sent = run(capsys, "send", "password-okta-verify-push", "--url", url, "--claim", "chu-a",
               "--json").json()  # fmt: skip
    # The sample signed in days ago: the age gate refuses it, once it knows the establishment.
    assert sent["answer"]["error"]["errorSummary"].startswith("psc_auth_too_old: ")
    line = group.log_line(sent["request_id"])
    assert (line["outcome"], line["tid"]) == ("auth-too-old", "OKTA_chu-a")


@pytest.mark.process
def test_send_plays_psc_s_route(capsys, monkeypatch, tmp_path, group) -> None:
    use_env(monkeypatch, tenants_env(tmp_path))
    url = f"{group.url}/token-hook"
    sent = run(capsys, "send", "refresh", "--url", url, "--claim", "chu-a", "--claim",
               "GRP_CHU_B", "--redirect-alias", "OKTA_chu-b", "--json").json()  # fmt: skip
    line = group.log_line(sent["request_id"])
    assert (line["outcome"], line["tid"]) == ("auth-too-old", "OKTA_chu-b")
    unknown = run(capsys, "send", "refresh", "--url", url, "--claim", "chu-a",
                  "--redirect-alias", "OKTA_chu-z", "--json").json()  # fmt: skip
    assert unknown["answer"]["error"]["errorSummary"].startswith("psc_tenant_unmatched: ")
