"""``psc-hook doctor`` against the fake of Okta's Management API, whose test run of the hook
(``POST /api/v1/inlineHooks/{id}/execute``) calls the real service under gunicorn on loopback.

Every finding the doctor can report is triggered here at least once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message

import pytest
from freezegun import freeze_time

from hook import samples
from hook.cli import okta_api
from hook.psc_environments import broker_endpoint
from tests.support.cli_runner import run, use_env
from tests.support.doctor_org import (
    AUTH_POLICY,
    BROKER,
    CPS_IDP,
    FORMER,
    HINT,
    HOOK_URL,
    LOCAL_ENV,
    PASSWORD,
    POLICY,
    PRODUCTION,
    PSC_CLIENT,
    RULE,
    SANDBOX,
    SERVER,
    codes,
    doctor,
    header_hook,
    possession,
    wire,
)
from tests.support.fake_okta import TOKEN, FakeOktaServer, error_body
from tests.support.jwks_server import (
    CLIENT_ID,
    FIRST_KID,
    ISSUER,
    SCOPE,
    JwksServer,
    mint,
    oauth_environment,
    signing_key,
)
from tests.support.processes import Server, free_port, launch, stop
from tests.support.settings import BASE_ENV, OTHER_SECRET, SECRET

pytestmark = pytest.mark.usefixtures("doctor_env")
OAUTH_ENV = {
    "HOOK_AUTH_MODE": "oauth",
    "HOOK_OAUTH_ISSUER": "https://chu-exemple.okta.com/oauth2/aus9hookCaller0example",
    "HOOK_OAUTH_AUDIENCE": "api://psc-token-hook",
    "HOOK_OAUTH_SCOPES": "psc.hook",
    "HOOK_OAUTH_CLIENT_IDS": "0oa9hookCaller0example",
}


@pytest.fixture(scope="module")
def strict_service(tmp_path_factory) -> Iterator[Server]:
    """A service with another configuration than the doctor's: PSC's client only, a gate at
    eleve, and amr in the ID token (a reserved claim there)."""
    env = {**BASE_ENV, "PSC_CLIENT_IDS": PSC_CLIENT, "PSC_MIN_ASSURANCE": "eleve",
           "PSC_CLAIMS_ID_TOKEN": "tid,oid,amr"}  # fmt: skip
    server = launch(env, tmp_path_factory.mktemp("strict"))
    yield server
    stop(server.process)


def oauth_hook(**changes: str):
    values = {
        "client_id": "0oa9hookCaller0example",
        "token_url": f"{OAUTH_ENV['HOOK_OAUTH_ISSUER']}/v1/token",
        "hook_key_id": "HKYpsc0hook0key0example",
        "scope": "psc.hook",
        **changes,
    }
    return okta_api.oauth_channel(HOOK_URL, **values)


# the fake's test run is faithful ----------------------------------------------------------


@pytest.mark.process
def test_the_fakes_test_run_refuses_a_body_okta_would_not_send(okta):
    hook = wire(okta.fake)
    client = okta_api.OktaClient(okta.url, TOKEN)
    with pytest.raises(okta_api.ApiError, match="E0000001"):
        client.send(okta_api.execute_call(hook["id"], {"data": {"identity": "not an object"}}))
    with pytest.raises(okta_api.NotFound, match="E0000007"):
        client.send(okta_api.execute_call("calNoSuchHook", samples.load("refresh")))
    answer = client.send(okta_api.execute_call(hook["id"], samples.load("refresh")))
    assert [command["type"] for command in answer["commands"]] == [
        "com.okta.identity.patch",
        "com.okta.access.patch",
    ]


@pytest.mark.process
def test_the_fake_lists_token_hooks_only_for_their_type(okta):
    wire(okta.fake)
    client = okta_api.OktaClient(okta.url, TOKEN)
    assert len(client.listing(okta_api.TOKEN_HOOKS_PATH)) == 1
    assert client.listing("/api/v1/inlineHooks?type=com.okta.import.transform") == []


# Okta's pagination ------------------------------------------------------------------------


@pytest.mark.process
def test_every_listing_is_read_page_after_page(capsys, okta):
    """With one object a page, the PSC hook, server, policy and rule all come on page 2."""
    okta.fake.page_size = 1
    okta.fake.add_hook(header_hook("https://other.example/token-hook"), name="Another hook")
    okta.fake.add_server("aus0other")
    okta.fake.add_policy(SERVER, "00p0other", [PSC_CLIENT])
    okta.fake.add_rule(SERVER, POLICY, "0pr0other")
    hook = wire(okta.fake)
    okta.fake.add_rule(SERVER, "00p0other", "0pr0another")
    assert codes(capsys, okta, "--hook", "PSC claims") == []
    pages = [(r.path, r.query.get("after")) for r in okta.fake.requests if r.method == "GET"]
    assert ("/api/v1/inlineHooks", ["1"]) in pages
    assert ("/api/v1/authorizationServers", ["1"]) in pages
    assert (f"/api/v1/authorizationServers/{SERVER}/policies", ["1"]) in pages
    assert (f"/api/v1/authorizationServers/{SERVER}/policies/{POLICY}/rules", ["1"]) in pages
    hooks = [r.query for r in okta.fake.requests if r.path == "/api/v1/inlineHooks"]
    assert all(query["type"] == ["com.okta.oauth2.tokens.transform"] for query in hooks)
    assert hook["id"] in okta.fake.hooks


@pytest.mark.process
def test_a_next_page_on_another_host_is_not_followed(capsys, okta):
    okta.fake.page_size = 1
    okta.fake.next_origin = "https://elsewhere.example"
    wire(okta.fake)
    okta.fake.add_hook(header_hook(), name="Another hook")
    result = doctor(capsys, okta)
    assert result.code == 1
    assert "is on https://elsewhere.example" in result.err
    assert "not followed" in result.err
    assert len(okta.fake.requests) == 1


@pytest.mark.parametrize(
    "links",
    [
        ['<https://o.okta.com/api/v1/x?limit=2>; rel="self"',
         '<https://o.okta.com/api/v1/x?after=b&limit=2>; rel="next"'],
        ['<https://o.okta.com/api/v1/x?limit=2>; rel="self", '
         '<https://o.okta.com/api/v1/x?after=b&limit=2>; type="a"; rel=next'],
    ],
    ids=["two headers, as Okta sends them", "one header"],
)  # fmt: skip
def test_the_next_page_is_read_from_oktas_link_headers(links):
    headers = Message()
    for link in links:
        headers["Link"] = link
    assert okta_api.next_page(headers) == "https://o.okta.com/api/v1/x?after=b&limit=2"
    del headers["Link"]
    headers["Link"] = '<https://o.okta.com/api/v1/x?limit=2>; rel="self"'
    assert okta_api.next_page(headers) is None


@pytest.mark.process
def test_a_listing_is_read_for_a_bounded_number_of_pages(okta, monkeypatch):
    monkeypatch.setattr(okta_api, "MAX_PAGES", 3)
    okta.fake.page_size = 1
    for number in range(5):
        okta.fake.add_hook(header_hook(), name=f"hook {number}")
    client = okta_api.OktaClient(okta.url, TOKEN)
    with pytest.raises(okta_api.ApiError, match="more than 3 pages"):
        client.listing(okta_api.TOKEN_HOOKS_PATH)
    assert len(okta.fake.requests) == 3
    okta.fake.page_size = 2
    assert len(client.listing(okta_api.TOKEN_HOOKS_PATH)) == 5


# everything holds -------------------------------------------------------------------------


@pytest.mark.process
def test_a_wired_org_holds_and_the_doctor_says_what_it_checked(capsys, okta):
    hook = wire(okta.fake)
    result = doctor(capsys, okta)
    assert result.code == 0, result.out + result.err
    assert "Everything holds" in result.out
    assert f"ok  The hook 'PSC claims' ({hook['id']}) is ACTIVE." in result.out
    assert f"ok  The hook calls {HOOK_URL}." in result.out
    assert "Okta never returns the secret's value" in result.out
    assert f"calls the hook, for {PSC_CLIENT}." in result.out
    assert "Okta's test run (password-okta-verify-push): Okta would apply" in result.out
    assert "PSC would accept its ID token: tid 'OKTA_chu-exemple'" in result.out
    assert (
        "PSC would accept its access token: tid 'OKTA_chu-exemple', as PSC_TENANT_ID; oid an"
        " Okta user id, equal to uid; amr swk mfa pwd okta_verify: PSC's substantiel set"
    ) in result.out
    assert f"redirects to {BROKER}" in result.out
    assert SECRET not in result.out + result.err
    assert TOKEN not in result.out + result.err
    assert "camille" not in result.out.lower()


@pytest.mark.process
def test_the_doctor_runs_without_the_services_secret(capsys, okta, monkeypatch):
    """It never uses HOOK_SECRETS (Okta never returns the secret; its test run proves it),
    so the production secret has no reason to reach the laptop that runs it."""
    monkeypatch.delenv("HOOK_SECRETS")
    monkeypatch.setenv("METRICS_TOKEN", "the service's, left out: short")
    wire(okta.fake)
    result = doctor(capsys, okta)
    assert result.code == 0, result.out + result.err
    assert "Everything holds" in result.out


@pytest.mark.process
def test_the_doctor_only_reads_and_runs_one_test(capsys, okta):
    hook = wire(okta.fake)
    assert codes(capsys, okta) == []
    writes = [(r.method, r.path) for r in okta.fake.requests if r.method != "GET"]
    assert writes == [("POST", f"/api/v1/inlineHooks/{hook['id']}/execute")]
    [execute] = [r for r in okta.fake.requests if r.method == "POST"]
    assert execute.body["data"]["context"]["protocol"]["client"]["id"] == PSC_CLIENT
    assert okta.fake.hooks[hook["id"]]["status"] == "ACTIVE"
    assert okta.fake.rules[(SERVER, POLICY, RULE)]["actions"]["token"]["inlineHook"] == {
        "id": hook["id"]
    }


@pytest.mark.process
def test_the_test_run_uses_the_first_psc_client(capsys, okta, monkeypatch):
    monkeypatch.setenv("PSC_CLIENT_IDS", f"{PSC_CLIENT},0oa0second")
    wire(okta.fake, clients=("ALL_CLIENTS",))
    okta.fake.add_app("0oa0second", [BROKER])
    assert codes(capsys, okta) == []
    [execute] = [r for r in okta.fake.requests if r.method == "POST"]
    data = execute.body["data"]
    assert data["context"]["protocol"]["request"]["client_id"] == PSC_CLIENT
    assert data["access"]["claims"]["cid"] == PSC_CLIENT
    assert data["identity"]["claims"]["aud"] == PSC_CLIENT


@pytest.mark.process
def test_a_named_hook_among_several(capsys, okta):
    wire(okta.fake)
    okta.fake.add_hook(header_hook("https://other.example/token-hook"), name="Another hook")
    assert codes(capsys, okta, "--hook", "PSC claims") == []
    assert codes(capsys, okta, "--hook", next(iter(okta.fake.hooks))) == []


@pytest.mark.process
def test_the_search_is_limited_to_the_named_authorization_server(capsys, okta):
    wire(okta.fake)
    assert codes(capsys, okta, "--auth-server", SERVER) == []
    paths = [r.path for r in okta.fake.requests]
    assert "/api/v1/authorizationServers" not in paths
    assert f"/api/v1/authorizationServers/{SERVER}" in paths


@pytest.mark.process
def test_a_policy_for_all_clients_covers_psc(capsys, okta):
    wire(okta.fake, clients=("ALL_CLIENTS",))
    assert codes(capsys, okta) == []


@pytest.mark.process
def test_the_production_issuer_gives_its_own_redirect_uri(capsys, okta):
    wire(okta.fake, redirect_uris=(broker_endpoint(PRODUCTION.issuer, HINT),))
    assert codes(capsys, okta) == ["redirect-uri-missing"]
    assert codes(capsys, okta, "--psc-env", "production") == []
    assert codes(capsys, okta, "--psc-issuer", PRODUCTION.issuer) == []


@pytest.mark.process
@pytest.mark.parametrize("psc", [SANDBOX, PRODUCTION], ids=lambda psc: psc.key)
def test_the_redirect_uri_finding_names_the_environment_checked(capsys, okta, psc):
    wire(okta.fake, redirect_uris=("https://intranet.chu-exemple.fr/callback",))
    result = doctor(capsys, okta, "--psc-env", psc.key, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "redirect-uri-missing"
    expected = broker_endpoint(psc.issuer, HINT)
    problem = finding["problem"]
    assert f"does not list the broker endpoint of PSC's {psc.key}, {expected}," in problem
    assert f"sign-ins from PSC's {psc.key} fail" in problem


@pytest.mark.process
def test_the_sandbox_is_anss_own_host_and_the_former_one_is_named(capsys, okta):
    """PSC's sandbox is auth.bas.psc.esante.gouv.fr (ANS's keycloak-prosanteconnect); an app
    that lists the former host's endpoint is told to move."""
    former = broker_endpoint(FORMER.issuer, HINT)
    assert BROKER.startswith("https://auth.bas.psc.esante.gouv.fr/")
    wire(okta.fake, redirect_uris=(former,))
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "redirect-uri-missing"
    problem = finding["problem"]
    assert f"It lists PSC's broker endpoints {former} (PSC's former sandbox)." in problem
    assert "and remove the former sandbox host's" in finding["fix"]
    assert any(former in note and "auth.bas.psc.esante.gouv.fr" in note
               for note in result.json()["notes"])  # fmt: skip
    okta.fake.apps[PSC_CLIENT]["settings"]["oauthClient"]["redirect_uris"].append(BROKER)
    assert codes(capsys, okta) == []
    assert "  note  The app 'Pro Santé Connect' lists " + former in doctor(capsys, okta).out


