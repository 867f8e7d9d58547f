"""``psc-hook register`` over real HTTP against a fake of Okta's Management API on loopback."""

from __future__ import annotations

import copy
import getpass
import hashlib
import io
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from hook.cli import okta_api
from hook.cli.register import DEFAULT_HOOK_NAME
from tests.support.cli_runner import run, use_env
from tests.support.docs import markdown_pages, page
from tests.support.fake_okta import (
    TOKEN,
    FakeOkta,
    FakeOktaServer,
    error_body,
    hook_problems,
    replace_problems,
)
from tests.support.okta_schemas import EXAMPLES
from tests.support.processes import free_port
from tests.support.settings import BASE_ENV, OTHER_SECRET, SECRET

HOOK_URL = "https://psc-hook.chu-exemple.fr/token-hook"
MOVED_URL = "https://psc-hook-2.chu-exemple.fr/token-hook"
CLIENT_SECRET = "oauth-client-secret-0123456789-abcdefghijklmnop"
KEY_ID = "HKYpsc0hook0key0example"
TOKEN_URL = "https://chu-exemple.okta.com/oauth2/aus9hookCaller0example/v1/token"
RULE = ("aus1psc0hook0example7", "00p1pscPolicy0Example7", "0pr1pscRule00Example7")


@pytest.fixture
def okta() -> Iterator[FakeOktaServer]:
    server = FakeOktaServer(FakeOkta())
    yield server
    server.close()


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {**BASE_ENV, "OKTA_API_TOKEN": TOKEN})


def register(capsys, okta: FakeOktaServer, *extra: str, org: str | None = None):
    return run(capsys, "register", "--org", org or okta.url, "--url", HOOK_URL, *extra)


def oauth_args(*auth: str) -> tuple[str, ...]:
    return ("--auth", "oauth", "--client-id", "0oa9hookCaller0example", "--token-url", TOKEN_URL,
            *auth)  # fmt: skip


def attach_args() -> tuple[str, ...]:
    return "--auth-server", RULE[0], "--policy", RULE[1], "--rule", RULE[2]


def sent(okta: FakeOktaServer) -> list:
    """The requests after register's look-up of the hooks by name (a GET of the listing)."""
    lookup, *rest = okta.fake.requests
    assert (lookup.method, lookup.path) == ("GET", "/api/v1/inlineHooks")
    assert lookup.query == {"type": ["com.okta.oauth2.tokens.transform"]}
    return rest


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert OTHER_SECRET not in text
        assert CLIENT_SECRET not in text
        assert TOKEN not in text


def short_sha256(secret: str) -> str:
    return "sha256 " + hashlib.sha256(secret.encode()).hexdigest()[:12]


# the fake is faithful: Okta's own examples pass, bodies Okta refuses do not -----------------


@pytest.mark.parametrize(
    "example",
    [
        "InlineHookMgmtCreateHTTPRequest",
        "InlineHookMgmtCreateOAuthClientSecretRequest",
        "InlineHookMgmtCreateOAuthPrivateKeyRequest",
    ],
)
def test_the_fake_accepts_oktas_own_examples(example):
    assert hook_problems(EXAMPLES[example]) == []


def _broken(example: str, change) -> dict:
    body = copy.deepcopy(EXAMPLES[example])
    change(body)
    return body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (_broken("InlineHookMgmtCreateHTTPRequest", lambda b: b.update(type="com.okta.nope")),
         "type"),
        (_broken("InlineHookMgmtCreateHTTPRequest",
                 lambda b: b["channel"].update(type="SOAP")), "channel.type"),
        (_broken("InlineHookMgmtCreateHTTPRequest",
                 lambda b: b["channel"]["config"]["authScheme"].update(type="BASIC")),
         "authScheme"),
        (_broken("InlineHookMgmtCreateHTTPRequest",
                 lambda b: b["channel"]["config"].update(uri="http://example.com/hook")), "uri"),
        (_broken("InlineHookMgmtCreateOAuthClientSecretRequest",
                 lambda b: b["channel"]["config"].pop("clientId")), "clientId"),
        (_broken("InlineHookMgmtCreateOAuthPrivateKeyRequest",
                 lambda b: b["channel"]["config"].update(clientSecret="x")), "clientSecret"),
        (_broken("InlineHookMgmtCreateOAuthPrivateKeyRequest",
                 lambda b: b["channel"]["config"].update(headers={})), "headers"),
        (_broken("InlineHookMgmtCreateHTTPRequest", lambda b: b.pop("channel")), "channel"),
    ],
)  # fmt: skip
def test_the_fake_refuses_what_okta_refuses(body, problem):
    problems = hook_problems(body)
    assert problems
    assert problem in " ".join(problems)


