"""The Terraform example (deploy/terraform): parsed with python-hcl2, its hook resolved with the
example's values into the body the Okta provider sends, and that body checked against Okta's
``InlineHookCreate`` schema and against what ``psc-hook register`` sends."""

from __future__ import annotations

import re
from typing import Any

import hcl2
import pytest

from hook import okta_api
from hook.cli import DEFAULT_HOOK_NAME
from tests.conftest import ROOT, SECRET
from tests.fake_okta import hook_problems

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