@pytest.mark.process
def test_the_former_sandbox_host_given_as_issuer_is_checked_with_a_note(capsys, okta):
    wire(okta.fake, redirect_uris=(broker_endpoint(FORMER.issuer, HINT),))
    result = doctor(capsys, okta, "--psc-issuer", FORMER.issuer + "/", "--json")
    assert result.json()["findings"] == []
    assert f"{FORMER.issuer}: {FORMER.note}." in result.json()["notes"]


@pytest.mark.process
def test_psc_env_and_psc_issuer_together_are_2(capsys, okta):
    result = doctor(capsys, okta, "--psc-env", "production", "--psc-issuer", PRODUCTION.issuer)
    assert result.code == 2
    assert "--psc-issuer: give it or --psc-env, not both" in result.err
    assert okta.fake.requests == []
    result = doctor(capsys, okta, "--psc-env", "staging")
    assert result.code == 2
    assert okta.fake.requests == []


# the hook ---------------------------------------------------------------------------------


@pytest.mark.process
def test_no_hook_in_the_org(capsys, okta):
    okta.fake.add_app(PSC_CLIENT, [BROKER])
    result = doctor(capsys, okta)
    assert result.code == 1
    assert "1. [hook-not-found] No token inline hook in the org (token inline hooks: none)" in (
        result.out
    )
    assert "what to do: Register it with psc-hook register" in result.out


