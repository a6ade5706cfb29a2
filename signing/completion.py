"""The certificate of completion («Лист прохождения документа»): the document's history with hashes, as a PDF.

Times are Moscow time (ДД.ММ.ГГГГ ЧЧ:ММ), every entry shows its actor, IP and the SHA-256 of the revision it
concerns, the signatures list each certificate's serial, and the sheet says whether the history's hash chain holds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import history
from signing.drafting.render import (
    BODY,
    CONTENT_WIDTH,
    FONT,
    GRID,
    HEADING,
    MARGIN,
    SMALL,
    SUBHEADING,
    PageFooter,
    register_fonts,
)
from signing.models import MOSCOW, Document, HistoryEntry, Revision, Signatory, SignatoryState, User

__all__ = ["STATUS_LABELS", "TITLE", "moscow_time", "render_certificate"]

TITLE = "Лист прохождения документа"
STATUS_LABELS = {
    "draft": "Черновик",
    "in_signing": "На подписании",
    "completed": "Подписан",
    "delivered": "Доставлено",
    "declined": "Отказано",
    "withdrawn": "Отозван",
    "expired": "Срок истёк",
}
"""Russian label of each document status (PRODUCT.md)."""
HISTORY_COLUMNS = (28 * mm, 30 * mm, CONTENT_WIDTH - 58 * mm)
SIGNATURE_COLUMNS = (50 * mm, 50 * mm, CONTENT_WIDTH - 126 * mm, 26 * mm)


def moscow_time(moment: datetime | None) -> str:
    """ДД.ММ.ГГГГ ЧЧ:ММ in Moscow, or a dash."""
    return "—" if moment is None else moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def render_certificate(session: Session, document: Document) -> bytes:
    """The certificate of completion of `document` as an A4 PDF."""
    register_fonts()
    out = io.BytesIO()
    sheet = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 5 * mm,
        title=f"{TITLE}: {document.title}", author="Подписант", creator="Podpisant", invariant=1,
        initialFontName=FONT,
    )
    footer = PageFooter(f"{TITLE} · {document.title}")
    sheet.build(_story(session, document), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _story(session: Session, document: Document) -> list[Flowable]:
    entries = history.entries(session, document.id)
    signatories = [s for s in document.signatories if s.state == SignatoryState.SIGNED]
    story: list[Flowable] = [
        Paragraph(TITLE, HEADING),
        Paragraph(_text(document.title), SUBHEADING),
        Spacer(1, 4 * mm),
        *_summary(session, document),
        Spacer(1, 4 * mm),
        Paragraph("<b>История документа</b>", BODY),
        Spacer(1, 1.5 * mm),
        _history_table(entries),
    ]
    if signatories:
        story += [Spacer(1, 4 * mm), Paragraph("<b>Подписи</b>", BODY), Spacer(1, 1.5 * mm),
                  _signatures_table(signatories)]
    return story


def _summary(session: Session, document: Document) -> list[Flowable]:
    initiator = session.get(User, document.initiator_id)
    revision = session.scalars(
        select(Revision).where(Revision.document_id == document.id, Revision.seq == document.current_revision)
    ).first()
    check = history.verify_chain(session, document.id)
    chain = (f"цепочка хешей не нарушена ({check.entries} записей)" if check.ok
             else f"ЦЕПОЧКА НАРУШЕНА на записи № {check.broken_at_seq}")
    status = STATUS_LABELS.get(document.status, document.status)
    lines = [
        f"Документ № {document.id} в сервисе «Подписант», статус: {status}",
        f"Инициатор: {'—' if initiator is None else f'{initiator.full_name} <{initiator.email}>'}",
        f"Создан: {moscow_time(document.created_at)} (время московское)",
        f"Редакция: {document.current_revision}",
    ]
    if revision is not None and revision.final_sha256:
        lines.append(f"SHA-256 итогового PDF: {revision.final_sha256}")
    elif revision is not None:
        lines.append(f"SHA-256 редакции: {revision.pdf_sha256 or revision.source_sha256}")
    lines.append(f"История: {chain}")
    return [Paragraph(_text(line), BODY) for line in lines]


def _history_table(entries: Sequence[HistoryEntry]) -> Table:
    rows: list[list[Flowable]] = [[Paragraph(f"<b>{head}</b>", SMALL) for head in
                                   ("Время (МСК)", "Событие", "Участник, IP, SHA-256 редакции")]]
    for entry in entries:
        who = entry.actor if entry.ip is None else f"{entry.actor}, IP {entry.ip}"
        detail = _text(who)
        if entry.revision_sha256:  # a smaller size keeps «SHA-256: <64 hex>» on one line
            detail += f'<br/><font size="6.5">SHA-256: {escape(entry.revision_sha256)}</font>'
        rows.append([
            Paragraph(moscow_time(entry.at), SMALL),
            Paragraph(_text(history.EVENT_LABELS.get(entry.event, entry.event)), SMALL),
            Paragraph(detail, SMALL),
        ])
    return Table(rows, colWidths=HISTORY_COLUMNS, style=GRID, repeatRows=1)


def _signatures_table(signatories: Sequence[Signatory]) -> Table:
    rows: list[list[Flowable]] = [[Paragraph(f"<b>{head}</b>", SMALL) for head in
                                   ("Подписант", "Эл. почта", "Серийный номер сертификата", "Подписано (МСК)")]]
    for signatory in signatories:
        name = signatory.name if not signatory.organization else f"{signatory.name}, {signatory.organization}"
        rows.append([
            Paragraph(_text(name), SMALL),
            Paragraph(_text(signatory.email), SMALL),
            Paragraph(_text(signatory.certificate_serial or "—"), SMALL),
            Paragraph(moscow_time(signatory.signed_at), SMALL),
        ])
    return Table(rows, colWidths=SIGNATURE_COLUMNS, style=GRID, repeatRows=1)


def _text(value: str) -> str:
    return escape(value)
