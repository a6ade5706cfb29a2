"""A draft before it is sent: edited through the creation form (errors at their fields, nothing stored), an upload's
PDF replaced, supporting files attached and downloaded under their Cyrillic names, and the history chain's check on
the document page — each for the initiator only."""

from __future__ import annotations

import io
from collections.abc import Mapping
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.models import Attachment, HistoryEntry, Revision
from tests.conftest import MailSink, WebUser
from tests.signing.drafting.examples import form
from tests.support.pades import plain_pdf
from tests.web.test_documents_pages import (  # noqa: F401 - `_clock` is the pages' travelled clock
    _clock,
    _create,
    _flat,
    _other_user,
    _upload,
)


@pytest.fixture(name="maria")
def maria_fixture(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


def _post(user: WebUser, path: str, data: Mapping[str, object], *, token_from: str, **headers: str) -> TestResponse:
    return user.client.post(path, data={**data, "csrf_token": user.token(token_from)},
                            content_type="multipart/form-data", headers=headers)


def _source(engine: Engine, document_id: int) -> tuple[bytes, str]:
    with Session(engine) as session:
        revision = session.scalars(select(Revision).where(Revision.document_id == document_id)).one()
        return revision.source_pdf, revision.source_sha256


def _events(engine: Engine, document_id: int) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(HistoryEntry.event).where(HistoryEntry.document_id == document_id)
                                    .order_by(HistoryEntry.seq)))


def _attachments(engine: Engine) -> list[Attachment]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _uploaded(user: WebUser) -> int:
    response = _upload(user, plain_pdf(1))
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


# ---------------------------------------------------------------- editing a draft from the form