@pytest.mark.process
def test_a_named_hook_that_does_not_exist(capsys, okta):
    hook = wire(okta.fake)
    result = doctor(capsys, okta, "--hook", "nope", "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "hook-not-found"
    assert "named 'nope'" in finding["problem"]
    assert hook["id"] in finding["problem"]


@pytest.mark.process
def test_several_hooks_and_none_named(capsys, okta):
    wire(okta.fake)
    okta.fake.add_hook(header_hook(), name="Another hook")
    assert codes(capsys, okta) == ["hook-ambiguous"]


@pytest.mark.process
def test_an_inactive_hook(capsys, okta):
    hook = wire(okta.fake)
    okta.fake.hooks[hook["id"]]["status"] = "INACTIVE"
    assert codes(capsys, okta) == ["hook-inactive"]


@pytest.mark.process
@pytest.mark.parametrize(
    "url", ["https://psc-hook.chu-exemple.fr/hook", "https://psc-hook.chu-exemple.fr/"]
)
def test_a_hook_url_that_is_not_the_services_token_hook(capsys, okta, url):
    wire(okta.fake, channel=header_hook(url))
    assert codes(capsys, okta) == ["hook-url", "hook-test-failed"]


@pytest.mark.process
def test_a_hook_url_that_is_not_https(capsys, okta):
    hook = wire(okta.fake)
    okta.fake.hooks[hook["id"]]["channel"]["config"]["uri"] = "http://psc-hook.example/token-hook"
    assert codes(capsys, okta) == ["hook-url"]


@pytest.mark.process
def test_an_oauth_channel_when_the_service_expects_the_header(capsys, okta):
    wire(okta.fake, channel=oauth_hook())
    found = codes(capsys, okta)
    assert found == ["channel-mismatch", "hook-test-failed"]
    problem = doctor(capsys, okta).out
    assert "its OAUTH channel, but HOOK_AUTH_MODE is header" in problem
    assert "could not get an access token" in problem


@pytest.mark.process
def test_a_header_name_okta_uses_and_the_service_does_not_read(capsys, okta):
    wire(okta.fake, channel=header_hook(header="X-Psc-Hook-Secret"))
    result = doctor(capsys, okta)
    assert "[header-mismatch] Okta sends the secret in header 'X-Psc-Hook-Secret'" in result.out
    assert "[hook-test-failed]" in result.out
    assert "the external service answered HTTP 401" in result.out
    assert SECRET not in result.out


@pytest.mark.process
def test_a_header_name_differing_only_in_case_matches(capsys, okta):
    wire(okta.fake, channel=header_hook(header="authorization"))
    assert codes(capsys, okta) == []


@pytest.mark.process
def test_a_secret_okta_holds_that_the_service_does_not_accept(capsys, okta):
    wire(okta.fake, channel=header_hook(secret=OTHER_SECRET))
    result = doctor(capsys, okta)
    assert result.code == 1
    assert "[hook-test-failed] Okta's test run of the hook failed" in result.out
    assert "HTTP 401" in result.out
    assert "one of HOOK_SECRETS" in result.out
    assert OTHER_SECRET not in result.out + result.err


@pytest.mark.process
def test_an_oauth_channel_that_matches_the_settings(capsys, okta, monkeypatch):
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)
    wire(okta.fake, channel=oauth_hook())
    okta.fake.oauth_bearer = lambda: "not-a-token-the-service-accepts"
    result = doctor(capsys, okta, "--json")
    assert "Okta gets its OAuth token from" in " ".join(result.json()["holds"])
    assert [f["code"] for f in result.json()["findings"]] == ["hook-test-failed"]


