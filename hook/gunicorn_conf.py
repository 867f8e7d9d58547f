"""gunicorn's configuration (``gunicorn -c python:hook.gunicorn_conf``).

The settings are validated here, in the master, before any worker forks: a bad setting,
or no writable directory for the heartbeat and metrics files, stops gunicorn with one line
and exit code 2 instead of a traceback; so does a worker that cannot load the app.

Every process setting below was chosen with the benchmark (``bench/run.sh``; figures in
docs/performance.md) on 2 cores, the load generator sharing them.
"""

import gc
import os
import sys
import tempfile
from typing import Any, NoReturn

import structlog
from gunicorn import glogging
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from hook import logs, metrics_files
from hook.config import ConfigError, one_line, settings_from_environment

#: What a start-up stops on when it cannot write a file where gunicorn and the metrics need
#: one: the setting that chose the place (None: the system's default), then the fix.
UNWRITABLE = {
    None: (
        "TMPDIR",
        "no writable temporary directory (a read-only root file system without one):"
        " gunicorn keeps its worker heartbeat files there, and the metrics their files;"
        " mount one at /tmp (docker run --tmpfs /tmp, a Kubernetes emptyDir) or set TMPDIR"
        " to a writable directory",
    ),
    "worker_tmp_dir": (
        "--worker-tmp-dir",
        "is not a writable directory: gunicorn keeps its worker heartbeat files there;"
        " give a writable one (a tmpfs such as /dev/shm) or leave it unset",
    ),
}


def _exit_on_error(error: ConfigError) -> NoReturn:
    """The one line and exit code 2 of a bad setting: gunicorn's hooks may stop the process,
    the library they call may not."""
    print(one_line(error), file=sys.stderr, flush=True)
    raise SystemExit(2)


def _writable(directory: str | None, setting: str | None) -> None:
    """Make and drop a file in ``directory`` (the default temporary directory when None);
    stop with one line naming the cause and the fix (exit 2) when it fails."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return
    except OSError as error:  # FileNotFoundError when no default directory is usable
        name, fix = UNWRITABLE[setting]
        where = f"{directory!r} ({error.strerror}) " if directory else ""
        _exit_on_error(ConfigError(f"{name}: {where}{fix}"))


try:
    _settings = settings_from_environment()
except ConfigError as _error:
    _exit_on_error(_error)
if _settings.metrics_dir is None:  # the metrics make their directory there: check at once
    _writable(None, None)
logs.configure(_settings)
for _warning in _settings.warnings:
    structlog.get_logger("psc_token_hook").warning("configuration-warning", detail=_warning)

wsgi_app = "hook:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]

# A gevent worker of the hook's own (hook/worker.py): each connection is a greenlet, so a
# client that sends its request a byte at a time holds no worker, and a request must
# arrive whole within 2 s. Measured on 2 cores (2026-12-02): with `sync`, 4 such
# connections held both workers and 0 of 4 genuine calls were answered within 3 s; with
# this worker 4 of 4 were, and with 50 held open (bench/run.sh's slow-client row) genuine
# calls at 8 connections kept their p99 (6.13 ms against 5.97 ms with none). The price is
# gevent's own work per call, which the bare app pays too: at 32 connections 2,934 calls/s
# against its 3,705 (0.79; 0.73 to 0.79 over five full runs; `sync`: 3,521 against 4,524,
# 0.78, in one shorter run).
worker_class = "hook.worker.HookWorker"
# One worker per core: the hook is CPU-bound (0.11 ms of Python per call in-process), so
# more workers only share the same two cores (sync: 3 or 4 workers gave the same calls/s
# with a higher p99).
workers = 2
# Connections one worker holds at once, slow ones included (1,000 slow connections cost the
# two workers 12 MiB in all). Past this the worker stops accepting until one ends.
worker_connections = 1000
# One call per connection ("Connection: close"), as with `sync`: the kernel's accept queue
# then spreads calls evenly over the workers, and the 2 s deadline covers each request
# from its connection's start. Okta opens a connection per call through the platform's
# router anyway.
keepalive = 0
# Request heads no larger than Okta's: its call has about 10 headers, a router in front adds
# as many, and the longest line is Okta's bearer token (about 1 KB; 8 KB fit). gunicorn's
# defaults (100 lines of 8 KB) let an unauthenticated client make a worker parse 800 KB of
# an unfinished head, which costs CPU in the square of its size: measured on 2 cores
# (2026-12-02, the machine shared), 50 connections each sending the largest unfinished head
# the limits let through cost 114 ms of worker CPU each with the defaults, 6.6 ms with these
# (what genuine calls pay meanwhile: bench/run.sh's slow-client row with large heads). A
# head past them is refused with 431 (a request line past 1 KB: 414) once read that far.
limit_request_fields = 24
limit_request_field_size = 8190
limit_request_line = 1024

# The app is loaded in each worker, after gevent has patched the standard library: a lock
# or TLS context built in a preloaded master would block the whole worker instead of one
# greenlet. The settings are still validated here, before any worker forks. Start-up to
# the first 200 on /healthz stays under half a second (docs/performance.md).
preload_app = False

# Restarts bound what a slow leak could cost, nothing more: the workers' memory did not
# grow over 200,000 calls. The jitter keeps the workers from restarting together; a
# restarting worker finishes its call first and the master keeps the listening socket
# open, so no call is dropped while a fresh worker starts.
max_requests = 200_000
max_requests_jitter = 20_000
# No control socket (gunicorn 25.1 and later open one in $HOME by default, for gunicornc to
# resize or stop the server): the platform manages the process, nothing else should.
control_socket_disable = True

# A call takes milliseconds, a key fetch at most 1 s: 10 s lets every call in flight
# finish on a deploy or a scale-down, inside the platforms' 30 s before SIGKILL and the
# Kubernetes manifest's 20 s (after its 5 s preStop pause).
graceful_timeout = 10
timeout = 30


def post_worker_init(worker: object) -> None:
    """Move the loaded app to the garbage collector's permanent generation: the worker's
    collections then skip it (shorter pauses, a lower p99)."""
    gc.freeze()


class Logger(glogging.Logger):
    """gunicorn's logger, without the access log: the service writes its own canonical line,
    and gunicorn would build every access-log field for each call only to discard it."""

    def access(self, resp: object, req: object, environ: object, request_time: object) -> None:
        return None


logger_class = Logger


def pre_request(worker: object, req: object) -> None:
    """Nothing: gunicorn's default writes each request's method and raw path at debug level
    (an email in a path); the service's canonical line names a path it does not route
    "other"."""
    return None


accesslog = None
logconfig_dict = logs.stdlib_config(_settings)


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: where gunicorn writes the heartbeat files,
    then the metrics directory, clean. The workers inherit it, and each one's
    ``create_app`` finds it prepared."""
    heartbeats = server.cfg.worker_tmp_dir
    _writable(heartbeats, "worker_tmp_dir" if heartbeats else None)
    try:
        metrics_files.prepare(_settings.metrics_dir)
    except ConfigError as error:
        _exit_on_error(error)


