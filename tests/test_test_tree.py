"""Rules of the test tree, read from its source with ``ast``: fixtures live in conftest.py (or
in the test module that uses them), no test file imports another, and every test that starts
a process or a server on loopback carries the ``process`` marker that ``make test-fast``
leaves out (tests/support/__init__.py says the rule), and no other test does."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SOURCES = {
    path: ast.parse(path.read_text())
    for path in sorted([*TESTS.glob("*.py"), *(TESTS / "support").glob("*.py")])
}
TEST_FILES = sorted(path for path in SOURCES if path.name.startswith("test_"))
CONFTEST = TESTS / "conftest.py"
#: What starts a process or a server on a socket; the test tree's own helpers that call one
#: of these (JwksServer, launch, FakeOktaServer...) are found from them.
STARTERS = (
    "subprocess.",
    "os.fork",
    "os.posix_spawn",
    "multiprocessing.",
    "asyncio.create_subprocess_",
    "socket.create_server",
    "socketserver.",
    "http.server.HTTPServer",
    "http.server.ThreadingHTTPServer",
    "wsgiref.simple_server.make_server",
    "werkzeug.serving.make_server",
)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Each name the module binds by import, and what it names."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted(node: ast.AST, module: str, names: dict[str, str]) -> str | None:
    """The qualified name of ``a.b.c`` as this module sees it."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = names.get(node.id, f"{module}.{node.id}")
    return ".".join([base, *reversed(parts)])


def definitions() -> dict[str, tuple[ast.AST, str, dict[str, str]]]:
    """Every module-level function and class of the test tree, by qualified name."""
    found = {}
    for path, tree in SOURCES.items():
        module, names = module_name(path), imported_names(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                found[f"{module}.{node.name}"] = (node, module, names)
    return found


DEFINITIONS = definitions()


def referenced(node: ast.AST, module: str, names: dict[str, str]) -> Iterator[str]:
    """What a definition calls or derives from, qualified."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            target = child.func
        elif isinstance(child, ast.ClassDef):
            yield from filter(None, (dotted(base, module, names) for base in child.bases))
            continue
        else:
            continue
        name = dotted(target, module, names)
        if name:
            yield name


def starting() -> set[str]:
    """The test tree's functions and classes that start a process or a server, transitively."""
    starts: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, (node, module, names) in DEFINITIONS.items():
            if name in starts:
                continue
            if any(
                ref.startswith(STARTERS) or ref in starts for ref in referenced(node, module, names)
            ):
                starts.add(name)
                changed = True
    return starts


STARTING = starting()


def is_fixture(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
    )


def fixtures_of(path: Path) -> dict[str, ast.FunctionDef]:
    """The fixtures a test module sees: conftest's, then its own (which win)."""
    seen = {}
    for source in (CONFTEST, path):
        for node in SOURCES[source].body:
            if is_fixture(node):
                seen[node.name] = node
    return seen


def marks(decorators: list[ast.expr]) -> str:
    return " ".join(ast.unparse(decorator) for decorator in decorators)


def module_marks(tree: ast.Module) -> str:
    return " ".join(
        ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and "pytestmark" in ast.unparse(node.targets[0])
    )


def cases_in(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef, str]]:
    """Each test function, with the marks its class and module give it."""
    module = module_marks(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            yield node, f"{module} {marks(node.decorator_list)}"
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name.startswith("test_"):
                    yield (
                        method,
                        f"{module} {marks(node.decorator_list)} {marks(method.decorator_list)}",
                    )


def starts(function: ast.FunctionDef, path: Path, fixtures: dict, visited: set[str]) -> bool:
    """Whether a test or fixture starts something, itself or through its fixtures."""
    module, names = module_name(path), imported_names(SOURCES[path])
    if any(
        ref.startswith(STARTERS) or ref in STARTING for ref in referenced(function, module, names)
    ):
        return True
    requested = [arg.arg for arg in function.args.args]
    requested += [
        name for name, node in fixtures.items() if "autouse=True" in marks(node.decorator_list)
    ]
    requested += [
        str(arg.value)
        for node in ast.walk(SOURCES[path])
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("usefixtures")
        for arg in node.args
        if isinstance(arg, ast.Constant)
    ]
    for name in requested:
        if name in fixtures and name not in visited:
            visited.add(name)
            source = path if fixtures[name] in SOURCES[path].body else CONFTEST
            if starts(fixtures[name], source, fixtures, visited):
                return True
    return False


def process_tests() -> Iterator[tuple[str, bool, bool]]:
    """Each test: its id, whether it starts something, whether it is marked ``process``."""
    for path in TEST_FILES:
        fixtures = fixtures_of(path)
        for test, given in cases_in(SOURCES[path]):
            started = starts(test, path, fixtures, set())
            yield f"{path.name}::{test.name}", started, "mark.process" in given


def test_no_test_file_imports_another_test_file_or_conftest():
    imports = []
    for path in SOURCES:
        for node in ast.walk(SOURCES[path]):
            if isinstance(node, ast.ImportFrom) and node.module:
                named = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            imports += [
                (path.name, name)
                for name in named
                if name.startswith(("tests.test_", "tests.conftest"))
            ]
    assert imports == []


def test_fixtures_live_in_conftest_or_the_test_module_using_them():
    """tests/support/ holds plain helpers: a fixture there would be found by no one."""
    defined = [
        (path.name, node.name)
        for path, tree in SOURCES.items()
        if path.parent.name == "support"
        for node in ast.walk(tree)
        if is_fixture(node)
    ]
    assert defined == []


def test_the_starters_are_found():
    """The analysis is real: the tree's launchers and servers are found as starting."""
    assert {
        "tests.support.processes.launch",
        "tests.support.jwks_server.JwksServer",
        "tests.support.fake_okta.FakeOktaServer",
        "tests.support.hostile_server.HostileServer",
    } <= STARTING
    assert "tests.support.cli_runner.run" not in STARTING  # click's runner, in this process


def test_every_test_that_starts_a_process_or_a_server_is_marked_process():
    unmarked = [name for name, started, marked in process_tests() if started and not marked]
    assert unmarked == []


def test_no_test_that_starts_nothing_is_marked_process():
    """The marker is accurate: ``make test-fast`` leaves out only what it must."""
    needless = [name for name, started, marked in process_tests() if marked and not started]
    assert needless == []


@pytest.mark.parametrize("name", ["process"])
def test_the_marker_is_registered_and_strict(name):
    pyproject = (TESTS.parent / "pyproject.toml").read_text()
    assert f'"{name}:' in pyproject
    assert "--strict-markers" in pyproject


def test_make_test_fast_runs_the_tests_not_marked_process():
    makefile = (TESTS.parent / "Makefile").read_text()
    recipe = makefile.split("\ntest-fast:", 1)[1].split("\n\n", 1)[0]
    assert '$(VENV)/bin/pytest -m "not process"' in recipe


@pytest.mark.process
def test_what_test_fast_collects_starts_nothing():
    """pytest's own selection, not this file's reading of the marks."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not process", "-p",
         "no:randomly", str(TESTS)],
        cwd=TESTS.parent, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    selected = {line.split("[")[0] for line in collected.splitlines() if "::" in line}
    starting = {f"tests/{name}" for name, started, _ in process_tests() if started}
    assert len(selected) > 300
    assert selected & starting == set()