@pytest.mark.process
def test_an_oauth_hook_end_to_end(capsys, okta, start_server, monkeypatch):
    jwks = JwksServer([signing_key(FIRST_KID)])
    try:
        settings = {**BASE_ENV, "PSC_KC_IDP_HINT": HINT, **oauth_environment(jwks)}
        del settings["HOOK_SECRETS"]
        okta.fake.service_url = start_server(settings).url
        use_env(monkeypatch, {**LOCAL_ENV, **settings})
        okta.fake.oauth_bearer = lambda: mint(signing_key(FIRST_KID))
        channel = okta_api.oauth_channel(
            HOOK_URL,
            client_id=CLIENT_ID,
            scope=SCOPE,
            token_url=f"{ISSUER}/v1/token",
            hook_key_id="HKYpsc0hook0key0example",
        )
        wire(okta.fake, channel=channel)
        assert codes(capsys, okta) == []
        okta.fake.oauth_bearer = lambda: mint(signing_key("key-stranger"))
        assert codes(capsys, okta) == ["hook-test-failed"]
    finally:
        jwks.close()


@pytest.mark.process
@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"token_url": "https://chu-exemple.okta.com/oauth2/default/v1/token"}, "token URL"),
        ({"client_id": "0oaSomeoneElse"}, "HOOK_OAUTH_CLIENT_IDS"),
        ({"scope": "okta.other"}, "does not ask for psc.hook"),
    ],
)
def test_an_oauth_channel_that_differs_from_the_settings(capsys, okta, monkeypatch, changes, words):
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)
    wire(okta.fake, channel=oauth_hook(**changes))
    result = doctor(capsys, okta, "--json")
    [mismatch] = [f for f in result.json()["findings"] if f["code"] == "oauth-mismatch"]
    assert words in mismatch["problem"]


# the rules that call it -------------------------------------------------------------------


@pytest.mark.process
def test_a_hook_no_rule_calls(capsys, okta):
    wire(okta.fake)
    okta.fake.rules[(SERVER, POLICY, RULE)]["actions"]["token"].pop("inlineHook")
    result = doctor(capsys, okta)
    assert "[hook-not-attached] No access-policy rule on any authorization server" in result.out
    assert "psc-hook register --auth-server" in result.out


@pytest.mark.process
@pytest.mark.parametrize("inactive", ["rule", "policy", "server"])
def test_an_inactive_rule_server_or_policy(capsys, okta, inactive):
    wire(okta.fake)
    part = {
        "rule": okta.fake.rules[(SERVER, POLICY, RULE)],
        "policy": okta.fake.policies[(SERVER, POLICY)],
        "server": okta.fake.servers[SERVER],
    }[inactive]
    part["status"] = "INACTIVE"
    assert codes(capsys, okta) == ["rule-inactive"]


@pytest.mark.process
def test_a_psc_client_the_policy_does_not_serve(capsys, okta):
    wire(okta.fake, clients=("0oaIntranetApp",))
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "client-not-covered"
    assert PSC_CLIENT in finding["problem"]
    assert "Assigned clients" in finding["fix"]


@pytest.mark.process
def test_psc_client_ids_unset(capsys, okta, monkeypatch):
    monkeypatch.delenv("PSC_CLIENT_IDS")
    wire(okta.fake, clients=("0oaIntranetApp", PSC_CLIENT))
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "clients-unset"
    assert f"({PSC_CLIENT}, 0oaIntranetApp)" in finding["problem"]


