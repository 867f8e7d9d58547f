"""Prometheus metrics of the hook's calls, correct across gunicorn's worker processes.

prometheus_client's multiprocess mode: each process writes its counts to its own
memory-mapped files in one directory, and a scrape of ``/metrics``, whichever worker
serves it, adds up the files of all. The master prepares the directory before the workers
fork (:func:`prepare` wipes an earlier run's files) and, when a worker exits, folds its
files into an archive (:func:`reap`): a restart neither loses nor doubles a count, and no
dead worker's file stays behind to slow the scrapes down. A file the library cannot read
(empty, truncated) is renamed ``*.db.bad``, logged and counted, never raised: nothing in
metrics may stop gunicorn's master or fail a scrape.

A call is counted once, from the facts its canonical log line holds (:meth:`Recorder.observe`).
Every label value comes from a closed set (outcomes, auth failure reasons, amr rule names,
assurance levels, the tids of PSC_TENANTS) and anything else counts as "other": no label
carries a caller's text, a user, a client id, a token or a secret.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import platform
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from hook import __version__
from hook.amr import NO_RULE
from hook.config import ConfigError, Settings, exit_on_error
from hook.tenants import NO_TENANT

HOOK_PATH = "/token-hook"
CONTENT_TYPE = CONTENT_TYPE_LATEST
DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
#: The outcomes hook/views.py and hook/commands.py record; "error": a 5xx before any outcome.
OUTCOMES = (
    "patched",
    "nothing-to-patch",
    "out-of-scope-client",
    "refused-assurance",
    "tenant-unmatched",
    "tenant-ambiguous",
    "auth-too-old",
    "auth-age-unknown",
    "unauthenticated",
    "invalid-payload",
    "too-large",
    "incomplete-body",
    "unsupported-media-type",
    "error",
)
#: The outcomes of a call whose establishment is known (PSC_TENANTS), counted by tid too.
TENANT_OUTCOMES = ("patched", "nothing-to-patch", "refused-assurance", "auth-too-old",
                   "auth-age-unknown")  # fmt: skip
#: ... and those of a call refused for want of one, counted with tid "none".
NO_TENANT_OUTCOMES = ("tenant-unmatched", "tenant-ambiguous")
#: The reasons each authenticator gives (hook/auth.py, hook/oauth.py); a test keeps them in step.
AUTH_FAILURE_REASONS = {
    "header": ("header-missing", "header-mismatch"),
    "oauth": (
        "no-bearer",
        "malformed",
        "bad-alg",
        "no-kid",
        "unknown-kid",
        "key-mismatch",
        "expired",
        "not-yet-valid",
        "bad-issuer",
        "bad-audience",
        "missing-claim",
        "bad-iat",
        "bad-signature",
        "invalid",
        "missing-scope",
        "foreign-cid",
    ),
}
KEY_FETCH_RESULTS = ("loaded", "failed")
#: The labels of psc_hook_build_info: constants of the release and the process.
BUILD = {"version": __version__, "python": platform.python_version()}
#: Okta waits 3 s. The fine buckets are where the service answers (a tenth of a millisecond
#: of work, milliseconds under load), the coarse ones where a key fetch (1 s at most) lands.
DURATION_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

#: The metrics, by the name the code uses: (kind, name, help, label names, options).
#: prometheus_client exposes a counter ``name`` as ``name_total``.
METRICS: dict[str, tuple[type, str, str, tuple[str, ...], dict[str, Any]]] = {
    "calls": (
        Counter,
        "psc_hook_calls",
        "Calls of /token-hook, by outcome (other: a method other than POST).",
        ("outcome",),
        {},
    ),
    "auth_failures": (
        Counter,
        "psc_hook_auth_failures",
        "Refused authentications, by mode and reason (header,oauth: once per mode).",
        ("mode", "reason"),
        {},
    ),
    "amr_decisions": (
        Counter,
        "psc_hook_amr_decisions",
        "amr decisions, by the rule of the amr table that fired (none: no rule) and the"
        " assurance reached.",
        ("rule", "assurance"),
        {},
    ),
    "tenant_calls": (
        Counter,
        "psc_hook_tenant_calls",
        "Calls of /token-hook with PSC_TENANTS, by establishment (tid of the table; none: no"
        " establishment matched) and outcome.",
        ("tid", "outcome"),
        {},
    ),
    "duration": (
        Histogram,
        "psc_hook_call_duration_seconds",
        "Time from a call's arrival in a worker to its answer.",
        (),
        {"buckets": DURATION_BUCKETS_S},
    ),
    "key_fetches": (
        Counter,
        "psc_hook_jwks_fetches",
        "Fetches of the OAuth signing keys, by result.",
        ("result",),
        {},
    ),
    "files_set_aside": (
        Counter,
        "psc_hook_metrics_files_set_aside",
        "Metrics files that could not be read (empty, truncated), renamed *.db.bad and left"
        " out of the counts.",
        (),
        {},
    ),
}
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
_metrics: dict[str, Any] = {}
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


def start(settings: Settings) -> None:
    """:func:`prepare`, or stop the process with one line naming the variable (exit 2)."""
    try:
        prepare(settings.metrics_dir)
    except ConfigError as error:
        exit_on_error(error)


def _remove_private(path: Path, owner: int) -> None:
    if os.getpid() == owner:  # forked workers inherit the exit handler: only the maker removes
        shutil.rmtree(path, ignore_errors=True)


def _objects() -> dict[str, Any]:
    """The metric objects, one set per process: two would overwrite each other's counts."""
    if not _metrics:
        for key, (kind, name, documentation, labels, options) in METRICS.items():
            _metrics[key] = kind(name, documentation, labels, registry=None, **options)
    return _metrics


