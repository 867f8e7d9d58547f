"""Rules of the package's layout that no behaviour shows: where the environment is read,
who may exit, and the constants written once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hook import okta
from hook.cli import COMMANDS
from hook.outcomes import Outcome

HOOK = Path(__file__).resolve().parent.parent / "hook"
SOURCES = {path: ast.parse(path.read_text()) for path in sorted(HOOK.rglob("*.py"))}
#: What ``from hook import X`` may name: the package's modules and subpackages.
SUBMODULES = {path.stem for path in HOOK.glob("*.py")} | {
    path.name for path in HOOK.iterdir() if (path / "__init__.py").exists()
}
#: Entry points, which may stop the process: the commands and gunicorn's hooks.
EXITING = ("cli", "gunicorn_conf.py")
OS_ENVIRONMENT = ("os.environ", "os.environb", "os.getenv")


def _functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node of the tree, and the name of the function it is in ("" at module level)."""
    inside: dict[ast.AST, str] = {}

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef) else function
            inside[child] = name
            visit(child, name)

    visit(tree, "")
    return inside


def test_only_config_process_environment_reads_os_environ() -> None:
    """The settings' promise: one reader of the environment, so nothing bypasses validation.
    metrics_files writes the one variable prometheus_client reads."""
    reads, writes = [], []
    for path, tree in SOURCES.items():
        inside = _functions(tree)
        written = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and ast.unparse(node) in OS_ENVIRONMENT:
                (writes if node in written else reads).append((path.name, inside[node]))
        assert not [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "environb", "getenv"}
        ], path
    assert reads == [("config.py", "process_environment")]
    assert writes == [("metrics_files.py", "prepare")]


def test_library_code_never_exits() -> None:
    """A library that exits takes the choice from its caller (a test, a worker's boot)."""
    exits = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        if path.relative_to(HOOK).parts[0] not in EXITING
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "SystemExit")
        or (isinstance(node, ast.Attribute) and ast.unparse(node) in ("sys.exit", "os._exit"))
    )
    assert exits == []


@pytest.mark.parametrize("value", [okta.HOOK_PATH, okta.EVENT_TYPE, okta.HOOK_NAME])
def test_the_contracts_constants_are_written_once(value: str) -> None:
    """Written in several places, they drifted apart; hook/okta.py holds each one."""
    places = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == value
    )
    assert places == ["okta.py"]


def test_no_module_imports_the_package_root() -> None:
    """``hook/__init__.py`` builds the application: a module that imported it would run
    upward, from a part to the whole (the version has a module of its own for that)."""
    upward = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and node.module == "hook" and node.level == 0)
        and {alias.name for alias in node.names} - SUBMODULES
    )
    assert upward == []


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.ERROR])
def test_each_outcome_is_written_once(outcome: Outcome) -> None:
    """The log's and the metrics' words for a call drifted when four modules spelt them;
    hook/outcomes.py holds each one ("error" is also Okta's answer key and a log level)."""
    places = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == outcome.value
    )
    assert places == ["outcomes.py"]


def test_no_module_imports_another_modules_private_names() -> None:
    """A command that reached into ``config._csv`` bypassed what config offers the others;
    what a module shares, it names publicly."""
    private = sorted(
        (path.relative_to(HOOK).as_posix(), alias.name)
        for path, tree in SOURCES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hook")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    )
    assert private == []


def test_the_configuration_error_line_is_written_once() -> None:
    """The service and the commands say a bad setting alike: hook/config.py's one_line."""
    places = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "configuration error" in node.value
    )
    assert places == ["config.py"]


#: What reads a file or the process: a pure module calls none of these, imports none.
READERS = {"open", "read_text", "read_bytes", "read_file", "getenv"}
IMPURE_IMPORTS = {"flask", "importlib", "os", "hook.jsonio", "jsonio"}


