"""Supporting files of a document: the initiator adds a PDF or JPG to a draft; everyone who may see the document
downloads them (`/documents/<id>/attachments/<n>` for accounts, `/sign/<signatory>/attachments/<n>` for a guest,
in `web.signing_page`). Another document's file is the same 404 as an unknown one."""

from __future__ import annotations

import io

from flask import Blueprint, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from signing import documents
from signing.clock import utcnow
from signing.documents import ATTACHMENT_MAX_BYTES
from signing.errors import AttachmentRejected, FieldError
from signing.models import Attachment, Document
from web.documents import _go, document_page
from web.errors import field_message, form_failure
from web.login import current_account
from web.services import db

__all__ = ["attachment_response", "bp"]

bp = Blueprint("attachments", __name__, url_prefix="/documents")


def attachment_response(attachment: Attachment) -> Response:
    """The file as a download under its own name (RFC 5987 `filename*` for Cyrillic), its own type, never cached
    and never sniffed as anything else."""
    response = send_file(io.BytesIO(attachment.data), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, etag=False, last_modified=None)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _refused(document: Document, code: str, error: FieldError) -> tuple[str, int]:
    """The document page again, the reason at the file field."""
    failure = form_failure(code)
    return document_page(document, failure[0].status, attachment_failure=failure,
                         attachment_error=field_message(error))


@bp.post("/<int:document_id>/attachments")
@login_required
def add(document_id: int) -> Response | tuple[str, int]:
    """Attach a supporting file to the initiator's draft; a refused file leaves nothing stored."""
    document = documents.get_for_initiator(db(), current_account(), document_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refused(document, "FORM-INVALID", FieldError("file", "REQUIRED"))
    try:
        documents.add_attachment(db(), document, filename=upload.filename,
                                 data=upload.stream.read(ATTACHMENT_MAX_BYTES + 1), now=utcnow(),
                                 ip=request.remote_addr)
    except AttachmentRejected as exc:
        db().rollback()
        return _refused(document, exc.code, FieldError("file", exc.code, **exc.params))
    db().commit()
    flash(_("Вложение добавлено."), "success")
    return _go(url_for("documents.show", document_id=document_id))


@bp.get("/<int:document_id>/attachments/<int:attachment_id>")
@login_required
def download(document_id: int, attachment_id: int) -> Response:
    document = documents.get_visible(db(), current_account(), document_id)
    return attachment_response(documents.get_attachment(db(), document, attachment_id))
