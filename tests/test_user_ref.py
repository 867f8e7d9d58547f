"""The trail an auditor follows: the canonical line's ``tid`` on every call and, with
``HOOK_LOG_USER_KEY``, its ``user_ref``, the keyed hash ``psc-hook user-ref`` computes too.
Under gunicorn first, then the command, the setting and the rule in-process."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import pytest
import requests

from hook import payload, samples
from hook.answer import build_answer
from hook.config import ConfigError, load_settings
from hook.user_ref import UserRef
from tests.support.cli_runner import run, use_env
from tests.support.processes import Server
from tests.support.settings import BASE_ENV, ROOT, SECRET

KEY = "log-user-key-0123456789-abcdefghijklmnopqrstuv"
OTHER_KEY = "another-log-user-key-9876543210-zyxwvutsrqpon"
USER = "00u1abcd2EFGH3ijk4l5"  # the samples' user, whose own tokens they are
CONTEXT_USER = "00u9zyxw8VUTS7rqp6o5"  # the refresh sample's session names this other user
PSC_HOOK = str(ROOT / ".venv" / "bin" / "psc-hook")


def post(server: Server, name: str, request_id: str) -> dict:
    """Send a sample; the canonical line the service wrote for it."""
    headers = {"Authorization": SECRET, "X-Request-Id": request_id}
    answer = requests.post(
        f"{server.url}/token-hook", json=samples.load(name), headers=headers, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return server.log_line(request_id)


def user_ref_command(user_id: str, key: str = KEY) -> subprocess.CompletedProcess:
    """``psc-hook user-ref`` as an investigator runs it: with the key and nothing else."""
    return subprocess.run(
        [PSC_HOOK, "user-ref", user_id],
        env={"PATH": "/usr/bin:/bin", "HOOK_LOG_USER_KEY": key},
        capture_output=True,
        text=True,
        timeout=30,
    )


# under gunicorn ---------------------------------------------------------------------------


@pytest.mark.process
def test_the_line_carries_tid_and_the_user_ref_the_command_prints(start_server) -> None:
    server = start_server({**BASE_ENV, "HOOK_LOG_USER_KEY": KEY})
    refresh = post(server, "refresh", "trail-refresh")
    cps = post(server, "cps-smart-card", "trail-cps")
    machine = post(server, "client-credentials", "trail-machine")

    printed = user_ref_command(USER)
    assert printed.returncode == 0, printed.stderr
    assert printed.stderr == ""
    assert printed.stdout == f"{refresh['user_ref']}\n"
    assert cps["user_ref"] == refresh["user_ref"]  # one professional, one reference
    other = user_ref_command(CONTEXT_USER).stdout.strip()
    assert other != refresh["user_ref"]  # the token's own user, not the session's
    assert "user_ref" not in machine  # client credentials: no user
    for line in (refresh, cps, machine):
        assert line["tid"] == BASE_ENV["PSC_TENANT_ID"]  # mono-tenant: on every call

    log = server.log()
    for secret in (KEY, KEY[:16], KEY[-16:], USER):
        assert secret not in log


@pytest.mark.process
def test_without_the_key_the_line_has_tid_and_no_user_ref(module_server) -> None:
    line = post(module_server, "password-okta-verify-push", "trail-no-key")
    assert line["tid"] == BASE_ENV["PSC_TENANT_ID"]
    assert "user_ref" not in line
    assert USER not in module_server.log()


# psc-hook user-ref ------------------------------------------------------------------------


def test_the_command_needs_the_key_alone_and_prints_one_line(capsys, monkeypatch) -> None:
    use_env(monkeypatch, {"HOOK_LOG_USER_KEY": KEY})
    result = run(capsys, "user-ref", USER)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{UserRef(KEY.encode())(USER)}\n"
    assert KEY not in result.out


@pytest.mark.parametrize(
    ("env", "argument", "message"),
    [
        ({}, USER, "HOOK_LOG_USER_KEY: required by user-ref"),
        ({"HOOK_LOG_USER_KEY": KEY[:31]}, USER, "HOOK_LOG_USER_KEY: 31 characters"),
        ({"HOOK_LOG_USER_KEY": f'"{KEY}"'}, USER, "HOOK_LOG_USER_KEY: in quotes"),
        ({"HOOK_LOG_USER_KEY": KEY}, "camille.martin@chu-exemple.fr", "OKTA_USER_ID: not an"),
        ({"HOOK_LOG_USER_KEY": KEY}, USER[:-1], "OKTA_USER_ID: not an Okta user id"),
        ({"HOOK_LOG_USER_KEY": KEY}, f"{USER}\n", "OKTA_USER_ID: not an Okta user id"),
        ({"HOOK_LOG_USER_KEY": KEY}, "0oa1pscClient0Example7", "OKTA_USER_ID: not an"),
    ],
    ids=["unset", "short", "quoted", "an-email", "short-id", "newline", "a-client-id"],
)
def test_the_command_refuses_with_one_line_and_exit_2(
    capsys, monkeypatch, env, argument, message
) -> None:
    use_env(monkeypatch, env)
    result = run(capsys, "user-ref", argument)
    assert (result.code, result.out) == (2, "")
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"psc-hook: configuration error: {message}")
    assert argument.strip() not in result.err and KEY[:31] not in result.err


# the setting and the hash -----------------------------------------------------------------


def test_the_reference_is_hmac_sha256_cut_to_128_bits() -> None:
    """Computed here from the standard library, not from the module's own code."""
    expected = hmac.new(KEY.encode(), USER.encode(), hashlib.sha256).hexdigest()[:32]
    reference = UserRef(KEY.encode())
    assert reference(USER) == expected
    assert reference(USER) == reference(USER)  # the prepared HMAC is copied, not consumed
    assert UserRef(OTHER_KEY.encode())(USER) != expected
    assert reference(CONTEXT_USER) != expected


