"""Changing a draft before it is sent: an uploaded draft's PDF replaced whole or not at all; and a document's
supporting files listed and fetched only through their own document."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from signing import documents, history
from signing.config import Settings
from signing.errors import DocumentNotEditable, DocumentNotFound, NotAPdf
from signing.models import Document, DocumentStatus
from tests.signing.document_fixtures import IP, NOW, drafted, person
from tests.support.pades import plain_pdf


def _uploaded(session: Session, settings: Settings) -> Document:
    return documents.create_from_upload(session, person(session, 1), title="Договор поставки", kind="contract",
                                        pdf=plain_pdf(1), settings=settings, now=NOW, ip=IP)


def test_an_uploaded_draft_gets_its_new_pdf_in_the_same_revision_with_an_edited_entry(
    engine: Engine, settings: Settings
) -> None:
    with Session(engine) as session:
        document = _uploaded(session, settings)
        replacement = plain_pdf(3)
        documents.replace_upload(session, document, replacement, settings=settings, now=NOW, ip=IP)
        session.commit()
        revision = documents.current_revision(session, document)
        assert revision.seq == 1 and revision.source_pdf == replacement
        last = history.entries(session, document.id)[-1]
        assert (last.event, last.revision_sha256, last.ip) == ("edited", revision.source_sha256, IP)
        assert '"pages":3' in last.details and history.verify_chain(session, document.id).ok


def test_a_replacement_that_is_not_a_pdf_leaves_the_draft_as_it_was(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        document = _uploaded(session, settings)
        before = documents.current_revision(session, document).source_pdf
        with pytest.raises(NotAPdf):
            documents.replace_upload(session, document, b"not a pdf", settings=settings, now=NOW, ip=IP)
        assert documents.current_revision(session, document).source_pdf == before
        assert [e.event for e in history.entries(session, document.id)] == ["created"]


def test_only_an_uploaded_draft_has_its_pdf_replaced(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        from_form = drafted(session, person(session, 2))
        with pytest.raises(DocumentNotEditable):
            documents.replace_upload(session, from_form, plain_pdf(), settings=settings, now=NOW, ip=IP)
        sent = _uploaded(session, settings)
        sent.status = DocumentStatus.IN_SIGNING
        with pytest.raises(DocumentNotEditable):
            documents.replace_upload(session, sent, plain_pdf(), settings=settings, now=NOW, ip=IP)


def test_attachments_are_listed_in_order_without_their_bytes_and_fetched_only_through_their_document(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        owner = person(session, 1)
        document, other = drafted(session, owner), drafted(session, owner, number="13",
                                                           period={"start": "01.10.2026", "end": "31.10.2026"})
        first = documents.add_attachment(session, document, filename="Счёт.pdf", data=plain_pdf(), now=NOW, ip=IP)
        two_pages = plain_pdf(2)
        second = documents.add_attachment(session, document, filename="Акт.pdf", data=two_pages, now=NOW, ip=IP)
        foreign = documents.add_attachment(session, other, filename="Чужое.pdf", data=plain_pdf(), now=NOW, ip=IP)
        ids = (document.id, first.id, second.id, foreign.id)
        session.commit()
    with Session(engine) as session:
        found = session.get(Document, ids[0])
        assert found is not None
        listed = documents.attachments(session, found)
        assert [a.id for a in listed] == list(ids[1:3])
        assert "data" in inspect(listed[0]).unloaded  # the list does not read the files
        assert documents.get_attachment(session, found, ids[2]).data == two_pages
        with pytest.raises(DocumentNotFound):
            documents.get_attachment(session, found, ids[3])