@pytest.mark.process
def test_an_authorization_server_that_does_not_exist(capsys, okta):
    wire(okta.fake)
    assert codes(capsys, okta, "--auth-server", "ausNoSuchServer") == ["auth-server-not-found"]


# Okta's test run of the hook --------------------------------------------------------------


@pytest.mark.process
def test_the_service_skips_the_client(capsys, okta, strict_service, monkeypatch):
    okta.fake.service_url = strict_service.url
    monkeypatch.setenv("PSC_CLIENT_IDS", "0oaAnotherApp")
    wire(okta.fake, clients=("ALL_CLIENTS",))
    okta.fake.add_app("0oaAnotherApp", [BROKER])
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "hook-patched-nothing"
    assert "same PSC_CLIENT_IDS" in finding["fix"]


@pytest.mark.process
def test_the_service_refuses_the_sample_sign_in(capsys, okta, strict_service):
    okta.fake.service_url = strict_service.url
    wire(okta.fake)
    result = doctor(capsys, okta, "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "hook-refused"
    assert "psc_assurance_too_low: Pro Sante Connect needs assurance eleve" in finding["problem"]
    assert "--sample cps-smart-card" in finding["fix"]


@pytest.mark.process
def test_okta_would_void_the_services_answer(capsys, okta, strict_service):
    okta.fake.service_url = strict_service.url
    wire(okta.fake)
    result = doctor(capsys, okta, "--sample", "cps-smart-card", "--json")
    [finding] = result.json()["findings"]
    assert finding["code"] == "patch-voided"
    assert "'amr' is reserved in the ID token" in finding["problem"]


@pytest.mark.process
def test_the_service_runs_another_tenant_id(capsys, okta, monkeypatch):
    monkeypatch.setenv("PSC_TENANT_ID", "OKTA_chu-autre")
    wire(okta.fake)
    result = doctor(capsys, okta, "--json")
    found = result.json()["findings"]
    assert {finding["code"] for finding in found} == {"token-refused"}
    assert [f["problem"] for f in found] == [
        f"PSC would refuse the {kind} token of the test run: tid is 'OKTA_chu-exemple', but"
        " PSC_TENANT_ID is 'OKTA_chu-autre'."
        for kind in ("ID", "access")
    ]


@pytest.mark.process
def test_the_test_sign_in_passes_the_age_gate_of_a_correctly_wired_org(
    capsys, okta, start_server, monkeypatch
):
    """The samples' sign-in is weeks old; the doctor sends it as happening now, through the
    environment of PSC checked, so that PSC_MAX_AUTH_AGE=4h does not refuse it."""
    env = {**{k: v for k, v in LOCAL_ENV.items() if k != "OKTA_API_TOKEN"},
           "PSC_MAX_AUTH_AGE": "4h"}  # fmt: skip
    okta.fake.service_url = start_server(env).url
    monkeypatch.setenv("PSC_MAX_AUTH_AGE", "4h")
    wire(okta.fake)
    okta.fake.add_authentication_policy(PSC_CLIENT, "rst1pscAuthPolicy0ex7", "PT4H")
    sent_at = datetime.now(UTC).timestamp()
    assert codes(capsys, okta, "--sample", "refresh") == []
    assert codes(capsys, okta, "--psc-env", "production") == ["redirect-uri-missing"]
    first, last = [r.body for r in okta.fake.requests if r.method == "POST"]
    for body in (first, last):
        assert abs(body["data"]["identity"]["claims"]["auth_time"] - sent_at) < 60
        session = body["data"]["context"]["session"]
        assert session["lastPasswordVerification"] < session["createdAt"] < body["eventTime"]
    assert first["data"]["context"]["protocol"]["request"]["redirect_uri"] == BROKER
    assert last["data"]["context"]["protocol"]["request"]["redirect_uri"] == broker_endpoint(
        PRODUCTION.issuer, HINT
    )
    assert samples.load("refresh")["data"]["identity"]["claims"]["auth_time"] == 1795680070


def test_a_sample_moved_to_now_keeps_its_gaps():
    now = datetime(2027, 1, 1, 12, 0, 0, tzinfo=UTC)
    request = samples.happening_at(samples.load("password-okta-verify-push"), now)
    session = request["data"]["context"]["session"]
    assert request["eventTime"] == "2027-01-01T12:00:00.000Z"
    assert session["createdAt"] == "2027-01-01T11:59:59.000Z"
    assert session["lastPasswordVerification"] == "2027-01-01T11:59:57.000Z"
    assert session["expiresAt"] == "2027-01-01T13:59:59.000Z"
    assert request["data"]["identity"]["claims"]["auth_time"] == now.timestamp()
    bare = {"data": {"identity": {"claims": {"auth_time": "yesterday"}}}}
    assert samples.happening_at(bare, now) == {
        "data": {"identity": {"claims": {"auth_time": "yesterday"}}}
    }


@pytest.mark.process
def test_the_service_is_down(capsys, okta):
    okta.fake.service_url = f"http://127.0.0.1:{free_port()}"
    wire(okta.fake)
    result = doctor(capsys, okta)
    assert "[hook-test-failed]" in result.out
    assert f"no answer from {HOOK_URL}" in result.out


# PSC's app --------------------------------------------------------------------------------


@pytest.mark.process
def test_a_psc_client_id_no_app_has(capsys, okta):
    wire(okta.fake)
    del okta.fake.apps[PSC_CLIENT]
    assert codes(capsys, okta) == ["app-not-found"]


@pytest.mark.process
def test_an_app_without_pscs_broker_endpoint(capsys, okta):
    wire(okta.fake, redirect_uris=("https://intranet.chu-exemple.fr/callback",))
    result = doctor(capsys, okta)
    assert result.code == 1
    assert f"does not list the broker endpoint of PSC's sandbox, {BROKER}," in result.out
    assert "Sign-in redirect URIs" in result.out


@pytest.mark.process
def test_no_hint_means_no_redirect_check(capsys, okta, monkeypatch):
    monkeypatch.delenv("PSC_KC_IDP_HINT")
    wire(okta.fake, redirect_uris=())
    result = doctor(capsys, okta, "--json")
    assert result.json()["findings"] == []
    assert (
        "PSC_KC_IDP_HINT is not set: the redirect URI check is skipped." in (result.json()["holds"])
    )
    assert not [line for line in result.json()["holds"] if "redirects to" in line]


# exit codes -------------------------------------------------------------------------------


def test_an_unreachable_org_is_3(capsys):
    org = f"http://127.0.0.1:{free_port()}"
    result = run(capsys, "doctor", "--org", org)
    assert result.code == 3
    assert f"cannot reach {org}: connection refused" in result.err


@pytest.mark.process
def test_a_wrong_api_token_is_4(capsys, okta, monkeypatch):
    monkeypatch.setenv("OKTA_API_TOKEN", "00wrongToken")
    result = doctor(capsys, okta)
    assert result.code == 4
    assert "OKTA_API_TOKEN" in result.err
    assert "00wrongToken" not in result.out + result.err


@pytest.mark.process
@freeze_time("2026-11-20 08:00:00")
def test_a_rate_limit_is_5_with_the_reset_time(capsys, okta):
    reset = int(datetime(2026, 11, 20, 8, 1, 0, tzinfo=UTC).timestamp())
    wire(okta.fake)
    okta.fake.answer_next(429, error_body("E0000047", "API call exceeded rate limit"),
                          {"X-Rate-Limit-Reset": str(reset)})  # fmt: skip
    result = doctor(capsys, okta, "--json")
    assert result.code == 5
    assert result.json() == {"error": result.err.split("psc-hook doctor: ", 1)[1].strip(),
                             "exit_code": 5}  # fmt: skip
    assert "Retry after 2026-11-20 08:01:00 UTC (in 60 s)" in result.err


@pytest.mark.process
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--psc-issuer", "http://auth.example/realms/x"), "--psc-issuer: must use https://"),
        (("--org", "http://chu-exemple.okta.com"), "--org: must use https://"),
        (("--sample", "password-okta-verify-psuh"), "did you mean 'password-okta-verify-push'?"),
    ],
)
def test_bad_arguments_are_2(capsys, okta, args, words):
    argv = ["doctor", "--org", okta.url, *args] if args[0] != "--org" else ["doctor", *args]
    result = run(capsys, *argv)
    assert result.code == 2
    assert words in result.err
    assert okta.fake.requests == []


