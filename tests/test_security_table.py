"""SECURITY.md's table of attacks and faults names tests that exist: a renamed or deleted
test makes a row a promise nothing checks."""

from __future__ import annotations

import ast
import re

from tests.support.settings import ROOT

SECTION = "## Attacks and faults, each tried by a test"


def named_tests() -> list[tuple[str, str | None]]:
    text = (ROOT / "SECURITY.md").read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`tests/" in line]
    found = []
    for row in rows:
        for path, name in re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?", row):
            found.append((path, name or None))
    return found


def test_the_table_has_a_row_per_issue_item():
    assert len(named_tests()) >= 40


def test_every_test_the_table_names_exists():
    missing = []
    for path, name in named_tests():
        file = ROOT / path
        if not file.exists():
            missing.append(path)
            continue
        if name is None:
            continue
        defined = {node.name for node in ast.walk(ast.parse(file.read_text()))
                   if isinstance(node, ast.FunctionDef)}  # fmt: skip
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
