"""The CI workflow and the Dependabot configuration: actionlint, the schemas GitHub's files
follow (as check-jsonschema ships them), and what they must do for this project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.settings import ROOT

GITHUB = ROOT / ".github"
WORKFLOW = GITHUB / "workflows" / "ci.yml"
DEPENDABOT = GITHUB / "dependabot.yml"
BIN = Path(sys.executable).parent


@pytest.mark.process
def test_actionlint_finds_nothing():
    done = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(WORKFLOW)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


@pytest.mark.process
@pytest.mark.parametrize(
    ("path", "schema"),
    [(WORKFLOW, "vendor.github-workflows"), (DEPENDABOT, "vendor.dependabot")],
    ids=["workflow", "dependabot"],
)
def test_github_files_follow_their_schema(path, schema):
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_runs_the_readmes_test_command_as_ci_does():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[-1] == "make test"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text().split("## Two commands", 1)[1]
    assert any("bubblewrap" in run for run in runs)  # the deploy tests need it
    setup = [
        step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python")
    ]
    assert setup[0]["with"]["python-version-file"] == ".python-version"
    assert workflow["permissions"] == {"contents": "read"}


def test_dependabot_watches_the_lock_and_the_base_image():
    updates = yaml.safe_load(DEPENDABOT.read_text())["updates"]
    ecosystems = {update["package-ecosystem"]: update["directory"] for update in updates}
    assert ecosystems["pip"] == "/" and (ROOT / "requirements.txt").exists()
    assert ecosystems["docker"] == "/" and (ROOT / "Dockerfile").exists()
