"""The Flask application: `create_app()` wires settings, database, security headers, login, CSRF, i18n and
blueprints."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from signing.config import PROJECT_ROOT, Settings, load_settings
from signing.errors import ConfigurationError
from signing.startup import production_problems

__all__ = ["create_app"]

csrf = CSRFProtect()


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register_filters(app: Flask, settings: Settings) -> None:
    zone = ZoneInfo(settings.timezone)

    @app.template_filter("ddmmyyyy")
    def ddmmyyyy(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(zone)
        return value.strftime("%d.%m.%Y")

    @app.template_filter("local_dt")
    def local_dt(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%d.%m.%Y %H:%M") if value else ""


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; refuses to start in production with development secrets or the development CA."""
    settings = settings or load_settings()
    problems = production_problems(settings) if settings.is_production else []
    if problems:
        raise ConfigurationError("Refusing to start in production:\n  - " + "\n  - ".join(problems))
    _configure_logging()

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.env == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SESSION_COOKIE_NAME="podpisant_session",
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-checked) session
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="ru",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
    )

    from web import (
        accounts,
        attachments,
        cabinet,
        dev,
        display,
        documents,
        errors,
        feedback,
        headers,
        i18n,
        limits,
        login,
        pki,
        profile,
        recovery,
        rounds,
        security,
        services,
        signing_page,
        status,
        subscriptions,
        tracker,
        two_factor,
        verify,
    )
    from web.cli import register_cli

    services.install(app, settings)
    limits.init_app(app, settings)
    headers.init_app(app, settings)
    csrf.init_app(app)
    login.init_app(app)
    i18n.init_app(app)
    errors.register_error_handlers(app)
    _register_filters(app, settings)
    display.init_app(app)
    tracker.init_app(app)
    for blueprint in (accounts.bp, attachments.bp, cabinet.bp, documents.bp, rounds.bp, signing_page.bp, status.bp,
                      i18n.bp, pki.bp, verify.bp, subscriptions.bp, recovery.bp, two_factor.bp, security.bp, profile.bp,
                      feedback.bp):
        app.register_blueprint(blueprint)
    if settings.is_development:
        app.register_blueprint(dev.bp)
    register_cli(app)
    return app
