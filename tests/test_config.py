"""Configuration is validated once; each bad setting names its variable."""

from __future__ import annotations

import pytest

from hook.config import ConfigError, Part, load_settings


def test_defaults(settings) -> None:
    assert settings.tenant_id == "OKTA_chu-exemple"
    assert settings.claims == {"identity": ("tid", "oid"), "access": ("tid", "oid", "amr")}
    assert settings.client_ids == frozenset()
    assert settings.min_assurance == "none"
    assert settings.auth_header == "Authorization"
    assert settings.max_body_bytes == 262_144
    assert settings.port == 8080
    assert settings.kc_idp_hint is None


def test_two_secrets_for_a_rotation(env) -> None:
    env["HOOK_SECRETS"] = "a" * 32 + " , " + "b" * 40
    assert load_settings(env).secrets == (b"a" * 32, b"b" * 40)


def test_reserved_slots_are_warned_about_naming_okta_docs(env) -> None:
    env["PSC_CLAIMS_ID_TOKEN"] = "tid,oid,amr"
    warnings = load_settings(env).warnings
    assert any("'oid' in the ID token" in w and "PSC reference" in w for w in warnings)
    assert any("'amr' in the ID token" in w and "void" in w for w in warnings)


def test_no_reserved_slot_warning_for_the_access_token_defaults(env) -> None:
    env["PSC_CLAIMS_ID_TOKEN"] = "tid,oid"
    env["PSC_CLAIMS_ACCESS_TOKEN"] = "tid,oid,amr"
    assert [w for w in load_settings(env).warnings if "reserved" in w] == [
        "'oid' in the ID token: reserved in Okta's docs, yet the PSC reference uses it; try Preview"
    ]


@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_placements_are_unset(env, empty) -> None:
    """As for every variable (deploy/kubernetes/settings.env says so): empty is the default,
    never "no claims", which made the service answer 204 to everything."""
    env.update(PSC_CLAIMS_ID_TOKEN=empty, PSC_CLAIMS_ACCESS_TOKEN=empty)
    assert load_settings(env).claims == {
        "identity": ("tid", "oid"),
        "access": ("tid", "oid", "amr"),
    }
    env["PSC_KC_IDP_HINT"] = "OKTA_chu-exemple"
    assert load_settings(env).claims["identity"] == ("tid", "oid", "kc_idp_hint")


def test_none_places_no_claim_and_is_warned_about(env) -> None:
    env.update(PSC_CLAIMS_ID_TOKEN="none", PSC_CLAIMS_ACCESS_TOKEN=" None ")
    settings = load_settings(env)
    assert settings.claims == {"identity": (), "access": ()}
    assert tuple(w for w in settings.warnings if "leaves out" in w) == (
        "PSC_CLAIMS_ID_TOKEN leaves out tid, oid: PSC reads tid and oid in the ID token",
        "PSC_CLAIMS_ACCESS_TOKEN leaves out tid, oid, amr: PSC reads tid, oid and amr in the"
        " access token",
    )


@pytest.mark.parametrize(
    ("placements", "warning"),
    [
        ({"PSC_CLAIMS_ID_TOKEN": "oid"}, "PSC_CLAIMS_ID_TOKEN leaves out tid:"),
        ({"PSC_CLAIMS_ID_TOKEN": "tid"}, "PSC_CLAIMS_ID_TOKEN leaves out oid:"),
        ({"PSC_CLAIMS_ACCESS_TOKEN": "tid,oid"}, "PSC_CLAIMS_ACCESS_TOKEN leaves out amr:"),
        ({"PSC_CLAIMS_ACCESS_TOKEN": "amr"}, "PSC_CLAIMS_ACCESS_TOKEN leaves out tid, oid:"),
    ],
)
def test_a_plan_without_what_psc_reads_is_warned_about(env, placements, warning) -> None:
    env.update(placements)
    [found] = [w for w in load_settings(env).warnings if "leaves out" in w]
    assert found.startswith(warning)


def test_none_stands_alone(env) -> None:
    env["PSC_CLAIMS_ACCESS_TOKEN"] = "none,tid"
    with pytest.raises(ConfigError, match="PSC_CLAIMS_ACCESS_TOKEN: unknown claim 'none'"):
        load_settings(env)


def test_a_command_loads_only_the_parts_it_uses(env) -> None:
    """check-token and doctor never use the secrets: they run without them."""
    del env["HOOK_SECRETS"]
    env["METRICS_TOKEN"] = "short"
    with pytest.raises(ConfigError, match="HOOK_SECRETS"):
        load_settings(env)
    callers = load_settings(env, parts=(Part.CALLERS,))
    assert (callers.auth_modes, callers.secrets, callers.metrics_token) == (("header",), (), None)
    del env["HOOK_AUTH_MODE"]
    claims_only = load_settings(env, parts=())
    assert (claims_only.auth_modes, claims_only.oauth) == ((), None)
    assert claims_only.tenant_id == "OKTA_chu-exemple"
    env["HOOK_AUTH_MODE"] = "basic"
    with pytest.raises(ConfigError, match="HOOK_AUTH_MODE"):
        load_settings(env, parts=(Part.CALLERS,))


