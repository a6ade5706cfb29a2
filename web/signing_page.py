"""The signatory's side: the personal link `/s/<token>`, a one-time code for someone not logged in as that
signatory (a guest session for this signatory only), and the signing page `/sign/<id>` — the PDF, who else signs,
Sign (confirmed by a mailed code, or by the authenticator's code for an account with two-factor authentication)
and Decline (with a reason), and the downloads.

Who may open `/sign/<id>`: the account that is this signatory, or a browser holding a live guest session of this
very signatory (cookie `podpisant_guest_<id>`). Anyone else gets the 404 an unknown id gets. Every response here
is `Referrer-Policy: no-referrer` (the token must not travel in a Referer) and `Cache-Control: no-store`.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from signing import completion, documents, invitations, rounds, two_factor
from signing.clock import utcnow
from signing.errors import (
    AlreadySigned,
    CodeCooldown,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    DeadlinePassed,
    DocumentNotFound,
    DomainError,
    FieldError,
    MailUnavailable,
    NotYourTurn,
    RoundClosed,
    SigningFailed,
    TotpReused,
)
from signing.models import Signatory, SignatoryState, User
from signing.rounds import DECLINE_REASON_MAX
from web.accounts import REGISTER_EMAIL
from web.attachments import attachment_response
from web.documents import _go, pdf_response
from web.errors import ErrorInfo, error_response, field_message, form_failure, info_for
from web.forms import ConfirmForm, ResendForm
from web.htmx import render
from web.login import current_account
from web.services import db, services
from web.tracker import Tracker, account_matches
from web.two_factor import TOTP_ERRORS, totp_message

__all__ = ["COOKIE_PREFIX", "bp", "masked_email"]

bp = Blueprint("signing_page", __name__)
COOKIE_PREFIX = "podpisant_guest_"
Failure = tuple[ErrorInfo, str]
_CODE_ERRORS = (CodeInvalid, CodeExpired, CodeExhausted)
_REFUSALS = (RoundClosed, NotYourTurn, DeadlinePassed, AlreadySigned, SigningFailed, MailUnavailable)
"""Why a sign, decline or code request may be refused; shown above the actions, nothing changed."""


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def masked_email(email: str) -> str:
    """«a***@example.ru»: enough for the person to recognise their address, not enough to harvest it."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _cookie(signatory_id: int) -> str:
    return f"{COOKIE_PREFIX}{signatory_id}"


def _is_account_of(signatory: Signatory) -> bool:
    return bool(current_user.is_authenticated) and account_matches(current_account(), signatory)


def _uses_totp(signatory: Signatory) -> bool:
    """An account holder with two-factor authentication confirms a signature with the authenticator's code, not a
    mailed one."""
    return _is_account_of(signatory) and two_factor.is_enabled(db(), current_account())


def _guest_token(signatory: Signatory, *, dead_is_error: bool = True) -> str | None:
    """This browser's live guest session for exactly this signatory; a dead one is an error page telling the
    person to open their link again (and the cookie is dropped) — or, on that link itself, just no session."""
    token = request.cookies.get(_cookie(signatory.id))
    if not token:
        return None
    guest = rounds.guest_signatory(db(), token, now=utcnow())
    db().commit()
    if guest is None and not dead_is_error:
        return None
    if guest is None:
        response = error_response(info_for("GUEST-SESSION-EXPIRED"))
        response.delete_cookie(_cookie(signatory.id))
        abort(response)
    return token if guest.id == signatory.id else None


def _signatory(signatory_id: int) -> Signatory:
    """The signatory whose page this is, if the person may see it; the same 404 as an unknown id otherwise."""
    signatory = db().get(Signatory, signatory_id)
    if signatory is None or not (_is_account_of(signatory) or _guest_token(signatory)):
        raise DocumentNotFound(str(signatory_id))
    return signatory


def _page_url(signatory: Signatory) -> str:
    return url_for(".page", signatory_id=signatory.id)


# ---------------------------------------------------------------- the personal link and the admission code