def test_editing_a_form_draft_shows_errors_at_their_fields_and_keeps_the_stored_draft(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _create(maria)
    page = maria.client.get(f"/documents/{document_id}")
    assert f'href="/documents/{document_id}/edit"' in page.get_data(as_text=True)
    before = _source(engine, document_id)
    fields = {**_flat(form(number="12-Б")), "buyer.inn": "7707083894", "items.0.price": "дорого"}
    refused = _post(maria, f"/documents/{document_id}/edit", fields, token_from=f"/documents/{document_id}/edit")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-error-code="FORM-INVALID"' in html
    assert 'data-field-error="buyer.inn"' in html and 'data-field-error="items.0.price"' in html
    assert 'name="number" value="12-Б"' in html and 'value="дорого"' in html  # what was typed comes back
    assert _source(engine, document_id) == before and _events(engine, document_id) == ["created"]


def test_htmx_gets_the_edit_form_alone_with_its_errors(maria: WebUser) -> None:
    document_id = _create(maria)
    fields = {**_flat(form()), "date": "31.02.2026"}
    refused = _post(maria, f"/documents/{document_id}/edit", fields, token_from=f"/documents/{document_id}/edit",
                    **{"HX-Request": "true"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and html.lstrip().startswith("<form") and "<html" not in html
    assert 'data-field-error="date"' in html and f'hx-post="/documents/{document_id}/edit"' in html


def test_a_saved_edit_rerenders_the_draft_with_an_edited_entry(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    before = _source(engine, document_id)
    saved = _post(maria, f"/documents/{document_id}/edit", _flat(form(notes="Работы приняты без замечаний")),
                  token_from=f"/documents/{document_id}/edit")
    assert saved.status_code == 303 and saved.headers["Location"] == f"/documents/{document_id}"
    assert _source(engine, document_id)[1] != before[1] and _events(engine, document_id) == ["created", "edited"]
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "Черновик сохранён." in html and 'data-event="edited"' in html


# ---------------------------------------------------------------- replacing an uploaded draft's PDF


def test_an_uploaded_draft_offers_to_replace_its_pdf_and_refuses_a_bad_one_at_the_file(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _uploaded(maria)
    page = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "Заменить PDF" in page and f'href="/documents/{document_id}/edit"' in page
    form_page = maria.client.get(f"/documents/{document_id}/edit").get_data(as_text=True)
    assert 'type="file"' in form_page and 'name="file"' in form_page
    before = _source(engine, document_id)
    refused = _post(maria, f"/documents/{document_id}/edit", {"file": (io.BytesIO(b"not a pdf"), "x.pdf")},
                    token_from=f"/documents/{document_id}/edit")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-field-error="file"' in html and "Файл не является PDF." in html
    missing = _post(maria, f"/documents/{document_id}/edit", {}, token_from=f"/documents/{document_id}/edit")
    assert missing.status_code == 422 and 'data-field-error="file"' in missing.get_data(as_text=True)
    assert _source(engine, document_id) == before and _events(engine, document_id) == ["created"]


def test_a_new_pdf_replaces_an_uploaded_draft_in_place(maria: WebUser, engine: Engine) -> None:
    document_id = _uploaded(maria)
    replacement = plain_pdf(2)
    saved = _post(maria, f"/documents/{document_id}/edit", {"file": (io.BytesIO(replacement), "v2.pdf")},
                  token_from=f"/documents/{document_id}/edit")
    assert saved.status_code == 303
    assert _source(engine, document_id)[0] == replacement and _events(engine, document_id) == ["created", "edited"]
    assert maria.client.get(f"/documents/{document_id}/pdf").get_data() == replacement


def test_only_the_initiator_may_open_or_post_a_drafts_edit(
    maria: WebUser, client: FlaskClient, mail: MailSink, engine: Engine
) -> None:
    document_id = _create(maria)
    before = _source(engine, document_id)
    maria.logout()
    other = _other_user(client, mail)
    assert client.get(f"/documents/{document_id}/edit").status_code == 404
    posted = _post(other, f"/documents/{document_id}/edit", _flat(form(number="99")), token_from="/cabinet")
    assert posted.status_code == 404 and 'data-error-code="DOC-NOT-FOUND"' in posted.get_data(as_text=True)
    assert _source(engine, document_id) == before


# ---------------------------------------------------------------- attachments


def test_the_initiator_attaches_a_pdf_and_a_jpg_and_downloads_them_under_their_names(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _create(maria)
    page = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-testid="attachment-form"' in page and "Вложений пока нет." in page
    invoice = plain_pdf(1)
    for name, data in (("Счёт на оплату №5.pdf", invoice), ("фото склада.jpeg", _jpeg())):
        added = _post(maria, f"/documents/{document_id}/attachments", {"file": (io.BytesIO(data), name)},
                      token_from=f"/documents/{document_id}")
        assert added.status_code == 303 and added.headers["Location"] == f"/documents/{document_id}"
    pdf, photo = _attachments(engine)
    page = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "Вложение добавлено." in page and "Счёт на оплату №5.pdf" in page and "фото склада.jpg" in page
    assert f'href="/documents/{document_id}/attachments/{pdf.id}"' in page
    assert _events(engine, document_id) == ["created", "attachment_added", "attachment_added"]
    download = maria.client.get(f"/documents/{document_id}/attachments/{pdf.id}")
    assert download.status_code == 200 and download.get_data() == invoice
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('Счёт на оплату №5.pdf')}" in disposition
    image = maria.client.get(f"/documents/{document_id}/attachments/{photo.id}")
    assert image.headers["Content-Type"] == "image/jpeg" and image.get_data() == _jpeg()


@pytest.mark.parametrize(("data", "words"), [
    (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "Приложить можно только PDF или JPG."),
    (b"%PDF-1.7\n1 0 obj broken", "Файл повреждён или не читается целиком."),
    (b"%PDF-1.7\n" + b" " * (5 * 1024 * 1024), "Файл больше 5 МБ"),
], ids=["png", "corrupt-pdf", "too-large"])
def test_a_refused_attachment_is_told_at_the_file_field_and_nothing_is_stored(
    maria: WebUser, engine: Engine, data: bytes, words: str
) -> None:
    document_id = _create(maria)
    refused = _post(maria, f"/documents/{document_id}/attachments", {"file": (io.BytesIO(data), "файл.pdf")},
                    token_from=f"/documents/{document_id}")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-error-code="ATTACHMENT-INVALID"' in html
    assert 'data-field-error="file"' in html and words in html
    assert _attachments(engine) == [] and _events(engine, document_id) == ["created"]


def test_posting_no_file_asks_for_one(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    refused = _post(maria, f"/documents/{document_id}/attachments", {}, token_from=f"/documents/{document_id}")
    assert refused.status_code == 422 and "Заполните это поле." in refused.get_data(as_text=True)
    assert _attachments(engine) == []


def test_another_person_neither_adds_nor_downloads_an_attachment(
    maria: WebUser, client: FlaskClient, mail: MailSink, engine: Engine
) -> None:
    document_id, other_document = _create(maria), _uploaded(maria)
    _post(maria, f"/documents/{document_id}/attachments", {"file": (io.BytesIO(_jpeg()), "a.jpg")},
          token_from=f"/documents/{document_id}")
    (attachment,) = _attachments(engine)
    assert maria.client.get(f"/documents/{other_document}/attachments/{attachment.id}").status_code == 404
    maria.logout()
    assert client.get(f"/documents/{document_id}/attachments/{attachment.id}").status_code == 302  # to the login
    other = _other_user(client, mail)
    assert client.get(f"/documents/{document_id}/attachments/{attachment.id}").status_code == 404
    posted = _post(other, f"/documents/{document_id}/attachments", {"file": (io.BytesIO(_jpeg()), "b.jpg")},
                   token_from="/cabinet")
    assert posted.status_code == 404 and len(_attachments(engine)) == 1


# ---------------------------------------------------------------- the history chain


def test_the_document_page_says_whether_the_history_chain_holds(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    _post(maria, f"/documents/{document_id}/edit", _flat(form(notes="Вторая запись")),
          token_from=f"/documents/{document_id}/edit")
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-testid="history-chain" data-ok="true"' in html and "История не изменялась" in html
    with Session(engine) as session, session.begin():  # someone rewrites who made the edit, straight in the DB
        session.execute(update(HistoryEntry).where(HistoryEntry.document_id == document_id, HistoryEntry.seq == 2)
                        .values(actor="someone-else@example.ru"))
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-ok="false"' in html and "Цепочка истории нарушена на записи 2" in html
    assert "История не изменялась" not in html
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(HistoryEntry)) == 2  # the page only reads
