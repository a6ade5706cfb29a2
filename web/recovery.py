"""Forgot password: the address, then the mailed code with a new password. Every answer is the same whether or not
the address has an account (`signing.recovery` does the same work for both)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from signing import accounts, recovery
from signing.clock import utcnow
from signing.errors import CodeCooldown, CodeExhausted, CodeExpired, CodeInvalid, FieldError, ValidationFailed
from web.accounts import Failure, code_refused
from web.errors import form_failure
from web.forms import ForgotPasswordForm, ResendForm, ResetPasswordForm, attach_errors
from web.htmx import render
from web.limits import (
    FORGOT_PER_ACCOUNT,
    FORGOT_PER_IP,
    RESEND_PER_ACCOUNT,
    RESEND_PER_IP,
    RESET_ADDRESS,
    RESET_PER_ACCOUNT,
    RESET_PER_IP,
    limiter,
    reset_address_key,
    typed_address_key,
)
from web.login import current_account, sign_out
from web.services import db, services
from web.two_factor import finish_login

__all__ = ["bp"]

bp = Blueprint("recovery", __name__)


@bp.after_request
def _private(response: Response) -> Response:
    """The reset pages leak nothing through a Referer header or a shared cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The IP limit is the innermost decorator: Flask-Limiter checks it first, before the address's limit is counted.
@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(FORGOT_PER_ACCOUNT, key_func=typed_address_key, methods=["POST"])
@limiter.limit(FORGOT_PER_IP, methods=["POST"])
def forgot() -> Response | tuple[str, int]:
    form = ForgotPasswordForm()
    failure: Failure | None = None
    if form.validate_on_submit():
        try:
            email = accounts.normalize_email(form.email.data)
        except FieldError as exc:
            attach_errors(form, [exc])
            failure = form_failure("FORM-INVALID")
        else:
            try:
                recovery.request_reset(db(), services().code_policy, email, now=utcnow())
                db().commit()
            except CodeCooldown:  # a code went out moments ago and still works: the next page shows the wait
                db().rollback()
            session[RESET_ADDRESS] = email
            return redirect(url_for(".reset"))
    elif request.method == "POST":
        failure = form_failure("FORM-INVALID")
    return render("recovery/forgot.html", "recovery/_forgot.html", failure[0].status if failure else 200,
                  form=form, failure=failure)


def _address() -> str | None:
    email = session.get(RESET_ADDRESS)
    return email if isinstance(email, str) else None


def _reset_page(email: str, form: ResetPasswordForm, failure: Failure | None, notice: str | None = None,
                ) -> tuple[str, int]:
    wait = recovery.reset_wait(db(), services().code_policy, email, utcnow())
    return render(
        "recovery/reset.html", "accounts/_resend.html", failure[0].status if failure else 200,
        form=form, resend_form=ResendForm(), email=email, wait=wait, failure=failure, notice=notice,
        resend_action=url_for(".resend"),
        resend_hint=_("Письма нет? Проверьте папку «Спам» и что %(email)s — адрес из вашей учётной записи.",
                      email=email),
    )


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(RESET_PER_ACCOUNT, key_func=reset_address_key, methods=["POST"])
@limiter.limit(RESET_PER_IP, methods=["POST"])
def reset() -> Response | tuple[str, int]:
    email = _address()
    if email is None:
        return redirect(url_for(".forgot"))
    form = ResetPasswordForm()
    failure: Failure | None = None
    if form.validate_on_submit():
        same_person = current_user.is_authenticated and current_account().email == email
        try:
            user = recovery.reset_password(
                db(), services().settings, services().code_policy, email, form.code.data, form.password.data,
                form.password_confirm.data, now=utcnow(), keep_session=current_user.get_id() if same_person else None,
            )
        except ValidationFailed as exc:
            db().rollback()  # the code stays usable: no attempt is spent on a password mistake
            attach_errors(form, exc.errors)
            failure = form_failure(exc.code)
        except (CodeInvalid, CodeExpired, CodeExhausted) as exc:
            db().commit()  # keep the counted attempt
            failure = code_refused(form.code, exc)
        else:
            db().commit()
            session.pop(RESET_ADDRESS, None)
            flash(_("Пароль изменён. Остальные сеансы входа завершены, на почту отправлено уведомление."), "success")
            if same_person:
                return redirect(url_for("cabinet.index"))
            sign_out()
            # A mailed code proves the mailbox, not the second factor: with 2FA on, its code is asked next.
            return finish_login(user, url_for("cabinet.index"))
        form.code.data = ""
    elif request.method == "POST":
        failure = form_failure("FORM-INVALID")
    return _reset_page(email, form, failure)


@bp.post("/password/reset/resend")
@limiter.limit(RESEND_PER_ACCOUNT, key_func=reset_address_key)
@limiter.limit(RESEND_PER_IP)
def resend() -> Response | tuple[str, int]:
    email = _address()
    if email is None:
        return redirect(url_for(".forgot"))
    ResendForm().validate_on_submit()  # CSRF is checked globally; the form has no fields
    failure: Failure | None = None
    notice = None
    try:
        recovery.request_reset(db(), services().code_policy, email, now=utcnow())
        db().commit()
        notice = _("Если адрес %(email)s зарегистрирован, на него отправлен новый код. Прежний код больше не "
                   "действует.", email=email)
    except CodeCooldown as exc:
        db().rollback()
        failure = form_failure(exc.code)
    return _reset_page(email, ResetPasswordForm(formdata=None), failure, notice)
