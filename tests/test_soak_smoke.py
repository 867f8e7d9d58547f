"""The soak script runs: a very short run completes, loses nothing and reports every figure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.soak import verdict
from tests.support.settings import ROOT


@pytest.mark.process
def test_a_smoke_run_completes_and_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--smoke", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["connections"] == 32 and report["problems"] == []
    assert report["count"]["requests"] == 1000
    assert report["restarts"]["requests"] == 600
    for phase in ("hold", "count", "restarts"):
        figures = report[phase]
        assert figures["requests"] > 0 and figures["errors"] == 0 and figures["dropped"] == 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["requests_per_s"] > 0
    memory = report["memory"]
    assert memory["workers"] >= 1 and memory["same_workers"]
    assert memory["before_kib"] > 0 and memory["after_kib"] > 0
    assert isinstance(memory["growth"], float)
    assert report["restarts"]["worker_restarts"] >= 1


def report(**changes) -> dict:
    """A passing full-run report, with ``changes`` merged into its sections."""
    clean = {"errors": 0, "dropped": 0}
    base = {
        "hold": dict(clean),
        "count": dict(clean),
        "restarts": {**clean, "worker_restarts": 12},
        "memory": {"same_workers": True, "growth": 0.02},
    }
    for section, values in changes.items():
        base[section].update(values)
    return base


def test_the_verdict_names_every_broken_promise() -> None:
    assert verdict(report(), smoke=False) == []
    assert verdict(report(count={"errors": 3, "dropped": 2}), smoke=False) == [
        "count: 3 errors (2 dropped)"
    ]
    assert "no worker restarted" in verdict(report(restarts={"worker_restarts": 0}), False)[0]
    assert "grew 12.0%" in verdict(report(memory={"growth": 0.12}), smoke=False)[0]
    assert verdict(report(memory={"growth": 0.12}), smoke=True) == []
    assert "replaced" in verdict(report(memory={"same_workers": False}), smoke=True)[0]