# creating the hook ------------------------------------------------------------------------


@pytest.mark.process
def test_header_channel_is_created_with_the_first_secret(capsys, okta, monkeypatch):
    monkeypatch.setenv("HOOK_SECRETS", f"{SECRET},rotated-secret-9876543210-zyxwvutsrqponmlk")
    monkeypatch.setenv("HOOK_AUTH_HEADER", "X-Psc-Hook-Secret")
    result = register(capsys, okta)
    assert result.code == 0, result.err
    [request] = sent(okta)
    assert (request.method, request.path) == ("POST", "/api/v1/inlineHooks")
    assert request.headers["Authorization"] == f"SSWS {TOKEN}"
    assert hook_problems(request.body) == []
    assert request.body["type"] == "com.okta.oauth2.tokens.transform"
    assert request.body["channel"]["config"]["uri"] == HOOK_URL
    assert request.body["channel"]["config"]["authScheme"] == {
        "type": "HEADER",
        "key": "X-Psc-Hook-Secret",
        "value": SECRET,
    }
    [hook_id] = okta.fake.hooks
    assert hook_id in result.out
    assert "X-Psc-Hook-Secret" in result.out
    assert "Workflow > Inline Hooks" in result.out
    assert_no_secret(result.out, result.err)


@pytest.mark.process
def test_oauth_client_secret_post_channel(capsys, okta, monkeypatch):
    monkeypatch.setenv("HOOK_REGISTER_CLIENT_SECRET", CLIENT_SECRET)
    result = register(capsys, okta, *oauth_args(), "--scope", "okta.hooks.psc")
    assert result.code == 0, result.err
    [request] = sent(okta)
    assert hook_problems(request.body) == []
    config = request.body["channel"]["config"]
    assert request.body["channel"]["type"] == "OAUTH"
    assert config["authType"] == "client_secret_post"
    assert config["clientSecret"] == CLIENT_SECRET
    assert (config["clientId"], config["tokenUrl"], config["scope"]) == (
        "0oa9hookCaller0example",
        TOKEN_URL,
        "okta.hooks.psc",
    )
    assert "client_secret_post" in result.out
    assert_no_secret(result.out, result.err)


@pytest.mark.process
def test_oauth_private_key_jwt_channel(capsys, okta):
    result = register(capsys, okta, *oauth_args("--hook-key-id", KEY_ID))
    assert result.code == 0, result.err
    [request] = sent(okta)
    assert hook_problems(request.body) == []
    config = request.body["channel"]["config"]
    assert config["authType"] == "private_key_jwt"
    assert config["hookKeyId"] == KEY_ID
    assert "clientSecret" not in config
    assert "scope" not in config


@pytest.mark.process
@pytest.mark.parametrize(
    ("secret", "auth"),
    [(None, ()), (CLIENT_SECRET, ("--hook-key-id", KEY_ID))],
    ids=["neither", "both"],
)
def test_oauth_needs_exactly_one_credential(capsys, okta, monkeypatch, secret, auth):
    if secret:
        monkeypatch.setenv("HOOK_REGISTER_CLIENT_SECRET", secret)
    result = register(capsys, okta, *oauth_args(*auth))
    assert result.code == 2
    assert "--hook-key-id" in result.err
    assert okta.fake.requests == []


@pytest.mark.process
def test_json_output_names_the_hook_and_the_rule(capsys, okta):
    okta.fake.add_rule(*RULE)
    result = register(capsys, okta, *attach_args(), "--json")
    assert result.code == 0, result.err
    answer = result.json()
    [hook_id] = okta.fake.hooks
    assert answer["hook"]["id"] == hook_id
    assert answer["hook"]["uri"] == HOOK_URL
    assert answer["rule"]["id"] == RULE[2]
    assert answer["rule"]["inline_hook"] == hook_id
    assert result.err == ""


# which of HOOK_SECRETS Okta is given -----------------------------------------------------


