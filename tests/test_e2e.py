"""End to end: the real service under gunicorn (the Procfile's command) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from gunicorn.app.base import Application

from hook import samples
from hook.cli.okta_applier import apply_answer
from tests.support.okta_schemas import validate
from tests.support.processes import gunicorn_command
from tests.support.settings import BASE_ENV, OTHER_SECRET, ROOT, SECRET

AUTH = {"Authorization": SECRET}


def post(server, body, headers=AUTH, **kwargs) -> requests.Response:
    return requests.post(
        f"{server.url}/token-hook", json=body, headers=headers, timeout=5, **kwargs
    )


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.process
@pytest.mark.parametrize("name", list(samples.DESCRIPTIONS))
def test_every_sample_is_patched(module_server, name) -> None:
    body = samples.load(name)
    response = post(module_server, body)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    validate("TokenHookResponse", response.json())
    outcome = apply_answer(body, 200, response.json())
    assert outcome.voided is None
    for token in outcome.tokens.values():
        assert token["tid"] == BASE_ENV["PSC_TENANT_ID"]


@pytest.mark.process
def test_request_id_is_echoed_or_generated(module_server) -> None:
    given = post(module_server, samples.load("password-only"), {**AUTH, "X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    hostile = post(
        module_server, samples.load("password-only"), {**AUTH, "X-Request-Id": "x" * 300}
    )
    assert len(hostile.headers["X-Request-Id"]) == 32


@pytest.mark.process
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": SECRET[:-1]},
        {"Authorization": SECRET + "x"},
        {"Authorization": f"Bearer {SECRET}"},
        {"X-Okta-Secret": SECRET},
    ],
    ids=["missing", "empty", "truncated", "padded", "bearer-prefixed", "other-header"],
)
def test_auth_failures_are_401_without_saying_why(module_server, headers) -> None:
    response = post(module_server, samples.load("password-only"), headers)
    body = assert_problem(response, 401)
    assert "WWW-Authenticate" not in response.headers  # header mode only
    assert SECRET not in response.text
    assert "mismatch" not in body["detail"] and "missing" not in body["detail"]


@pytest.mark.process
def test_bad_json_is_400(module_server) -> None:
    response = requests.post(
        f"{module_server.url}/token-hook",
        data=b'{"eventType": ',
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert "not valid JSON" in assert_problem(response, 400)["detail"]


@pytest.mark.process
def test_not_a_token_hook_is_400_with_field_errors(module_server) -> None:
    body = samples.load("password-only")
    body["eventType"] = "com.okta.user.pre-registration"
    body["data"]["identity"]["claims"]["sub"] = 42
    problem = assert_problem(post(module_server, body), 400)
    assert "eventType" in problem["errors"]
    assert "sub" in problem["errors"]["data"]["identity"]["claims"]


@pytest.mark.process
def test_missing_data_is_400(module_server) -> None:
    body = {"eventType": "com.okta.oauth2.tokens.transform"}
    assert assert_problem(post(module_server, body), 400)["errors"] == {
        "data": ["Missing data for required field."]
    }


@pytest.mark.process
def test_unknown_fields_are_accepted(module_server) -> None:
    body = samples.load("password-only")
    body["newOktaField"] = {"x": 1}
    body["data"]["context"]["somethingNew"] = [1, 2]
    assert post(module_server, body).status_code == 200


@pytest.mark.process
def test_wrong_content_type_is_415(module_server) -> None:
    response = requests.post(
        f"{module_server.url}/token-hook",
        data="a=b",
        headers={**AUTH, "Content-Type": "text/plain"},
        timeout=5,
    )
    assert_problem(response, 415)


@pytest.mark.process
def test_json_with_charset_is_accepted(module_server) -> None:
    response = requests.post(
        f"{module_server.url}/token-hook",
        data=json.dumps(samples.load("password-only")).encode(),
        headers={**AUTH, "Content-Type": "application/json; charset=utf-8"},
        timeout=5,
    )
    assert response.status_code == 200


@pytest.mark.process
def test_oversized_body_is_413_before_auth(module_server) -> None:
    huge = b'{"eventType": "' + b"x" * 300_000 + b'"}'
    response = requests.post(
        f"{module_server.url}/token-hook",
        data=huge,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert_problem(response, 413)


@pytest.mark.process
def test_oversized_chunked_body_is_413(module_server) -> None:
    def chunks():
        yield b'{"eventType": "'
        for _ in range(40):
            yield b"x" * 10_000

    response = requests.post(
        f"{module_server.url}/token-hook",
        data=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert_problem(response, 413)


@pytest.mark.process
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405(module_server, method) -> None:
    response = requests.request(method, f"{module_server.url}/token-hook", timeout=5)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.process
def test_unknown_path_is_404(module_server) -> None:
    assert_problem(requests.get(f"{module_server.url}/nope", timeout=5), 404)


@pytest.mark.process
def test_health_ready_and_openapi(module_server) -> None:
    assert requests.get(f"{module_server.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{module_server.url}/readyz", timeout=5).status_code == 200
    document = requests.get(f"{module_server.url}/openapi.yaml", timeout=5)
    assert document.content == (ROOT / "openapi.yaml").read_bytes()


@pytest.mark.process
def test_canonical_log_line(module_server) -> None:
    body = samples.load("refresh")
    post(module_server, body, {**AUTH, "X-Request-Id": "canonical-1"})
    lines = [json.loads(line) for line in module_server.log().splitlines() if "canonical-1" in line]
    assert len(lines) == 1
    line = lines[0]
    assert line["event_id"] == body["eventId"]
    assert line["client_id"] == "0oa1pscClient0Example7"
    assert line["grant_type"] == "refresh_token"
    assert line["auth_mode"] == "header" and line["auth"] == "ok"
    assert line["status"] == 200
    assert line["claims"] == {"identity": ["tid", "oid"], "access": ["tid", "oid", "amr"]}
    assert line["assurance"] == "substantiel"
    assert line["amr_rule"] == "password-okta-verify"
    assert line["context_user_mismatch"] is True
    assert isinstance(line["duration_ms"], float)
    text = json.dumps(line)
    for personal in ("camille", "Camille", "Martin", "dominique", "@chu-exemple.fr", SECRET):
        assert personal not in text


@pytest.mark.process
def test_auth_failure_reason_is_logged_not_answered(module_server) -> None:
    post(
        module_server,
        samples.load("password-only"),
        {"Authorization": "wrong-" + SECRET, "X-Request-Id": "auth-fail-1"},
    )
    line = next(
        json.loads(line) for line in module_server.log().splitlines() if "auth-fail-1" in line
    )
    assert line["auth_failure"] == "header:header-mismatch"
    assert line["status"] == 401
    assert SECRET not in module_server.log()


@pytest.mark.process
def test_rotation_custom_header_scope_and_gate(start_server) -> None:
    server = start_server(
        {
            **BASE_ENV,
            "HOOK_SECRETS": f"{SECRET},{OTHER_SECRET}",
            "HOOK_AUTH_HEADER": "X-Okta-Hook-Secret",
            "PSC_CLIENT_IDS": "0oa1pscClient0Example7",
            "PSC_MIN_ASSURANCE": "substantiel",
        }
    )
    for secret in (SECRET, OTHER_SECRET):
        answer = post(server, samples.load("cps-smart-card"), {"X-Okta-Hook-Secret": secret})
        assert answer.status_code == 200 and "commands" in answer.json()
    assert post(server, samples.load("cps-smart-card"), AUTH).status_code == 401
    refused = post(server, samples.load("password-only"), {"X-Okta-Hook-Secret": SECRET})
    summary = refused.json()["error"]["errorSummary"]
    assert summary.startswith("psc_assurance_too_low: ") and "substantiel" in summary
    assert summary.isascii() and summary.isprintable()  # Okta's error_description (RFC 6749)
    anonymous = samples.load("password-okta-verify-push")
    del anonymous["data"]["identity"]["claims"]["sub"], anonymous["data"]["access"]["claims"]["uid"]
    unproven = post(server, anonymous, {"X-Okta-Hook-Secret": SECRET})
    assert unproven.json()["error"]["errorSummary"].startswith("psc_user_unknown: ")
    other_client = samples.load("password-only")
    other_client["data"]["context"]["protocol"]["client"]["id"] = "0oaSomeOtherApp"
    skipped = post(server, other_client, {"X-Okta-Hook-Secret": SECRET})
    assert skipped.status_code == 204 and skipped.content == b""


@pytest.mark.process
@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"PSC_TENANT_ID": ""}, "PSC_TENANT_ID"),
        ({"HOOK_SECRETS": "short"}, "HOOK_SECRETS"),
        ({"HOOK_AUTH_MODE": "magic"}, "HOOK_AUTH_MODE"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"HOOK_LOG_USER_KEY": "short-log-user-key"}, "HOOK_LOG_USER_KEY"),
        ({"PROMETHEUS_MULTIPROC_DIR": "relative/metrics"}, "PROMETHEUS_MULTIPROC_DIR"),
    ],
)
def test_bad_config_stops_gunicorn_with_one_line_and_exit_2(tmp_path, changes, variable) -> None:
    result = subprocess.run(
        gunicorn_command(1),
        env={"PATH": "/usr/bin:/bin", **BASE_ENV, **changes},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.process
def test_config_warning_is_logged_at_start(start_server) -> None:
    server = start_server({**BASE_ENV, "PSC_CLAIMS_ID_TOKEN": "tid,oid,amr"})
    warnings = [
        json.loads(line) for line in server.log().splitlines() if "configuration-warning" in line
    ]
    assert any("'amr' in the ID token" in w["detail"] for w in warnings)


def test_gunicorn_reads_the_configuration_as_written(monkeypatch) -> None:
    """gunicorn ignores a setting name it does not know: read ours as the Procfile has it
    read, by the installed gunicorn, and check the settings that are not its defaults."""

    class Reader(Application):
        def load_config(self) -> None:  # no command line: only the file below
            return None

    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    reader = Reader()
    command = gunicorn_command(1)
    reader.load_config_from_module_name_or_filename(command[command.index("-c") + 1])
    cfg = reader.cfg
    assert (cfg.worker_class_str, cfg.workers) == ("hook.worker.HookWorker", 2)
    assert (cfg.worker_connections, cfg.keepalive) == (1000, 0)
    assert not cfg.preload_app and cfg.control_socket_disable
    assert (cfg.max_requests, cfg.max_requests_jitter) == (200_000, 20_000)
    assert cfg.graceful_timeout == 10 and cfg.accesslog is None


def test_python_is_the_venv_python() -> None:
    assert gunicorn_command(1)[0] == sys.executable
