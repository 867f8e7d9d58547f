"""The locks: requirements.txt (what production installs) satisfies pyproject.toml, hash-pinned;
requirements-dev.txt adds the test tools on the same pins, and this suite runs on them; what
the service imports is declared; the package's files are real files."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.settings import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COMMAND = "uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes"


def pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a lock, for the requirements whose markers hold here."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for entry in re.split(r"\n(?=\S)", path.read_text()):
        if entry.startswith("#"):
            continue
        head = entry.split("\\", 1)[0].strip()
        requirement = Requirement(head)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        [specifier] = requirement.specifier
        assert specifier.operator == "==", head
        hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
        found[canonicalize_name(requirement.name)] = (specifier.version, hashes)
    return found


DEPENDENCIES = PYPROJECT["project"]["dependencies"]
TEST_EXTRAS = PYPROJECT["project"]["optional-dependencies"]["test"]
RUNTIME = pins(ROOT / "requirements.txt")
DEV = pins(ROOT / "requirements-dev.txt")


def declared(requirements: list[str]) -> list[Requirement]:
    """Declared requirements, with the requirements of the extras they ask for."""
    found = []
    for text in requirements:
        requirement = Requirement(text)
        found.append(requirement)
        for extra in requirement.extras:
            for line in importlib.metadata.requires(requirement.name) or ():
                extra_requirement = Requirement(line)
                marker = extra_requirement.marker
                if marker is not None and marker.evaluate({"extra": extra}):
                    extra_requirement.marker = None
                    found.append(extra_requirement)
    return found


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUNTIME, DEPENDENCIES),
        (DEV, [*DEPENDENCIES, *TEST_EXTRAS]),
    ],
    ids=["requirements.txt", "requirements-dev.txt"],
)  # fmt: skip
def test_the_lock_satisfies_pyproject(lock, requirements):
    for requirement in declared(requirements):
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is not in the lock: run make lock"
        version, hashes = lock[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
        assert hashes, f"{name} has no hash"


def test_every_pin_is_hashed_and_the_dev_lock_keeps_production_pins():
    assert all(hashes for _, hashes in DEV.values())
    assert {name: DEV[name] for name in RUNTIME} == RUNTIME


def test_this_suite_runs_on_the_locked_versions():
    here = {
        canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
    }
    drift = {name: (version, here.get(name)) for name, (version, _) in DEV.items()
             if here.get(name) != version}  # fmt: skip
    assert drift == {}, "make install reinstalls .venv from requirements-dev.txt"


def test_each_lock_says_how_it_is_regenerated_and_the_docs_too():
    readme = (ROOT / "README.md").read_text()
    assert "make lock" in readme
    docs = (ROOT / "docs" / "operations.md").read_text().replace("\\\n    ", "")
    assert "make lock" in docs
    for lock in ("requirements.txt", "requirements-dev.txt"):
        header = (ROOT / lock).read_text().splitlines()[1]
        command = header.removeprefix("#    ")
        assert command.startswith(COMMAND) and command.endswith(f"--output-file {lock}")
        assert command in docs, command


def third_party_imports() -> set[str]:
    """Top-level modules hook/ imports that are neither the standard library nor hook."""
    modules = set()
    for path in (ROOT / "hook").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"hook", "__future__"}


def test_what_the_service_imports_is_declared():
    providers = importlib.metadata.packages_distributions()
    names = {canonicalize_name(r.name) for r in declared(DEPENDENCIES)}
    undeclared = {}
    for module in third_party_imports():
        if not {canonicalize_name(d) for d in providers.get(module, ())} & names:
            undeclared[module] = providers.get(module)
    assert undeclared == {}


def test_the_package_holds_real_files_only():
    links = [str(path) for path in (ROOT / "hook").rglob("*") if path.is_symlink()]
    assert links == []
    for pattern in PYPROJECT["tool"]["setuptools"]["package-data"]["hook"]:
        assert list((ROOT / "hook").glob(pattern)), pattern


def test_the_bounded_dependencies_stop_below_their_next_major():
    bounds = {canonicalize_name(r.name): r.specifier for r in declared(DEPENDENCIES)}
    for name in ("gunicorn", "prometheus-client", "gevent"):
        version = importlib.metadata.version(name)
        next_major = f"{int(version.split('.')[0]) + 1}.0"
        assert not bounds[name].contains(next_major), name
        assert bounds[name].contains(version), name
