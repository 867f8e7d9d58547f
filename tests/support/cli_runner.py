"""Run ``psc-hook`` in-process, in an environment the test chooses."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from hook.cli import main

SETTING_PREFIXES = ("PSC_", "HOOK_", "OKTA_", "LOG_")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Make ``env`` the only settings the command sees (it reads them through hook.config)."""
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES) or name == "PORT":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """The command's exit code and what it printed."""
    try:
        code = main(list(argv))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
