"""The fake Okta answers the doctor's audit of IdPs and authentication policies with objects
that fit Okta's own schemas (``tests/okta/management-schemas.json``), read back over HTTP as
the doctor reads them, and each call the doctor makes has the OAuth scope Okta's OpenAPI
gives it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from hook.cli import okta_api, okta_scopes
from hook.cli.audit_log import log_path
from tests.support.fake_okta import TOKEN, FakeOkta, FakeOktaServer
from tests.support.okta_schemas import MANAGEMENT, validate_management

APP, POLICY = "0oa1pscClient0Example7", "rst1pscAuthPolicy0ex7"
#: OpenAPI 3.0 discriminators JSON Schema does not follow: a verification method's schema.
VERIFICATION_METHODS = MANAGEMENT["schemas"]["VerificationMethod"]["discriminator"]["mapping"]


@pytest.fixture
def okta() -> Iterator[FakeOktaServer]:
    """An org with every kind of IdP and authentication-policy rule the doctor's tests use,
    served two objects a page."""
    fake = FakeOkta(page_size=2)
    fake.add_idp("0oa1cpsSmartCard0Idp7", "Carte CPS", additional_amr=("hwk", "pin", "mfa"))
    fake.add_idp("0oa9staffBadge0Idp01", "Staff badge")
    fake.add_idp("0oa9cpsSmartCard0Idp8", "Carte CPS (pin only)", additional_amr=("pin",))
    fake.add_idp("0oa9cpsSmartCard0Idp9", "Carte CPS (none)", additional_amr=())
    fake.add_idp("0oa9googleSocial0Idp", "Google", kind="GOOGLE", status="INACTIVE")
    fake.add_app(APP, [])
    fake.add_authentication_policy(APP, POLICY)
    fake.add_authentication_rule(POLICY, name="Anything", constraints=None, reauthenticate_in=None)
    fake.add_authentication_rule(POLICY, name="One factor", factor_mode="1FA", status="INACTIVE")
    fake.add_authentication_rule(
        POLICY,
        name="Phishing resistant",
        constraints=(
            {
                "possession": {
                    "authenticationMethods": [{"key": "okta_verify", "method": "signed_nonce"}],
                    "excludedAuthenticationMethods": [{"key": "phone_number", "method": "sms"}],
                    "phishingResistant": "REQUIRED",
                    "deviceBound": "REQUIRED",
                    "hardwareProtection": "OPTIONAL",
                    "userVerification": "REQUIRED",
                    "required": True,
                },
            },
        ),
    )
    fake.add_authentication_rule(
        POLICY,
        name="Chain",
        chains=[
            {
                "authenticationMethods": [{"key": "okta_password", "method": "password"}],
                "next": [{"authenticationMethods": [{"key": "webauthn", "method": "webauthn"}]}],
                "reauthenticateIn": "PT4H",
            }
        ],
        reauthenticate_in=None,
    )
    fake.add_authentication_rule(POLICY, name="Catch-all Rule", access="DENY", system=True)
    server = FakeOktaServer(fake)
    yield server
    server.close()


@pytest.mark.process
def test_every_idp_the_fake_lists_is_an_okta_identity_provider(okta):
    client = okta_api.OktaClient(okta.url, TOKEN)
    idps = client.listing("/api/v1/idps") + client.listing(okta_api.SMART_CARD_IDPS_PATH)
    assert len(idps) == 5 + 4
    for idp in idps:
        validate_management("IdentityProvider", idp)


@pytest.mark.process
def test_every_policy_and_rule_the_fake_serves_fits_oktas_schemas(okta):
    client = okta_api.OktaClient(okta.url, TOKEN)
    policy = client.call(okta_api.ApiCall("GET", okta_api.policy_path(POLICY)))
    validate_management("AccessPolicy", policy)
    rules = client.listing(okta_api.policy_rules_path(POLICY))
    assert len(rules) == 6
    for rule in rules:
        validate_management("AccessPolicyRule", rule)
        method = rule["actions"]["appSignOn"]["verificationMethod"]
        schema = VERIFICATION_METHODS[method["type"]].rsplit("/", 1)[-1]
        validate_management(schema, method)


def test_an_object_okta_would_not_serve_is_caught():
    """The validation can fail: a factor mode, a method or a status Okta does not have."""
    fake = FakeOkta()
    fake.add_app(APP, [])
    rule = fake.add_authentication_policy(APP, POLICY)
    method = rule["actions"]["appSignOn"]["verificationMethod"]
    for field, value in (
        ("factorMode", "3FA"),
        ("constraints", [{"knowledge": {"methods": ["pin"]}}]),
    ):
        broken = {**method, field: value}
        with pytest.raises(jsonschema.ValidationError, match="is not one of"):
            validate_management("AssuranceMethod", broken)
    idp = fake.add_idp("0oa1cpsSmartCard0Idp7", "Carte CPS", additional_amr=("swk",))
    with pytest.raises(jsonschema.ValidationError, match="is not one of"):
        validate_management("IdentityProvider", idp)


def test_the_doctors_calls_have_the_scopes_okta_gives_them():
    """Where management-schemas.json records a GET's scope, okta_api.scope agrees; every
    read the doctor makes has a scope among DOCTOR_SCOPES."""
    for path, operations in MANAGEMENT["paths"].items():
        [scopes] = [entry["oauth2"] for entry in operations["get"]["security"] if "oauth2" in entry]
        assert [okta_scopes.scope("GET", path)] == scopes, path
    doctor_calls = [
        ("GET", okta_api.TOKEN_HOOKS_PATH),
        ("GET", okta_api.AUTH_SERVERS_PATH),
        ("GET", okta_api.auth_server_path("aus1")),
        ("GET", okta_api.policies_path("aus1")),
        ("GET", okta_api.rules_path("aus1", "00p1")),
        ("GET", okta_api.claims_path("aus1")),
        ("GET", okta_api.SMART_CARD_IDPS_PATH),
        ("GET", okta_api.app_path("0oa1")),
        ("GET", okta_api.policy_path(POLICY)),
        ("GET", okta_api.policy_rules_path(POLICY)),
        ("GET", log_path(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))),
        ("POST", okta_api.execute_call("cal1", {}).path),
    ]
    assert {okta_scopes.scope(*call) for call in doctor_calls} == set(okta_scopes.DOCTOR_SCOPES)
    with pytest.raises(KeyError):
        okta_scopes.scope("DELETE", okta_api.policy_path(POLICY))
