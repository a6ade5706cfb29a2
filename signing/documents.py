"""Documents before and around their signature round: drafting from the form, uploads, attachments, who sees what.

Services take the session and never commit: each either adds a whole document (document, revision 1, history) or
raises before adding any of it. A periodic document's period is checked against the stored documents of the same
kind between the same parties under a lock on that series' row (`DocumentSeries`), so that two requests for one
month cannot both pass: PostgreSQL row lock (SELECT ... FOR UPDATE); on SQLite the INSERT that creates or touches
the lock row takes the database's write lock, which serialises the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.selectable import Select

from signing import history
from signing.config import Settings
from signing.drafting import DocumentKind, Draft, Period, overlap_error, render_pdf, validate_draft
from signing.errors import (
    AttachmentRejected,
    DocumentNotEditable,
    DocumentNotFound,
    FieldError,
    PdfEncrypted,
    PdfRejected,
    ValidationFailed,
)
from signing.images import image_problem
from signing.models import (
    Attachment,
    Document,
    DocumentSeries,
    DocumentStatus,
    Revision,
    Signatory,
    User,
    search_key,
)
from signing.pades import PdfLimits, inspect_pdf
from signing.serialise import hold_new

__all__ = [
    "ATTACHMENT_MAX_BYTES",
    "ENDED_STATUSES",
    "Page",
    "add_attachment",
    "apply_draft",
    "archive_months",
    "attachments",
    "create_from_form",
    "create_from_upload",
    "current_revision",
    "ensure_period_free",
    "get_attachment",
    "get_for_initiator",
    "get_visible",
    "replace_upload",
    "update_draft",
    "visible_documents",
]

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_MAX_PIXELS = 50_000_000
"""A JPEG larger than this (about 8000 × 6000) is refused before it is decoded."""
ATTACHMENT_PDF_LIMITS = PdfLimits(ATTACHMENT_MAX_BYTES, 500, 20)
ENDED_STATUSES = frozenset({DocumentStatus.WITHDRAWN, DocumentStatus.DECLINED, DocumentStatus.EXPIRED})
"""A document in one of these no longer holds its period: a new one may be issued for it."""
MAX_TITLE = 300
MAX_PER_PAGE = 100
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


@dataclass(frozen=True)
class Page:
    """One page of a document list."""

    items: Sequence[Document]
    total: int
    """Documents matching the filters, on all pages."""
    page: int
    """1-based; clamped into 1..pages."""
    pages: int
    """At least 1, even for an empty list."""

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# ---------------------------------------------------------------- creating and editing


def create_from_form(
    session: Session, initiator: User, data: Mapping[str, object], *, today: date, now: datetime, ip: str | None
) -> Document:
    """A draft document rendered from the form; ValidationFailed (field errors, or the period's overlap) stores
    nothing. `today` is the current day in the service's time zone."""
    draft = validate_draft(data, today=today)
    _ensure_draft_period_free(session, draft, exclude_document_id=None)
    pdf = render_pdf(draft)
    document = Document(initiator_id=initiator.id, source="form", status=DocumentStatus.DRAFT, current_revision=1,
                        created_at=now, updated_at=now)
    apply_draft(document, draft)
    return _store_new(session, document, initiator, pdf, now=now, ip=ip, details={"source": "form"})


def create_from_upload(
    session: Session, initiator: User, *, title: str, kind: str, pdf: bytes, settings: Settings, now: datetime,
    ip: str | None,
) -> Document:
    """A draft document from an uploaded PDF; a bad title or kind is ValidationFailed, a bad file the specific
    PdfRejected (not a PDF, encrypted, corrupt, too large, too many pages, too slow); nothing stored on error."""
    clean_title, document_kind = _upload_fields(title, kind)
    facts = inspect_pdf(pdf, PdfLimits.from_settings(settings))
    document = Document(initiator_id=initiator.id, source="upload", status=DocumentStatus.DRAFT, current_revision=1,
                        kind=document_kind.value, title=clean_title, created_at=now, updated_at=now)
    return _store_new(session, document, initiator, pdf, now=now, ip=ip,
                      details={"source": "upload", "pages": facts.page_count})


def update_draft(
    session: Session, document: Document, data: Mapping[str, object], *, today: date, now: datetime, ip: str | None
) -> Document:
    """Re-validate and re-render a draft made from the form (DocumentNotEditable once it was sent, or for uploads);
    ValidationFailed leaves the stored draft as it was."""
    if document.status != DocumentStatus.DRAFT or document.source != "form":
        raise DocumentNotEditable(document.status)
    draft = validate_draft(data, today=today)
    _ensure_draft_period_free(session, draft, exclude_document_id=document.id)
    pdf = render_pdf(draft)
    revision = current_revision(session, document)
    revision.source_pdf = pdf
    revision.source_sha256 = _sha256(pdf)
    apply_draft(document, draft)
    document.updated_at = now
    _record(session, document, "edited", now=now, ip=ip, revision_sha256=revision.source_sha256)
    return document


def replace_upload(
    session: Session, document: Document, pdf: bytes, *, settings: Settings, now: datetime, ip: str | None
) -> Document:
    """Put another PDF in place of an uploaded draft's (DocumentNotEditable once it was sent, or for drafts from the
    form); the specific PdfRejected leaves the stored draft as it was."""
    if document.status != DocumentStatus.DRAFT or document.source != "upload":
        raise DocumentNotEditable(document.status)
    facts = inspect_pdf(pdf, PdfLimits.from_settings(settings))
    revision = current_revision(session, document)
    revision.source_pdf = pdf
    revision.source_sha256 = _sha256(pdf)
    document.updated_at = now
    _record(session, document, "edited", now=now, ip=ip, revision_sha256=revision.source_sha256,
            details={"source": "upload", "pages": facts.page_count})
    return document


def add_attachment(
    session: Session, document: Document, *, filename: str, data: bytes, now: datetime, ip: str | None
) -> Attachment:
    """Attach a supporting PDF or JPEG (judged by its bytes, parsed whole, at most 5 MB) to a draft;
    AttachmentRejected otherwise, nothing stored."""
    if document.status != DocumentStatus.DRAFT:
        raise DocumentNotEditable(document.status)
    content_type = _attachment_type(data)
    sha = _sha256(data)
    attachment = Attachment(document_id=document.id, filename=_safe_filename(filename, content_type),
                            content_type=content_type, data=data, sha256=sha, size=len(data), created_at=now)
    session.add(attachment)
    session.flush()
    _record(session, document, "attachment_added", now=now, ip=ip, revision_sha256=None,
            details={"attachment_id": attachment.id, "filename": attachment.filename, "sha256": sha})
    return attachment


def attachments(session: Session, document: Document) -> list[Attachment]:
    """The document's supporting files in the order they were added, without their bytes (loaded on access)."""
    query = (select(Attachment).where(Attachment.document_id == document.id)
             .options(defer(Attachment.data)).order_by(Attachment.id))
    return list(session.scalars(query))


def get_attachment(session: Session, document: Document, attachment_id: int) -> Attachment:
    """One supporting file of `document`; DocumentNotFound for any other id, another document's file included."""
    found = session.scalars(select(Attachment).where(Attachment.id == attachment_id,
                                                     Attachment.document_id == document.id)).first()
    if found is None:
        raise DocumentNotFound(f"{document.id}/attachments/{attachment_id}")
    return found


def current_revision(session: Session, document: Document) -> Revision:
    """The revision that counts (`Document.current_revision`)."""
    query = select(Revision).where(Revision.document_id == document.id, Revision.seq == document.current_revision)
    return session.scalars(query).one()


def ensure_period_free(
    session: Session, kind: str, seller_inn: str, buyer_inn: str, period: Period, *,
    exclude_document_id: int | None = None,
) -> None:
    """Lock the (kind, seller, buyer) series until the caller's transaction ends, then raise ValidationFailed
    (PERIOD-OVERLAP naming the existing document) when a live document of that series shares a day with `period`."""
    _lock_series(session, kind, seller_inn, buyer_inn)
    query = (
        select(Document)
        .where(
            Document.kind == kind,
            Document.seller_inn == seller_inn,
            Document.buyer_inn == buyer_inn,
            Document.status.not_in([status.value for status in ENDED_STATUSES]),
            Document.period_start <= period.end,
            Document.period_end >= period.start,
        )
        .order_by(Document.period_start, Document.id)
        .limit(1)
    )
    if exclude_document_id is not None:
        query = query.where(Document.id != exclude_document_id)
    existing = session.scalars(query).first()
    if existing is not None:
        assert existing.period_start is not None and existing.period_end is not None
        issued = existing.document_date or existing.created_at.date()
        raise ValidationFailed([
            overlap_error(existing.number or str(existing.id), issued,
                          Period(existing.period_start, existing.period_end))
        ])


def _ensure_draft_period_free(session: Session, draft: Draft, *, exclude_document_id: int | None) -> None:
    if draft.period is not None:
        ensure_period_free(session, draft.kind.value, draft.seller.inn, draft.buyer.inn, draft.period,
                           exclude_document_id=exclude_document_id)


def _lock_series(session: Session, kind: str, seller_inn: str, buyer_inn: str) -> None:
    """Create the series row if needed, then hold it: the INSERT takes SQLite's write lock, FOR UPDATE PostgreSQL's
    row lock; a concurrent request for the same series waits here until this transaction ends."""
    values = {"kind": kind, "seller_inn": seller_inn, "buyer_inn": buyer_inn}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = session.scalar(insert(DocumentSeries).values(values).on_conflict_do_nothing()
                             .returning(DocumentSeries.id))
    if created is not None:  # inserted by this transaction: nobody else sees it before the commit
        return
    session.execute(
        select(DocumentSeries.id)
        .where(DocumentSeries.kind == kind, DocumentSeries.seller_inn == seller_inn,
               DocumentSeries.buyer_inn == buyer_inn)
        .with_for_update()
    )


def apply_draft(document: Document, draft: Draft) -> None:
    """Copy what lists, search and the period rule read from `draft` onto the document row."""
    document.kind = draft.kind.value
    document.title = draft.title
    document.number = draft.number
    document.document_date = draft.date
    document.period_start = None if draft.period is None else draft.period.start
    document.period_end = None if draft.period is None else draft.period.end
    document.seller_inn = draft.seller.inn
    document.buyer_inn = draft.buyer.inn
    document.counterparty_name = draft.buyer.name
    document.draft_json = json.dumps(draft.to_dict(), ensure_ascii=False)


def _store_new(
    session: Session, document: Document, initiator: User, pdf: bytes, *, now: datetime, ip: str | None,
    details: Mapping[str, object],
) -> Document:
    sha = _sha256(pdf)
    session.add(document)
    session.flush()
    revision = Revision(document_id=document.id, seq=1, source_pdf=pdf, source_sha256=sha, created_at=now)
    session.add(revision)
    hold_new(session, document, revision)
    history.append(session, document, "created", actor=initiator.email, actor_user_id=initiator.id, now=now, ip=ip,
                   revision_sha256=sha, details=details, new_document=True)
    return document


def _record(
    session: Session, document: Document, event: str, *, now: datetime, ip: str | None,
    revision_sha256: str | None, details: Mapping[str, object] | None = None,
) -> None:
    """A history entry by the initiator (the only person who edits a draft)."""
    initiator = session.get(User, document.initiator_id)
    assert initiator is not None
    history.append(session, document, event, actor=initiator.email, actor_user_id=initiator.id, now=now, ip=ip,
                   revision_sha256=revision_sha256, details=details)


def _upload_fields(title: str, kind: str) -> tuple[str, DocumentKind]:
    errors: list[FieldError] = []
    clean_title = " ".join(str(title or "").split())
    if not clean_title:
        errors.append(FieldError("title", "REQUIRED"))
    elif len(clean_title) > MAX_TITLE:
        errors.append(FieldError("title", "TOO-LONG", max_length=MAX_TITLE))
    try:
        document_kind = DocumentKind(str(kind or "").strip())
    except ValueError:
        errors.append(FieldError("kind", "REQUIRED" if not str(kind or "").strip() else "KIND-INVALID"))
    if errors:
        raise ValidationFailed(errors)
    return clean_title, document_kind


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- attachments


def _attachment_type(data: bytes) -> str:
    """`application/pdf` or `image/jpeg` after a full parse; AttachmentRejected for anything else."""
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise AttachmentRejected("size", size=len(data), limit=ATTACHMENT_MAX_BYTES)
    if data.startswith(b"%PDF-"):
        try:
            inspect_pdf(data, ATTACHMENT_PDF_LIMITS)
        except PdfEncrypted:
            raise AttachmentRejected("encrypted") from None
        except PdfRejected:
            raise AttachmentRejected("corrupt") from None
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        _check_jpeg(data)
        return "image/jpeg"
    raise AttachmentRejected("type")


def _check_jpeg(data: bytes) -> None:
    """Decode the whole image: a truncated or damaged JPEG fails here, not in someone's viewer later."""
    problem = image_problem(data, "JPEG", ATTACHMENT_MAX_PIXELS)
    if problem is not None:
        raise AttachmentRejected(problem)


def _safe_filename(filename: str, content_type: str) -> str:
    """The name without any path, control or reserved characters, ending in the extension its type calls for."""
    name = _UNSAFE_FILENAME.sub("", PurePosixPath(str(filename).replace("\\", "/")).name).strip(" .")
    suffix = PurePosixPath(name).suffix if name else ""
    stem = name[: -len(suffix)] if suffix.lower() in (".pdf", ".jpg", ".jpeg") else name
    extension = ".pdf" if content_type == "application/pdf" else ".jpg"
    return (stem.strip(" .") or "attachment")[:200] + extension


# ---------------------------------------------------------------- who sees what


def visible_documents(
    session: Session, user: User, *, query: str = "", status: str | None = None, kind: str | None = None,
    period_month: date | None = None, page: int = 1, per_page: int = 20,
) -> Page:
    """The documents `user` may see, newest first, filtered: `query` searches title, number and counterparty (case
    and ё/е ignored); `period_month` is any day of the month a document belongs to (its period, else its date)."""
    statement = _filtered(select(Document).where(_visible_to(user)), query, status, kind, period_month)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    ordered = statement.order_by(Document.created_at.desc(), Document.id.desc())
    items = list(session.scalars(ordered.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, pages)


def archive_months(session: Session, user: User) -> list[tuple[date, int]]:
    """(1st day of the month, documents in it) for every month `user` has documents in, newest first."""
    query = (
        select(Document.archive_month, func.count())
        .where(_visible_to(user), Document.archive_month.is_not(None))
        .group_by(Document.archive_month)
        .order_by(Document.archive_month.desc())
    )
    return [(month, count) for month, count in session.execute(query) if month is not None]


def get_visible(session: Session, user: User, document_id: int) -> Document:
    """The document if `user` initiated it or is one of its signatories; DocumentNotFound otherwise, the same
    answer as for a document that does not exist."""
    found = session.scalars(select(Document).where(Document.id == document_id, _visible_to(user))).first()
    if found is None:
        raise DocumentNotFound(str(document_id))
    return found


def get_for_initiator(session: Session, user: User, document_id: int) -> Document:
    """The document if `user` initiated it (editing, sending, withdrawing); DocumentNotFound otherwise."""
    found = session.scalars(
        select(Document).where(Document.id == document_id, Document.initiator_id == user.id)
    ).first()
    if found is None:
        raise DocumentNotFound(str(document_id))
    return found


def _visible_to(user: User) -> ColumnElement[bool]:
    """Initiated by `user`, or `user` is a signatory: linked by account, or by the address they have confirmed."""
    as_signatory = Signatory.user_id == user.id
    if user.is_confirmed:
        as_signatory = or_(as_signatory, func.lower(Signatory.email) == user.email.lower())
    signs = exists().where(and_(Signatory.document_id == Document.id, as_signatory))
    return or_(Document.initiator_id == user.id, signs)


def _filtered(
    statement: Select[Document], query: str, status: str | None, kind: str | None, period_month: date | None,
) -> Select[Document]:
    errors = []
    if status and status not in set(DocumentStatus):
        errors.append(FieldError("status", "CHOICE-INVALID"))
    if kind and kind not in set(DocumentKind):
        errors.append(FieldError("kind", "CHOICE-INVALID"))
    if errors:
        raise ValidationFailed(errors)
    needle = search_key(query.strip())
    if needle:
        statement = statement.where(Document.search_text.contains(needle, autoescape=True))
    if status:
        statement = statement.where(Document.status == status)
    if kind:
        statement = statement.where(Document.kind == kind)
    if period_month is not None:
        statement = statement.where(Document.archive_month == period_month.replace(day=1))
    return statement