@pytest.mark.process
def test_register_gives_okta_the_first_secret_the_newest_and_says_which(capsys, okta, monkeypatch):
    monkeypatch.setenv("HOOK_SECRETS", f"{OTHER_SECRET},{SECRET}")  # new,old: a rotation
    result = register(capsys, okta)
    assert result.code == 0, result.err
    [request] = sent(okta)
    assert request.body["channel"]["config"]["authScheme"]["value"] == OTHER_SECRET
    assert f"with the first of HOOK_SECRETS ({short_sha256(OTHER_SECRET)})" in result.out
    assert short_sha256(SECRET) not in result.out
    assert_no_secret(result.out, result.err)


def test_one_rotation_order_is_documented_and_it_is_the_one_register_uses(capsys):
    for name in ("SECURITY.md", "docs/operations.md", "docs/fr/operations.md"):
        assert "HOOK_SECRETS=new,old" in page(name), name
    for name in markdown_pages():
        assert "old,new" not in page(name), name
    result = run(capsys, "register", "--help")
    assert result.code == 0
    assert "first of HOOK_SECRETS (the newest: new,old" in " ".join(result.out.split())


def test_check_config_says_which_secret_register_gives_okta(capsys, monkeypatch):
    monkeypatch.setenv("HOOK_SECRETS", f"{OTHER_SECRET},{SECRET}")
    result = run(capsys, "check-config")
    assert f"register gives Okta the first ({short_sha256(OTHER_SECRET)})" in result.out
    assert_no_secret(result.out, result.err)


# running register again updates the hook of that name ------------------------------------


@pytest.mark.process
def test_register_twice_leaves_one_hook_updated_whole(capsys, okta, monkeypatch):
    assert register(capsys, okta).code == 0
    [hook_id] = okta.fake.hooks
    monkeypatch.setenv("HOOK_SECRETS", f"{OTHER_SECRET},{SECRET}")
    monkeypatch.setenv("HOOK_AUTH_HEADER", "X-Psc-Hook-Secret")
    okta.fake.requests.clear()
    result = run(capsys, "register", "--org", okta.url, "--url", MOVED_URL)
    assert result.code == 0, result.err
    assert list(okta.fake.hooks) == [hook_id]
    [replace] = sent(okta)
    assert (replace.method, replace.path) == ("PUT", f"/api/v1/inlineHooks/{hook_id}")
    assert replace_problems(replace.body, "com.okta.oauth2.tokens.transform") == []
    assert set(replace.body) == {"name", "version", "channel"}
    assert okta.fake.hooks[hook_id]["channel"]["config"]["uri"] == MOVED_URL
    assert okta.fake._secrets[hook_id] == OTHER_SECRET
    assert f"Updated the inline hook {DEFAULT_HOOK_NAME!r} (id {hook_id})." in result.out
    assert f"  uri: {HOOK_URL!r} -> {MOVED_URL!r}" in result.out
    assert "  header: 'Authorization' -> 'X-Psc-Hook-Secret'" in result.out
    assert f"  secret: set to the first of HOOK_SECRETS ({short_sha256(OTHER_SECRET)})" in (
        result.out
    )
    assert "Okta never returns the one it holds" in result.out
    assert_no_secret(result.out, result.err)


@pytest.mark.process
def test_the_hook_of_that_name_is_found_on_a_later_page(capsys, okta):
    okta.fake.page_size = 1
    for number in range(2):
        okta.fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", SECRET), f"h{number}")
    existing = okta.fake.add_hook(okta_api.header_channel(MOVED_URL, "Authorization", SECRET),
                                  DEFAULT_HOOK_NAME)  # fmt: skip
    result = register(capsys, okta, "--json")
    assert result.code == 0, result.err
    assert len(okta.fake.hooks) == 3
    assert result.json()["hook"]["action"] == "update"
    assert result.json()["hook"]["changes"] == [
        {"field": "uri", "before": MOVED_URL, "after": HOOK_URL}
    ]
    assert okta.fake.requests[-1].path == f"/api/v1/inlineHooks/{existing['id']}"


@pytest.mark.process
def test_an_unchanged_hook_is_said_so_and_its_secret_set_again(capsys, okta):
    assert register(capsys, okta).code == 0
    result = register(capsys, okta)
    assert result.code == 0, result.err
    assert "URL, channel and client: unchanged" in result.out
    assert "secret: set to the first of HOOK_SECRETS" in result.out
    assert len(okta.fake.hooks) == 1