def _enter_page(token: str, signatory: Signatory, form: ConfirmForm, failure: Failure | None,
                notice: str | None = None) -> tuple[str, int]:
    return render_template("sign/enter.html", token=token, signatory=signatory, document=signatory.document,
                           form=form, resend_form=ResendForm(), failure=failure, notice=notice,
                           email=masked_email(signatory.email)), failure[0].status if failure else 200


def _mail_admission_code(signatory: Signatory) -> tuple[Failure | None, str | None]:
    """A fresh code to the signatory's address; within the cooldown the one sent moments ago stands."""
    try:
        rounds.request_code(db(), signatory, "admit", settings=services().settings, now=utcnow())
        db().commit()
    except CodeCooldown as exc:
        db().rollback()
        return None, _("Код отправлен меньше минуты назад. Если он уже использован, новый можно запросить "
                       "через %(n)s с.", n=exc.retry_after)
    except MailUnavailable as exc:
        db().rollback()
        return form_failure(exc.code), None
    return None, None


@bp.get("/s/<token>")
def invitation(token: str) -> Response:
    signatory = invitations.open(db(), token, now=utcnow())
    if _is_account_of(signatory) or _guest_token(signatory, dead_is_error=False):
        return redirect(_page_url(signatory), code=303)
    failure, notice = _mail_admission_code(signatory)
    page, status = _enter_page(token, signatory, ConfirmForm(formdata=None), failure, notice)
    response = Response(page, status, mimetype="text/html")
    if request.cookies.get(_cookie(signatory.id)):  # a session that has ended
        response.delete_cookie(_cookie(signatory.id))
    return response


@bp.post("/s/<token>")
def admit(token: str) -> Response | tuple[str, int]:
    signatory = invitations.open(db(), token, now=utcnow())
    form = ConfirmForm()
    if not form.validate_on_submit():
        form.code.errors = [_("Введите 6 цифр из письма.")]
        return _enter_page(token, signatory, form, form_failure("FORM-INVALID"))
    try:
        guest = rounds.admit_guest(db(), signatory, form.code.data, settings=services().settings, now=utcnow(),
                                   ip=request.remote_addr)
    except _CODE_ERRORS as exc:
        db().commit()  # the wrong attempt counts
        failure = form_failure(exc.code)
        form.code.errors = [_code_message(exc, failure)]
        return _enter_page(token, signatory, form, failure)
    db().commit()
    response = redirect(_page_url(signatory), code=303)
    # A browser-session cookie; the server ends the guest session after GUEST_IDLE without a request.
    response.set_cookie(_cookie(signatory.id), guest, httponly=True, samesite="Lax",
                        secure=services().settings.base_url.startswith("https://"))
    return response


@bp.post("/s/<token>/code")
def resend_admission_code(token: str) -> tuple[str, int]:
    signatory = invitations.open(db(), token, now=utcnow())
    try:
        rounds.request_code(db(), signatory, "admit", settings=services().settings, now=utcnow())
        db().commit()
    except (CodeCooldown, MailUnavailable) as exc:
        db().rollback()
        return _enter_page(token, signatory, ConfirmForm(formdata=None), form_failure(exc.code))
    notice = _("Новый код отправлен на %(email)s. Прежний код больше не действует.",
               email=masked_email(signatory.email))
    return _enter_page(token, signatory, ConfirmForm(formdata=None), None, notice)


def _code_message(exc: DomainError, failure: Failure) -> str:
    if isinstance(exc, CodeInvalid):
        return str(_("Код не подходит. Осталось попыток: %(n)s.", n=exc.attempts_left))
    return str(failure[0].hint)


# ---------------------------------------------------------------- the signing page


def _sign_page(signatory: Signatory, status: int = 200, **state: object) -> tuple[str, int]:
    """The whole page, or for htmx just the actions block (`#sign-actions`) that the forms swap."""
    document = signatory.document
    context = {
        "signatory": signatory, "document": document, "email": masked_email(signatory.email),
        "initiator": db().get(User, document.initiator_id),
        "tracker": Tracker.of(db(), document, current_account() if _is_account_of(signatory) else None),
        "guest": not _is_account_of(signatory), "attachments": documents.attachments(db(), document),
        "account_offer": _account_offer(signatory), "code_requested": False, "failure": None, "notice": None,
        "totp": _uses_totp(signatory),
        "code_error": None, "reason": "", "reason_error": None, "reason_max": DECLINE_REASON_MAX,
    }
    context.update(state)
    return render("sign/page.html", "sign/_actions.html", status, **context)


