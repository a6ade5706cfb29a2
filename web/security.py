"""«Безопасность» (/profile/security): two-factor authentication (QR code and secret, the first code, recovery codes
shown once, new codes, turning it off), the live sessions (end one, end all others) and the login history with
«Это был не я». Every object is the account's own: another person's session or entry is the 404 of an unknown id."""

from __future__ import annotations

import re

import segno
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from signing import logins, sessions, two_factor
from signing.clock import utcnow
from signing.errors import DomainError, FieldError
from signing.models import LoginResult, User
from web.errors import ErrorInfo, field_message, form_failure
from web.forms import DisableTwoFactorForm, TotpForm
from web.htmx import is_htmx
from web.login import current_account, sign_out
from web.services import db, services
from web.two_factor import TOTP_ERRORS, totp_message

__all__ = ["RESULT_LABELS", "bp", "device_name", "qr_svg"]

bp = Blueprint("security", __name__, url_prefix="/profile/security")
Failure = tuple[ErrorInfo, str]

RESULT_LABELS: dict[str, LazyString] = {
    LoginResult.SUCCESS: _l("Вход выполнен"),
    LoginResult.CODE_PENDING: _l("Пароль верный, код не введён"),
    LoginResult.WRONG_PASSWORD: _l("Неверный пароль"),
    LoginResult.WRONG_CODE: _l("Неверный код"),
    LoginResult.LOCKED: _l("Вход заблокирован"),
    LoginResult.UNCONFIRMED: _l("Почта не подтверждена"),
}
"""`LoginResult` values as the login history names them."""

_BROWSERS: tuple[tuple[str, str | LazyString], ...] = (
    ("Edg/", "Edge"), ("YaBrowser/", _l("Яндекс Браузер")), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"), ("Safari/", "Safari"),
)
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"  # secrets and recovery codes must not be cached
    return response