@pytest.mark.process
def test_missing_credentials_are_2(capsys, okta, monkeypatch):
    monkeypatch.delenv("OKTA_API_TOKEN")
    result = doctor(capsys, okta)
    assert result.code == 2
    assert "OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (a service app), or OKTA_API_TOKEN" in result.err


# establishments, the CPS card reader, re-authentication -------------------------------------


def holds(capsys, okta: FakeOktaServer) -> list[str]:
    return doctor(capsys, okta, "--json").json()["holds"]


@pytest.mark.process
def test_the_cps_reader_is_among_the_smart_card_idps(capsys, okta, monkeypatch):
    wire(okta.fake)
    okta.fake.add_idp("0oa9staffBadge0Idp01", "Staff badge")
    okta.fake.add_idp("0oa9googleSocial0Idp", "Google", kind="GOOGLE")
    assert codes(capsys, okta) == []
    shown = holds(capsys, okta)
    assert f"The smart-card IdP 'Carte CPS' ({CPS_IDP}) reads CPS cards (PSC_CPS_IDP_IDS)." in shown
    assert "Other smart-card IdPs give no eleve: 'Staff badge' (0oa9staffBadge0Idp01)." in shown
    monkeypatch.setenv("PSC_CPS_IDP_IDS", "0oa9staffBadge0Idp02")
    assert codes(capsys, okta) == ["cps-idp-not-found"]
    monkeypatch.delenv("PSC_CPS_IDP_IDS")
    assert codes(capsys, okta) == ["cps-idps-unset"]
    okta.fake.idps[CPS_IDP]["status"] = "INACTIVE"
    monkeypatch.setenv("PSC_CPS_IDP_IDS", CPS_IDP)
    assert codes(capsys, okta) == ["cps-idp-not-found"]


@pytest.mark.process
@pytest.mark.parametrize(
    ("reauthenticate_in", "found"),
    [("PT4H", []), ("PT2H30M", []), ("PT0S", []), ("PT8H", ["reauth-too-long"]),
     ("P1D", ["reauth-too-long"]), (None, ["reauth-too-long"])],
)  # fmt: skip
def test_the_psc_apps_policy_re_authenticates_within_the_age_gate(
    capsys, okta, monkeypatch, reauthenticate_in, found
):
    monkeypatch.setenv("PSC_MAX_AUTH_AGE", "4h")
    wire(okta.fake)
    okta.fake.add_authentication_policy(PSC_CLIENT, "rst1pscAuthPolicy0ex7", reauthenticate_in)
    assert codes(capsys, okta) == found
    assert ("GET", "/api/v1/policies/rst1pscAuthPolicy0ex7/rules") in [
        (r.method, r.path) for r in okta.fake.requests
    ]


