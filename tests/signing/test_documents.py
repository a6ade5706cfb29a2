"""Documents: drafted from the form or uploaded whole or not at all, one document per period between the same parties
(even under a race), attachments checked by their bytes, and each person sees exactly their own documents."""

from __future__ import annotations

import contextlib
import io
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing import documents, history
from signing.config import Settings
from signing.drafting import DocumentKind, render_pdf
from signing.errors import (
    AttachmentRejected,
    DocumentNotEditable,
    DocumentNotFound,
    NotAPdf,
    PdfTooLarge,
    ValidationFailed,
)
from signing.models import Attachment, Document, DocumentStatus, HistoryEntry, Revision, User
from tests.signing.document_fixtures import IP, NOW, add_signatory, drafted, person
from tests.signing.drafting.examples import SBERBANK, TODAY, YANDEX, form
from tests.signing.pades_io.samples import encrypted_pdf
from tests.support.pades import plain_pdf


def _counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                 for model in (Document, Revision, HistoryEntry, Attachment))


def _codes(error: ValidationFailed) -> dict[str, str]:
    return {field_error.field: field_error.code for field_error in error.errors}


def _jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


# ---------------------------------------------------------------- drafting


def test_a_draft_from_the_form_is_stored_with_its_pdf_and_a_created_entry(engine: Engine) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        document = drafted(session, initiator)
        session.commit()
        revision = documents.current_revision(session, document)
        assert document.status == DocumentStatus.DRAFT and document.source == "form"
        assert document.title == "Акт выполненных работ № 12 от 30.11.2026"
        assert (document.number, document.document_date) == ("12", date(2026, 11, 30))
        assert (document.period_start, document.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
        assert (document.seller_inn, document.buyer_inn) == (SBERBANK["inn"], "500100732259")
        assert revision.seq == 1 and revision.source_pdf.startswith(b"%PDF-") and revision.pdf is None
        [created] = history.entries(session, document.id)
        assert (created.event, created.actor, created.ip) == ("created", initiator.email, IP)
        assert created.revision_sha256 == revision.source_sha256


def test_a_wrong_form_stores_nothing_and_names_each_field(engine: Engine) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        bad = form(number="", buyer={**YANDEX, "inn": "7736207544"})
        with pytest.raises(ValidationFailed) as refused:
            documents.create_from_form(session, initiator, bad, today=TODAY, now=NOW, ip=IP)
        assert _codes(refused.value)["number"] == "REQUIRED"
        assert "buyer.inn" in _codes(refused.value)
        assert _counts(session) == (0, 0, 0, 0)


def test_a_second_act_for_the_same_month_between_the_same_parties_is_refused_naming_the_first(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        drafted(session, initiator)
        session.commit()
        second = form(number="13", date="01.12.2026", period={"start": "15.11.2026", "end": "10.12.2026"})
        with pytest.raises(ValidationFailed) as refused:
            documents.create_from_form(session, initiator, second, today=TODAY, now=NOW, ip=IP)
        [error] = refused.value.errors
        assert (error.field, error.code) == ("period.start", "PERIOD-OVERLAP")
        assert error.params == {"number": "12", "date": "30.11.2026", "period": "за ноябрь 2026 г."}
        session.rollback()
        assert _counts(session) == (1, 1, 1, 0)


@pytest.mark.parametrize("change", [
    {"kind": DocumentKind.INVOICE},
    {"buyer": YANDEX},
    {"seller": {**YANDEX}, "buyer": {**SBERBANK}},
    {"period": {"start": "01.10.2026", "end": "31.10.2026"}},
])
def test_another_kind_other_parties_or_another_month_is_not_an_overlap(engine: Engine, change: dict[str, Any]) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        drafted(session, initiator)
        kind = change.pop("kind", DocumentKind.ACT)
        assert drafted(session, initiator, kind, number="13", **change).id is not None


@pytest.mark.parametrize("ended", [DocumentStatus.WITHDRAWN, DocumentStatus.DECLINED, DocumentStatus.EXPIRED])
def test_a_withdrawn_declined_or_expired_document_frees_its_period(engine: Engine, ended: DocumentStatus) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        drafted(session, initiator).status = ended
        assert drafted(session, initiator, number="13").period_start == date(2026, 11, 1)


def test_two_requests_for_the_same_month_at_once_store_one_document(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request waits (up to 2 s) after its overlap check for the other to pass its own check too: without the
    series lock both would pass and both store; with it the second is still waiting for the lock."""
    with Session(engine) as session:
        initiator_id = person(session, 1).id
        session.commit()
    passed_check = threading.Barrier(2)

    def render_after_the_other_checked(draft: Any) -> bytes:
        with contextlib.suppress(threading.BrokenBarrierError):
            passed_check.wait(2)
        return render_pdf(draft)

    monkeypatch.setattr(documents, "render_pdf", render_after_the_other_checked)
    outcomes: list[str] = []

    def request(number: str) -> None:
        with Session(engine) as own:
            initiator = own.get(User, initiator_id)
            assert initiator is not None
            try:
                documents.create_from_form(own, initiator, form(number=number), today=TODAY, now=NOW, ip=IP)
                own.commit()
                outcomes.append("stored")
            except ValidationFailed as error:
                outcomes.append(error.errors[0].code)

    threads = [threading.Thread(target=request, args=(number,)) for number in ("12", "13")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["PERIOD-OVERLAP", "stored"]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_a_draft_is_re_rendered_when_edited_and_the_history_says_izmeneno(engine: Engine) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        document = drafted(session, initiator)
        before = documents.current_revision(session, document).source_sha256
        documents.update_draft(session, document, form(number="12-А"), today=TODAY, now=NOW + timedelta(hours=1),
                               ip=IP)
        revision = documents.current_revision(session, document)
        assert document.title == "Акт выполненных работ № 12-А от 30.11.2026"
        assert revision.seq == 1 and revision.source_sha256 != before
        assert [(e.event, e.revision_sha256) for e in history.entries(session, document.id)] == [
            ("created", before), ("edited", revision.source_sha256)]
        assert history.EVENT_LABELS["edited"] == "Изменено"


def test_editing_a_draft_keeps_its_own_period_but_a_wrong_edit_changes_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        document = drafted(session, person(session, 1))
        with pytest.raises(ValidationFailed):
            documents.update_draft(session, document, form(number="12", date="31.02.2026"), today=TODAY, now=NOW,
                                   ip=IP)
        assert document.title.endswith("№ 12 от 30.11.2026")
        assert [e.event for e in history.entries(session, document.id)] == ["created"]


def test_a_document_out_for_signature_is_no_longer_edited_as_a_draft(engine: Engine) -> None:
    with Session(engine) as session:
        document = drafted(session, person(session, 1))
        document.status = DocumentStatus.IN_SIGNING
        with pytest.raises(DocumentNotEditable):
            documents.update_draft(session, document, form(number="14"), today=TODAY, now=NOW, ip=IP)


# ---------------------------------------------------------------- uploads and attachments


def test_an_uploaded_pdf_becomes_a_draft_with_the_exact_bytes(engine: Engine, settings: Settings) -> None:
    pdf = plain_pdf(3)
    with Session(engine) as session:
        initiator = person(session, 1)
        document = documents.create_from_upload(session, initiator, title="  Договор  поставки ", kind="contract",
                                                pdf=pdf, settings=settings, now=NOW, ip=IP)
        assert (document.title, document.kind, document.source) == ("Договор поставки", "contract", "upload")
        assert documents.current_revision(session, document).source_pdf == pdf
        assert history.entries(session, document.id)[0].details == '{"pages":3,"source":"upload"}'


@pytest.mark.parametrize(("data", "error"), [
    (b"GIF89a not a pdf", NotAPdf),
    (plain_pdf(padding_bytes=2048), PdfTooLarge),
])
def test_a_bad_upload_is_refused_with_its_reason_and_stores_nothing(
    engine: Engine, settings: Settings, data: bytes, error: type[Exception]
) -> None:
    small = settings.with_overrides(pdf_max_bytes=2048)
    with Session(engine) as session:
        initiator = person(session, 1)
        with pytest.raises(error):
            documents.create_from_upload(session, initiator, title="Акт", kind="act", pdf=data, settings=small,
                                         now=NOW, ip=IP)
        assert _counts(session) == (0, 0, 0, 0)


def test_an_upload_without_a_title_or_with_an_unknown_kind_names_both_fields(
    engine: Engine, settings: Settings
) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        with pytest.raises(ValidationFailed) as refused:
            documents.create_from_upload(session, initiator, title=" ", kind="memo", pdf=plain_pdf(),
                                         settings=settings, now=NOW, ip=IP)
        assert _codes(refused.value) == {"title": "REQUIRED", "kind": "KIND-INVALID"}


def test_pdf_and_jpeg_attachments_are_kept_with_their_type_and_a_safe_name(engine: Engine) -> None:
    with Session(engine) as session:
        document = drafted(session, person(session, 1))
        pdf = documents.add_attachment(session, document, filename="../../etc/Счёт.PDF", data=plain_pdf(),
                                       now=NOW, ip=IP)
        photo = documents.add_attachment(session, document, filename="C:\\фото\\склад", data=_jpeg(), now=NOW,
                                         ip=IP)
        assert (pdf.filename, pdf.content_type) == ("Счёт.pdf", "application/pdf")
        assert (photo.filename, photo.content_type, photo.size) == ("склад.jpg", "image/jpeg", len(_jpeg()))
        assert [e.event for e in history.entries(session, document.id)] == [
            "created", "attachment_added", "attachment_added"]


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "type"),
    (b"just text", "type"),
    (_jpeg()[:200], "corrupt"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 300, "corrupt"),
    (b"%PDF-1.7\n1 0 obj broken", "corrupt"),
    (encrypted_pdf("secret"), "encrypted"),
    (b"%PDF-1.7\n" + b" " * (5 * 1024 * 1024), "size"),
])
def test_an_attachment_that_is_not_a_whole_pdf_or_jpeg_within_5_mb_is_refused(
    engine: Engine, data: bytes, reason: str
) -> None:
    with Session(engine) as session:
        document = drafted(session, person(session, 1))
        with pytest.raises(AttachmentRejected) as refused:
            documents.add_attachment(session, document, filename="x", data=data, now=NOW, ip=IP)
        assert refused.value.reason == reason
        assert _counts(session) == (1, 1, 1, 0)


# ---------------------------------------------------------------- access


def test_a_stranger_gets_not_found_for_every_document_of_others(engine: Engine) -> None:
    with Session(engine) as session:
        owner, signer, stranger = person(session, 1), person(session, 2), person(session, 3)
        mine = [drafted(session, owner, DocumentKind.CONTRACT, number=str(n)) for n in range(3)]
        add_signatory(session, mine[0], signer.email, user=signer)
        for document in mine:
            with pytest.raises(DocumentNotFound):
                documents.get_visible(session, stranger, document.id)
            with pytest.raises(DocumentNotFound):
                documents.get_for_initiator(session, stranger, document.id)
            assert documents.get_for_initiator(session, owner, document.id) is document
        with pytest.raises(DocumentNotFound):
            documents.get_visible(session, stranger, 10**9)
        assert documents.visible_documents(session, stranger).total == 0
        assert documents.archive_months(session, stranger) == []


def test_a_signatory_sees_exactly_the_documents_they_sign_and_edits_none(engine: Engine) -> None:
    with Session(engine) as session:
        owner, linked, by_email = person(session, 1), person(session, 2), person(session, 3)
        unconfirmed = person(session, 4, confirmed=False)
        docs = [drafted(session, owner, DocumentKind.CONTRACT, number=str(n)) for n in range(4)]
        add_signatory(session, docs[0], linked.email, user=linked)
        add_signatory(session, docs[1], by_email.email.upper())
        add_signatory(session, docs[2], unconfirmed.email)
        assert [d.id for d in documents.visible_documents(session, linked).items] == [docs[0].id]
        assert [d.id for d in documents.visible_documents(session, by_email).items] == [docs[1].id]
        assert documents.visible_documents(session, unconfirmed).items == []
        assert documents.get_visible(session, linked, docs[0].id) is docs[0]
        with pytest.raises(DocumentNotFound):
            documents.get_visible(session, linked, docs[1].id)
        with pytest.raises(DocumentNotFound):
            documents.get_for_initiator(session, linked, docs[0].id)
        assert documents.visible_documents(session, owner).total == 4


# ---------------------------------------------------------------- lists


def _list_fixture(session: Session) -> tuple[User, dict[str, Document]]:
    owner = person(session, 1)
    act = drafted(session, owner)
    invoice = drafted(session, owner, DocumentKind.INVOICE, number="СФ-318", buyer=YANDEX,
                      period={"start": "01.10.2026", "end": "31.10.2026"})
    contract = drafted(session, owner, DocumentKind.CONTRACT, number="Д-7", date="05.10.2026")
    contract.status = DocumentStatus.COMPLETED
    return owner, {"act": act, "invoice": invoice, "contract": contract}


@pytest.mark.parametrize(("filters", "expected"), [
    ({"query": "акт выполненных"}, ["act"]),
    ({"query": "СФ-318"}, ["invoice"]),
    ({"query": "сф-318"}, ["invoice"]),
    ({"query": "яндекс"}, ["invoice"]),
    ({"query": "иванов"}, ["act", "contract"]),
    ({"query": "100%"}, []),
    ({"status": "completed"}, ["contract"]),
    ({"kind": "invoice"}, ["invoice"]),
    ({"period_month": date(2026, 11, 17)}, ["act"]),
    ({"period_month": date(2026, 10, 1)}, ["invoice", "contract"]),
    ({"period_month": date(2026, 10, 1), "kind": "contract"}, ["contract"]),
])
def test_search_and_filters_find_by_title_number_counterparty_status_kind_and_month(
    engine: Engine, filters: dict[str, Any], expected: list[str]
) -> None:
    with Session(engine) as session:
        owner, made = _list_fixture(session)
        found = documents.visible_documents(session, owner, **filters)
        assert sorted(d.id for d in found.items) == sorted(made[name].id for name in expected)
        assert found.total == len(expected)


def test_an_unknown_status_or_kind_filter_is_a_field_error(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(ValidationFailed) as refused:
            documents.visible_documents(session, person(session, 1), status="lost", kind="memo")
        assert _codes(refused.value) == {"status": "CHOICE-INVALID", "kind": "CHOICE-INVALID"}


def test_the_archive_counts_documents_per_month_newest_first(engine: Engine) -> None:
    with Session(engine) as session:
        owner, _ = _list_fixture(session)
        assert documents.archive_months(session, owner) == [(date(2026, 11, 1), 1), (date(2026, 10, 1), 2)]


def test_page_2_of_45_documents_holds_the_21st_to_40th_newest(engine: Engine) -> None:
    with Session(engine) as session:
        owner = person(session, 1)
        made = [documents.create_from_form(session, owner, form(DocumentKind.CONTRACT, number=str(n)), today=TODAY,
                                           now=NOW + timedelta(minutes=n), ip=IP) for n in range(45)]
        page = documents.visible_documents(session, owner, page=2)
        assert (page.total, page.page, page.pages, page.has_previous, page.has_next) == (45, 2, 3, True, True)
        assert [d.number for d in page.items] == [str(n) for n in range(24, 4, -1)]
        last = documents.visible_documents(session, owner, page=99)
        assert (last.page, [d.id for d in last.items]) == (3, [d.id for d in reversed(made[:5])])
