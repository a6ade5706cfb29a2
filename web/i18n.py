"""Russian first, English second: the profile's choice, else the session's, else Accept-Language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel
from flask_login import current_user
from werkzeug.wrappers import Response

from web.services import db

__all__ = ["LOCALES", "bp", "init_app", "safe_next"]

LOCALES = ("ru", "en")
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    if session.get("locale") in LOCALES:
        return str(session["locale"])
    return request.accept_languages.best_match(LOCALES) or "ru"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after a form, never another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.post("/lang")
def switch() -> Response:
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.account.locale = locale
            db().commit()
    back = request.form.get("next") or (urlsplit(request.referrer).path if request.referrer else None)
    return redirect(safe_next(back))


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def inject_locale() -> dict[str, object]:
        return {"current_locale": select_locale(), "locales": LOCALES}
