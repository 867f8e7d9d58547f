"""The Terraform example (deploy/terraform): parsed with python-hcl2, its hook resolved with the
example's values into the body the Okta provider sends, and that body checked against Okta's
``InlineHookCreate`` schema and against what ``psc-hook register`` sends; its rule planned as
Terraform plans an imported resource, and the body the provider would send compared with the
rule Okta holds."""

from __future__ import annotations

import re
from typing import Any

import hcl2
import pytest

from hook.cli import okta_api
from hook.cli.register import DEFAULT_HOOK_NAME
from tests.support.fake_okta import FakeOkta, hook_problems
from tests.support.settings import ROOT, SECRET

HERE = ROOT / "deploy" / "terraform"
OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
CLIENT_SECRET = "client-secret-0123456789-abcdefghijklmnop"
REFERENCE = re.compile(r"\$\{(var|local)\.(\w+)\}")


def parse(name: str) -> dict[str, Any]:
    with (HERE / name).open() as source:
        return hcl2.load(source, serialization_options=OPTIONS)


def merged() -> dict[str, list[Any]]:
    """Every block of every .tf file, by block type."""
    blocks: dict[str, list[Any]] = {}
    for path in sorted(HERE.glob("*.tf")):
        for kind, entries in parse(path.name).items():
            blocks.setdefault(kind, []).extend(entries)
    return blocks


TERRAFORM = merged()
VARIABLES = {name: body for entry in TERRAFORM["variable"] for name, body in entry.items()}
LOCALS = {name: value for entry in TERRAFORM["locals"] for name, value in entry.items()}
RESOURCES = {
    (kind, name): body
    for entry in TERRAFORM["resource"]
    for kind, named in entry.items()
    for name, body in named.items()
}
EXAMPLE = parse("terraform.tfvars.example")


def inputs(**chosen: Any) -> dict[str, Any]:
    """The variables' values: defaults, then the example file, then the test's choices."""
    values = {name: body.get("default") for name, body in VARIABLES.items()}
    return {**values, **EXAMPLE, **chosen}


