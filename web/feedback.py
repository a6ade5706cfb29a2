"""«Обратная связь»: a person writes to support and follows their tickets; staff see every ticket, answer and close
them. Another person's ticket is the same 404 as an unknown one; the staff list is 403 to everyone else."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from signing import feedback
from signing.clock import utcnow
from signing.errors import FieldError, TicketClosed, TicketNotFound, ValidationFailed
from signing.models import Ticket, TicketCategory, TicketStatus
from web.errors import ErrorInfo, field_message, form_failure
from web.forms import FeedbackForm, ReplyForm, ResendForm, attach_errors
from web.htmx import render
from web.login import current_account
from web.services import db, services

__all__ = ["CATEGORY_LABELS", "STATUS_LABELS", "bp"]

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
Failure = tuple[ErrorInfo, str]

CATEGORY_LABELS = {
    TicketCategory.ERROR: _l("Ошибка в работе сервиса"),
    TicketCategory.SIGNING: _l("Подписание и сертификаты"),
    TicketCategory.ACCOUNT: _l("Учётная запись и вход"),
    TicketCategory.SUGGESTION: _l("Предложение"),
    TicketCategory.OTHER: _l("Другое"),
}
STATUS_LABELS = {
    TicketStatus.OPEN: _l("Ждёт ответа"),
    TicketStatus.ANSWERED: _l("Есть ответ"),
    TicketStatus.CLOSED: _l("Закрыто"),
}


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"ticket_category": CATEGORY_LABELS, "ticket_status": STATUS_LABELS}


def _with_choices(form: FeedbackForm) -> FeedbackForm:
    form.category.choices = [("", _("Выберите тему")), *((c.value, label) for c, label in CATEGORY_LABELS.items())]
    return form


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    return render("feedback/index.html", "feedback/_tickets.html",
                  tickets=feedback.own_tickets(db(), current_account()), staff_view=False)


@bp.get("/all")
@login_required
def all_tickets() -> tuple[str, int]:
    shown = request.args.get("status") or None
    return render("feedback/index.html", "feedback/_tickets.html",
                  tickets=feedback.all_tickets(db(), current_account(), status=shown), staff_view=True,
                  shown=shown)


@bp.get("/new")
@login_required
def new() -> tuple[str, int]:
    """The form; `?ref=R-…` (the link on an error page) fills in the error's reference."""
    reference = request.args.get("ref", "")[:40]
    return _new_page(_with_choices(FeedbackForm(data={"error_reference": reference,
                                                       "category": "error" if reference else ""})))


def _new_page(form: FeedbackForm, failure: Failure | None = None, screenshot_error: str | None = None,
              ) -> tuple[str, int]:
    page = render_template("feedback/new.html", form=form, failure=failure, screenshot_error=screenshot_error,
                           limit_mb=feedback.SCREENSHOT_MAX_BYTES // (1024 * 1024))
    return page, failure[0].status if failure else 200


@bp.post("/new")
@login_required
def create() -> Response | tuple[str, int]:
    form = _with_choices(FeedbackForm())
    if not form.validate_on_submit():
        return _new_page(form, form_failure("FORM-INVALID"))
    upload = request.files.get("screenshot")
    data = upload.stream.read(feedback.SCREENSHOT_MAX_BYTES + 1) if upload and upload.filename else None
    try:
        ticket = feedback.open_ticket(
            db(), current_account(),
            feedback.TicketRequest(category=form.category.data or "", description=form.description.data or "",
                                   error_reference=form.error_reference.data or "", screenshot=data),
            now=utcnow(), staff_email=services().settings.staff_email)
    except ValidationFailed as exc:
        db().rollback()
        attach_errors(form, exc.errors)
        shot = next((field_message(e) for e in exc.errors if e.field == "screenshot"), None)
        return _new_page(form, form_failure(exc.code), shot)
    db().commit()
    flash(_("Обращение № %(n)s отправлено. Ответ придёт на почту и появится здесь.", n=ticket.id), "success")
    return redirect(url_for(".show", ticket_id=ticket.id), code=303)


def _ticket(ticket_id: int) -> Ticket:
    return feedback.get_ticket(db(), current_account(), ticket_id)


def _ticket_page(ticket: Ticket, status: int = 200, **state: object) -> tuple[str, int]:
    account = current_account()
    context: dict[str, object] = {
        "ticket": ticket, "reply_form": ReplyForm(formdata=None), "close_form": ResendForm(formdata=None),
        "is_staff": account.is_staff, "failure": None, "mine": ticket.user_id == account.id,
    }
    context.update(state)
    return render("feedback/ticket.html", "feedback/_messages.html", status, **context)


def _done(ticket: Ticket, message: str) -> Response:
    """Commit (the mail it wrote leaves at once, `web.delivery`) and show the ticket as it stands."""
    db().commit()
    flash(message, "success")
    return redirect(url_for(".show", ticket_id=ticket.id), code=303)


@bp.get("/<int:ticket_id>")
@login_required
def show(ticket_id: int) -> tuple[str, int]:
    return _ticket_page(_ticket(ticket_id))


@bp.post("/<int:ticket_id>/reply")
@login_required
def reply(ticket_id: int) -> Response | tuple[str, int]:
    ticket = _ticket(ticket_id)
    form = ReplyForm()
    form.validate_on_submit()  # CSRF is checked globally; the body's rules are the domain's
    try:
        feedback.reply(db(), current_account(), ticket, form.body.data or "", now=utcnow(),
                       staff_email=services().settings.staff_email)
    except FieldError as exc:
        db().rollback()
        attach_errors(form, [exc])
        return _ticket_page(ticket, 422, reply_form=form, failure=form_failure("FORM-INVALID"))
    except TicketClosed as exc:
        db().rollback()
        failure = form_failure(exc.code)
        return _ticket_page(ticket, failure[0].status, failure=failure)
    return _done(ticket, _("Сообщение отправлено."))


@bp.post("/<int:ticket_id>/close")
@login_required
def close(ticket_id: int) -> Response:
    ticket = _ticket(ticket_id)
    ResendForm().validate_on_submit()  # CSRF is checked globally; the form has no fields
    feedback.close(db(), current_account(), ticket, now=utcnow())
    return _done(ticket, _("Обращение закрыто."))


@bp.get("/<int:ticket_id>/screenshot")
@login_required
def screenshot(ticket_id: int) -> Response:
    ticket = _ticket(ticket_id)
    if ticket.screenshot is None or ticket.screenshot_type is None:
        raise TicketNotFound(f"{ticket_id}/screenshot")
    extension = "png" if ticket.screenshot_type == "image/png" else "jpg"
    response = send_file(io.BytesIO(ticket.screenshot), mimetype=ticket.screenshot_type,
                         download_name=f"ticket-{ticket.id}.{extension}", etag=False, last_modified=None)
    response.headers["Cache-Control"] = "private, no-store"
    return response
