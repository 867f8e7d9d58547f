"""The metrics files of gunicorn's processes: the directory, the folds, the files set aside.

The master wipes an earlier run's files before the workers fork, and folds an exited worker's
files into an archive, so that a restart neither loses nor doubles a count; a file the
library cannot read is set aside (``*.db.bad``), never raised: metrics may not stop the master.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import structlog
from prometheus_client import Counter, values
from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from hook.config import ConfigError

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: The kinds of file a process writes (gauges, which name their mode too, are not used).
FILE_KINDS = ("counter", "histogram")
LOCK_FILE = "lock"
#: What an unreadable file is renamed with: out of the library's ``*.db``, kept to be looked at.
SET_ASIDE_SUFFIX = ".bad"
#: What prometheus_client raises on a file it did not write whole: struct.error on a short
#: header, RuntimeError past the used size, ValueError on a key that is not UTF-8 JSON.
UNREADABLE = (struct.error, RuntimeError, ValueError, KeyError, IndexError, TypeError)

log = structlog.get_logger("psc_token_hook")
_directory: Path | None = None
_pid = os.getpid()


def _remember_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_remember_pid)


def current_pid() -> int:
    """This process's id, as prometheus_client asks for it on every count (to notice a
    fork), without a system call each time: ``os.getpid()`` was a fifth of what counting
    cost. Kept right by a fork hook."""
    return _pid


def open_directory(directory: Path | None) -> Path:
    """The directory to use (a private one under the system's temporary directory when none
    is configured), made if missing, without the files an earlier run left there."""
    path = directory or Path(tempfile.mkdtemp(prefix="psc-token-hook-metrics-"))
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in [*path.glob("*.db"), *path.glob(".*.tmp")]:
            stale.unlink()
        (path / LOCK_FILE).touch()
    except OSError as error:
        raise ConfigError(
            f"{DIRECTORY_VARIABLE}: cannot use {str(path)!r} ({error.strerror})"
        ) from None
    return path


def prepare(directory: Path | None) -> Path:
    """Once per process tree, in gunicorn's master before it forks: the directory, clean,
    and multiprocess mode on. Later calls, and the forked workers, get the same directory."""
    global _directory
    if _directory is not None:
        return _directory
    path = open_directory(directory)
    # prometheus_client reads the directory from the environment whenever a process opens
    # its files (after a fork too): the one variable the service sets, for the library and
    # the workers. It chose its mode when imported, so the choice is made again here.
    os.environ[DIRECTORY_VARIABLE] = str(path)
    values.ValueClass = values.MultiProcessValue(process_identifier=current_pid)
    if directory is None:
        atexit.register(_remove_private, path, os.getpid())
    _directory = path
    return path


def _remove_private(path: Path, owner: int) -> None:
    if os.getpid() == owner:  # forked workers inherit the exit handler: only the maker removes
        shutil.rmtree(path, ignore_errors=True)


@functools.cache
def set_aside_counter() -> Counter:
    """The count of files set aside, one object per process (two would overwrite each
    other's count in the file); the recorder makes it at once, so the series starts at 0."""
    return Counter(
        "psc_hook_metrics_files_set_aside",
        "Metrics files that could not be read (empty, truncated), renamed *.db.bad and left"
        " out of the counts.",
        registry=None,
    )


def write_failed(event: str, error: OSError) -> None:
    """A metrics file that cannot be written (its directory deleted, a full disk) is logged;
    it never fails Okta's call, nor gunicorn's master."""
    log.warning(event, error=type(error).__name__, directory=str(_directory))


@contextlib.contextmanager
def locked(directory: Path, operation: int) -> Iterator[None]:
    """Scrapes read the files under a shared lock and the master folds them under an
    exclusive one, so a scrape never sees a worker's counts twice (in its file and in the
    archive) or not at all. No greenlet switch happens inside: safe under gevent too."""
    with (directory / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, operation)
        yield  # closing the file releases the lock


class ReadableFilesCollector(MultiProcessCollector):
    """The library's collector, which sets an unreadable file aside instead of failing the
    whole scrape on it."""

    def merge(self, files: list[str], accumulate: bool = True) -> Iterable[Metric]:
        """What ``collect`` calls with every ``*.db`` file of the directory."""
        return merge_readable([Path(name) for name in files], accumulate)


def merge_readable(paths: list[Path], accumulate: bool) -> Iterable[Metric]:
    """``MultiProcessCollector.merge`` of the files, once those it cannot read are set aside
    (each is read once more only when the merge failed)."""
    try:
        return MultiProcessCollector.merge([str(path) for path in paths], accumulate)
    except UNREADABLE:
        kept = [path for path in paths if not _set_aside_if_unreadable(path)]
        return MultiProcessCollector.merge([str(path) for path in kept], accumulate)


def _set_aside_if_unreadable(path: Path) -> bool:
    """Whether ``path`` could not be read and was set aside: renamed out of ``*.db``, logged
    (one line, no traceback) and counted."""
    try:
        MultiProcessCollector.merge([str(path)], accumulate=False)
        return False
    except FileNotFoundError:  # gone since (folded, or set aside by another process)
        return True
    except UNREADABLE as error:
        try:
            path.replace(path.with_name(path.name + SET_ASIDE_SUFFIX))
        except FileNotFoundError:  # another process set it aside first, and counted it
            return True
        log.warning("metrics-file-set-aside", file=path.name, error=type(error).__name__)
        try:
            set_aside_counter().inc()
        except OSError as failure:
            write_failed("metrics-write-failed", failure)
        return True


def fold(directory: Path, pid: int) -> None:
    """Move the counts of an exited process into the archive files, then delete its files."""
    with locked(directory, fcntl.LOCK_EX):
        for kind in FILE_KINDS:
            dead = directory / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            archive = directory / f"{kind}_archive.db"
            sources = [path for path in (archive, dead) if path.exists()]
            staging = directory / f".{kind}_archive.tmp"
            staging.unlink(missing_ok=True)
            _write(staging, merge_readable(sources, accumulate=False))
            staging.replace(archive)
            dead.unlink(missing_ok=True)  # set aside when it could not be read


def _write(path: Path, metrics: Iterable[Metric]) -> None:
    """Samples as a process writes them (histogram buckets not cumulated), to a new file."""
    store = MmapedDict(str(path))
    try:
        for metric in metrics:
            for sample in metric.samples:
                names, label_values = list(sample.labels), list(sample.labels.values())
                key = mmap_key(metric.name, sample.name, names, label_values, metric.documentation)
                store.write_value(key, sample.value, 0.0)
    finally:
        store.close()


def reap(pid: int) -> None:
    """gunicorn's ``child_exit``, in the master: fold the exited worker's files away, and do
    the library's own bookkeeping for a dead process (the files of live gauges). Whatever
    fails is logged: an exception out of ``child_exit`` would stop the master, and every
    worker with it."""
    if _directory is None:
        return
    try:
        fold(_directory, pid)
        mark_process_dead(pid, str(_directory))
    except OSError as error:
        write_failed("metrics-fold-failed", error)
    except Exception as error:  # never out of a gunicorn hook: see above
        log.error("metrics-fold-failed", error=type(error).__name__, directory=str(_directory))
