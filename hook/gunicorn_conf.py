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
# the first 200 on /healthz stays under half a second (README, "Performance").
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
accesslog = None
logconfig_dict = logs.stdlib_config(_settings)


def on_starting(server: object) -> None:
    """In the master, before any worker forks: the metrics directory, clean. The workers
    inherit it, and each one's ``create_app`` finds it prepared."""
    hook.metrics.start(_settings)


def child_exit(server: object, worker: Any) -> None:
    """In the master, once a worker has exited: fold its metrics into the archive, so that a
    restart neither loses its counts nor leaves its files behind."""
    hook.metrics.reap(worker.pid)
