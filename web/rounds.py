"""The initiator's side of a signature round: send a draft out, watch the tracker, remind, withdraw, edit (a new
revision), and download the final PDF and the certificate of completion. Someone else's document is a 404."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from signing import completion, documents, rounds
from signing.clock import utcnow
from signing.drafting import DocumentKind
from signing.drafting.money import UNITS
from signing.errors import (
    DeadlinePassed,
    DocumentNotEditable,
    DocumentNotFound,
    DomainError,
    FieldError,
    PdfRejected,
    ReminderCooldown,
    RoundClosed,
    ValidationFailed,
)
from signing.models import Document, DocumentStatus
from web.documents import _go, _today, document_page, pdf_response
from web.draft_form import VAT_RATES, DraftForm
from web.errors import ErrorInfo, field_message, form_failure, info_for
from web.htmx import is_htmx, render
from web.login import current_account
from web.round_form import RoundForm, draft_form_of, parse_deadline
from web.services import db, services
from web.tracker import Tracker
from web.verify import read_upload

__all__ = ["bp"]

bp = Blueprint("rounds", __name__, url_prefix="/documents")
Failure = tuple[ErrorInfo, str]
EDITABLE = (DocumentStatus.DRAFT, DocumentStatus.IN_SIGNING)


def _mine(document_id: int) -> Document:
    return documents.get_for_initiator(db(), current_account(), document_id)


def _page_url(document_id: int) -> str:
    return url_for("documents.show", document_id=document_id)


def _refusal(exc: DomainError) -> None:
    """A round action that cannot be done now, told on the page it came from."""
    info = info_for(exc.code)
    flash(f"{info.message} {info.hint}", "error")


# ---------------------------------------------------------------- sending


def _send_form_page(document: Document, form: RoundForm, failure: Failure | None) -> tuple[str, int]:
    status = failure[0].status if failure else 200
    if is_htmx():
        return render_template("rounds/_send_form.html", document=document, round_form=form,
                               failure=failure), status
    return document_page(document, status, round_form=form, failure=failure)


def _row_action(form: RoundForm | DraftForm, action: str) -> bool:
    """Add or remove a signatory row (the form is submitted to do it, so it works without JavaScript)."""
    if action == "add_row":
        form.add_row()
        return True
    index = action.removeprefix("remove_row:")
    if action.startswith("remove_row:") and index.isdigit():
        form.remove_row(int(index))
        return True
    return False


@bp.post("/<int:document_id>/send")
@login_required
def send(document_id: int) -> Response | tuple[str, int]:
    document = _mine(document_id)
    form = RoundForm.from_form(request.form)
    if _row_action(form, request.form.get("action", "send")):
        return _send_form_page(document, form, None)
    errors: list[FieldError] = []
    try:
        deadline = parse_deadline(form.deadline, ZoneInfo(services().settings.timezone))
    except FieldError as exc:
        errors.append(exc)
        deadline = None
    try:
        rounds.send(db(), document, current_account(), form.specs(), order=form.order, deadline=deadline,
                    initiator_signs=form.initiator_signs, settings=services().settings, now=utcnow(),
                    ip=request.remote_addr)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:  # the round was checked whole; whatever it wrote is rolled back
        db().rollback()
        form.attach(errors)
        return _send_form_page(document, form, form_failure("FORM-INVALID"))
    db().commit()
    flash(_("Документ отправлен на подпись."), "success")
    return _go(_page_url(document_id))


# ---------------------------------------------------------------- the tracker and its buttons


@bp.get("/<int:document_id>/tracker")
@login_required
def tracker(document_id: int) -> Response | str:
    """The live tracker fragment htmx polls; a browser navigating here gets the document page."""
    document = documents.get_visible(db(), current_account(), document_id)
    if not is_htmx():
        return redirect(_page_url(document_id))
    return render_template("rounds/_tracker.html", tracker=Tracker.of(db(), document, current_account()))


@bp.post("/<int:document_id>/remind")
@login_required
def remind(document_id: int) -> Response:
    document = _mine(document_id)
    try:
        count = rounds.remind(db(), document, current_account(), settings=services().settings, now=utcnow(),
                              ip=request.remote_addr)
    except ReminderCooldown as exc:
        db().rollback()
        minutes = max(1, (exc.retry_after + 59) // 60)
        flash(_("Напоминание уже отправлено недавно. Следующее можно отправить через %(n)s мин.", n=minutes),
              "error")
        return _go(_page_url(document_id))
    except (RoundClosed, DeadlinePassed) as exc:
        db().rollback()
        _refusal(exc)
        return _go(_page_url(document_id))
    db().commit()
    if count:
        flash(_("Отправлено напоминаний: %(n)s.", n=count), "success")
    else:
        flash(_("Напоминать некому: все, чья очередь, уже подписали."), "info")
    return _go(_page_url(document_id))


@bp.post("/<int:document_id>/withdraw")
@login_required
def withdraw(document_id: int) -> Response:
    document = _mine(document_id)
    try:
        rounds.withdraw(db(), document, current_account(), now=utcnow(), ip=request.remote_addr)
    except RoundClosed as exc:
        db().rollback()
        _refusal(exc)
        return _go(_page_url(document_id))
    db().commit()
    flash(_("Документ отозван. Подписанты получат письмо об этом."), "success")
    return _go(_page_url(document_id))


# ---------------------------------------------------------------- editing: a new revision


def _editable(document_id: int) -> Document:
    document = _mine(document_id)
    if document.status not in EDITABLE:
        raise DocumentNotEditable(document.status)
    return document


def _edit_page(document: Document, form: DraftForm | None, failure: Failure | None,
               file_error: str | None = None) -> tuple[str, int]:
    return render("rounds/edit.html", "documents/_draft_form.html" if form else "rounds/edit.html",
                  failure[0].status if failure else 200, document=document, form=form, failure=failure,
                  file_error=file_error, vat_rates=VAT_RATES, units=UNITS,
                  form_action=url_for(".edit", document_id=document.id), submit_label=_("Сохранить изменения"))


@bp.get("/<int:document_id>/edit")
@login_required
def edit_form(document_id: int) -> tuple[str, int]:
    document = _editable(document_id)
    form = draft_form_of(json.loads(document.draft_json)) if document.source == "form" and document.draft_json \
        else None
    return _edit_page(document, form, None)


def _new_pdf() -> bytes:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise FieldError("file", "REQUIRED")
    return read_upload(upload, services().settings.pdf_max_bytes)


def _apply_edit(document: Document, form: DraftForm | None) -> None:
    """A draft changed in place (re-rendered, or its upload replaced), or — once sent — a new revision (every
    signatory told)."""
    settings, now, ip = services().settings, utcnow(), request.remote_addr
    draft = document.status == DocumentStatus.DRAFT
    if form is not None and draft:
        documents.update_draft(db(), document, form.data(), today=_today(), now=now, ip=ip)
        return
    pdf = None if form is not None else _new_pdf()
    if pdf is not None and draft:
        documents.replace_upload(db(), document, pdf, settings=settings, now=now, ip=ip)
        return
    rounds.edit(db(), document, current_account(), data=form.data() if form else None, pdf=pdf, settings=settings,
                today=_today(), now=now, ip=ip)


@bp.post("/<int:document_id>/edit")
@login_required
def edit(document_id: int) -> Response | tuple[str, int]:
    document = _editable(document_id)
    form = DraftForm.from_form(DocumentKind(document.kind), request.form) if document.source == "form" else None
    if form is not None and _row_action(form, request.form.get("action", "create")):
        return _edit_page(document, form, None)
    try:
        _apply_edit(document, form)
    except ValidationFailed as exc:
        db().rollback()
        if form is not None:
            form.attach(exc.errors)
        return _edit_page(document, form, form_failure(exc.code))
    except PdfRejected as exc:
        db().rollback()
        failure = form_failure(exc.code)
        return _edit_page(document, form, failure, file_error=f"{failure[0].message} {failure[0].hint}")
    except FieldError as exc:  # no file chosen
        db().rollback()
        return _edit_page(document, form, form_failure("FORM-INVALID"), file_error=field_message(exc))
    db().commit()
    if document.status == DocumentStatus.IN_SIGNING:
            flash(_("Документ изменён: создана новая редакция, подписанты получат письмо."), "success")
    else:
        flash(_("Черновик сохранён."), "success")
    return _go(_page_url(document_id))


# ---------------------------------------------------------------- downloads


@bp.get("/<int:document_id>/final.pdf")
@login_required
def final_pdf(document_id: int) -> Response:
    """The finalized PDF (PAdES B-LTA) once everyone signed."""
    document = documents.get_visible(db(), current_account(), document_id)
    revision = documents.current_revision(db(), document)
    if revision.final_pdf is None:
        raise DocumentNotFound(str(document_id))
    return pdf_response(document, revision.final_pdf, suffix=" — подписан")


@bp.get("/<int:document_id>/certificate.pdf")
@login_required
def certificate(document_id: int) -> Response:
    """The certificate of completion: the history with hashes and each signature's certificate serial."""
    document = documents.get_visible(db(), current_account(), document_id)
    if document.status == DocumentStatus.DRAFT:
        raise DocumentNotFound(str(document_id))
    return pdf_response(document, completion.render_certificate(db(), document), suffix=" — лист прохождения")
