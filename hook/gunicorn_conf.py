"""gunicorn's configuration (``gunicorn -c python:hook.gunicorn_conf``).

The settings are validated here, in the master, before any worker forks: a bad setting
stops gunicorn with one line and exit code 2 instead of a worker boot traceback.

Every process setting below was chosen with the benchmark (``bench/run.sh``; figures in
the README, "Performance") on 2 cores, the load generator sharing them.
"""

import gc
from typing import Any

import structlog
from gunicorn import glogging

import hook.metrics
from hook import logs
from hook.config import settings_from_environment

_settings = settings_from_environment()
logs.configure(_settings)
for _warning in _settings.warnings:
    structlog.get_logger("psc_token_hook").warning("configuration-warning", detail=_warning)

wsgi_app = "hook:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]

# sync: one call at a time per process, and the connection closed after each answer, so
# the kernel's accept queue spreads calls evenly over the workers. The hook is CPU-bound
# (0.11 ms of Python per call in-process, no I/O but the rare, bounded key fetch), so
# threads would only add a thread pool and a wake-up pipe per call. Measured on 2 cores at
# 32 connections (bench/run.sh --gunicorn-arg=..., 2026-11-21): sync 4,060 calls/s with a
# p99 of 10 ms, every run split 50/50 between the workers; gthread (4 threads, keep-alive
# 5 s) 5,000 calls/s but a p99 of 19-20 ms, and with 3 gthread workers the keep-alive
# connections piled up on some workers while another got none and did no work (CPU
# shares 55/0/45 at 8 connections, 50/50/0 at 32). sync wants a buffering proxy in front
# of it, which Heroku's router and Render's proxy are.
worker_class = "sync"
# One worker per core: 3 or 4 workers gave the same calls/s (4,090, 4,085) with a higher
# p99 (10.2 and 10.3 ms at 32 connections; 4.1 and 4.2 ms instead of 2.9 ms at 8).
workers = 2
threads = 1  # sync workers have one thread; said here so that nobody reads a default
# No keepalive setting: sync workers answer with "Connection: close" and ignore it.

# Load the app once in the master, then fork: start-up to the first 200 on /healthz takes
# 0.3 s, a worker that restarts (below) is serving again within milliseconds, and the
# workers share the master's memory pages.
preload_app = True

# Restarts bound what a slow leak could cost, nothing more: the workers' memory did not
# grow over 200,000 calls. The jitter keeps the workers from restarting together; a
# restarting worker finishes its call first and the master keeps the listening socket
# open, so no call is dropped while a fresh worker forks from the preloaded master.
max_requests = 200_000
max_requests_jitter = 20_000
# No control socket (gunicorn 25.1 and later open one in $HOME by default, for gunicornc to
# resize or stop the server): the platform manages the process, nothing else should.
control_socket_disable = True

# A call takes milliseconds, a key fetch at most 1 s: 10 s lets every call in flight
# finish on a deploy or a scale-down, well inside the platforms' 30 s before SIGKILL.
graceful_timeout = 10
timeout = 30


def pre_fork(server: object, worker: object) -> None:
    """Move the preloaded app to the garbage collector's permanent generation before a fork:
    the worker's collections then skip it (shorter pauses, a lower p99) and leave its
    memory pages shared."""
    gc.freeze()


class Logger(glogging.Logger):
    """gunicorn's logger, without the access log: the service writes its own canonical line,
    and gunicorn would build every access-log field for each call only to discard it."""

    def access(self, resp: object, req: object, environ: object, request_time: object) -> None:
        return None


logger_class = Logger
accesslog = None
logconfig_dict = logs.stdlib_config(_settings)


def on_starting(server: object) -> None:
    """In the master, before any worker forks: the metrics directory, clean (with
    ``preload_app`` the app already prepared it, and this does nothing)."""
    hook.metrics.start(_settings)


def child_exit(server: object, worker: Any) -> None:
    """In the master, once a worker has exited: fold its metrics into the archive, so that a
    restart neither loses its counts nor leaves its files behind."""
    hook.metrics.reap(worker.pid)
