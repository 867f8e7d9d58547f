"""Start-up failures under gunicorn: one line naming the cause and the fix, exit 2.

A read-only root without a writable ``/tmp`` (``docker run --read-only`` without
``--tmpfs /tmp``) is reproduced with bubblewrap when it is installed; the same check on
gunicorn's ``--worker-tmp-dir`` and a worker that fails to boot need nothing but gunicorn.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.failing_app import CUES
from tests.support.processes import free_port, gunicorn_command
from tests.support.settings import BASE_ENV, ROOT

pytestmark = pytest.mark.process

ENV = {"PATH": "/usr/bin:/bin", **BASE_ENV}


def gunicorn(workdir: Path, *extra: str, wrap: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*wrap, *gunicorn_command(free_port()), *extra],
        env=ENV,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )


def said(output: str) -> list[str]:
    """What the process printed that is not one of gunicorn's info log lines nor a warning
    of the configuration (every plan has one: oid in the ID token, or no oid there), so
    that what is left is the start-up failure alone."""
    lines = output.strip().splitlines()
    quiet = ('"level":"info"', '"event":"configuration-warning"')
    return [line for line in lines if not (line.startswith("{") and any(q in line for q in quiet))]


def read_only_root() -> tuple[str, ...]:
    """bubblewrap's prefix for a read-only root with no writable /tmp, or a skip."""
    bwrap = shutil.which("bwrap")
    prefix = (bwrap or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc")
    if bwrap is None or subprocess.run([*prefix, "true"], capture_output=True).returncode:
        pytest.skip("bubblewrap is not installed or may not make namespaces here")
    return (*prefix, "--chdir", "/")


def test_a_read_only_root_without_tmp_stops_with_one_line(tmp_path) -> None:
    result = gunicorn(tmp_path, wrap=read_only_root())
    assert result.returncode == 2, result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("psc-token-hook: configuration error: TMPDIR: no writable")
    assert "--tmpfs /tmp" in lines[0]
    assert "Traceback" not in result.stderr


def test_an_unwritable_worker_tmp_dir_stops_the_master_before_any_fork(tmp_path) -> None:
    result = gunicorn(tmp_path, "--worker-tmp-dir", str(tmp_path / "missing"))
    assert result.returncode == 2, result.stderr
    assert said(result.stdout + result.stderr) == [
        f"psc-token-hook: configuration error: --worker-tmp-dir: '{tmp_path / 'missing'}'"
        " (No such file or directory) is not a writable directory: gunicorn keeps its worker"
        " heartbeat files there; give a writable one (a tmpfs such as /dev/shm) or leave it unset"
    ]
    assert "Booting worker" not in result.stderr
    assert "Traceback" not in result.stderr and "exc_info" not in result.stderr


def assert_boot_failure(returncode: int, output: str, cause: str) -> None:
    """Exit 2; each worker's one line naming the cause, then the master's; gunicorn's own
    lines only, at error level; no traceback."""
    assert returncode == 2, output
    assert "Traceback" not in output and "exc_info" not in output, output
    lines = said(output)
    assert lines[-1].startswith("psc-token-hook: start-up error: a worker failed to boot:")
    assert "psc-hook check-config" in lines[-1]
    worker_lines = [line for line in lines if not line.startswith("{")][:-1]
    assert worker_lines, lines
    for line in worker_lines:
        assert line.startswith("psc-token-hook: start-up error: the worker could not load the app")
        assert cause in line
    for line in lines:
        if line.startswith("{"):  # gunicorn's own error lines: the workers' codes and the halt
            assert json.loads(line)["level"] == "error"


@pytest.mark.parametrize(
    ("app", "cause"),
    [
        ("hook:create_app(1)", "AttributeError: 'int' object has no attribute"),
        ("hook:no_such_app", "AppImportError: Failed to find attribute 'no_such_app'"),
    ],
)
def test_a_worker_that_fails_to_boot_stops_the_master_with_exit_2(tmp_path, app, cause) -> None:
    result = gunicorn(tmp_path, app)
    assert_boot_failure(result.returncode, result.stdout + result.stderr, cause)


def cue(cues: Path, pid: int) -> None:
    """Let the worker fail (tests/support/failing_app.py failing_on_cue); wait until it exits."""
    exited = os.pidfd_open(pid)
    try:
        with (cues / str(pid)).open("w"):
            pass
        assert select.select([exited], [], [], 30)[0], f"worker {pid} did not exit"
    finally:
        os.close(exited)


@pytest.mark.parametrize("first", ["lower pid", "higher pid"])
@pytest.mark.parametrize("second", ["while the master halts", "before the master reaps either"])
def test_two_workers_that_fail_to_boot_in_any_order_stop_the_master_with_exit_2(
    tmp_path, first, second
) -> None:
    """gunicorn halts on the first failed worker it reaps, and raised again, out of its own
    handler, when it reaped the other one's while halting: two tracebacks and exit 1, about
    one start in ten. Each order of the two failures, made on cue."""
    os.mkfifo(tmp_path / "loading")
    with open(os.open(tmp_path / "loading", os.O_RDWR)) as loading:  # no end while workers come
        master = subprocess.Popen(
            [
                *gunicorn_command(free_port()),
                *("--pythonpath", str(ROOT), "tests.support.failing_app:failing_on_cue()"),
            ],
            env={**ENV, CUES: str(tmp_path)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            pids = sorted(int(loading.readline()) for _ in range(2))
            early, late = pids if first == "lower pid" else reversed(pids)
            before = ""
            if second == "while the master halts":
                cue(tmp_path, early)
                reaped = f"Worker (pid:{early}) exited with code"
                while reaped not in before:  # the master has reaped it, and halts
                    line = master.stderr.readline()
                    assert line, before
                    before += line
                cue(tmp_path, late)
            else:
                master.send_signal(signal.SIGSTOP)
                cue(tmp_path, early)
                cue(tmp_path, late)
                master.send_signal(signal.SIGCONT)
            rest = master.communicate(timeout=60)[1]
        finally:
            if master.poll() is None:
                master.kill()
                master.wait()
    assert_boot_failure(master.returncode, before + rest, "RuntimeError: failing on cue")
