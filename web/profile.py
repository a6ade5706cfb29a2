"""The profile page: name, INN and SNILS; a new address (code mailed to it) or phone (code sent by SMS), switched
only when that code comes back. Every mistake is shown at its field, with what was typed kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from signing import codes, profile
from signing.clock import utcnow
from signing.errors import (
    CodeCooldown,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    FieldError,
    MailUnavailable,
    ValidationFailed,
)
from signing.mail import build_message
from signing.models import User
from signing.personal_ids import format_snils
from signing.sms import masked_phone
from web.errors import ErrorInfo, field_message, form_failure
from web.forms import ConfirmForm, DetailsForm, EmailChangeForm, PhoneChangeForm, attach_errors
from web.login import current_account
from web.services import db, services

__all__ = ["bp"]

bp = Blueprint("profile", __name__, url_prefix="/profile")
Failure = tuple[ErrorInfo, str]


def _mail_code(account: User, plain: str) -> None:
    """The code for a new address goes to that address: only its owner can type it back."""
    assert account.pending_email is not None
    text = _(
        "Здравствуйте, %(name)s!\n\nКод для смены адреса почты в Подписанте: %(code)s\n"
        "Он действует %(minutes)s минут и подходит один раз.\n\n"
        "Если вы не меняли адрес, просто удалите это письмо.",
        name=account.full_name, code=plain, minutes=services().settings.code_ttl_minutes,
    )
    subject = _("Код подтверждения: %(code)s", code=plain)
    services().mailer.send(build_message(services().settings.mail_from, account.pending_email, subject, text))


def _sms_code(account: User, plain: str) -> None:
    assert account.pending_phone is not None
    services().sms.send(account.pending_phone, _("Подписант: код для смены телефона %(code)s. Никому его не "
                                                 "сообщайте.", code=plain))


@dataclass(frozen=True)
class Contact:
    """One changeable contact: its form, how a change is asked for and confirmed, where its code goes."""

    form: type[FlaskForm]
    request: Callable[..., codes.IssuedCode]
    confirm: Callable[..., str]
    deliver: Callable[[User, str], None]


CONTACTS = {
    "email": Contact(EmailChangeForm, profile.request_email_change, profile.confirm_email_change, _mail_code),
    "phone": Contact(PhoneChangeForm, profile.request_phone_change, profile.confirm_phone_change, _sms_code),
}


def _page(status: int = 200, *, section: str | None = None, failure: Failure | None = None,
          **forms: Any) -> tuple[str, int]:
    """The whole page; the form that was sent comes back as typed, the others as stored."""
    account = current_account()
    context: dict[str, Any] = {
        "details": DetailsForm(formdata=None, data={"full_name": account.full_name, "inn": account.inn or "",
                                                    "snils": format_snils(account.snils)}),
        "email": EmailChangeForm(formdata=None), "phone": PhoneChangeForm(formdata=None),
        "email_code": ConfirmForm(formdata=None, prefix="email"),
        "phone_code": ConfirmForm(formdata=None, prefix="phone"),
    }
    context.update(forms)
    context["phone_code"].code.label.text = _("Код из SMS")
    return render_template("profile/page.html", account=account, section=section, failure=failure,
                           masked_phone=masked_phone, **context), status


def _refused(section: str, code: str, **forms: Any) -> tuple[str, int]:
    failure = form_failure(code)
    return _page(failure[0].status, section=section, failure=failure, **forms)


@bp.get("")
@login_required
def page() -> tuple[str, int]:
    return _page()


@bp.post("")
@login_required
def save_details() -> Response | tuple[str, int]:
    form = DetailsForm()
    if not form.validate_on_submit():
        return _refused("details", "FORM-INVALID", details=form)
    try:
        profile.update_details(db(), current_account(), profile.PersonalDetails(
            form.full_name.data or "", form.inn.data or "", form.snils.data or ""))
    except ValidationFailed as exc:
        db().rollback()
        attach_errors(form, exc.errors)
        return _refused("details", exc.code, details=form)
    db().commit()
    flash(_("Данные профиля сохранены."), "success")
    return redirect(url_for(".page"), code=303)


@bp.post("/<any(email, phone):kind>")
@login_required
def request_change(kind: str) -> Response | tuple[str, int]:
    """A code to the new address or phone; the account keeps the old one until the code is entered."""
    contact, account = CONTACTS[kind], current_account()
    form = contact.form()
    if not form.validate_on_submit():
        return _refused(kind, "FORM-INVALID", **{kind: form})
    try:
        issued = contact.request(db(), services().code_policy, account, getattr(form, kind).data)
        contact.deliver(account, issued.plain)
        db().commit()  # only now: a code that did not go leaves nothing waiting
    except FieldError as exc:
        db().rollback()
        attach_errors(form, [exc])
        return _refused(kind, "FORM-INVALID", **{kind: form})
    except (CodeCooldown, MailUnavailable) as exc:
        db().rollback()
        return _refused(kind, exc.code, **{kind: form})
    flash(_("Код отправлен. Введите его ниже: до этого ничего не изменится."), "info")
    return redirect(url_for(".page"), code=303)


@bp.post("/<any(email, phone):kind>/confirm")
@login_required
def confirm_change(kind: str) -> Response | tuple[str, int]:
    contact, account = CONTACTS[kind], current_account()
    form = ConfirmForm(prefix=kind)
    forms = {f"{kind}_code": form}
    if not form.validate_on_submit():
        form.code.errors = [_("Введите 6 цифр кода.")]
        return _refused(kind, "FORM-INVALID", **forms)
    try:
        contact.confirm(db(), services().code_policy, account, form.code.data, now=utcnow())
    except CodeInvalid as exc:
        db().commit()  # the wrong attempt counts
        failure, message = form_failure(exc.code), _("Код не подходит. Осталось попыток: %(n)s.", n=exc.attempts_left)
    except (CodeExpired, CodeExhausted) as exc:
        db().commit()
        failure = form_failure(exc.code)
        message = str(failure[0].hint)
    except FieldError as exc:  # another account took it while the code travelled
        db().rollback()
        failure, message = form_failure("FORM-INVALID"), field_message(exc)
    else:
        db().commit()
        flash(_("Адрес почты изменён.") if kind == "email" else _("Телефон изменён."), "success")
        return redirect(url_for(".page"), code=303)
    form.code.data, form.code.errors = "", [message]  # a code is never shown back
    return _page(failure[0].status, section=kind, failure=failure, **forms)