@pytest.mark.process
def test_dry_run_of_an_update_shows_the_difference_and_changes_nothing(capsys, okta):
    existing = okta.fake.add_hook(
        okta_api.header_channel(MOVED_URL, "X-Old-Header", OTHER_SECRET), DEFAULT_HOOK_NAME
    )
    before = copy.deepcopy(okta.fake.hooks)
    result = register(capsys, okta, "--dry-run")
    assert result.code == 0, result.err
    assert sent(okta) == []
    assert okta.fake.hooks == before
    assert okta.fake._secrets[existing["id"]] == OTHER_SECRET
    assert f"The inline hook {DEFAULT_HOOK_NAME!r} exists (id {existing['id']})" in result.out
    assert f"  uri: {MOVED_URL!r} -> {HOOK_URL!r}" in result.out
    assert "  header: 'X-Old-Header' -> 'Authorization'" in result.out
    assert f"PUT {okta.url}/api/v1/inlineHooks/{existing['id']}" in result.out
    assert '"value": "****"' in result.out
    assert_no_secret(result.out, result.err)
    as_json = register(capsys, okta, "--dry-run", "--json").json()
    assert as_json["hook"]["action"] == "update"
    assert {change["field"] for change in as_json["hook"]["changes"]} == {"uri", "header"}
    [request] = as_json["requests"]
    assert replace_problems(request["body"], "com.okta.oauth2.tokens.transform") == []


@pytest.mark.process
def test_an_oauth_hook_replaces_a_header_one(capsys, okta, monkeypatch):
    assert register(capsys, okta).code == 0
    monkeypatch.setenv("HOOK_REGISTER_CLIENT_SECRET", CLIENT_SECRET)
    result = register(capsys, okta, *oauth_args())
    assert result.code == 0, result.err
    [hook] = okta.fake.hooks.values()
    assert hook["channel"]["type"] == "OAUTH"
    assert "  channel: 'HTTP' -> 'OAUTH'" in result.out
    assert (
        f"the client secret from HOOK_REGISTER_CLIENT_SECRET ({short_sha256(CLIENT_SECRET)})"
        in (result.out)
    )
    assert_no_secret(result.out, result.err)


@pytest.mark.process
def test_two_hooks_of_that_name_are_refused(capsys, okta):
    for _ in range(2):
        okta.fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", SECRET),
                           DEFAULT_HOOK_NAME)  # fmt: skip
    result = register(capsys, okta)
    assert result.code == 1
    assert "2 token inline hooks are named" in result.err
    for hook_id in okta.fake.hooks:
        assert hook_id in result.err
    assert sent(okta) == []


def test_the_fake_refuses_a_replace_okta_refuses():
    body = {key: value for key, value in
            EXAMPLES["InlineHookMgmtCreateHTTPRequest"].items() if key != "type"}  # fmt: skip
    hook_type = EXAMPLES["InlineHookMgmtCreateHTTPRequest"]["type"]
    assert replace_problems(body, hook_type) == []
    without_channel = {key: value for key, value in body.items() if key != "channel"}
    assert "channel: required" in " ".join(replace_problems(without_channel, hook_type))
    assert "type" in " ".join(replace_problems({**body, "type": "com.okta.import.transform"},
                                               hook_type))  # fmt: skip


# the OAuth client secret: never on the command line ---------------------------------------


@pytest.mark.process
def test_a_client_secret_on_the_command_line_is_refused(capsys, okta):
    result = register(capsys, okta, *oauth_args("--client-secret", CLIENT_SECRET))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "visible in ps" in result.err
    assert "HOOK_REGISTER_CLIENT_SECRET" in result.err
    assert CLIENT_SECRET not in result.err
    assert okta.fake.requests == []


@pytest.mark.process
def test_the_client_secret_is_read_from_standard_input(capsys, okta, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLIENT_SECRET + "\n"))
    result = register(capsys, okta, *oauth_args("--client-secret", "-"))
    assert result.code == 0, result.err
    [request] = sent(okta)
    assert request.body["channel"]["config"]["clientSecret"] == CLIENT_SECRET
    assert "the client secret from standard input" in result.out
    assert_no_secret(result.out, result.err)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.process