@pytest.mark.parametrize(
    ("changes", "variable", "message"),
    [
        ({"PSC_TENANT_ID": ""}, "PSC_TENANT_ID", "required"),
        ({"PSC_TENANT_ID": None}, "PSC_TENANT_ID", "required"),
        ({"HOOK_AUTH_MODE": None}, "HOOK_AUTH_MODE", "required"),
        ({"HOOK_AUTH_MODE": "basic"}, "HOOK_AUTH_MODE", "not header, oauth"),
        ({"HOOK_AUTH_MODE": "header,header"}, "HOOK_AUTH_MODE", "not header, oauth"),
        ({"HOOK_SECRETS": None}, "HOOK_SECRETS", "required"),
        ({"HOOK_SECRETS": "short"}, "HOOK_SECRETS", "at least 32"),
        ({"HOOK_SECRETS": "a" * 32 + "," + "b" * 31}, "HOOK_SECRETS", "secret #2"),
        ({"HOOK_SECRETS": '"' + "a" * 40 + '"'}, "HOOK_SECRETS", "remove the quotes"),
        ({"HOOK_SECRETS": "'" + "a" * 40 + "'"}, "HOOK_SECRETS", "remove the quotes"),
        ({"HOOK_SECRETS": '"' + "a" * 32 + "," + "b" * 32 + '"'}, "HOOK_SECRETS", "secret #1"),
        ({"HOOK_SECRETS": "a" * 32 + ",'" + "b" * 32}, "HOOK_SECRETS", "secret #2 is in quotes"),
        ({"HOOK_AUTH_HEADER": "Bad Header"}, "HOOK_AUTH_HEADER", "not a valid header"),
        ({"PSC_CLAIMS_ID_TOKEN": "tid,email"}, "PSC_CLAIMS_ID_TOKEN", "unknown claim 'email'"),
        ({"PSC_CLAIMS_ACCESS_TOKEN": "tid,tid"}, "PSC_CLAIMS_ACCESS_TOKEN", "twice"),
        ({"PSC_MIN_ASSURANCE": "high"}, "PSC_MIN_ASSURANCE", "not one of"),
        ({"HOOK_MAX_BODY_BYTES": "lots"}, "HOOK_MAX_BODY_BYTES", "not a whole number"),
        ({"HOOK_MAX_BODY_BYTES": "10"}, "HOOK_MAX_BODY_BYTES", "outside"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL", "not one of"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT", "not one of"),
        ({"PORT": "0"}, "PORT", "outside"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN", "at least 32"),
        ({"METRICS_TOKEN": "a" * 20 + " " + "b" * 20}, "METRICS_TOKEN", "without spaces"),
        ({"PROMETHEUS_MULTIPROC_DIR": "metrics"}, "PROMETHEUS_MULTIPROC_DIR", "not an absolute"),
    ],
)
def test_bad_settings_name_the_variable(env, changes, variable, message) -> None:
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    text = str(error.value)
    assert text.startswith(f"{variable}: ")
    assert message in text
    assert "\n" not in text
    assert "a" * 32 not in text and "b" * 31 not in text  # never echo a secret


def test_metrics_settings(env, tmp_path) -> None:
    assert (load_settings(env).metrics_token, load_settings(env).metrics_dir) == (None, None)
    env.update(METRICS_TOKEN=" " + "t" * 40 + " ", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "a/b"))
    settings = load_settings(env)
    assert settings.metrics_token == b"t" * 40
    assert settings.metrics_dir == tmp_path / "a/b"  # made at start


def test_a_metrics_directory_under_a_file_is_refused(env, tmp_path) -> None:
    (tmp_path / "file").write_text("")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "file" / "metrics")
    with pytest.raises(ConfigError, match=r"PROMETHEUS_MULTIPROC_DIR: .* not a writable directory"):
        load_settings(env)


@pytest.mark.parametrize(
    ("scopes", "client_ids", "warned"),
    [("", "", True), ("psc.hook", "", False), ("", "0oa-hook-caller", False)],
)
def test_oauth_without_scopes_or_client_ids_is_warned_about(env, scopes, client_ids, warned):
    env.update(
        HOOK_AUTH_MODE="oauth",
        HOOK_OAUTH_ISSUER="https://chu-exemple.okta.com/oauth2/aus9hook",
        HOOK_OAUTH_AUDIENCE="api://psc-token-hook",
        HOOK_OAUTH_SCOPES=scopes,
        HOOK_OAUTH_CLIENT_IDS=client_ids,
    )
    warnings = load_settings(env).warnings
    assert any("any token" in w and "HOOK_OAUTH_CLIENT_IDS" in w for w in warnings) is warned
