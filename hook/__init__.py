"""psc-token-hook: an Okta token inline hook that adds Pro Santé Connect's claims."""

from __future__ import annotations

from flask import Flask

from hook import errors, logs, metrics, metrics_files, views
from hook.auth import AnyOf, Authenticator, HeaderAuthenticator
from hook.config import Settings, settings_from_environment
from hook.oauth import OAuthAuthenticator
from hook.user_ref import UserRef
from hook.version import __version__

__all__ = ["__version__", "build_authenticator", "create_app"]


def build_authenticator(settings: Settings) -> AnyOf:
    """The authenticators the configured ``HOOK_AUTH_MODE`` names, in that order."""
    authenticators: list[Authenticator] = []
    for mode in settings.auth_modes:
        if mode == "header":
            authenticators.append(HeaderAuthenticator(settings.auth_header, settings.secrets))
        else:
            assert settings.oauth is not None, "load_settings builds it whenever oauth is a mode"
            authenticators.append(OAuthAuthenticator(settings.oauth))
    return AnyOf(authenticators)


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: settings from the environment unless given (tests); a bad
    setting raises :class:`hook.config.ConfigError` for the caller to report."""
    settings = settings or settings_from_environment()
    logs.configure(settings)
    app = Flask(__name__)
    # One byte over the limit, so that reading a body tells "too large" from "exactly the limit".
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # undocumented methods get 405
    metrics_files.prepare(settings.metrics_dir)  # before the first key fetch is counted
    recorder = metrics.Recorder(settings)
    authenticator = build_authenticator(settings)
    scraper = None
    if settings.metrics_token:
        scraper = HeaderAuthenticator("Authorization", (b"Bearer " + settings.metrics_token,))
    user_ref = UserRef(settings.log_user_key) if settings.log_user_key else None
    app.extensions["psc_token_hook"] = views.Service(
        settings, authenticator, recorder, scraper, user_ref
    )
    errors.register(app)
    views.register(app)
    return app
