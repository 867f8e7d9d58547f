"""The release is named where an operator looks: ``psc-hook --version``, the User-Agent of
the Management API calls, and the ``psc_hook_build_info`` metric; CHANGELOG.md starts with it."""

from __future__ import annotations

import platform
import re
import tomllib

import pytest

from hook.cli.okta_api import OktaClient
from hook.version import __version__
from tests.support.cli_runner import run
from tests.support.fake_okta import FakeOkta, FakeOktaServer
from tests.support.scrape import Scrape
from tests.support.settings import ROOT

SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


def test_the_version_is_semver_and_pyproject_reads_it_from_the_package():
    assert re.fullmatch(SEMVER, __version__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "hook.version.__version__"
    }


def test_psc_hook_version(capsys):
    result = run(capsys, "--version")
    assert (result.code, result.out) == (0, f"psc-hook {__version__}\n")


@pytest.mark.process
def test_the_management_api_calls_name_the_release():
    server = FakeOktaServer(FakeOkta(service_url="http://127.0.0.1:9"))
    try:
        OktaClient(server.url, server.fake.token).listing("/api/v1/inlineHooks")
    finally:
        server.close()
    [request] = server.fake.requests
    assert request.headers["User-Agent"] == f"psc-token-hook/{__version__}"


def test_the_build_info_metric_names_the_release(client):
    scrape = Scrape.parse(client.get("/metrics").get_data(as_text=True))
    info = scrape("psc_hook_build_info", version=__version__, python=platform.python_version())
    assert info == 1


def test_the_changelog_keeps_a_changelog_and_starts_with_this_release():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)" in text
    releases = re.findall(rf"^## \[({SEMVER}|Unreleased)\]", text, re.MULTILINE)
    assert releases[0][0] in ("Unreleased", __version__)
    assert f"## [{__version__}] - " in text