def resolve(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with its ``${var.x}`` and ``${local.x}`` references replaced, recursively."""
    if isinstance(value, dict):
        return {key: resolve(item, values) for key, item in value.items()}
    if isinstance(value, str) and (match := REFERENCE.fullmatch(value)):
        kind, name = match.groups()
        return values[name] if kind == "var" else resolve(LOCALS[name], values)
    return value


def hook_body(resource: str, values: dict[str, Any]) -> dict[str, Any]:
    """The ``InlineHookCreate`` body the Okta provider sends for one of the two hooks.

    ``channel_json`` is the channel as is; the flat ``channel`` and ``auth`` maps become
    ``channel.config`` with ``auth`` as its ``authScheme``."""
    hook = RESOURCES[("okta_inline_hook", resource)]
    if "channel_json" in hook:
        jsonencoded = re.fullmatch(r"\$\{jsonencode\((local\.\w+)\)\}", hook["channel_json"])
        channel = resolve(f"${{{jsonencoded[1]}}}", values)
    else:
        flat = resolve(hook["channel"], values)
        config = {"uri": flat["uri"], "method": flat["method"]}
        channel = {
            "type": flat["type"],
            "version": flat["version"],
            "config": {**config, "authScheme": resolve(hook["auth"], values)},
        }
    return {key: hook[key] for key in ("name", "type", "version")} | {"channel": channel}


def without_empty_headers(body: dict[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in body["channel"]["config"].items() if value != []}
    return {**body, "channel": {**body["channel"], "config": config}}


OAUTH = {
    "auth_mode": "oauth",
    "oauth_client_id": "0oa9hookCaller0example",
    "oauth_client_secret": CLIENT_SECRET,
    "oauth_token_url": "https://chu-exemple.okta.com/oauth2/aus9hookCaller0example/v1/token",
}


def test_the_header_hook_is_the_one_psc_hook_register_creates():
    values = inputs(hook_secret=SECRET)
    body = hook_body("header", values)
    assert hook_problems(body) == []
    channel = okta_api.header_channel(values["hook_url"], "Authorization", SECRET)
    assert body == without_empty_headers(okta_api.create_hook(DEFAULT_HOOK_NAME, channel).body)


def test_the_oauth_hook_goes_through_channel_json_as_register_sends_it():
    values = inputs(**OAUTH)
    body = hook_body("oauth", values)
    assert hook_problems(body) == []
    channel = okta_api.oauth_channel(
        values["hook_url"],
        client_id=OAUTH["oauth_client_id"],
        token_url=OAUTH["oauth_token_url"],
        client_secret=CLIENT_SECRET,
        scope="psc.hook",
    )
    assert body == without_empty_headers(okta_api.create_hook(DEFAULT_HOOK_NAME, channel).body)


@pytest.mark.parametrize(
    ("resource", "chosen", "problem"),
    [
        ("header", {"hook_secret": SECRET, "hook_url": "http://hook.example/token-hook"}, "uri"),
        ("header", {"hook_secret": None}, "authScheme"),
        ("oauth", {**OAUTH, "oauth_token_url": None}, "tokenUrl"),
    ],
)
def test_okta_refuses_what_the_example_must_not_send(resource, chosen, problem):
    """The checks above can fail: a plain http:// URL or a missing value is refused."""
    problems = hook_problems(hook_body(resource, inputs(**chosen)))
    assert any(problem in line for line in problems), problems


def test_one_hook_exists_whichever_the_mode_and_the_rule_calls_it():
    for mode in ("header", "oauth"):
        count = RESOURCES[("okta_inline_hook", mode)]["count"]
        assert count == f'${{var.auth_mode == "{mode}" ? 1 : 0}}'
    rule = RESOURCES[("okta_auth_server_policy_rule", "psc")]
    assert rule["inline_hook_id"] == "${local.inline_hook_id}"
    assert LOCALS["inline_hook_id"] == (
        "${one(concat(okta_inline_hook.header[*].id, okta_inline_hook.oauth[*].id))}"
    )
    assert (rule["auth_server_id"], rule["policy_id"]) == (
        "${var.auth_server_id}",
        "${var.policy_id}",
    )
    [output] = TERRAFORM["output"]
    assert output["inline_hook_id"]["value"] == "${local.inline_hook_id}"


def test_secrets_come_from_sensitive_variables_only():
    secrets = {name for name in VARIABLES if "secret" in name}
    assert secrets == {"hook_secret", "oauth_client_secret"}
    for name in secrets:
        assert VARIABLES[name]["sensitive"] is True, name
        assert VARIABLES[name]["default"] is None, name
        assert name not in EXAMPLE, name
    [provider] = TERRAFORM["provider"]
    assert "api_token" not in provider["okta"]  # the provider reads OKTA_API_TOKEN


def test_the_provider_is_oktas_and_the_variables_are_checked():
    [settings] = TERRAFORM["terraform"]
    [providers] = settings["required_providers"]
    assert providers["okta"]["source"] == "okta/okta"
    [url_check] = VARIABLES["hook_url"]["validation"]
    assert 'startswith(var.hook_url, "https://")' in url_check["condition"]
    [mode_check] = VARIABLES["auth_mode"]["validation"]
    assert mode_check["condition"] == '${contains(["header", "oauth"], var.auth_mode)}'


# the access-policy rule: imported, only its inline hook set ------------------------------

#: ``okta_auth_server_policy_rule``'s arguments in provider 4.20 (its docs, "Schema") and the
#: defaults the provider fills in when the configuration leaves one out.
RULE_ARGUMENTS = {
    "auth_server_id": None,
    "policy_id": None,
    "name": None,
    "priority": None,
    "grant_type_whitelist": None,
    "status": "ACTIVE",
    "type": "RESOURCE_ACCESS",
    "access_token_lifetime_minutes": 60,
    "refresh_token_lifetime_minutes": None,
    "refresh_token_window_minutes": 10080,
    "scope_whitelist": None,
    "group_whitelist": None,
    "group_blacklist": None,
    "user_whitelist": None,
    "user_blacklist": None,
    "inline_hook_id": None,
}
HOOK_ID = "calfake0000000000042"  # what local.inline_hook_id is once the hook exists


def imported(rule: dict[str, Any], auth_server: str, policy: str) -> dict[str, Any]:
    """The state ``terraform import`` (the provider's read) makes of a rule as Okta returns it."""
    token, conditions = rule["actions"]["token"], rule["conditions"]
    people = conditions.get("people") or {}
    return {
        "auth_server_id": auth_server,
        "policy_id": policy,
        "name": rule["name"],
        "priority": rule["priority"],
        "status": rule["status"],
        "type": rule["type"],
        "grant_type_whitelist": conditions["grantTypes"]["include"],
        "scope_whitelist": conditions["scopes"]["include"],
        "group_whitelist": (people.get("groups") or {}).get("include", []),
        "group_blacklist": (people.get("groups") or {}).get("exclude", []),
        "user_whitelist": (people.get("users") or {}).get("include", []),
        "user_blacklist": (people.get("users") or {}).get("exclude", []),
        "access_token_lifetime_minutes": token["accessTokenLifetimeMinutes"],
        "refresh_token_lifetime_minutes": token["refreshTokenLifetimeMinutes"],
        "refresh_token_window_minutes": token["refreshTokenWindowMinutes"],
        "inline_hook_id": (token.get("inlineHook") or {}).get("id"),
    }


def planned(state: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Terraform's plan for the imported rule: the configuration's value (or the provider's
    default) for each argument, except those ``ignore_changes`` keeps from the state."""
    rule = RESOURCES[("okta_auth_server_policy_rule", "psc")]
    [lifecycle] = rule.get("lifecycle", [{}])
    kept = set(lifecycle.get("ignore_changes", []))
    configured = {key: value for key, value in rule.items() if key in RULE_ARGUMENTS}
    assert configured["inline_hook_id"] == "${local.inline_hook_id}"
    configured = resolve(configured, values) | {"inline_hook_id": HOOK_ID}
    return {
        name: state[name] if name in kept else configured.get(name, default)
        for name, default in RULE_ARGUMENTS.items()
    }


def provider_body(plan: dict[str, Any]) -> dict[str, Any]:
    """The rule the provider PUTs to Okta for a plan (its ``buildAuthServerPolicyRule``)."""
    hook = {"inlineHook": {"id": plan["inline_hook_id"]}} if plan["inline_hook_id"] else {}
    return {
        "name": plan["name"],
        "status": plan["status"],
        "priority": plan["priority"],
        "type": plan["type"],
        "actions": {
            "token": {
                "accessTokenLifetimeMinutes": plan["access_token_lifetime_minutes"],
                "refreshTokenLifetimeMinutes": plan["refresh_token_lifetime_minutes"] or 0,
                "refreshTokenWindowMinutes": plan["refresh_token_window_minutes"],
                **hook,
            }
        },
        "conditions": {
            "grantTypes": {"include": sorted(plan["grant_type_whitelist"] or [])},
            "scopes": {"include": sorted(plan["scope_whitelist"] or [])},
            "people": {
                "groups": {"include": sorted(plan["group_whitelist"] or []),
                           "exclude": sorted(plan["group_blacklist"] or [])},
                "users": {"include": sorted(plan["user_whitelist"] or []),
                          "exclude": sorted(plan["user_blacklist"] or [])},
            },
        },
    }  # fmt: skip


def existing_rule() -> dict[str, Any]:
    """The PSC app's rule as Okta returns it, with nothing the example's old defaults had."""
    fake = FakeOkta()
    rule = fake.add_rule(EXAMPLE["auth_server_id"], EXAMPLE["policy_id"], EXAMPLE["rule_id"])
    rule.update(name="PSC: health professionals", priority=3, status="ACTIVE")
    rule["conditions"] = {
        "people": {"groups": {"include": ["00g1pscProfessionals"], "exclude": ["00g1interns"]}},
        "grantTypes": {"include": ["authorization_code", "refresh_token"]},
        "scopes": {"include": ["openid", "profile", "psc.read"]},
    }
    rule["actions"]["token"].update(
        accessTokenLifetimeMinutes=15, refreshTokenLifetimeMinutes=480,
        refreshTokenWindowMinutes=120,
    )  # fmt: skip
    return rule


def test_the_rule_is_imported_not_created_and_never_destroyed():
    [lifecycle] = RESOURCES[("okta_auth_server_policy_rule", "psc")]["lifecycle"]
    assert lifecycle["prevent_destroy"] is True
    [block] = TERRAFORM["import"]
    assert block["to"] == "${okta_auth_server_policy_rule.psc}"
    assert block["id"] == "${var.auth_server_id}/${var.policy_id}/${var.rule_id}"
    for name in ("auth_server_id", "policy_id", "rule_id"):
        assert "default" not in VARIABLES[name], name
        assert name in EXAMPLE, name


def test_applying_sets_the_rules_inline_hook_and_nothing_else():
    """The body the provider sends is the rule Okta holds, its token action calling the hook."""
    rule = existing_rule()
    state = imported(rule, EXAMPLE["auth_server_id"], EXAMPLE["policy_id"])
    for mode in ({"hook_secret": SECRET}, OAUTH):
        body = provider_body(planned(state, inputs(**mode)))
        attached = okta_api.attach(rule, HOOK_ID)
        assert body == provider_body(imported(attached, state["auth_server_id"],
                                              state["policy_id"]))  # fmt: skip
        assert body["conditions"]["people"]["groups"]["include"] == ["00g1pscProfessionals"]
        assert body["conditions"]["scopes"]["include"] == ["openid", "profile", "psc.read"]
        assert (body["name"], body["priority"]) == ("PSC: health professionals", 3)
        assert body["actions"]["token"]["inlineHook"] == {"id": HOOK_ID}


def test_every_argument_but_the_hook_is_kept_from_the_rule():
    """A new argument of the provider, or one left out of ignore_changes, fails here."""
    [lifecycle] = RESOURCES[("okta_auth_server_policy_rule", "psc")]["lifecycle"]
    kept = set(lifecycle["ignore_changes"])
    assert kept == set(RULE_ARGUMENTS) - {"auth_server_id", "policy_id", "inline_hook_id"}
    permissive = [name for name, body in VARIABLES.items()
                  if body.get("default") in (["EVERYONE"], ["*"])]  # fmt: skip
    assert permissive == []
