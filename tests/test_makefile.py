"""The Makefile on a bad day: the wrong Python, a failing install, and make clean, each in a
copy of the Makefile (nothing here touches the checkout's .venv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.settings import ROOT

MAKE = shutil.which("make")
pytestmark = [pytest.mark.process, pytest.mark.skipif(MAKE is None, reason="make is not installed")]


def make(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=workdir, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("Makefile", "pyproject.toml", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_an_old_python_is_one_line_and_exit_2_before_anything_is_made(project):
    old = project / "python3.10"
    old.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.10.12' && exit 0\nexit 1\n")
    old.chmod(0o755)
    done = make(project, f"PYTHON={old}", "install")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()[:1]
    assert "needs Python 3.11 or newer" in line and "Python 3.10.12" in line, done.stderr
    assert "make PYTHON=python3.11" in line
    assert not (project / ".venv").exists()


def test_a_failed_install_shows_pips_output_and_leaves_no_venv(project):
    (project / "requirements-dev.txt").write_text("this is not a requirement ==\n")
    done = make(project, f"PYTHON={Path(sys.base_prefix) / 'bin' / 'python3'}", "install")
    assert done.returncode == 2
    assert "ERROR" in done.stderr and "installing .venv failed" in done.stderr, done.stderr
    assert not (project / ".venv").exists()
    assert not (project / ".venv.log").exists()


def test_make_clean_removes_what_make_made(project):
    made = [".venv/bin", ".venv-tools/bin", ".cache/platforms", ".pytest_cache", ".ruff_cache"]
    for path in made:
        (project / path).mkdir(parents=True)
    assert make(project, "clean").returncode == 0
    assert [path for path in made if (project / path.split("/")[0]).exists()] == []
    assert (project / "Makefile").exists()


@pytest.fixture
def root_without_bwrap(tmp_path) -> dict[str, str]:
    """A PATH where ``id -u`` says root, apt-get only notes its arguments, and no bwrap is."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "id": "echo 0",
        "apt-get": f'echo "$@" >> {tmp_path / "apt-get.log"}',
    }.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return {"PATH": str(bin_dir)}


def make_as(env: dict[str, str], workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=workdir, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip


def test_as_root_make_test_installs_bubblewrap_unless_told_not_to(project, root_without_bwrap):
    """make test's apt-get, on the operator's machine: only when SYSTEM_PACKAGES is not no."""
    apt_log = project / "apt-get.log"  # the fixtures share the test's tmp_path
    refused = make_as(root_without_bwrap, project, "system-packages", "SYSTEM_PACKAGES=no")
    assert refused.returncode == 0, refused.stderr
    assert not apt_log.exists()
    assert refused.stderr == (
        "make: bubblewrap (bwrap) is missing: the container-image test will be skipped\n"
    )
    installed = make_as(root_without_bwrap, project, "system-packages")
    assert installed.returncode == 0, installed.stderr
    assert "install -y -qq bubblewrap" in apt_log.read_text()


def test_a_system_packages_value_other_than_yes_or_no_is_one_line_and_exit_2(
    project, root_without_bwrap
):
    done = make_as(root_without_bwrap, project, "system-packages", "SYSTEM_PACKAGES=false")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == ("make: SYSTEM_PACKAGES must be yes or no, not 'false'")
