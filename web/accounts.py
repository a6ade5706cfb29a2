"""Registration with email confirmation, login and logout."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import Field

from signing import accounts, codes, lockout
from signing.errors import (
    AccountLocked,
    AccountNotConfirmed,
    CodeCooldown,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    DomainError,
    InvalidCredentials,
    MailUnavailable,
    PasswordResetRequired,
    ValidationFailed,
)
from signing.mail import build_message
from signing.models import LoginResult, User
from web.errors import ErrorInfo, form_failure, info_for, new_reference
from web.forms import ConfirmForm, LoginForm, RegistrationForm, ResendForm, attach_errors
from web.htmx import render
from web.i18n import safe_next
from web.limits import FAILED_LOGIN_PER_IP, LOGIN_PER_ACCOUNT, LOGIN_PER_IP, limiter, login_key, refused
from web.login import sign_out
from web.services import db, services
from web.two_factor import finish_login, note_refused, note_unconfirmed, open_session

__all__ = ["REGISTER_EMAIL", "Failure", "bp", "code_refused"]

bp = Blueprint("accounts", __name__)
log = logging.getLogger("podpisant.accounts")
PENDING = "pending_user_id"
REGISTER_EMAIL = "register_email"
"""The address a counterparty who signed as a guest registers with (`web.signing_page`): the form starts with it."""
Failure = tuple[ErrorInfo, str]


def _failure(code: str) -> Failure:
    """An error shown in a form: logged with its reference like any other error page."""
    info, reference = info_for(code), new_reference()
    log.info("form error code=%s ref=%s path=%s", code, reference, request.path)
    return info, reference


def code_refused(field: Field, exc: CodeInvalid | CodeExpired | CodeExhausted) -> Failure:
    """A refused one-time code, said at its field: the tries left, or what to do now."""
    failure = _failure(exc.code)
    if isinstance(exc, CodeInvalid):
        field.errors = [_("Код не подходит. Осталось попыток: %(n)s.", n=exc.attempts_left)]
    else:
        field.errors = [str(failure[0].hint)]
    return failure


def _send_code(user: User, plain: str) -> None:
    minutes = services().settings.code_ttl_minutes
    text = _(
        "Здравствуйте, %(name)s!\n\nКод подтверждения адреса в Подписанте: %(code)s\n"
        "Он действует %(minutes)s минут и подходит один раз.\n\n"
        "Если вы не регистрировались в Подписанте, просто удалите это письмо.",
        name=user.full_name, code=plain, minutes=minutes,
    )
    subject = _("Код подтверждения: %(code)s", code=plain)
    services().mailer.send(build_message(services().settings.mail_from, user.email, subject, text))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response | tuple[str, int]:
    prefilled = session.get(REGISTER_EMAIL)
    form = RegistrationForm(data={"email": prefilled} if isinstance(prefilled, str) else None)
    failure: Failure | None = None
    if form.validate_on_submit():
        data = accounts.Registration(
            full_name=form.full_name.data, email=form.email.data, phone=form.phone.data,
            password=form.password.data, password_confirm=form.password_confirm.data,
            consent=bool(form.consent.data),
        )
        try:
            user, issued = accounts.register(db(), services().code_policy, data)
            _send_code(user, issued.plain)
            db().commit()  # only now: a failed send leaves no account behind
        except ValidationFailed as exc:
            db().rollback()
            attach_errors(form, exc.errors)
            failure = _failure(exc.code)
        except MailUnavailable:
            db().rollback()
            failure = _failure("MAIL-UNAVAILABLE")
        else:
            session.pop(REGISTER_EMAIL, None)
            session[PENDING] = user.id
            return redirect(url_for(".confirm"))
    elif request.method == "POST":
        failure = _failure("FORM-INVALID")
    status = failure[0].status if failure else 200
    return render_template("accounts/register.html", form=form, failure=failure), status


def _pending_user() -> User | None:
    user_id = session.get(PENDING)
    return db().get(User, user_id) if isinstance(user_id, int) else None


def _confirm_page(user: User, form: ConfirmForm, failure: Failure | None, notice: str | None = None,
                  ) -> tuple[str, int]:
    wait = codes.resend_wait(db(), services().code_policy, user.id, codes.EMAIL_CONFIRM)
    return render(
        "accounts/confirm.html", "accounts/_resend.html", failure[0].status if failure else 200,
        form=form, resend_form=ResendForm(), user=user, wait=wait, failure=failure, notice=notice,
    )


@bp.route("/confirm", methods=["GET", "POST"])
def confirm() -> Response | tuple[str, int]:
    user = _pending_user()
    if user is None:
        return redirect(url_for(".login"))
    form = ConfirmForm()
    failure: Failure | None = None
    if form.validate_on_submit():
        try:
            accounts.confirm_email(db(), services().code_policy, user.id, form.code.data)
        except (CodeInvalid, CodeExpired, CodeExhausted) as exc:
            db().commit()  # keep the counted attempt
            failure = code_refused(form.code, exc)
        else:
            db().commit()
            session.pop(PENDING, None)
            open_session(user)
            flash(_("Адрес подтверждён. Добро пожаловать!"), "success")
            return redirect(url_for("cabinet.index"))
    elif request.method == "POST":
        failure = _failure("FORM-INVALID")
        form.code.errors = [_("Введите 6 цифр из письма.")]
    return _confirm_page(user, form, failure)


@bp.post("/confirm/resend")
def resend() -> Response | tuple[str, int]:
    user = _pending_user()
    if user is None:
        return redirect(url_for(".login"))
    ResendForm().validate_on_submit()  # CSRF is checked globally; the form has no fields
    failure: Failure | None = None
    notice = None
    try:
        issued = codes.issue_code(db(), services().code_policy, user.id, codes.EMAIL_CONFIRM)
        _send_code(user, issued.plain)
        db().commit()
        notice = _("Новый код отправлен на %(email)s. Прежний код больше не действует.", email=user.email)
    except (CodeCooldown, MailUnavailable) as exc:
        db().rollback()
        failure = _failure(exc.code)
    return _confirm_page(user, ConfirmForm(formdata=None), failure, notice)


def _locked(exc: AccountLocked) -> Failure:
    settings = services().settings
    until = exc.until.astimezone(ZoneInfo(settings.timezone)).strftime("%d.%m.%Y %H:%M")
    return form_failure(exc.code, until=until, attempts=settings.login_lock_attempts,
                        minutes=settings.login_lock_minutes)


# The IP limits are the innermost decorators: Flask-Limiter checks them first, before the account's limit is counted
# (and before the view can touch the account's lock counter). Failed logins count against the IP on their own too.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_PER_ACCOUNT, key_func=login_key, methods=["POST"])
@limiter.limit(FAILED_LOGIN_PER_IP, methods=["POST"], deduct_when=refused)
@limiter.limit(LOGIN_PER_IP, methods=["POST"])
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    failure: Failure | None = None
    if request.method == "GET" and request.args.get("expired"):
        failure = _failure("AUTH-SESSION-EXPIRED")
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db(), form.login.data, form.password.data,
                                         lockout.lock_policy(services().settings))
        except (InvalidCredentials, PasswordResetRequired) as exc:
            db().commit()  # keep the counted failure
            note_refused(form.login.data, LoginResult.WRONG_PASSWORD)
            failure = _failure(exc.code)
            form.password.data = ""
        except AccountLocked as exc:
            db().commit()  # keep the lock and the owner's mail
            note_refused(form.login.data, LoginResult.LOCKED)
            failure = _locked(exc)
            form.password.data = ""
        except AccountNotConfirmed as exc:
            note_unconfirmed(exc.user_id)
            db().commit()
            return _start_confirmation(exc.user_id)
        else:
            return finish_login(user, safe_next(request.args.get("next"), url_for("cabinet.index")))
    elif request.method == "POST":
        failure = _failure("FORM-INVALID")
    status = failure[0].status if failure and request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, failure=failure), status


def _start_confirmation(user_id: int) -> Response:
    """Password was right but the address is unconfirmed: send a fresh code unless one just went out."""
    session[PENDING] = user_id
    user = db().get(User, user_id)
    assert user is not None
    try:
        issued = codes.issue_code(db(), services().code_policy, user.id, codes.EMAIL_CONFIRM)
        _send_code(user, issued.plain)
        db().commit()
    except DomainError:  # cooldown or mail trouble: the confirm page offers "send again"
        db().rollback()
    flash(_("Подтвердите адрес почты: мы отправили код на %(email)s.", email=user.email), "info")
    return redirect(url_for(".confirm"))


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    flash(_("Вы вышли из кабинета."), "info")
    return redirect(url_for(".login"))
