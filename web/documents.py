"""Documents: a draft from a kind's form or an uploaded PDF, the document page, its PDF. Only people who may see a
document get anything but a 404 (`documents.get_visible`)."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired

from signing import documents, history, subscriptions
from signing.clock import utcnow
from signing.drafting import DocumentKind
from signing.drafting.money import UNITS
from signing.errors import PdfRejected, ValidationFailed
from signing.models import Document, DocumentStatus
from web.display import kind_title
from web.draft_form import VAT_RATES, DraftForm, parse_kind
from web.errors import FIELD_MESSAGES, ErrorInfo, form_failure
from web.forms import attach_errors
from web.htmx import is_htmx, render
from web.login import current_account
from web.renewals import announce_created
from web.round_form import RoundForm
from web.services import db, services
from web.subscription_form import SubscriptionForm
from web.tracker import Tracker
from web.verify import read_upload

__all__ = ["UploadForm", "bp", "document_page", "pdf_response"]

bp = Blueprint("documents", __name__, url_prefix="/documents")
Failure = tuple[ErrorInfo, str]
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


class UploadForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Название документа"), [InputRequired(message=FIELD_MESSAGES["REQUIRED"])])
    kind = SelectField(_l("Вид документа"), validate_choice=False)  # the domain judges the kind (KIND-INVALID)
    file = FileField(_l("PDF-файл"), [FileRequired(message=FIELD_MESSAGES["REQUIRED"])])



def _today() -> date:
    """The current day in the service's time zone: what periods and document dates are judged against."""
    return utcnow().astimezone(ZoneInfo(services().settings.timezone)).date()


def _go(target: str) -> Response:
    """After a successful POST: htmx follows HX-Redirect, a plain browser a 303."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.kind.choices = [(kind.value, kind_title(kind.value)) for kind in DocumentKind]
    return form


def _chooser(form: UploadForm, failure: Failure | None) -> tuple[str, int]:
    status = failure[0].status if failure else 200
    return render_template("documents/new.html", upload_form=form, kinds=list(DocumentKind), failure=failure), status


def _repeat_form(kind: DocumentKind) -> SubscriptionForm | None:
    """The draft form's «Повторять ежемесячно» section (periodic kinds only): as posted, or new."""
    if not kind.periodic:
        return None
    blank = SubscriptionForm.blank(_today())
    return SubscriptionForm.from_form(request.form, blank) if request.method == "POST" else blank


def _draft_page(form: DraftForm, failure: Failure | None, repeat: SubscriptionForm | None = None) -> tuple[str, int]:
    return render("documents/draft.html", "documents/_draft_form.html", failure[0].status if failure else 200,
                  form=form, failure=failure, vat_rates=VAT_RATES, units=UNITS,
                  repeat_form=repeat or _repeat_form(form.kind))


@bp.get("/new")
@login_required
def new() -> tuple[str, int]:
    kind = parse_kind(request.args.get("kind"))
    if kind is None:
        return _chooser(_upload_form(), None)
    return _draft_page(DraftForm.blank(kind, _today()), None)


@bp.post("/new")
@login_required
def create() -> Response | tuple[str, int]:
    kind = parse_kind(request.form.get("kind"))
    if kind is None:
        return _chooser(_upload_form(), form_failure("FORM-INVALID"))
    form = DraftForm.from_form(kind, request.form)
    action = request.form.get("action", "create")
    if action == "add_row":
        form.add_row()
        return _draft_page(form, None)
    if action.startswith("remove_row:") and action.removeprefix("remove_row:").isdigit():
        form.remove_row(int(action.removeprefix("remove_row:")))
        return _draft_page(form, None)
    repeat = _repeat_form(kind)
    if repeat is not None and repeat.row_action(action):
        return _draft_page(form, None, repeat)
    if repeat is not None and repeat.repeat:
        return _subscribe(form, repeat)
    try:
        document = documents.create_from_form(db(), current_account(), form.data(), today=_today(), now=utcnow(),
                                              ip=request.remote_addr)
        db().commit()
    except ValidationFailed as exc:
        db().rollback()
        form.attach(exc.errors)
        return _draft_page(form, form_failure(exc.code))
    return _go(url_for(".show", document_id=document.id))