def _write_failed(event: str, error: OSError) -> None:
    """A metrics file that cannot be written (its directory deleted, a full disk) is logged;
    it never fails Okta's call, nor gunicorn's master."""
    log.warning(event, error=type(error).__name__, directory=str(_directory))


@contextlib.contextmanager
def _locked(directory: Path, operation: int) -> Iterator[None]:
    """Scrapes read the files under a shared lock and the master folds them under an
    exclusive one, so a scrape never sees a worker's counts twice (in its file and in the
    archive) or not at all. No greenlet switch happens inside: safe under gevent too."""
    with (directory / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, operation)
        yield  # closing the file releases the lock


class BuildInfo:
    """``psc_hook_build_info{version, python} 1``: which release each instance runs (while a
    deploy rolls, say). A constant of the process: it needs no file."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "psc_hook_build_info", "The running release of psc-token-hook (always 1).", labels=BUILD
        )
        info.add_metric(tuple(BUILD.values()), 1)
        yield info


class Recorder:
    """Counts each hook call from its facts, and writes the exposition of all the workers."""

    def __init__(self, settings: Settings) -> None:
        self.directory = prepare(settings.metrics_dir)
        metrics = _objects()
        self.registry = CollectorRegistry()
        ReadableFilesCollector(self.registry, path=str(self.directory))
        self.registry.register(BuildInfo())
        # Every label value known now, so that each series exists (at 0) before its first
        # count, and a call finds its counter with one dictionary look-up.
        self.calls = {outcome: metrics["calls"].labels(outcome) for outcome in (*OUTCOMES, OTHER)}
        self.failures = _children(
            metrics["auth_failures"],
            [
                (mode, reason)
                for mode in settings.auth_modes
                for reason in (*AUTH_FAILURE_REASONS[mode], OTHER)
            ]
            + [(OTHER, OTHER)],
        )
        decisions = {(rule.name, rule.assurance) for rule in settings.amr_table.rules}
        self.decisions = _children(
            metrics["amr_decisions"], [*sorted(decisions), (NO_RULE, "none"), (OTHER, OTHER)]
        )
        self.duration = metrics["duration"]
        tids = settings.tenants.tids() if settings.tenants else ()
        self.tenant_calls = (
            _children(
                metrics["tenant_calls"],
                [(tid, outcome) for tid in tids for outcome in TENANT_OUTCOMES]
                + [(NO_TENANT, outcome) for outcome in NO_TENANT_OUTCOMES],
            )
            if tids
            else {}
        )
        if "oauth" in settings.auth_modes:
            _children(metrics["key_fetches"], [(result,) for result in KEY_FETCH_RESULTS])

    def observe(self, status: int, seconds: float, facts: Mapping[str, Any]) -> None:
        """Count one call of the hook from the facts of its canonical log line."""
        try:
            counter = self.calls.get(facts.get("outcome"))
            if counter is None:
                counter = self.calls["error" if status >= 500 else OTHER]
            counter.inc()
            self.duration.observe(seconds)
            tid = facts.get("tid")
            if tid is not None:
                tenant_counter = self.tenant_calls.get((tid, facts.get("outcome")))
                if tenant_counter is not None:
                    tenant_counter.inc()
            rule = facts.get("amr_rule")
            if rule is not None:
                decision = (rule, facts.get("assurance"))
                self.decisions.get(decision, self.decisions[(OTHER, OTHER)]).inc()
            failure = facts.get("auth_failure")
            if failure:
                self._count_failure(failure)
        except OSError as error:
            _write_failed("metrics-write-failed", error)

    def _count_failure(self, failure: str) -> None:
        """``header:header-mismatch oauth:expired`` (hook/auth.py's AnyOf) counts once per mode."""
        for part in failure.split():
            mode, _, reason = part.partition(":")
            pair = (mode, reason) if (mode, reason) in self.failures else (mode, OTHER)
            self.failures.get(pair, self.failures[(OTHER, OTHER)]).inc()

    def exposition(self) -> bytes:
        """The text format of every worker's counts, those of exited workers included."""
        with _locked(self.directory, fcntl.LOCK_SH):
            return generate_latest(self.registry)


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
            _objects()["files_set_aside"].inc()
        except OSError as failure:
            _write_failed("metrics-write-failed", failure)
        return True


def _children(metric: Any, label_values: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Any]:
    return {labels: metric.labels(*labels) for labels in label_values}


def key_fetched(result: str) -> None:
    """Count one fetch of the OAuth signing keys (hook/oauth.py): "loaded" or "failed"."""
    if _metrics:
        label = result if result in KEY_FETCH_RESULTS else OTHER
        try:
            _metrics["key_fetches"].labels(label).inc()
        except OSError as error:
            _write_failed("metrics-write-failed", error)


def fold(directory: Path, pid: int) -> None:
    """Move the counts of an exited process into the archive files, then delete its files."""
    with _locked(directory, fcntl.LOCK_EX):
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
        _write_failed("metrics-fold-failed", error)
    except Exception as error:  # never out of a gunicorn hook: see above
        log.error("metrics-fold-failed", error=type(error).__name__, directory=str(_directory))