@bp.get("/sign/<int:signatory_id>")
def page(signatory_id: int) -> tuple[str, int]:
    signatory = _signatory(signatory_id)
    tracker = Tracker.of(db(), signatory.document, None)
    if tracker.may_sign(signatory):
        rounds.mark_viewed(db(), signatory, now=utcnow(), ip=request.remote_addr)
        db().commit()
    return _sign_page(signatory)


def _refused(signatory: Signatory, exc: DomainError, **state: object) -> tuple[str, int]:
    db().rollback()
    failure = form_failure(exc.code)
    return _sign_page(signatory, failure[0].status, failure=failure, **state)


@bp.post("/sign/<int:signatory_id>/code")
def request_sign_code(signatory_id: int) -> tuple[str, int]:
    """Step one of Sign: a code to the signatory's address (the form to type it in comes back)."""
    signatory = _signatory(signatory_id)
    if _uses_totp(signatory):  # the authenticator's code confirms: nothing to mail
        return _sign_page(signatory, code_requested=True)
    try:
        rounds.request_code(db(), signatory, "sign", settings=services().settings, now=utcnow())
    except CodeCooldown as exc:
        db().rollback()
        notice = _("Код уже отправлен на %(email)s. Новый можно запросить через %(n)s с.",
                   email=masked_email(signatory.email), n=exc.retry_after)
        return _sign_page(signatory, code_requested=True, notice=notice)
    except _REFUSALS as exc:
        return _refused(signatory, exc)
    db().commit()
    notice = _("Мы отправили код на %(email)s. Введите его, чтобы подписать.", email=masked_email(signatory.email))
    return _sign_page(signatory, code_requested=True, notice=notice)


def _done(signatory: Signatory) -> Response:
    """Signed or declined: commit (the mail it wrote leaves at once, `web.delivery`), show the page as it stands."""
    db().commit()
    return _go(_page_url(signatory))


def _revision_seq() -> int | None:
    text = request.form.get("revision", "")
    return int(text) if text.isdigit() and len(text) < 7 else None


@bp.post("/sign/<int:signatory_id>/sign")
def sign(signatory_id: int) -> Response | tuple[str, int]:
    """Step two: the code and the revision the page showed. Signing twice (double click, reload, replay) signs
    once: a signatory who has signed is taken to the page as after the first time."""
    signatory = _signatory(signatory_id)
    seq = _revision_seq()
    if seq is None:
        return _sign_page(signatory, 422, code_requested=True, failure=form_failure("FORM-INVALID"))
    code, totp = request.form.get("code", "")[:20], _uses_totp(signatory)
    try:
        if totp and signatory.state != SignatoryState.SIGNED:
            _confirm_by_totp(code)
        rounds.sign(db(), signatory, code=None if totp else code, totp_verified=totp, revision_seq=seq,
                    settings=services().settings, now=utcnow(), ip=request.remote_addr)
    except TotpReused as exc:  # a second click while the first one signed: shown as after the first time
        db().rollback()
        db().refresh(signatory)
        if signatory.state == SignatoryState.SIGNED:
            return _done(signatory)
        return _totp_refused(signatory, exc)
    except TOTP_ERRORS as exc:
        db().commit()  # the wrong attempt counts
        return _totp_refused(signatory, exc)
    except _CODE_ERRORS as exc:
        db().commit()  # the wrong attempt counts
        failure = form_failure(exc.code)
        return _sign_page(signatory, failure[0].status, code_requested=True, failure=failure,
                          code_error=_code_message(exc, failure))
    except FieldError as exc:  # no code typed
        db().rollback()
        return _sign_page(signatory, 422, code_requested=True, failure=form_failure("FORM-INVALID"),
                          code_error=field_message(exc))
    except _REFUSALS as exc:
        return _refused(signatory, exc)
    return _done(signatory)