def _subscribe(form: DraftForm, repeat: SubscriptionForm) -> Response | tuple[str, int]:
    """«Повторять ежемесячно» on: a subscription with the draft as its template; no document now, each period's
    is issued on its day (the number, date and period typed are replaced by the period's own)."""
    today = _today()
    subscription, draft_errors = repeat.submit(today, lambda terms: subscriptions.create_from_draft(
        db(), current_account(), form.data(), terms, now=utcnow()))
    if subscription is None:
        db().rollback()
        form.attach(draft_errors)
        return _draft_page(form, form_failure("FORM-INVALID"), repeat)
    db().commit()
    announce_created(subscription, today)
    return _go(url_for("subscriptions.index"))


@bp.post("/upload")
@login_required
def upload() -> Response | tuple[str, int]:
    form = _upload_form()
    if not form.validate_on_submit():
        return _chooser(form, form_failure("FORM-INVALID"))
    settings = services().settings
    try:
        document = documents.create_from_upload(
            db(), current_account(), title=form.title.data, kind=form.kind.data,
            pdf=read_upload(form.file.data, settings.pdf_max_bytes), settings=settings, now=utcnow(),
            ip=request.remote_addr,
        )
        db().commit()
    except ValidationFailed as exc:
        db().rollback()
        attach_errors(form, exc.errors)
        return _chooser(form, form_failure(exc.code))
    except PdfRejected as exc:
        db().rollback()
        failure = form_failure(exc.code)
        form.file.errors = [f"{failure[0].message} {failure[0].hint}"]
        return _chooser(form, failure)
    return _go(url_for(".show", document_id=document.id))


def _visible(document_id: int) -> Document:
    return documents.get_visible(db(), current_account(), document_id)


def document_page(document: Document, status: int = 200, **extra: Any) -> tuple[str, int]:
    """The document page (or its fragment for htmx): the PDF, its attachments, the history and whether its chain
    holds, and the round — the send form on the initiator's draft, the tracker once it is sent. `extra` overrides
    the context (a send form or an attachment with errors)."""
    account = current_account()
    context: dict[str, Any] = {"document": document, "history": history.entries(db(), document.id),
                               "chain": history.verify_chain(db(), document.id),
                               "attachments": documents.attachments(db(), document),
                               "attachment_failure": None, "attachment_error": None,
                               "tracker": Tracker.of(db(), document, account), "round_form": None, "failure": None}
    if document.status == DocumentStatus.DRAFT and document.initiator_id == account.id:
        context["round_form"] = RoundForm()
    context.update(extra)
    return render("documents/page.html", "documents/_document.html", status, **context)


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int) -> tuple[str, int]:
    return document_page(_visible(document_id))


def _filename(document: Document) -> str:
    stem = _FILENAME_UNSAFE.sub("_", document.title).strip(" ._") or f"document-{document.id}"
    return stem[:150] + ".pdf"


@bp.get("/<int:document_id>/pdf")
@login_required
def pdf(document_id: int) -> Response:
    """The current revision as it stands: final when finalized, else signed so far, else as drafted or uploaded."""
    document = _visible(document_id)
    revision = documents.current_revision(db(), document)
    return pdf_response(document, revision.final_pdf or revision.pdf or revision.source_pdf)


def pdf_response(document: Document, data: bytes, *, suffix: str = "") -> Response:
    """A PDF of `document` shown inline (or as a download with `?download=1`), never kept in any cache."""
    name = _filename(document)
    response = send_file(io.BytesIO(data), mimetype="application/pdf",
                         download_name=name[:-4] + suffix + ".pdf" if suffix else name,
                         as_attachment=request.args.get("download") == "1")
    response.headers["Cache-Control"] = "private, no-store"
    return response
