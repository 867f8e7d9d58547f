"""gunicorn's configuration (``gunicorn -c python:hook.gunicorn_conf``).

The settings are validated here, in the master, before any worker forks: a bad setting
stops gunicorn with one line and exit code 2 instead of a worker boot traceback.
"""

import structlog

from hook import logs
from hook.config import settings_from_environment

_settings = settings_from_environment()
logs.configure(_settings)
for _warning in _settings.warnings:
    structlog.get_logger("psc_token_hook").warning("configuration-warning", detail=_warning)

wsgi_app = "hook:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]
workers = 2
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
logconfig_dict = logs.stdlib_config(_settings)