def test_on_a_terminal_the_client_secret_is_asked_without_echo(capsys, okta, monkeypatch):
    prompts = []
    monkeypatch.setattr(sys, "stdin", Terminal("typed where everyone sees it\n"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or CLIENT_SECRET)
    result = register(capsys, okta, *oauth_args("--client-secret", "-"))
    assert result.code == 0, result.err
    assert prompts == ["Client secret: "]
    [request] = sent(okta)
    assert request.body["channel"]["config"]["clientSecret"] == CLIENT_SECRET


@pytest.mark.process
def test_an_empty_standard_input_is_refused(capsys, okta, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = register(capsys, okta, *oauth_args("--client-secret", "-"))
    assert result.code == 2
    assert "--client-secret -: standard input holds no secret" in result.err
    assert okta.fake.requests == []


# attaching it to the access-policy rule ---------------------------------------------------


@pytest.mark.process
def test_attach_puts_the_whole_rule_back_with_the_hook(capsys, okta):
    before = okta.fake.add_rule(*RULE)
    result = register(capsys, okta, *attach_args())
    assert result.code == 0, result.err
    create, read, replace = sent(okta)
    assert create.method == "POST"
    assert (read.method, replace.method) == ("GET", "PUT")
    assert (
        read.path
        == replace.path
        == "/api/v1/authorizationServers/{}/policies/{}/rules/{}".format(*RULE)
    )
    [hook_id] = okta.fake.hooks
    expected = copy.deepcopy(before)
    expected["actions"]["token"]["inlineHook"] = {"id": hook_id}
    assert replace.body == expected
    assert okta.fake.rules[RULE]["actions"]["token"]["inlineHook"] == {"id": hook_id}
    assert "Attached it to rule 'Pro Santé Connect'" in result.out


@pytest.mark.process
def test_attach_to_a_missing_rule_reports_oktas_error_and_the_created_hook(capsys, okta):
    result = register(capsys, okta, *attach_args())
    assert result.code == 1
    [hook_id] = okta.fake.hooks
    assert "E0000007" in result.err
    assert "Not found" in result.err
    assert f"The hook was created (id {hook_id}) but not attached" in result.err


@pytest.mark.process
@pytest.mark.parametrize(
    "partial",
    [("--auth-server", RULE[0]), ("--auth-server", RULE[0], "--policy", RULE[1])],
)
def test_attach_needs_all_three_ids(capsys, okta, partial):
    result = register(capsys, okta, *partial)
    assert result.code == 2
    assert "give all three" in result.err
    assert okta.fake.requests == []


# Okta's error answers ---------------------------------------------------------------------


@pytest.mark.process
def test_an_okta_error_answer_is_shown_with_code_summary_causes_and_id(capsys, okta):
    body = error_body("E0000001", "Api validation failed: inlineHook", ("name: already used",))
    okta.fake.answer_next(400, body)
    result = register(capsys, okta)
    assert result.code == 1
    line = result.err.strip()
    assert "Okta refused the request (HTTP 400 E0000001: Api validation failed" in line
    assert "name: already used" in line
    assert body["errorId"] in line
    assert result.out == ""


@pytest.mark.process
def test_a_wrong_api_token_is_a_401_with_what_to_check(capsys, okta, monkeypatch):
    monkeypatch.setenv("OKTA_API_TOKEN", "00wrongToken")
    result = register(capsys, okta)
    assert result.code == 4
    assert "E0000011" in result.err
    assert "Invalid token provided" in result.err
    assert "OKTA_API_TOKEN" in result.err
    assert "00wrongToken" not in result.err
    assert okta.fake.hooks == {}


@pytest.mark.process
def test_a_403_says_the_admin_lacks_the_permission(capsys, okta):
    okta.fake.answer_next(403, error_body("E0000006", "You do not have permission"))
    result = register(capsys, okta)
    assert result.code == 4
    assert "E0000006" in result.err
    assert "super administrator" in result.err


@pytest.mark.process
@freeze_time("2026-11-20 08:00:00")
def test_a_429_gives_the_reset_time(capsys, okta):
    reset = int(datetime(2026, 11, 20, 8, 0, 47, tzinfo=UTC).timestamp())
    okta.fake.answer_next(
        429,
        error_body("E0000047", "API call exceeded rate limit due to too many requests."),
        {"X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "0",
         "X-Rate-Limit-Reset": str(reset)},
    )  # fmt: skip
    result = register(capsys, okta)
    assert result.code == 5
    assert "E0000047" in result.err
    assert "Retry after 2026-11-20 08:00:47 UTC (in 47 s)" in result.err


@pytest.mark.process
def test_a_429_without_reset_header_still_says_retry(capsys, okta):
    okta.fake.answer_next(429, error_body("E0000047", "API call exceeded rate limit"))
    result = register(capsys, okta)
    assert result.code == 5
    assert "Retry later" in result.err


@pytest.mark.process
def test_a_429_while_attaching_keeps_the_created_hook_id(capsys, okta):
    okta.fake.add_rule(*RULE)
    okta.fake.answer_next(200, [])
    okta.fake.answer_next(200, {"id": "calfake0000000000042", "name": "x", "status": "ACTIVE"})
    okta.fake.answer_next(429, error_body("E0000047", "API call exceeded rate limit"))
    result = register(capsys, okta, *attach_args(), "--json")
    assert result.code == 5
    assert [request.method for request in sent(okta)] == ["POST", "GET"]
    assert result.json()["hook"]["id"] == "calfake0000000000042"
    assert result.json()["exit_code"] == 5
    assert "calfake0000000000042" in result.err


@pytest.mark.process
def test_an_answer_without_okta_error_body_is_still_explained(capsys, okta):
    okta.fake.answer_next(502, None)
    result = register(capsys, okta)
    assert result.code == 1
    assert "HTTP 502 without an Okta error body" in result.err


# the org cannot be reached ----------------------------------------------------------------


def test_an_unreachable_org_is_refused_connection(capsys):
    org = f"http://127.0.0.1:{free_port()}"
    result = run(capsys, "register", "--org", org, "--url", HOOK_URL)
    assert result.code == 3
    assert f"cannot reach {org}: connection refused" in result.err


def test_an_org_that_never_answers_times_out(capsys):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        org = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = run(capsys, "register", "--org", org, "--url", HOOK_URL, "--timeout", "0.2")
    assert result.code == 3
    assert "no answer within 0.2 s" in result.err


# refusals before anything is sent ---------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize(
    "url", ["http://psc-hook.chu-exemple.fr/token-hook", "ftp://x/y", "/token-hook"]
)
def test_a_hook_url_that_is_not_https_is_refused(capsys, okta, url):
    result = run(capsys, "register", "--org", okta.url, "--url", url)
    assert result.code == 2
    assert "--url" in result.err
    assert "https://" in result.err
    assert okta.fake.requests == []


def test_a_plain_http_org_is_refused_off_loopback(capsys):
    result = run(capsys, "register", "--org", "http://chu-exemple.okta.com", "--url", HOOK_URL)
    assert result.code == 2
    assert "--org: must use https://" in result.err


@pytest.mark.process
def test_missing_credentials_are_one_line_naming_them(capsys, okta, monkeypatch):
    monkeypatch.delenv("OKTA_API_TOKEN")
    result = register(capsys, okta)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (a service app), or OKTA_API_TOKEN" in result.err
    assert okta.fake.requests == []


# --dry-run --------------------------------------------------------------------------------


@pytest.mark.process
def test_dry_run_prints_masked_requests_and_only_reads(capsys, okta):
    okta.fake.add_rule(*RULE)
    result = register(capsys, okta, *attach_args(), "--dry-run")
    assert result.code == 0, result.err
    [read_rule] = sent(okta)
    assert (read_rule.method, read_rule.path) == ("GET", okta_api.rule_path(*RULE))
    assert f"POST {okta.url}/api/v1/inlineHooks" in result.out
    assert "Authorization: SSWS ****" in result.out
    assert '"value": "****"' in result.out
    assert f"GET {okta.url}/api/v1/authorizationServers/{RULE[0]}" in result.out
    assert "actions.token.inlineHook.id" in result.out
    assert_no_secret(result.out, result.err)


@pytest.mark.process
def test_dry_run_json_masks_the_oauth_client_secret(capsys, okta, monkeypatch):
    monkeypatch.setenv("HOOK_REGISTER_CLIENT_SECRET", CLIENT_SECRET)
    result = register(capsys, okta, *oauth_args(), "--dry-run", "--json")
    assert result.code == 0, result.err
    assert sent(okta) == []
    [request] = result.json()["requests"]
    assert request["headers"] == {"Authorization": "SSWS ****"}
    assert request["body"]["channel"]["config"]["clientSecret"] == "****"
    assert hook_problems(request["body"]) == []
    assert_no_secret(result.out, result.err)


# --dry-run checks what it can ----------------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize(
    ("ids", "words"),
    [
        (("aus...", "00p...", "0pr..."), "--auth-server: 'aus...' is a placeholder"),
        ((RULE[0], "<00p>", RULE[2]), "--policy: '<00p>' is a placeholder"),
        ((RULE[1], RULE[0], RULE[2]), f"--auth-server: {RULE[1]!r} is a policy id (00p...);"
                                      " --auth-server takes an authorization server id, which"
                                      " starts with aus"),
        ((RULE[0], RULE[2], RULE[1]), f"--policy: {RULE[2]!r} is a policy rule id (0pr...)"),
        ((RULE[0], RULE[1], "calr0dvLRA8W89Mdf0g3"), "--rule: 'calr0dvLRA8W89Mdf0g3' is an"
                                                     " inline hook id (cal...)"),
        ((RULE[0], RULE[1], "rule-1"), "--rule: 'rule-1' is not an Okta id"),
    ],
    ids=["placeholders", "placeholder", "swapped-server", "swapped-rule", "hook-id", "not-an-id"],
)  # fmt: skip
@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_ids_of_the_wrong_kind_are_one_line_and_2(capsys, okta, ids, words, dry_run):
    attach = ("--auth-server", ids[0], "--policy", ids[1], "--rule", ids[2])
    result = register(capsys, okta, *attach, *dry_run)
    assert result.code == 2
    assert words in result.err
    assert result.err.count("\n") == 1
    assert okta.fake.requests == []


