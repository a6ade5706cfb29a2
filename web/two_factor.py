"""The end of a login: the session opens at once, or, with two-factor authentication on, only after the second step
`/login/code` (an authenticator or recovery code within five minutes). Every attempt on an existing account goes
to its login history."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from signing import logins, two_factor
from signing.clock import utcnow
from signing.errors import DomainError, LoginChallengeExpired, TotpInvalid, TotpLocked, TotpReused
from signing.models import LoginEvent, LoginResult, User
from web.errors import ErrorInfo, form_failure
from web.forms import LoginCodeForm
from web.i18n import safe_next
from web.login import sign_in
from web.services import db, services

__all__ = ["TOTP_ERRORS", "attempt", "bp", "finish_login", "note_refused", "note_unconfirmed", "open_session",
           "totp_message"]

bp = Blueprint("two_factor", __name__)
CHALLENGE = "login_challenge"
NEXT = "login_next"
TOTP_ERRORS = (TotpInvalid, TotpReused, TotpLocked)
Failure = tuple[ErrorInfo, str]


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attempt() -> logins.Attempt:
    """This request as a login history sees it."""
    return logins.Attempt(ip=request.remote_addr, user_agent=request.headers.get("User-Agent"), now=utcnow())


def totp_message(exc: DomainError, failure: Failure) -> str:
    """What to say at the code field."""
    if isinstance(exc, TotpInvalid):
        return str(_("Код не подходит. Осталось попыток: %(n)s.", n=exc.attempts_left))
    return str(failure[0].hint)


def note_refused(login: str, result: LoginResult) -> None:
    """Record a refused login (wrong password, locked) in the account's history, if the login names one."""
    logins.record_refused(db(), login, result, attempt())
    db().commit()


def note_unconfirmed(user_id: int) -> None:
    user = db().get(User, user_id)
    if user is not None:
        logins.record(db(), user, LoginResult.UNCONFIRMED, attempt())


def open_session(user: User, event: LoginEvent | None = None) -> None:
    """Sign in and note it in the login history (`event`: the entry the second step already wrote)."""
    record = sign_in(user)
    if event is None:
        logins.record(db(), user, LoginResult.SUCCESS, attempt(), session_id=record.id)
    else:
        event.session_id = record.id
    db().commit()


def finish_login(user: User, next_url: str) -> Response:
    """The password was right: open the session, or, with two-factor authentication on, ask for the code first."""
    if not two_factor.is_enabled(db(), user):
        open_session(user)
        return redirect(next_url)
    challenge = logins.start_challenge(db(), user, attempt())
    db().commit()
    session[CHALLENGE] = challenge.token
    session[NEXT] = next_url
    return redirect(url_for("two_factor.login_code"))


def _page(form: LoginCodeForm, failure: Failure | None, *, open_: bool = True) -> tuple[str, int]:
    return render_template("accounts/login_code.html", form=form, failure=failure, open_=open_), (
        failure[0].status if failure else 200)


def _over(code: str) -> tuple[str, int]:
    """The second step is gone (expired, used, locked): the login starts over from the password."""
    session.pop(CHALLENGE, None)
    return _page(LoginCodeForm(formdata=None), form_failure(code), open_=False)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Response | tuple[str, int]:
    token = session.get(CHALLENGE)
    if not isinstance(token, str):
        return redirect(url_for("accounts.login"))
    form = LoginCodeForm()
    try:
        logins.challenge_user(db(), token, now=utcnow())
    except LoginChallengeExpired as exc:
        return _over(exc.code)
    if not form.validate_on_submit():
        if request.method == "POST":
            form.code.errors = [_("Введите 6 цифр из приложения или код восстановления.")]
            return _page(form, form_failure("FORM-INVALID"))
        return _page(form, None)
    try:
        user, event = logins.complete_challenge(db(), token, form.code.data, attempt(),
                                                settings=services().settings)
    except TotpLocked as exc:
        db().commit()  # the wrong attempts and the lock stay
        return _over(exc.code)
    except (TotpInvalid, TotpReused) as exc:
        db().commit()
        failure = form_failure(exc.code)
        form.code.errors = [totp_message(exc, failure)]
        form.code.data = ""
        return _page(form, failure)
    target = safe_next(session.get(NEXT), url_for("cabinet.index"))
    open_session(user, event)
    return redirect(target)