def test_the_pure_modules_read_nothing() -> None:
    """A module whose docstring says it is pure takes data: reading the files its data
    comes from is hook/config.py's job, where the settings are loaded."""
    pure = [path for path, tree in SOURCES.items() if "Pure" in (ast.get_docstring(tree) or "")]
    assert {path.name for path in pure} >= {"amr.py", "tenants.py", "claims.py", "outcomes.py"}
    found = []
    for path in pure:
        for node in ast.walk(SOURCES[path]):
            called = node.func if isinstance(node, ast.Call) else None
            name = getattr(called, "attr", None) or getattr(called, "id", None)
            if name in READERS:
                found.append((path.name, name))
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names]
                module = getattr(node, "module", None) or ""
                found += [(path.name, n) for n in [module, *names] if n in IMPURE_IMPORTS]
    assert found == []


# The layers (docs/dev/README.md) ----------------------------------------------------------

#: The decision core: Okta's and PSC's contracts as data, the claims and the answer. Pure:
#: it takes settings and a parsed request, and returns the answer; no web, no I/O.
CORE = (
    "okta", "psc", "psc_amr_sets", "psc_environments", "factors", "amr", "evidence",
    "establishment", "tenants", "refusals", "outcomes", "claims", "answer", "payload",
    "fastload", "user_ref", "settings_values", "version",
)  # fmt: skip
#: What the core may import of the package besides itself: the settings' type.
CORE_MAY_IMPORT = {"config"}
#: Libraries of the edge (the web, the server, logging, metrics, the network).
EDGE_LIBRARIES = (
    "flask", "werkzeug", "gunicorn", "gevent", "structlog", "prometheus_client", "socket",
    "http", "urllib.request", "requests", "click",
)  # fmt: skip


def _imports(tree: ast.AST) -> set[str]:
    """Every module a tree imports, ``from hook import x`` as ``hook.x``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "hook":
                found |= {f"hook.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("name", CORE)
def test_the_decision_core_imports_no_edge(name: str) -> None:
    """The claims and the answer are computed by pure functions: what the core imports of
    the package is the core (and the settings' type), of the world no web, server or I/O."""
    imported = _imports(SOURCES[HOOK / f"{name}.py"])
    outside = {
        module
        for module in imported
        if module.startswith("hook.") and module.split(".")[1] not in {*CORE, *CORE_MAY_IMPORT}
    }
    edge = {m for m in imported for lib in EDGE_LIBRARIES if m == lib or m.startswith(f"{lib}.")}
    assert (outside, edge) == (set(), set())


def test_only_the_commands_import_the_commands() -> None:
    """hook/cli/ sits on top: the service never depends on the operator's commands."""
    upward = sorted(
        path.relative_to(HOOK).as_posix()
        for path, tree in SOURCES.items()
        if path.relative_to(HOOK).parts[0] != "cli"
        and any(m == "hook.cli" or m.startswith("hook.cli.") for m in _imports(tree))
    )
    assert upward == []


#: The most lines a module of hook/ may hold: past it, a module does more than one job.
MAX_MODULE_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    """doctor.py reached 683 lines, most of them findings before its command: a module
    that grows past this holds a second job, which gets a module of its own."""
    long = sorted(
        (path.relative_to(HOOK).as_posix(), lines)
        for path in SOURCES
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    )
    assert long == []


def test_no_command_module_imports_another() -> None:
    """A command is its options, a call and what it prints: what two commands share (the
    audit, the plan, the in-process run, an HTTP client) lives in a module of its own,
    so that doctor does not import check-token, nor evidence doctor."""
    commands = {module.__name__ for module in COMMANDS}
    crossing = sorted(
        (path.relative_to(HOOK).as_posix(), imported)
        for path, tree in SOURCES.items()
        if ".".join(("hook", *path.relative_to(HOOK).with_suffix("").parts)) in commands
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
        for imported in (
            [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if node.module
            else []
        )
        if imported in commands
    )
    assert crossing == []