@pytest.mark.process
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://psc-hook.chu-exemple.fr/", "is not the hook's address: the service answers"
                                             " Okta at /token-hook"),
        ("https://psc-hook.chu-exemple.fr/token-hook/", "is not the hook's address"),
        ("https://psc-hook.chu-exemple.fr/token-hook?debug=1", "is not the hook's address"),
        ("https://localhost/token-hook", "localhost is this machine; Okta calls the hook from"
                                         " the internet"),
        ("https://127.0.0.1:8443/token-hook", "127.0.0.1 is this machine"),
        ("https://ops:pw@psc-hook.chu-exemple.fr/token-hook", "with a user and password"),
        ("https://psc-hook.chu-exemple.fr:port/token-hook", "a port that is not a number"),
        ("http://psc-hook.chu-exemple.fr/token-hook", "over https:// only"),
    ],
    ids=["root", "slash", "query", "localhost", "loopback", "userinfo", "port", "http"],
)  # fmt: skip
def test_a_url_that_is_not_the_hooks_is_one_line_and_2(capsys, okta, url, words):
    result = run(capsys, "register", "--org", okta.url, "--url", url, "--dry-run")
    assert result.code == 2
    assert f"--url: {words}" in result.err or words in result.err
    assert result.err.startswith("psc-hook: configuration error: --url")
    assert result.err.count("\n") == 1
    assert okta.fake.requests == []


