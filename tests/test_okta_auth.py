"""Least-privilege access to Okta: ``register`` and ``doctor`` as an OAuth 2.0 service app
(``private_key_jwt``, DPoP when the app requires it, only the scopes the command needs),
against the fake Okta, whose token endpoint and API check what okta-management.md says
Okta checks (``tests/support/fake_okta_auth.py``)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from hook.cli import okta_api, okta_auth, okta_scopes
from hook.psc_environments import broker_endpoint, environment
from tests.support.cli_runner import run, use_env
from tests.support.fake_okta import (
    CPS_ADDITIONAL_AMR,
    ERRORS,
    TOKEN,
    FakeOkta,
    FakeOktaServer,
    error_body,
)
from tests.support.fake_okta_auth import ASSERTION_TYPE, TOKEN_PATH, b64, required_scope
from tests.support.okta_schemas import MANAGEMENT
from tests.support.settings import BASE_ENV

CLIENT_ID = "0oa1pscDoctor0Service7"
KID = "psc-doctor-key-1"
HOOK_URL = "https://psc-hook.chu-exemple.fr/token-hook"
PSC_CLIENT = "0oa1pscClient0Example7"
CPS_IDP = BASE_ENV["PSC_CPS_IDP_IDS"]
SERVER, POLICY, RULE = "aus1psc0hook0example7", "00p1pscPolicy0Example7", "0pr1pscRule00Example7"
READS = set(okta_scopes.DOCTOR_READS)
APP = {"OKTA_CLIENT_ID": CLIENT_ID}
ALL = READS | {okta_scopes.MANAGE_HOOKS, okta_scopes.MANAGE_SERVERS}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pem_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "service-app.pem"
    path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def okta() -> Iterator[FakeOktaServer]:
    server = FakeOktaServer(FakeOkta())
    yield server
    server.close()


@pytest.fixture
def service_app(monkeypatch, okta, pem_file, rsa_key):
    """The environment of a service app holding every scope the commands use, no DPoP."""
    use_env(
        monkeypatch,
        {
            **BASE_ENV,
            "PSC_CLIENT_IDS": PSC_CLIENT,
            "PSC_KC_IDP_HINT": "OKTA_chu-exemple",
            "PSC_MAX_AUTH_AGE": "4h",
            "OKTA_CLIENT_ID": CLIENT_ID,
            "OKTA_PRIVATE_KEY": str(pem_file),
            "OKTA_PRIVATE_KEY_ID": KID,
        },
    )
    return okta.fake.oauth.add_app(CLIENT_ID, rsa_key.public_key(), ALL, kid=KID)


def wire(fake: FakeOkta) -> dict[str, Any]:
    hook = fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", "s" * 40))
    fake.add_server(SERVER)
    fake.add_policy(SERVER, POLICY, [PSC_CLIENT])
    fake.add_rule(SERVER, POLICY, RULE, hook_id=hook["id"])
    fake.add_app(PSC_CLIENT, [broker_endpoint(environment("sandbox").issuer, "OKTA_chu-exemple")])
    fake.add_authentication_policy(PSC_CLIENT, "rst1pscAuthPolicy0Ex7", "PT4H")
    fake.add_idp(CPS_IDP, "Carte CPS", additional_amr=CPS_ADDITIONAL_AMR)
    fake.add_hook_calls(hook["id"])  # a sign-in went through, as Okta's System Log says
    return hook


def asked(fake: FakeOkta) -> list[set[str]]:
    return [set(request["scope"].split()) for request in fake.oauth.token_requests]


def assert_no_token_shown(fake: FakeOkta, *texts: str) -> None:
    for token in fake.oauth.issued:
        for text in texts:
            assert token not in text


# doctor: read-only scopes, and the test run's scope asked but done without ----------------


@pytest.mark.process
def test_doctor_asks_only_what_it_reads_and_the_test_runs_scope(capsys, okta, service_app):
    wire(okta.fake)
    result = run(capsys, "doctor", "--org", okta.url, "--json")
    assert result.code == 1, result.err  # the fake has no service behind the hook
    assert asked(okta.fake) == [READS | {okta_scopes.MANAGE_HOOKS}]
    assert not any(scope.endswith(".manage") for scope in READS)
    auths = {r.headers["Authorization"].split()[0] for r in okta.fake.requests}
    assert auths == {"Bearer"}
    paths = {r.path for r in okta.fake.requests}
    assert {"/api/v1/idps", "/api/v1/policies/rst1pscAuthPolicy0Ex7/rules"} <= paths
    assert [f["code"] for f in result.json()["findings"]] == ["hook-test-failed"]
    assert result.json()["skipped"] == []
    assert_no_token_shown(okta.fake, result.out, result.err)


@pytest.mark.process
def test_without_the_manage_scope_the_doctor_skips_the_test_run_and_says_so(
    capsys, okta, service_app
):
    service_app.scopes = set(READS)
    wire(okta.fake)
    result = run(capsys, "doctor", "--org", okta.url)
    assert result.code == 0, result.out + result.err
    assert not [r for r in okta.fake.requests if r.method != "GET"]
    assert "skipped: Okta's test run of the hook: it needs okta.inlineHooks.manage" in result.out
    assert run(capsys, "doctor", "--org", okta.url, "--json").json()["skipped"]


class RoleRefusesTheTestRun(FakeOkta):
    """An org where the credentials' admin role may read, not run hooks (Okta's 403)."""

    def _execute(self, hook_id: str, body: Any):
        return 403, error_body("E0000006", ERRORS["E0000006"]), {}


@pytest.mark.process
@pytest.mark.parametrize("credentials", ["service app", "API token"])
def test_a_test_run_the_role_refuses_is_skipped_and_the_audit_goes_on(
    capsys, monkeypatch, rsa_key, pem_file, credentials
):
    server = FakeOktaServer(RoleRefusesTheTestRun())
    try:
        env = {**BASE_ENV, "PSC_CLIENT_IDS": PSC_CLIENT, "PSC_KC_IDP_HINT": "OKTA_chu-exemple"}
        if credentials == "service app":
            env |= {"OKTA_CLIENT_ID": CLIENT_ID, "OKTA_PRIVATE_KEY": str(pem_file)}
            server.fake.oauth.add_app(CLIENT_ID, rsa_key.public_key(), ALL)
        else:
            env["OKTA_API_TOKEN"] = TOKEN
        use_env(monkeypatch, env)
        wire(server.fake)
        result = run(capsys, "doctor", "--org", server.url, "--json")
    finally:
        server.close()
    assert result.code == 0, result.err
    [skipped] = result.json()["skipped"]
    assert skipped.startswith("Okta's test run of the hook: Okta refused it.")
    assert "E0000006" in skipped


@pytest.mark.process
def test_a_read_scope_not_granted_is_one_line_naming_it(capsys, okta, service_app):
    service_app.scopes = READS - {okta_scopes.READ_IDPS}
    wire(okta.fake)
    result = run(capsys, "doctor", "--org", okta.url, "--json")
    assert result.code == 4
    assert f"Okta did not grant the service app {CLIENT_ID} okta.idps.read" in result.err
    assert "Okta API Scopes > Grant" in result.err
    assert result.err.count("\n") == 1
    assert okta.fake.requests == []  # refused before the audit began


@pytest.mark.process
def test_a_403_for_a_missing_scope_names_it(okta, service_app, pem_file):
    key = okta_auth.load_key(str(pem_file), KID)
    app = okta_auth.ServiceApp(okta.url, CLIENT_ID, key, [okta_scopes.READ_HOOKS])
    client = okta_api.OktaClient(okta.url, app)
    assert client.listing(okta_api.TOKEN_HOOKS_PATH) == []
    with pytest.raises(okta_api.Unauthorized, match=r"lacks okta\.idps\.read") as refused:
        client.listing(okta_api.SMART_CARD_IDPS_PATH)
    assert "Okta API Scopes > Grant" in str(refused.value)
    assert not client.allows(okta_scopes.READ_IDPS)


# register: the writes it makes, and reads only for a dry run ------------------------------


@pytest.mark.process
def test_register_asks_the_manage_scopes_it_uses(capsys, okta, service_app):
    okta.fake.add_rule(SERVER, POLICY, RULE)
    attach = ("--auth-server", SERVER, "--policy", POLICY, "--rule", RULE)
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL, *attach)
    assert result.code == 0, result.err
    assert asked(okta.fake) == [
        {
            okta_scopes.READ_HOOKS,
            okta_scopes.MANAGE_HOOKS,
            okta_scopes.READ_SERVERS,
            okta_scopes.MANAGE_SERVERS,
        }
    ]
    [hook_id] = okta.fake.hooks
    assert okta.fake.rules[(SERVER, POLICY, RULE)]["actions"]["token"]["inlineHook"]["id"] == (
        hook_id
    )
    assert_no_token_shown(okta.fake, result.out, result.err)


@pytest.mark.process
def test_register_without_attaching_asks_no_authorization_server_scope(capsys, okta, service_app):
    assert run(capsys, "register", "--org", okta.url, "--url", HOOK_URL).code == 0
    assert asked(okta.fake) == [{okta_scopes.READ_HOOKS, okta_scopes.MANAGE_HOOKS}]


@pytest.mark.process
def test_a_dry_run_asks_read_scopes_only(capsys, okta, service_app):
    okta.fake.add_rule(SERVER, POLICY, RULE)
    attach = ("--auth-server", SERVER, "--policy", POLICY, "--rule", RULE)
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL, *attach, "--dry-run")
    assert result.code == 0, result.err
    assert asked(okta.fake) == [{okta_scopes.READ_HOOKS, okta_scopes.READ_SERVERS}]
    assert "Authorization: Bearer ****" in result.out


# DPoP ------------------------------------------------------------------------------------


@pytest.mark.process
def test_an_app_that_requires_dpop_gets_a_bound_token_and_every_call_a_fresh_proof(
    capsys, okta, service_app
):
    service_app.require_dpop = True
    wire(okta.fake)
    result = run(capsys, "doctor", "--org", okta.url, "--json")
    assert result.code == 1, result.err
    requests_made = okta.fake.oauth.token_requests
    assert [(r["dpop"], r["status"], r["answer"].get("error")) for r in requests_made] == [
        (False, 400, "invalid_dpop_proof"),
        (True, 400, "use_dpop_nonce"),
        (True, 200, None),
    ]
    assert requests_made[-1]["answer"]["token_type"] == "DPoP"
    calls = okta.fake.requests
    assert {r.headers["Authorization"].split()[0] for r in calls} == {"DPoP"}
    proofs = okta.fake.oauth.api_proofs
    assert len(proofs) == len(calls)  # the fake refused none: each fresh, each with ath
    assert len({proof["jti"] for proof in proofs}) == len(proofs)
    [token] = okta.fake.oauth.issued
    assert {proof["ath"] for proof in proofs} == {b64(hashlib.sha256(token.encode()).digest())}
    assert all("?" not in proof["htu"] for proof in proofs)


@pytest.mark.process
def test_a_dpop_token_is_refused_as_a_bearer_and_without_its_proof(okta, service_app, pem_file):
    service_app.require_dpop = True
    key = okta_auth.load_key(str(pem_file), KID)
    app = okta_auth.ServiceApp(okta.url, CLIENT_ID, key, [okta_scopes.READ_HOOKS])
    headers = app.authorization("GET", okta.url + "/api/v1/inlineHooks")
    token = headers["Authorization"].split()[1]
    url = okta.url + "/api/v1/inlineHooks"
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
        == 401
    )
    assert (
        requests.get(url, headers={"Authorization": f"DPoP {token}"}, timeout=5).status_code == 401
    )
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
    assert requests.get(url, headers=headers, timeout=5).status_code == 401  # a proof, once


# the keys the service app may sign with --------------------------------------------------


@pytest.mark.process
def test_a_jwk_file_of_an_ec_key_with_its_own_kid(capsys, okta, monkeypatch, tmp_path):
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**ECAlgorithm.to_jwk(key, as_dict=True), "kid": "ec-key-7", "use": "sig"}
    (tmp_path / "key.json").write_text(json.dumps(jwk))
    use_env(
        monkeypatch,
        {**BASE_ENV, "OKTA_CLIENT_ID": CLIENT_ID, "OKTA_PRIVATE_KEY": str(tmp_path / "key.json")},
    )
    okta.fake.oauth.add_app(CLIENT_ID, key.public_key(), ALL, kid="ec-key-7")
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL)
    assert result.code == 0, result.err
    assert len(okta.fake.hooks) == 1


@pytest.mark.process
def test_a_key_okta_does_not_know_is_a_4_saying_what_to_check(capsys, okta, service_app):
    service_app.public_key = rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    ).public_key()
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL, "--json")
    assert result.code == 4
    assert f"Okta refused the service app {CLIENT_ID} (HTTP 401 invalid_client" in result.err
    assert "OKTA_PRIVATE_KEY" in result.err
    assert okta.fake.requests == []


@pytest.mark.process
@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"OKTA_CLIENT_ID": CLIENT_ID}, "OKTA_PRIVATE_KEY: required with OKTA_CLIENT_ID"),
        ({"OKTA_PRIVATE_KEY": "{pem}"}, "OKTA_CLIENT_ID: required with OKTA_PRIVATE_KEY"),
        ({"OKTA_PRIVATE_KEY_ID": KID}, "OKTA_PRIVATE_KEY_ID: the kid of OKTA_PRIVATE_KEY"),
        ({**APP, "OKTA_PRIVATE_KEY": "{missing}"}, "cannot read"),
        ({**APP, "OKTA_PRIVATE_KEY": "{encrypted}"}, "is encrypted; give it unencrypted"),
        (
            {**APP, "OKTA_PRIVATE_KEY": "{public}"},
            "a public key or certificate: give the private key",
        ),
        ({**APP, "OKTA_PRIVATE_KEY": "{small}"}, "an RSA key of 1024 bits; Okta asks 2048"),
        ({**APP, "OKTA_PRIVATE_KEY": "{public_jwk}"}, "holds no private key"),
        ({**APP, "OKTA_PRIVATE_KEY": "{secret_jwk}"}, "holds no private key"),
        ({**APP, "OKTA_PRIVATE_KEY": "{garbage}"}, "is not a key (PEM or JWK)"),
    ],
    ids=[
        "no-key",
        "no-client",
        "kid-alone",
        "missing",
        "encrypted",
        "public",
        "small",
        "public-jwk",
        "secret-jwk",
        "garbage",
    ],
)
def test_a_bad_service_app_setting_is_one_line_and_2(
    capsys, okta, monkeypatch, tmp_path, rsa_key, setup, words
):
    files = {
        "pem": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "encrypted": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        ),
        "public": rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "small": rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(  # noqa: S505 - a key Okta refuses
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "public_jwk": json.dumps(RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)).encode(),
        "secret_jwk": json.dumps({"kty": "oct", "k": b64(b"0" * 32)}).encode(),
        "garbage": b"not a key at all",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    env = {
        name: value.format(**{n: str(tmp_path / n) for n in [*files, "missing"]})
        for name, value in setup.items()
    }
    use_env(monkeypatch, {**BASE_ENV, "OKTA_API_TOKEN": TOKEN, **env})
    result = run(capsys, "doctor", "--org", okta.url)
    assert result.code == 2
    assert words in result.err
    assert result.err.count("\n") == 1
    assert okta.fake.requests == []
    assert okta.fake.oauth.token_requests == []


# the API token still works, and the commands say once what least privilege is -----------


@pytest.mark.process
def test_the_api_token_still_works_with_a_word_on_least_privilege(capsys, okta, monkeypatch):
    use_env(monkeypatch, {**BASE_ENV, "OKTA_API_TOKEN": TOKEN})
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL)
    assert result.code == 0, result.err
    assert result.err.count("a service app (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY)") == 1
    assert okta.fake.requests[0].headers["Authorization"] == f"SSWS {TOKEN}"
    quiet = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL, "--json")
    assert quiet.err == ""  # a machine reads the JSON


@pytest.mark.process
def test_with_both_the_service_app_is_used_and_the_token_is_not(
    capsys, okta, service_app, monkeypatch
):
    monkeypatch.setenv("OKTA_API_TOKEN", TOKEN)
    result = run(capsys, "register", "--org", okta.url, "--url", HOOK_URL)
    assert result.code == 0, result.err
    assert "OKTA_API_TOKEN is not used: OKTA_CLIENT_ID is set." in result.err
    assert {r.headers["Authorization"].split()[0] for r in okta.fake.requests} == {"Bearer"}


# the fake is faithful: its token endpoint refuses what okta-management.md says Okta does --


def _assertion(key: Any, url: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": url,
        "iat": now,
        "exp": now + 300,
        "jti": str(time.monotonic_ns()),
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


@pytest.mark.process
@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({}, None),
        ({"aud": "https://other.okta.com/oauth2/v1/token"}, "invalid"),
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"exp": int(time.time()) + 7200}, "more than an hour"),
        ({"sub": "0oaSomeoneElse"}, "iss and sub"),
        ({"jti": None}, "invalid"),
        ({"jti": "used-once"}, "already used"),
        ({"key": "other"}, "invalid"),
    ],
    ids=["valid", "aud", "expired", "too-long", "sub", "no-jti", "replayed", "signature"],
)
def test_the_fakes_token_endpoint_checks_the_client_assertion(okta, rsa_key, changes, words):
    okta.fake.oauth.add_app(CLIENT_ID, rsa_key.public_key(), ALL, kid=KID)
    url = okta.url + TOKEN_PATH
    key = rsa_key
    if changes.pop("key", None):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if changes.get("jti") == "used-once":
        okta.fake.oauth._jtis.add("used-once")
    form = {
        "grant_type": "client_credentials",
        "scope": okta_scopes.READ_HOOKS,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(key, url, **changes),
    }
    answer = requests.post(url, data=form, timeout=5)
    if words is None:
        assert answer.status_code == 200
        assert answer.json()["scope"] == okta_scopes.READ_HOOKS
        return
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert words in answer.json()["error_description"]


def test_the_fakes_scopes_are_oktas_for_the_paths_okta_documents():
    """``tests/okta/management-schemas.json`` holds each GET's scopes from Okta's OpenAPI."""
    for path, operations in MANAGEMENT["paths"].items():
        [oauth] = [entry["oauth2"] for entry in operations["get"]["security"] if "oauth2" in entry]
        assert required_scope("GET", path.replace("{policyId}", "00p1")) in oauth, path
    assert required_scope("POST", "/api/v1/inlineHooks/cal1/execute") == okta_scopes.MANAGE_HOOKS


def test_the_fake_asks_the_scope_the_commands_table_gives_each_call():
    """One table of scopes (hook/cli/okta_scopes.py): the fake Okta, which refuses a call
    without its scope, agrees with it on every call the commands make, the System Log's too."""
    for (method, resource), scope in okta_scopes.SCOPES.items():
        for path in (f"/api/v1/{resource}", f"/api/v1/{resource}/x1"):
            assert required_scope(method, path) == scope == okta_scopes.scope(method, path)
    assert okta_scopes.scope("GET", "/api/v1/logs?since=x") == okta_scopes.READ_LOGS
