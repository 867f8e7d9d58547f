"""The benchmark runs: its one command, in a very short run, completes and prints every figure.

It runs ``bench/run.sh`` as a person would, so on a fresh machine it also proves that the
script installs wrk itself. No figure is judged here: timings belong to the benchmark.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.settings import ROOT

pytestmark = pytest.mark.process

LABELS = (
    "header auth",
    "OAuth auth (RS256)",
    "Start-up to the first 200 on /healthz",
    " 8 connections: service",
    "32 connections: service",
    "OAuth mode,  8 connections",
    "OAuth mode, 32 connections",
    "Slow clients: 50 held open",
    "Slow clients with 156 KiB heads: 50 held open",
    "Worker memory (RSS)",
    "Targets:",
)


def test_a_quick_run_completes_and_reports_every_figure(tmp_path) -> None:
    """With a 50-establishment table, so that the hospital-group path is the one loaded."""
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        ["bash", "bench/run.sh", "--quick", "--tenants", "50", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for label in LABELS:
        assert label in result.stdout, label

    report = json.loads(figures.read_text())
    assert report["tenants"] == 50  # a hospital group's table: the targets must hold with it
    for auth in ("header", "oauth"):
        inproc = report["inprocess"][auth]
        assert 0 < inproc["median_ms"] <= inproc["p99_ms"]
    assert len(report["startup_s"]) == 1 and report["startup_s"][0] > 0
    assert report["gunicorn"]["workers"] >= 1
    for connections in ("8", "32"):
        level = report["http"][connections]
        for app in ("service", "bare"):
            measured = level[app]
            assert measured["requests_per_s"] > 0 and measured["errors"] == 0
            assert 0 < measured["p50_ms"] <= measured["p99_ms"]
            for run in measured["each"]:
                assert run["connections"] == int(connections)
                assert abs(sum(run["worker_cpu_share"]) - 1) < 0.05
        assert level["throughput_ratio"] > 0 and level["p99_ratio"] > 0
    for connections in ("8", "32"):
        level = report["oauth_http"][connections]
        assert level["oauth"]["requests_per_s"] > 0 and level["oauth"]["errors"] == 0
        assert level["throughput_ratio"] > 0 and level["p99_ratio"] > 0
    slow = report["slow_clients"]
    assert slow["slow_connections"] == 50 and slow["held_at_the_end"] > 0
    assert slow["with_slow"]["requests_per_s"] > 0 and slow["with_slow"]["errors"] == 0
    big = slow["large_heads"]
    assert big["slow_connections"] == 50 and big["held_at_the_end"] > 0
    assert big["with_slow"]["requests_per_s"] > 0 and big["with_slow"]["errors"] == 0
    memory = report["memory"]
    assert memory["requests"] >= 2_000 and sum(memory["cold_kib"].values()) > 0
    assert memory["same_workers"] and isinstance(memory["growth"], float)
    assert len(report["verdicts"]) == 7