@pytest.mark.process
@pytest.mark.parametrize(
    ("org", "words"),
    [
        ("https://chu-exemple.okta.com/admin/dashboard", "'https://chu-exemple.okta.com/admin/"
         "dashboard' is not an org's address: give its origin alone, https://chu-exemple.okta.com"),
        ("https://chu-exemple.okta.com/oauth2/default", "give its origin alone"),
        ("https://chu-exemple.okta.com/?x=1", "give its origin alone"),
        ("https://chu-exemple-admin.okta.com", "chu-exemple-admin.okta.com is the Admin Console's"
                                               " address; the API is on"
                                               " https://chu-exemple.okta.com"),
        ("https://chu-exemple-admin.oktapreview.com/", "https://chu-exemple.oktapreview.com"),
        ("https://ops:pw@chu-exemple.okta.com", "with a user and password"),
    ],
    ids=["admin-path", "issuer", "query", "admin-host", "admin-preview", "userinfo"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["register", "doctor"])
def test_an_org_that_is_not_an_origin_is_one_line_and_2(capsys, okta, org, words, command):
    args = ("--url", HOOK_URL, "--dry-run") if command == "register" else ()
    result = run(capsys, command, "--org", org, *args)
    assert result.code == 2
    assert f"--org: {words}" in result.err or words in result.err
    assert result.err.count("\n") == 1
    assert okta.fake.requests == []


def test_without_credentials_a_dry_run_checks_the_arguments_and_sends_nothing(capsys, monkeypatch):
    monkeypatch.delenv("OKTA_API_TOKEN")
    org = f"http://127.0.0.1:{free_port()}"  # nothing listens: nothing may be sent
    attach = ("--auth-server", "default", "--policy", RULE[1], "--rule", RULE[2])
    result = run(capsys, "register", "--org", org + "/", "--url", HOOK_URL, *attach, "--dry-run")
    assert result.code == 0, result.err
    assert f"Dry run without Okta credentials: {org} was not read; the arguments hold." in (
        result.out
    )
    assert f"POST {org}/api/v1/inlineHooks\n" in result.out
    assert f"GET {org}/api/v1/authorizationServers/default/policies/{RULE[1]}" in result.out
    assert "Authorization: (Okta's credentials)" in result.out
    assert '"value": "****"' in result.out
    as_json = run(capsys, "register", "--org", org, "--url", HOOK_URL, "--dry-run", "--json")
    assert as_json.json()["read"] is False
    assert as_json.json()["hook"] is None
    assert hook_problems(as_json.json()["requests"][0]["body"]) == []
    assert_no_secret(result.out, result.err, as_json.out)


def _dry_run_with_rule(capsys, okta, *extra: str):
    before = copy.deepcopy((okta.fake.hooks, okta.fake.rules))
    result = register(capsys, okta, *attach_args(), "--dry-run", *extra)
    assert result.code == 0, result.err
    assert {request.method for request in okta.fake.requests} == {"GET"}
    assert (okta.fake.hooks, okta.fake.rules) == before
    return result


@pytest.mark.process
def test_a_dry_run_says_the_rule_would_call_the_hook_it_creates(capsys, okta):
    okta.fake.add_rule(*RULE)
    result = _dry_run_with_rule(capsys, okta)
    assert (
        f"The rule 'Pro Santé Connect' ({RULE[2]}, ACTIVE) calls no inline hook: it would call"
        " the hook it creates." in result.out
    )
    okta.fake.requests.clear()
    as_json = _dry_run_with_rule(capsys, okta, "--json").json()
    assert as_json["read"] is True
    assert as_json["rule"]["inline_hook"] == {"before": None, "after": None}


@pytest.mark.process
def test_a_dry_run_says_when_the_rule_already_calls_the_hook(capsys, okta):
    hook = okta.fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", SECRET),
                              DEFAULT_HOOK_NAME)  # fmt: skip
    okta.fake.add_rule(*RULE, hook_id=hook["id"])
    result = _dry_run_with_rule(capsys, okta)
    assert f"already calls the hook {hook['id']}: unchanged." in result.out