def test_the_key_is_optional_and_never_in_the_settings_repr() -> None:
    assert load_settings(BASE_ENV).log_user_key is None
    assert load_settings({**BASE_ENV, "HOOK_LOG_USER_KEY": " "}).log_user_key is None
    settings = load_settings({**BASE_ENV, "HOOK_LOG_USER_KEY": f" {KEY} "})
    assert settings.log_user_key == KEY.encode()
    assert KEY not in repr(settings)


def test_a_short_key_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE_ENV, "HOOK_LOG_USER_KEY": "short-log-user-key"})
    assert str(raised.value) == "HOOK_LOG_USER_KEY: 18 characters; at least 32 are required"


def test_check_config_says_whether_lines_carry_user_ref_never_the_key(capsys, monkeypatch):
    use_env(monkeypatch, {**BASE_ENV, "HOOK_LOG_USER_KEY": KEY})
    shown = run(capsys, "check-config", "--json")
    assert shown.code == 0 and shown.json()["log"]["user_ref"] is True
    assert KEY[:12] not in shown.out + shown.err
    text = run(capsys, "check-config")
    assert "HOOK_LOG_USER_KEY; value not shown" in text.out and KEY[:12] not in text.out
    use_env(monkeypatch, BASE_ENV)
    assert run(capsys, "check-config", "--json").json()["log"]["user_ref"] is False


def test_a_refusal_for_want_of_an_establishment_still_names_its_user(tmp_path: Path) -> None:
    """With PSC_TENANTS, a sign-in no establishment matches is refused: whose it was is
    what an auditor asks first."""
    table = {"tenants": [{"tid": "OKTA_chu-a", "match": ["chu-a"]}]}
    (tmp_path / "tenants.json").write_text(json.dumps(table))
    env = {key: value for key, value in BASE_ENV.items() if key != "PSC_TENANT_ID"}
    settings = load_settings({**env, "PSC_TENANTS": str(tmp_path / "tenants.json")})
    body = json.dumps(samples.load("password-okta-verify-push")).encode()
    answer = build_answer(payload.parse(body, settings.claim_to_read), settings)
    assert (answer.outcome, answer.tid, answer.user_id) == ("tenant-unmatched", None, USER)
