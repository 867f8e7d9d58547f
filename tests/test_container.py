"""The container image, read statically: hadolint and checkov on the Dockerfile, its stages
and .dockerignore; its health check against a service whose keys never load. The image built
and run as it runs: tests/test_platforms.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support import checkov
from tests.support.dockerfile import BUILD, FINAL, IMAGE_VENV, exec_form, image_env, only, runs
from tests.support.jwks_server import FIRST_KID, JwksServer, oauth_environment, signing_key
from tests.support.processes import Server, free_port, stop, wait_until_up
from tests.support.settings import BASE_ENV, ROOT

VENV_BIN = Path(sys.executable).parent


def image_environment() -> dict[str, str]:
    """The final stage's ENV with this suite's virtual environment in the image's place."""
    env = image_env()
    path = env["PATH"].replace(f"{IMAGE_VENV}/bin", str(VENV_BIN))
    env["PATH"] = path.replace("$PATH", os.environ["PATH"])
    return env


@pytest.mark.process
def test_hadolint_finds_nothing():
    done = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--format", "json", "--failure-threshold", "style",
         str(ROOT / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, json.loads(done.stdout)) == (0, []), done.stdout + done.stderr


def test_two_stages_on_the_projects_python_and_a_slim_base():
    python = (ROOT / ".python-version").read_text().strip()
    build_from, final_from = only(BUILD, "FROM"), only(FINAL, "FROM")
    assert build_from == f"python:{python}-slim-trixie AS build"
    assert final_from == f"python:{python}-slim-trixie"


def test_the_final_stage_runs_as_a_numeric_non_root_user_without_build_tools():
    user, _, group = only(FINAL, "USER").partition(":")
    assert user.isdigit() and int(user) > 0 and group.isdigit()
    assert [args for keyword, args in FINAL if keyword == "COPY"] == [
        f"--from=build {IMAGE_VENV} {IMAGE_VENV}"
    ]
    assert not re.search(r"\b(apt-get|apk|pip|gcc|make|build-essential)\b", runs(FINAL))
    assert runs(BUILD).endswith("&& /opt/venv/bin/pip uninstall --yes pip")


def test_the_start_command_is_the_procfiles():
    procfile = (ROOT / "Procfile").read_text().strip().removeprefix("web: ")
    assert exec_form(only(FINAL, "CMD")) == procfile.split()
    assert image_env()["PORT"] == only(FINAL, "EXPOSE")


def test_the_build_context_holds_exactly_what_the_build_copies():
    sources = set()
    for keyword, args in BUILD:
        if keyword == "COPY":
            sources.update(path.rstrip("/") for path in args.split()[:-1])
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == sources
    assert {"**/__pycache__", "**/*.pyc"} <= set(rules)


@pytest.mark.process
def test_checkov_passes_the_dockerfile():
    results = checkov.scan("dockerfile", "--file", "Dockerfile")
    assert checkov.unexplained(results) == []
    assert results["skipped_checks"] == []
    passed = {check["check_id"] for check in results["passed_checks"]}
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3"} <= passed  # a HEALTHCHECK, a non-root USER


@pytest.mark.process
def test_the_images_health_check_fails_while_the_oauth_keys_never_loaded(tmp_path):
    """An orchestrator gating on the image's health check keeps such a container out."""
    jwks = JwksServer([signing_key(FIRST_KID)])
    jwks.fail(503)
    port = free_port()
    env = {**image_environment(), **BASE_ENV, **oauth_environment(jwks), "PORT": str(port)}
    probe = exec_form(only(FINAL, "HEALTHCHECK").split(" CMD ", 1)[1])
    output = tmp_path / "image.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            exec_form(only(FINAL, "CMD")), cwd=tmp_path, env=env, stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, output)
    try:
        wait_until_up(server)
        assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 503
        failed = subprocess.run(probe, env=env, capture_output=True, timeout=10, check=False)
        assert failed.returncode != 0
    finally:
        stop(process)
        jwks.close()
