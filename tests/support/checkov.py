"""checkov, run from the tools environment (``make tools``), offline, as JSON."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.settings import ROOT

CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"


def scan(framework: str, *targets: str) -> dict[str, Any]:
    """checkov's results for ``targets`` (``-d DIR`` or ``-f FILE`` pairs), one framework.

    ``--skip-download`` keeps it offline: no policy or guideline fetch, no connection."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make tools` (make test does)")
    done = subprocess.run(
        [str(CHECKOV), *targets, "--framework", framework, "--skip-download", "--output", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["check_type"] == framework, done.stderr
    return report["results"]


def unexplained(results: dict[str, Any]) -> list[str]:
    """Failed checks, parsing errors, and skipped checks without a reason."""
    failed = [f"{check['check_id']} {check['resource']}" for check in results["failed_checks"]]
    silent = [
        f"{check['check_id']} skipped without a reason"
        for check in results["skipped_checks"]
        if not (check["check_result"].get("suppress_comment") or "").strip()
    ]
    return failed + silent + [f"cannot parse {path}" for path in results["parsing_errors"]]
