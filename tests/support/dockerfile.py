"""The Dockerfile read statically: its stages, their instructions, the image's environment."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from tests.support.settings import ROOT

IMAGE_VENV = "/opt/venv"


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuations joined."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    pairs = (instruction.split(None, 1) for instruction in logical)
    return [(keyword.upper(), rest.strip()) for keyword, rest in pairs]


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage, its FROM first."""
    found: list[list[tuple[str, str]]] = []
    for keyword, args in instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            found.append([])
        found[-1].append((keyword, args))
    return found


BUILD, FINAL = stages()


def only(stage: list[tuple[str, str]], keyword: str) -> str:
    [args] = [args for found, args in stage if found == keyword]
    return args


def runs(stage: list[tuple[str, str]]) -> str:
    return " ; ".join(args for keyword, args in stage if keyword == "RUN")


def image_env() -> dict[str, str]:
    """The final stage's ENV, as written (``$PATH`` unexpanded)."""
    env: dict[str, str] = {}
    for keyword, args in FINAL:
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def exec_form(args: str) -> list[str]:
    command = json.loads(args)
    assert isinstance(command, list), "use the exec form, so that signals reach gunicorn"
    return command


def build_context(source: Path, target: Path) -> Path:
    """What ``docker build`` sends from ``source``: with a .dockerignore there (this project's
    is an allow-list: ``*``, then ``!path`` lines), only what it lets through; else all."""
    ignore = source / ".dockerignore"
    if not ignore.exists():
        shutil.copytree(source, target)
        return target
    rules = [line for line in ignore.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "the test reads an allow-list"
    target.mkdir()
    for rule in rules[1:]:
        if rule.startswith("!"):
            found = source / rule[1:].rstrip("/")
            copy = shutil.copytree if found.is_dir() else shutil.copy2
            copy(found, target / found.relative_to(source))
    return target