@pytest.mark.process
def test_each_establishment_reaches_the_hook_with_its_claim(
    capsys, okta, monkeypatch, start_server, tmp_path
):
    clinic = "0oa1clinicC0Example7"
    table = {"tenants": [{"tid": "OKTA_chu-a", "kc_idp_hint": "OKTA_chu-a", "match": ["chu-a"]},
                         {"tid": "123456", "client_ids": [clinic]}]}  # fmt: skip
    (tmp_path / "tenants.json").write_text(json.dumps(table))
    env = {key: value for key, value in LOCAL_ENV.items() if key not in ("PSC_TENANT_ID",
           "PSC_KC_IDP_HINT")} | {"PSC_TENANTS": str(tmp_path / "tenants.json")}  # fmt: skip
    okta.fake.service_url = start_server(env).url
    use_env(monkeypatch, env)
    wire(okta.fake)
    assert codes(capsys, okta) == ["tenant-client-not-covered", "tenant-claim-missing"]
    okta.fake.add_claim(SERVER, "psc_establishment")
    okta.fake.policies[(SERVER, POLICY)]["conditions"]["clients"]["include"].append(clinic)
    assert codes(capsys, okta) == []
    [execute, *_] = [r for r in okta.fake.requests if r.method == "POST"]
    assert execute.body["data"]["identity"]["claims"]["psc_establishment"] == "chu-a"
    assert "The authorization server 'Pro Santé Connect' (aus1psc0hook0example7) issues the" \
        " 'psc_establishment' claim." in holds(capsys, okta)  # fmt: skip


# the CPS card reader's AMR values, and the methods PSC's app lets users in with -----------


def only(capsys, okta: FakeOktaServer, *extra: str) -> dict:
    """The doctor's JSON report, run with the environment given."""
    return doctor(capsys, okta, "--json", *extra).json()


@pytest.mark.process
@pytest.mark.parametrize(
    ("additional", "missing"),
    [(None, "hwk, mfa, pin"), ((), "hwk, mfa, pin"), (("pin",), "hwk, mfa"),
     (("sc", "hwk", "mfa"), "pin")],
)  # fmt: skip
def test_a_cps_reader_whose_amr_values_are_not_pscs_eleve_set(capsys, okta, additional, missing):
    """Okta reserves the ID token's amr: only the IdP's AMR values make it PSC's élevé set."""
    wire(okta.fake)
    okta.fake.add_idp(CPS_IDP, "Carte CPS", additional_amr=additional)
    okta.fake.add_idp("0oa9staffBadge0Idp01", "Staff badge")  # not a CPS reader: not judged
    [finding] = only(capsys, okta)["findings"]
    assert finding["code"] == "cps-idp-amr-incomplete"
    assert f"'Carte CPS' ({CPS_IDP})" in finding["problem"]
    assert f"(additionalAmr), without {missing}:" in finding["problem"]
    assert "not PSC's élevé set (hwk mfa pin sc), in the ID token" in finding["problem"]
    assert finding["fix"].startswith("Security > Identity Providers > the IdP > Edit > AMR values:")
    assert f"add {missing};" in finding["fix"]


@pytest.mark.process
def test_a_cps_reader_with_hwk_pin_mfa_makes_okta_record_pscs_eleve_set(capsys, okta):
    wire(okta.fake)
    report = only(capsys, okta)
    assert report["findings"] == []
    assert (
        f"The smart-card IdP 'Carte CPS' ({CPS_IDP}) has the AMR values hwk, pin, mfa: Okta"
        " itself records hwk mfa pin sc, PSC's élevé set, in both tokens."
    ) in report["holds"]
    okta.fake.idps[CPS_IDP]["status"] = "INACTIVE"
    okta.fake.idps[CPS_IDP]["properties"] = {"additionalAmr": []}
    assert codes(capsys, okta) == ["cps-idp-not-found"]


@pytest.mark.process
@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"constraints": [{"knowledge": PASSWORD, "possession": possession("sms")}]},
         ["an SMS code (sms)"]),
        ({"constraints": [{"knowledge": PASSWORD, "possession": possession("voice")}]},
         ["a voice call (voice)"]),
        ({"constraints": [{"knowledge": PASSWORD, "possession": possession("email")}]},
         ["an email (email)"]),
        ({"constraints": [{"knowledge": PASSWORD, "possession": possession("webauthn")}]},
         ["a FIDO2 key or passkey (webauthn)"]),
        ({"constraints": [{"possession": possession("signed_nonce")}]},
         ["a security question", "Okta FastPass (signed_nonce) alone"]),
        ({"constraints": [{"knowledge": PASSWORD,
                           "possession": possession(phishingResistant="REQUIRED")}]},
         ["a FIDO2 key or passkey (webauthn)"]),
        ({"constraints": [{"knowledge": PASSWORD}, {"possession": possession("push")}],
          "factor_mode": "1FA"},
         ["the password alone", "Okta Verify push alone"]),
        ({"constraints": [{"knowledge": PASSWORD}], "factor_mode": "1FA"},
         ["the password alone"]),
        ({"constraints": [{"knowledge": PASSWORD,
                           "possession": possession("push", "sms", "email")}]},
         ["an SMS code (sms)", "an email (email)"]),
        ({"constraints": None},
         ["a security question", "a one-time code app (otp)",
          "a FIDO2 key or passkey (webauthn)", "an SMS code (sms)", "a voice call (voice)",
          "an email (email)", "Duo (duo)", "Okta FastPass (signed_nonce) alone"]),
        ({"chains": [{"authenticationMethods": [{"key": "okta_password", "method": "password"}],
                      "next": [{"authenticationMethods": [{"key": "webauthn"}],
                                "reauthenticateIn": "PT4H"}]}]},
         ["a FIDO2 key or passkey (webauthn)"]),
    ],
    ids=["sms", "voice", "email", "webauthn", "fastpass alone", "phishing resistant",
         "1FA, knowledge or possession", "password alone", "push or sms or email",
         "any two factors", "chain"],
)  # fmt: skip
def test_a_rule_letting_users_in_without_pscs_sets_names_the_method(capsys, okta, rule, named):
    wire(okta.fake)
    okta.fake.add_authentication_policy(PSC_CLIENT, AUTH_POLICY, **rule)
    [finding] = only(capsys, okta)["findings"]
    assert finding["code"] == "policy-allows-non-psc-method"
    assert finding["problem"].startswith(
        f"The authentication policy 'Pro Santé Connect' ({AUTH_POLICY}) of the app"
        " 'Pro Santé Connect', rule 'Health professionals', lets a user in with"
        f" {', '.join(named)}: Okta records such a sign-in ("
    )
    assert "none of PSC's amr sets, even after the hook" in finding["problem"]
    assert f"take out {', '.join(named)};" in finding["fix"]


