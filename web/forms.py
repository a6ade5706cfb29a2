"""HTML forms: they carry the CSRF token and re-render what was typed; the rules live in `signing`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import PasswordInput

from signing.errors import FieldError
from web.errors import FIELD_MESSAGES, field_message

__all__ = [
    "ConfirmForm", "DetailsForm", "DisableTwoFactorForm", "EmailChangeForm", "FeedbackForm", "ForgotPasswordForm",
    "LoginCodeForm", "LoginForm", "PhoneChangeForm", "RegistrationForm", "ReplyForm", "ResendForm",
    "ResetPasswordForm", "TotpForm", "attach_errors",
]

_required = InputRequired(message=FIELD_MESSAGES["REQUIRED"])
# Keep a typed password when the form comes back for another field's mistake (cleared when it is the culprit).
_keep = PasswordInput(hide_value=False)


class RegistrationForm(FlaskForm):  # type: ignore[misc]
    full_name = StringField(_l("Фамилия, имя, отчество"), [_required, Length(max=300)])
    email = EmailField(_l("Электронная почта"), [_required, Length(max=320)])
    phone = TelField(_l("Телефон"), [_required, Length(max=30)])
    password = PasswordField(_l("Пароль"), [_required], widget=_keep)
    password_confirm = PasswordField(_l("Пароль ещё раз"), [_required], widget=_keep)
    consent = BooleanField(_l("Согласен на обработку персональных данных"))


class LoginForm(FlaskForm):  # type: ignore[misc]
    login = StringField(_l("Почта или телефон"), [_required, Length(max=320)])
    password = PasswordField(_l("Пароль"), [_required])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Код из письма"), [_required, Length(min=6, max=6)])


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Электронная почта"), [_required, Length(max=320)])


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Код из письма"), [_required, Length(min=6, max=6)])
    password = PasswordField(_l("Новый пароль"), [_required], widget=_keep)
    password_confirm = PasswordField(_l("Новый пароль ещё раз"), [_required], widget=_keep)


class ResendForm(FlaskForm):  # type: ignore[misc]
    """No fields: the CSRF token is what it carries."""


class TotpForm(FlaskForm):  # type: ignore[misc]
    """A code from the authenticator app (turning two-factor authentication on, new recovery codes)."""

    code = StringField(_l("Код из приложения"), [_required, Length(max=20)])


class LoginCodeForm(FlaskForm):  # type: ignore[misc]
    """The second step of a login: the authenticator's code or a recovery code."""

    code = StringField(_l("Код из приложения или код восстановления"), [_required, Length(max=20)])


class DisableTwoFactorForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("Пароль"), [_required])
    code = StringField(_l("Код из приложения или код восстановления"), [_required, Length(max=20)])
class DetailsForm(FlaskForm):  # type: ignore[misc]
    """The profile's own details; INN and SNILS may be left empty."""

    full_name = StringField(_l("Фамилия, имя, отчество"), [_required, Length(max=300)])
    inn = StringField(_l("ИНН"), [Length(max=30)])
    snils = StringField(_l("СНИЛС"), [Length(max=30)])


class EmailChangeForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Новый адрес почты"), [_required, Length(max=320)])


class PhoneChangeForm(FlaskForm):  # type: ignore[misc]
    phone = TelField(_l("Новый телефон"), [_required, Length(max=30)])


class FeedbackForm(FlaskForm):  # type: ignore[misc]
    """The feedback form; the rules (choices, lengths, the screenshot's bytes) are checked in `signing.feedback`."""

    category = SelectField(_l("Тема"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Что случилось или что вы хотите предложить"))
    error_reference = StringField(_l("Номер ошибки"), [Length(max=40)])
    screenshot = FileField(_l("Снимок экрана"))


class ReplyForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(_l("Сообщение"))


def attach_errors(form: FlaskForm, errors: list[FieldError]) -> None:
    """Show each domain error at its field; a rejected password is not sent back to the browser."""
    for error in errors:
        field = getattr(form, error.field, None)
        if field is None:
            continue
        field.errors = [*field.errors, field_message(error)]
        if error.field.startswith("password"):
            form.password.data = ""
            if hasattr(form, "password_confirm"):
                form.password_confirm.data = ""