@bp.app_template_filter("device")
def device_name(user_agent: str | None) -> str:
    """«Firefox, Linux» from a User-Agent header: enough to recognise one's own device."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), None)
    system = next((name for mark, name in _SYSTEMS if mark in text), None)
    if browser is None and system is None:
        return str(_("Неизвестное устройство"))
    return ", ".join(str(part) for part in (browser, system) if part)


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code, drawn here: the secret goes to no other service."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, omitsize=False)
    # aria-hidden: the secret printed beside it is the accessible form of the same thing
    return Markup(re.sub(r"^<svg ", '<svg aria-hidden="true" ', svg))  # noqa: S704 - segno's own SVG, no user text


def _sessions_context(account: User) -> dict[str, object]:
    live = sessions.live_sessions(db(), account.id, services().session_idle, now=utcnow())
    token = current_user.get_id()
    return {"sessions": live, "current_id": next((s.id for s in live if sessions.is_token_of(s, token)), None)}


def _page(status: int = 200, **state: object) -> tuple[str, int]:
    account = current_account()
    context: dict[str, object] = {
        "account": account, "enabled": two_factor.is_enabled(db(), account),
        "codes_left": two_factor.recovery_codes_left(db(), account),
        "events": logins.history(db(), account), "result_labels": RESULT_LABELS,
        "regen_form": TotpForm(prefix="regen", formdata=None),
        "disable_form": DisableTwoFactorForm(prefix="disable", formdata=None),
        "failure": None, "failed": None, **_sessions_context(account),
    }
    context.update(state)
    return render_template("security/page.html", **context), status


@bp.get("")
@login_required
def page() -> tuple[str, int]:
    return _page()


# ---------------------------------------------------------------- two-factor authentication


def _enrol_page(form: TotpForm, failure: Failure | None = None) -> Response | tuple[str, int]:
    enrolment = two_factor.pending_enrolment(db(), current_account(), settings=services().settings)
    if enrolment is None:
        return redirect(url_for(".page"), code=303)
    groups = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return render_template("security/enrol.html", form=form, failure=failure, qr=qr_svg(enrolment.uri),
                           secret=groups), failure[0].status if failure else 200


@bp.post("/two-factor/enrol")
@login_required
def start_enrolment() -> Response:
    TotpForm(formdata=None).validate_on_submit()  # CSRF is checked globally
    two_factor.start_enrolment(db(), current_account(), settings=services().settings, now=utcnow())
    db().commit()
    return redirect(url_for(".enrol"), code=303)


@bp.get("/two-factor/enrol")
@login_required
def enrol() -> Response | tuple[str, int]:
    return _enrol_page(TotpForm(formdata=None))


def _code_refused(form: TotpForm | DisableTwoFactorForm, exc: DomainError) -> Failure:
    """A wrong, used or locked code: the attempt is kept, the field says why and is emptied."""
    db().commit()
    failure = form_failure(exc.code)
    form.code.errors = [totp_message(exc, failure)]
    form.code.data = ""
    return failure


def _recovery_codes_page(codes: list[str]) -> tuple[str, int]:
    return render_template("security/recovery_codes.html", codes=codes), 200


@bp.post("/two-factor/confirm")
@login_required
def confirm() -> Response | tuple[str, int]:
    form = TotpForm()
    if not form.validate_on_submit():
        form.code.errors = [_("Введите 6 цифр из приложения.")]
        return _enrol_page(form, form_failure("FORM-INVALID"))
    try:
        codes = two_factor.confirm_enrolment(db(), current_account(), form.code.data, settings=services().settings,
                                             now=utcnow())
    except TOTP_ERRORS as exc:
        return _enrol_page(form, _code_refused(form, exc))
    db().commit()
    flash(_("Двухфакторная защита включена."), "success")
    return _recovery_codes_page(codes)


@bp.post("/two-factor/recovery-codes")
@login_required
def recovery_codes() -> tuple[str, int]:
    form = TotpForm(prefix="regen")
    if not form.validate_on_submit():
        form.code.errors = [_("Введите 6 цифр из приложения.")]
        return _page(422, regen_form=form, failure=form_failure("FORM-INVALID"), failed="regen")
    try:
        codes = two_factor.regenerate_recovery_codes(db(), current_account(), form.code.data,
                                                     settings=services().settings, now=utcnow())
    except TOTP_ERRORS as exc:
        failure = _code_refused(form, exc)
        return _page(failure[0].status, regen_form=form, failure=failure, failed="regen")
    db().commit()
    return _recovery_codes_page(codes)


@bp.post("/two-factor/disable")
@login_required
def disable() -> Response | tuple[str, int]:
    form = DisableTwoFactorForm(prefix="disable")
    if not form.validate_on_submit():
        return _page(422, disable_form=form, failure=form_failure("FORM-INVALID"), failed="disable")
    try:
        two_factor.disable(db(), current_account(), form.password.data, form.code.data,
                           settings=services().settings, now=utcnow())
    except FieldError as exc:  # the password
        db().rollback()
        form.password.errors = [field_message(exc)]
        return _page(422, disable_form=form, failure=form_failure("FORM-INVALID"), failed="disable")
    except TOTP_ERRORS as exc:
        failure = _code_refused(form, exc)
        return _page(failure[0].status, disable_form=form, failure=failure, failed="disable")
    db().commit()
    flash(_("Двухфакторная защита отключена."), "info")
    return redirect(url_for(".page"), code=303)


# ---------------------------------------------------------------- sessions


def _to_login() -> Response:
    """This browser's own session has ended: to the login page (htmx follows HX-Redirect)."""
    sign_out()
    target = url_for("accounts.login")
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Response | tuple[str, int]:
    """End one session of the list; for htmx the row comes back marked ended, in place."""
    record = sessions.end_own_session(db(), current_account().id, session_id, now=utcnow())
    db().commit()
    if sessions.is_token_of(record, current_user.get_id()):
        flash(_("Сеанс завершён."), "info")
        return _to_login()
    if is_htmx():
        return render_template("security/_session.html", record=record, current_id=None), 200
    flash(_("Сеанс завершён."), "info")
    return redirect(url_for(".page"), code=303)


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> Response | tuple[str, int]:
    ended = sessions.end_all_sessions(db(), current_account().id, "ended_by_user", keep_token=current_user.get_id())
    db().commit()
    notice = _("Завершено сеансов: %(n)s.", n=ended)
    if is_htmx():
        return render_template("security/_sessions.html", notice=notice, **_sessions_context(current_account())), 200
    flash(notice, "info")
    return redirect(url_for(".page"), code=303)


# ---------------------------------------------------------------- login history


@bp.post("/logins/<int:event_id>/not-me")
@login_required
def not_me(event_id: int) -> Response:
    """«Это был не я»: every session ends, this one too; the person logs in again and changes the password."""
    logins.report_not_me(db(), current_account(), event_id, now=utcnow())
    db().commit()
    sign_out()
    flash(_("Все сеансы завершены. Войдите снова и смените пароль: тот, кто входил, мог его знать."), "info")
    return redirect(url_for("accounts.login"), code=303)