@pytest.mark.process
@pytest.mark.parametrize(
    ("demands", "noted"),
    [(possession("push"), []),
     (possession("totp"), ["the password + an Okta Verify code (TOTP)"]),
     (possession("signed_nonce"), ["the password + Okta FastPass (signed_nonce)"]),
     (possession("push", "totp"), ["the password + an Okta Verify code (TOTP)"])],
    ids=["push", "totp", "fastpass after the password", "push or totp"],
)  # fmt: skip
def test_what_only_the_hook_makes_pscs_set_is_a_note(capsys, okta, demands, noted):
    """TOTP: Okta records okta_verify otp, which the hook normalises in the access token
    only; the ID token's amr stays Okta's."""
    wire(okta.fake)
    okta.fake.add_authentication_policy(
        PSC_CLIENT, AUTH_POLICY, constraints=({"knowledge": PASSWORD, "possession": demands},)
    )
    report = only(capsys, okta)
    assert report["findings"] == []
    notes = [note for note in report["notes"] if "hook turns into" in note]
    assert len(notes) == len(noted)
    for note, way in zip(notes, noted, strict=True):
        assert f"lets a user in with {way}: Okta records" in note
        assert "PSC's substantiel set in the access token only; the ID token keeps" in note
    pushes = [hold for hold in report["holds"] if "for which Okta itself records" in hold]
    assert len(pushes) == ("push" in demands["methods"])


@pytest.mark.process
def test_without_amr_in_the_access_token_the_hook_cannot_help(capsys, okta, monkeypatch):
    monkeypatch.setenv("PSC_CLAIMS_ACCESS_TOKEN", "tid,oid")
    wire(okta.fake)
    okta.fake.add_authentication_policy(
        PSC_CLIENT, AUTH_POLICY, constraints=({"knowledge": PASSWORD,
                                               "possession": possession("totp")},)
    )  # fmt: skip
    [finding] = only(capsys, okta)["findings"]
    assert finding["code"] == "policy-allows-non-psc-method"
    assert (
        "lets a user in with the password + an Okta Verify code (TOTP) alone"
        not in (finding["problem"])
    )
    assert "lets a user in with an Okta Verify code (TOTP):" in finding["problem"]


@pytest.mark.process
def test_deny_inactive_and_other_rules_let_no_one_in(capsys, okta, monkeypatch):
    monkeypatch.setenv("PSC_MAX_AUTH_AGE", "4h")
    wire(okta.fake)
    add = okta.fake.add_authentication_rule
    add(AUTH_POLICY, name="Outsiders", constraints=None, access="DENY", reauthenticate_in=None)
    add(AUTH_POLICY, name="Old", constraints=None, status="INACTIVE", reauthenticate_in=None)
    add(AUTH_POLICY, name="Catch-all Rule", access="DENY", system=True, reauthenticate_in=None)
    report = only(capsys, okta)
    assert report["findings"] == []
    assert [r.path for r in okta.fake.requests if "/api/v1/policies/" in r.path] == [
        f"/api/v1/policies/{AUTH_POLICY}",
        f"/api/v1/policies/{AUTH_POLICY}/rules",
    ]


@pytest.mark.process
def test_the_idps_and_the_policys_rules_are_read_page_after_page(capsys, okta):
    okta.fake.page_size = 1
    wire(okta.fake)
    okta.fake.add_idp("0oa9staffBadge0Idp01", "Staff badge")
    okta.fake.idps[CPS_IDP] = okta.fake.idps.pop(CPS_IDP)  # the CPS reader on page 2
    okta.fake.add_authentication_rule(
        AUTH_POLICY, name="Contractors",
        constraints=({"knowledge": PASSWORD, "possession": possession("sms")},),
    )  # fmt: skip
    [finding] = only(capsys, okta, "--hook", "PSC claims")["findings"]
    assert "rule 'Contractors'" in finding["problem"]
    pages = [(r.path, r.query.get("after")) for r in okta.fake.requests if r.method == "GET"]
    assert ("/api/v1/idps", ["1"]) in pages
    assert (f"/api/v1/policies/{AUTH_POLICY}/rules", ["1"]) in pages
    assert any("'Carte CPS'" in hold for hold in only(capsys, okta)["holds"])