def child_exit(server: object, worker: Any) -> None:
    """In the master, once a worker has exited: fold its metrics into the archive, so that a
    restart neither loses its counts nor leaves its files behind."""
    metrics_files.reap(worker.pid)


#: What the master says when its workers could not start, instead of gunicorn's exit 3 or 4.
BOOT_FAILURES = {
    Arbiter.WORKER_BOOT_ERROR: "a worker failed to boot",
    Arbiter.APP_LOAD_ERROR: "a worker could not load the app",
}
BOOT_FIX = (
    "the worker's one line above names the error; run `psc-hook check-config` with the same"
    " environment, and reinstall the image or the package if an import failed"
)


def _one_token() -> int:
    """A pipe holding one byte, its writing end closed: of the processes forked after, the
    first to read it takes the byte, and every other one reads the pipe's end."""
    read, write = os.pipe()
    os.write(write, b"!")
    os.close(write)
    return read


#: Taken by the first worker that fails to boot, made in the master before any fork. gunicorn
#: raises ``HaltServer`` for each worker it reaps with exit code 3; when one is reaped while the
#: master already halts (in ``Arbiter.stop``), that second raise escapes the handler of the
#: first: two tracebacks, exit 1, and ``on_exit`` never runs. So one worker alone exits 3,
#: whatever the order the workers fail in and the master reaps them.
_FIRST_BOOT_FAILURE = _one_token()
#: The exit code of a worker that fails to boot after another: an error, which gunicorn logs
#: and does not halt on (the first one's exit halts it).
LATER_BOOT_FAILURE = 1


def post_fork(server: object, worker: Any) -> None:
    """In each new worker: an error while loading the app is one line and exit 3 (gunicorn's
    "failed to boot") for the first worker that fails, 1 for the others; not a traceback."""
    load = worker.load_wsgi

    def load_wsgi() -> None:
        try:
            load()
        except SystemExit:
            raise
        except Exception as error:  # whatever it is, the operator sees one line
            detail = " ".join(str(error).split())
            print(
                f"psc-token-hook: start-up error: the worker could not load the app:"
                f" {type(error).__name__}: {detail}",
                file=sys.stderr,
                flush=True,
            )
            first = os.read(_FIRST_BOOT_FAILURE, 1)
            sys.exit(Arbiter.WORKER_BOOT_ERROR if first else LATER_BOOT_FAILURE)

    worker.load_wsgi = load_wsgi


def on_exit(server: object) -> None:
    """In the master, halting: when it halts because its workers could not start (gunicorn
    raises ``HaltServer`` and calls this from its handler), one line and exit 2, as every
    other start-up failure."""
    halted = sys.exc_info()[1]
    if isinstance(halted, HaltServer) and halted.exit_status in BOOT_FAILURES:
        print(
            f"psc-token-hook: start-up error: {BOOT_FAILURES[halted.exit_status]}: {BOOT_FIX}",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(2)