@pytest.mark.process
def test_a_dry_run_says_which_hook_the_rule_would_stop_calling(capsys, okta):
    other = okta.fake.add_hook(okta_api.header_channel(MOVED_URL, "Authorization", SECRET), "old")
    hook = okta.fake.add_hook(okta_api.header_channel(HOOK_URL, "Authorization", SECRET),
                              DEFAULT_HOOK_NAME)  # fmt: skip
    okta.fake.add_rule(*RULE, hook_id=other["id"], status="INACTIVE")
    result = _dry_run_with_rule(capsys, okta)
    assert (
        f"({RULE[2]}, INACTIVE) calls the inline hook {other['id']}: it would call the hook"
        f" {hook['id']} instead." in result.out
    )
    assert "Okta does not use a rule that is not ACTIVE: activate it." in result.out
    okta.fake.requests.clear()
    as_json = _dry_run_with_rule(capsys, okta, "--json").json()
    assert as_json["rule"]["inline_hook"] == {"before": other["id"], "after": hook["id"]}


@pytest.mark.process
def test_a_dry_run_of_a_rule_okta_does_not_have_is_oktas_404(capsys, okta):
    result = register(capsys, okta, *attach_args(), "--dry-run")
    assert result.code == 1
    assert "E0000007" in result.err
    assert okta.fake.hooks == {}
