"""Flask-Login backed by server-side session records: the cookie holds a token, the database holds the truth."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from signing import sessions
from signing.models import User, UserSession
from web.errors import error_response, info_for, wants_json
from web.htmx import is_htmx
from web.services import db, services

__all__ = ["CurrentUser", "current_account", "init_app", "sign_in", "sign_out"]

manager = LoginManager()
KEEP_ACROSS_LOGIN = ("locale",)


class CurrentUser:
    """What Flask-Login holds for a request: the account plus the session token it came with."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: User, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token  # Flask-Login's "alternative token": ending the record ends the cookie

    def __getattr__(self, name: str) -> Any:
        return getattr(self.account, name)


def current_account() -> User:
    user = current_user._get_current_object()
    assert isinstance(user, CurrentUser)
    return user.account


@manager.user_loader
def _load(token: str) -> CurrentUser | None:
    record = sessions.resolve_session(db(), token, services().session_idle)
    db().commit()
    if record is None:
        g.session_ended = True
        return None
    return CurrentUser(record.user, token)


def _here() -> str:
    """The current path with its query string, without Flask's trailing "?" when there is none."""
    return request.full_path.rstrip("?")


@manager.unauthorized_handler
def _unauthorized() -> BaseResponse:
    code = "AUTH-SESSION-EXPIRED" if g.get("session_ended") else "AUTH-REQUIRED"
    if wants_json():
        return error_response(info_for(code))
    target = url_for("accounts.login", next=_here() if request.method == "GET" else None,
                     expired=1 if code == "AUTH-SESSION-EXPIRED" else None)
    if is_htmx():
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def sign_in(account: User) -> UserSession:
    """Start a fresh session record and a fresh cookie (nothing from before login carries over); returns the
    record."""
    kept = {key: session[key] for key in KEEP_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    opened = sessions.start_session(db(), account, request.remote_addr, request.headers.get("User-Agent"))
    db().commit()
    login_user(CurrentUser(account, opened.token))
    return opened.record


def sign_out() -> None:
    if current_user.is_authenticated:
        sessions.end_session(db(), current_user.get_id())
        db().commit()
    logout_user()
    kept = {key: session[key] for key in KEEP_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def init_app(app: Flask) -> None:
    manager.init_app(app)
    manager.anonymous_user = AnonymousUserMixin
    # The server-side record is the protection; "strong" would drop sessions whenever a mobile IP changes.
    manager.session_protection = None