def _confirm_by_totp(code: str) -> None:
    """The authenticator's code of the signed-in account (each code once); TotpInvalid/TotpReused/TotpLocked."""
    if not code.strip():
        raise FieldError("code", "TOTP-REQUIRED")
    two_factor.verify(db(), current_account(), code, settings=services().settings, now=utcnow())


def _totp_refused(signatory: Signatory, exc: DomainError) -> tuple[str, int]:
    failure = form_failure(exc.code)
    return _sign_page(signatory, failure[0].status, code_requested=True, failure=failure,
                      code_error=totp_message(exc, failure))


@bp.post("/sign/<int:signatory_id>/decline")
def decline(signatory_id: int) -> Response | tuple[str, int]:
    signatory = _signatory(signatory_id)
    reason = request.form.get("reason", "")[:DECLINE_REASON_MAX + 1]
    try:
        rounds.decline(db(), signatory, reason, now=utcnow(), ip=request.remote_addr)
    except FieldError as exc:
        db().rollback()
        return _sign_page(signatory, 422, failure=form_failure("FORM-INVALID"), reason=reason,
                          reason_error=field_message(exc))
    except _REFUSALS as exc:
        return _refused(signatory, exc)
    return _done(signatory)


@bp.post("/sign/<int:signatory_id>/leave")
def leave(signatory_id: int) -> Response:
    """A guest ends their session on this browser (a logged-in signatory logs out the usual way)."""
    token = request.cookies.get(_cookie(signatory_id))
    if token:
        rounds.end_guest_session(db(), token, now=utcnow())
        db().commit()
    response = redirect(url_for("cabinet.home"), code=303)
    response.delete_cookie(_cookie(signatory_id))
    return response


# ---------------------------------------------------------------- an account afterwards


def _account_offer(signatory: Signatory) -> str | None:
    """After signing or declining as a guest: «register» (no account holds the address yet) or «login»."""
    if _is_account_of(signatory) or signatory.state not in (SignatoryState.SIGNED, SignatoryState.DECLINED):
        return None
    taken = db().scalar(select(User.id).where(func.lower(User.email) == signatory.email.lower()))
    return "login" if taken is not None else "register"


@bp.get("/sign/<int:signatory_id>/account")
def create_account(signatory_id: int) -> Response:
    """The registration form, starting with this signatory's address (kept in the session, not in a URL); the
    confirmed account then holds this document (`signing.accounts.link_signatories`)."""
    signatory = _signatory(signatory_id)
    session[REGISTER_EMAIL] = signatory.email
    return redirect(url_for("accounts.register"), code=303)


# ---------------------------------------------------------------- downloads


@bp.get("/sign/<int:signatory_id>/pdf")
def pdf(signatory_id: int) -> Response:
    """The revision being signed, with the signatures so far (final once finalized)."""
    signatory = _signatory(signatory_id)
    revision = documents.current_revision(db(), signatory.document)
    return pdf_response(signatory.document, revision.final_pdf or revision.pdf or revision.source_pdf)


@bp.get("/sign/<int:signatory_id>/attachments/<int:attachment_id>")
def attachment(signatory_id: int, attachment_id: int) -> Response:
    """A supporting file of this signatory's document."""
    signatory = _signatory(signatory_id)
    return attachment_response(documents.get_attachment(db(), signatory.document, attachment_id))


@bp.get("/sign/<int:signatory_id>/final.pdf")
def final_pdf(signatory_id: int) -> Response:
    signatory = _signatory(signatory_id)
    revision = documents.current_revision(db(), signatory.document)
    if revision.final_pdf is None:
        raise DocumentNotFound(str(signatory.document_id))
    return pdf_response(signatory.document, revision.final_pdf, suffix=" — подписан")


@bp.get("/sign/<int:signatory_id>/certificate.pdf")
def certificate(signatory_id: int) -> Response:
    signatory = _signatory(signatory_id)
    return pdf_response(signatory.document, completion.render_certificate(db(), signatory.document),
                        suffix=" — лист прохождения")
