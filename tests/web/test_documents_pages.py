"""Drafts from each kind's form or an uploaded PDF, the document page and its PDF, the cabinet list; and that a
document is invisible (404) to anyone who is not a party to it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing import documents
from signing.drafting import DocumentKind
from signing.models import Document, HistoryEntry, Revision, Signatory, User
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.drafting.examples import SBERBANK, TODAY, YANDEX, form, item
from tests.signing.pades_io.samples import encrypted_pdf
from tests.support.pades import plain_pdf

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
"""TODAY (10.12.2026) in Moscow: November 2026 is over."""


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def maria(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


def _flat(data: dict[str, Any]) -> dict[str, str]:
    """Form input as nested drafting data → the HTML form's field names (`buyer.inn`, `items.0.price`)."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": str(text) for inner, text in value.items()})
        elif isinstance(value, list):
            for index, row in enumerate(value):
                flat.update({f"{key}.{index}.{inner}": str(text) for inner, text in row.items()})
        else:
            flat[key] = str(value)
    return flat


def _post_draft(user: WebUser, fields: dict[str, str], **headers: str) -> TestResponse:
    token = user.token(f"/documents/new?kind={fields.get('kind', 'act')}")
    return user.client.post("/documents/new", data={**fields, "csrf_token": token}, headers=headers)


def _create(user: WebUser, kind: DocumentKind = DocumentKind.ACT, **changes: Any) -> int:
    response = _post_draft(user, _flat(form(kind, **changes)))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r".*/documents/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def _documents(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def _upload(user: WebUser, data: bytes, *, title: str = "Договор поставки", kind: str = "contract") -> TestResponse:
    token = user.token("/documents/new")
    body = {"csrf_token": token, "title": title, "kind": kind, "file": (io.BytesIO(data), "contract.pdf")}
    return user.client.post("/documents/upload", data=body, content_type="multipart/form-data")


def _other_user(client: FlaskClient, mail: MailSink) -> WebUser:
    other = WebUser(client, mail, full_name="Сидоров Семён Семёнович", email="semen@example.ru",
                    phone="+7 916 765-43-21")
    other.signup()
    return other


# ---------------------------------------------------------------- drafting from the form


def test_new_document_offers_every_kind_and_an_upload(maria: WebUser) -> None:
    html = maria.client.get("/documents/new").get_data(as_text=True)
    for kind in DocumentKind:
        assert f'data-kind="{kind.value}"' in html
    assert "Акт выполненных работ" in html and 'action="/documents/upload"' in html and 'type="file"' in html


def test_the_act_form_has_parties_rows_and_the_previous_month_as_its_period(maria: WebUser) -> None:
    html = maria.client.get("/documents/new?kind=act").get_data(as_text=True)
    assert 'name="kind" value="act"' in html
    assert "Исполнитель" in html and "Заказчик" in html
    for path in ("number", "seller.inn", "seller.kpp", "seller.ogrn", "buyer.address", "extra.basis_date"):
        assert f'name="{path}"' in html
    assert 'name="period.start" value="01.11.2026"' in html and 'name="period.end" value="30.11.2026"' in html
    assert 'name="date" value="10.12.2026"' in html
    assert html.count('name="items.') // 5 == 3  # three empty rows of five inputs each
    assert 'name="items.0.weight_kg"' not in html and 'value="add_row"' in html


def test_an_act_from_the_form_becomes_a_draft_with_its_pdf_and_history(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    page = maria.client.get(f"/documents/{document_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Акт выполненных работ № 12 от 30.11.2026" in html
    assert 'data-status="draft"' in html and "Черновик" in html
    assert 'data-event="created"' in html and "10.12.2026 12:00 МСК" in html
    assert f'data-pdf-url="/documents/{document_id}/pdf"' in html and "pdf.worker.min.mjs" in html
    pdf = maria.client.get(f"/documents/{document_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Cache-Control"] == "private, no-store"
    assert "attachment" not in pdf.headers.get("Content-Disposition", "")
    with Session(engine) as session:
        revision = session.scalars(select(Revision).where(Revision.document_id == document_id)).one()
        assert revision.source_pdf == pdf.data
    download = maria.client.get(f"/documents/{document_id}/pdf?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_kind_can_be_drafted_from_its_form(maria: WebUser, kind: DocumentKind) -> None:
    html = maria.client.get(f"/documents/new?kind={kind.value}").get_data(as_text=True)
    for spec in kind.extra_fields:
        assert f'name="extra.{spec.name}"' in html
    assert ('name="carrier.inn"' in html) == kind.has_carrier
    assert ('name="items.0.weight_kg"' in html) == kind.spec.item_weight_required
    document_id = _create(maria, kind)
    assert kind.title in maria.client.get(f"/documents/{document_id}").get_data(as_text=True)


BAD_FIELDS = [
    ("number", "№ 12#", "Номер: буквы, цифры"),
    ("date", "2026-11-30", "ДД.ММ.ГГГГ"),
    ("seller.inn", "7707083894", "не сходится контрольная цифра"),
    ("seller.inn", "77070838", "10 цифр у организации"),
    ("seller.kpp", "77360100", "КПП — 9 знаков"),
    ("buyer.kpp", "773601001", "КПП бывает только у организации"),
    ("seller.ogrn", "1027700132196", "В ОГРН ошибка"),
    ("buyer.ogrn", "1027700132195", "ОГРН не подходит к ИНН"),
    ("buyer.name", "", "Заполните это поле."),
    ("items.0.quantity", "0", "Количество — положительное число"),
    ("items.0.price", "-5", "Цена — число рублей"),
    ("items.0.vat_rate", "20", "22 процента"),
    ("period.end", "31.12.2026", "конец не может быть позже сегодняшнего дня (10.12.2026)"),
    ("period.start", "1 ноября", "Дата периода нужна в виде ДД.ММ.ГГГГ"),
    ("extra.basis_date", "31.02.2026", "ДД.ММ.ГГГГ"),
]


@pytest.mark.parametrize(("path", "bad", "words"), BAD_FIELDS, ids=[f"{p}={b}" for p, b, _ in BAD_FIELDS])
def test_bad_input_is_shown_at_its_field_keeps_what_was_typed_and_stores_nothing(
    maria: WebUser, engine: Engine, path: str, bad: str, words: str
) -> None:
    fields = _flat(form())
    fields[path] = bad
    response = _post_draft(maria, fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-field-error="{path}"' in html and words in html
    assert html.count("data-field-error=") == 1
    assert 'data-error-code="FORM-INVALID"' in html
    assert 'value="ПАО Сбербанк"' in html and 'value="Сопровождение 1С"' in html
    assert 'name="number" value="12"' in html or path == "number"
    if path != "items.0.vat_rate":
        assert f'value="{bad}"' in html
    assert _documents(engine) == 0


def test_a_period_longer_than_a_month_names_the_latest_end(maria: WebUser, engine: Engine) -> None:
    fields = _flat(form(period={"start": "15.10.2026", "end": "30.11.2026"}))
    html = _post_draft(maria, fields).get_data(as_text=True)
    assert 'data-field-error="period.end"' in html and "не позже 14.11.2026" in html
    assert _documents(engine) == 0


def test_an_error_in_a_row_after_a_blank_one_points_at_the_row_as_shown_again(maria: WebUser, engine: Engine) -> None:
    fields = _flat(form(items=[item(), {"name": "", "quantity": "", "price": "", "unit": "", "vat_rate": "22"},
                               item(name="Настройка", price="дорого")]))
    html = _post_draft(maria, fields).get_data(as_text=True)
    assert 'data-field-error="items.1.price"' in html and 'name="items.1.name" value="Настройка"' in html
    assert 'name="items.1.price" value="дорого"' in html
    assert _documents(engine) == 0


def test_a_form_without_items_asks_for_at_least_one_line(maria: WebUser, engine: Engine) -> None:
    html = _post_draft(maria, _flat(form(items=[]))).get_data(as_text=True)
    assert 'data-field-error="items"' in html and "Заполните это поле." in html
    assert _documents(engine) == 0


def test_a_second_act_for_the_same_month_names_the_first(maria: WebUser, engine: Engine) -> None:
    _create(maria)
    response = _post_draft(maria, _flat(form(number="13")))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="period.start"' in html and "№ 12 от 30.11.2026" in html and "за ноябрь 2026 г." in html
    assert _documents(engine) == 1


def test_without_javascript_rows_are_added_and_removed_by_submitting_the_form(maria: WebUser, engine: Engine) -> None:
    fields = _flat(form(items=[item(name="Первая"), item(name="Вторая")]))
    added = _post_draft(maria, {**fields, "action": "add_row"})
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "data-field-error" not in html
    assert 'data-row="3"' in html and 'data-row="4"' not in html  # two typed + one spare + the added one
    assert 'value="Первая"' in html and 'value="ПАО Сбербанк"' in html
    removed = _post_draft(maria, {**fields, "action": "remove_row:0"}).get_data(as_text=True)
    assert 'name="items.0.name" value="Вторая"' in removed and "Первая" not in removed
    assert _documents(engine) == 0


def test_htmx_gets_the_form_fragment_and_a_redirect_header_on_success(maria: WebUser) -> None:
    fields = _flat(form())
    fragment = _post_draft(maria, {**fields, "action": "add_row"}, **{"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<form id="draft-form"')
    created = _post_draft(maria, fields, **{"HX-Request": "true"})
    assert created.status_code == 204 and re.fullmatch(r"/documents/\d+", created.headers["HX-Redirect"])


def test_the_draft_form_reads_in_english(maria: WebUser) -> None:
    html = maria.client.get("/documents/new?kind=waybill", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Consignor" in html and "Carrier" in html and "Add a row" in html and "Vehicle" in html
    assert "Грузоотправитель" not in html


def test_field_errors_read_in_english(maria: WebUser) -> None:
    fields = _flat(form())
    fields["seller.inn"] = "7707083894"
    token = maria.token("/documents/new?kind=act")
    html = maria.client.post("/documents/new", data={**fields, "csrf_token": token},
                             headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "check digit" in html


# ---------------------------------------------------------------- uploads


def test_an_uploaded_pdf_becomes_a_draft(maria: WebUser, engine: Engine) -> None:
    pdf = plain_pdf(2)
    response = _upload(maria, pdf)
    assert response.status_code == 303
    html = maria.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Договор поставки" in html and 'data-status="draft"' in html
    with Session(engine) as session:
        document = session.scalars(select(Document)).one()
        assert document.source == "upload" and document.kind == "contract"
        assert session.scalars(select(Revision.source_pdf)).one() == pdf


@pytest.mark.parametrize(
    ("data", "status", "code", "words"),
    [
        (b"PK\x03\x04 a zip, not a pdf", 422, "PDF-NOT-PDF", "Файл не является PDF."),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog", 422, "PDF-CORRUPT", "PDF повреждён или обрезан."),
        (encrypted_pdf("secret"), 422, "PDF-ENCRYPTED", "PDF защищён паролем."),
        (plain_pdf(padding_bytes=5 * 1024 * 1024 + 10), 413, "PDF-TOO-LARGE", "Файл слишком большой."),
    ],
    ids=["not-a-pdf", "corrupt", "encrypted", "too-large"],
)
def test_a_bad_upload_is_refused_at_the_file_field_and_nothing_is_stored(
    maria: WebUser, engine: Engine, data: bytes, status: int, code: str, words: str
) -> None:
    response = _upload(maria, data)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'data-field-error="file"' in html and words in html and f'data-error-code="{code}"' in html
    assert 'value="Договор поставки"' in html
    assert _documents(engine) == 0


def test_an_upload_without_a_title_asks_for_it(maria: WebUser, engine: Engine) -> None:
    response = _upload(maria, plain_pdf(), title="   ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="title"' in html
    assert _documents(engine) == 0


def test_an_upload_with_an_unknown_kind_is_refused_at_the_kind(maria: WebUser, engine: Engine) -> None:
    response = _upload(maria, plain_pdf(), kind="passport")
    assert response.status_code == 422 and 'data-field-error="kind"' in response.get_data(as_text=True)
    assert _documents(engine) == 0


# ---------------------------------------------------------------- access


def test_another_persons_document_is_not_found_on_every_document_route(
    maria: WebUser, client: FlaskClient, mail: MailSink
) -> None:
    document_id = _create(maria)
    maria.logout()
    _other_user(client, mail)
    for path in (f"/documents/{document_id}", f"/documents/{document_id}/pdf",
                 f"/documents/{document_id}/pdf?download=1"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404, path
        assert 'data-error-code="DOC-NOT-FOUND"' in html and "Акт выполненных работ" not in html
    missing = client.get(f"/documents/{document_id + 1000}")
    assert missing.status_code == 404 and 'data-error-code="DOC-NOT-FOUND"' in missing.get_data(as_text=True)


def test_document_routes_need_a_login(maria: WebUser, client: FlaskClient) -> None:
    document_id = _create(maria)
    maria.logout()
    for path in ("/documents/new", f"/documents/{document_id}", f"/documents/{document_id}/pdf"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/documents/new", data={**_flat(form()), "csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_posting_a_draft_without_the_csrf_token_is_refused(maria: WebUser, engine: Engine) -> None:
    response = maria.client.post("/documents/new", data=_flat(form()))
    assert response.status_code == 400 and 'data-error-code="CSRF-FAILED"' in response.get_data(as_text=True)
    assert _documents(engine) == 0


# ---------------------------------------------------------------- the cabinet list


def _user(engine: Engine, email: str) -> User:
    with Session(engine) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _contracts(engine: Engine, email: str, count: int, **buyer: str) -> None:
    """`count` contracts straight through the documents service (the form path is tested above)."""
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        for number in range(1, count + 1):
            data = form(DocumentKind.CONTRACT, number=f"Д-{number}", buyer={**YANDEX, **buyer})
            documents.create_from_form(session, user, data, today=TODAY, now=NOW, ip="127.0.0.1")
        session.commit()


def test_the_cabinet_lists_pages_of_twenty_newest_first(maria: WebUser, engine: Engine) -> None:
    _contracts(engine, maria.email, 25)
    first = maria.client.get("/cabinet").get_data(as_text=True)
    assert first.count("data-document-id=") == 20 and "Найдено документов: 25" in first
    assert "Страница 1 из 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = maria.client.get("/cabinet?page=2").get_data(as_text=True)
    assert second.count("data-document-id=") == 5 and 'rel="prev"' in second
    assert "Договор № Д-1 от" in second and "Договор № Д-25 от" in first


def test_the_cabinet_searches_by_number_title_and_counterparty(maria: WebUser, engine: Engine) -> None:
    _contracts(engine, maria.email, 3)
    _create(maria)  # an act with the entrepreneur as the counterparty
    by_number = maria.client.get("/cabinet?q=Д-2").get_data(as_text=True)
    assert by_number.count("data-document-id=") == 1 and "Договор № Д-2 от" in by_number
    by_counterparty = maria.client.get("/cabinet?q=иванов").get_data(as_text=True)
    assert by_counterparty.count("data-document-id=") == 1 and "Акт выполненных работ № 12" in by_counterparty
    by_title = maria.client.get("/cabinet?q=акт выполненных").get_data(as_text=True)
    assert by_title.count("data-document-id=") == 1
    nothing = maria.client.get("/cabinet?q=несуществующий").get_data(as_text=True)
    assert "По этим условиям документов нет." in nothing


def test_the_cabinet_filters_by_status_kind_and_month(maria: WebUser, engine: Engine) -> None:
    _contracts(engine, maria.email, 2)
    _create(maria)
    assert maria.client.get("/cabinet?kind=act").get_data(as_text=True).count("data-document-id=") == 1
    assert maria.client.get("/cabinet?status=draft").get_data(as_text=True).count("data-document-id=") == 3
    assert "По этим условиям" in maria.client.get("/cabinet?status=completed").get_data(as_text=True)
    with Session(engine) as session:
        months = documents.archive_months(session, _user(engine, maria.email))
    assert months, "the archive lists the months that have documents"
    month, count = months[0]
    html = maria.client.get(f"/cabinet?month={month:%Y-%m}").get_data(as_text=True)
    assert html.count("data-document-id=") == count and 'data-testid="archive"' in html
    assert "По этим условиям" in maria.client.get("/cabinet?month=1999-01").get_data(as_text=True)


def test_meaningless_filters_are_ignored_rather_than_failing(maria: WebUser, engine: Engine) -> None:
    _contracts(engine, maria.email, 2)
    for query in ("status=bogus", "kind=passport", "month=2026-13", "page=-1", "page=99999999999", "month=x"):
        response = maria.client.get(f"/cabinet?{query}")
        assert response.status_code == 200, query
        assert response.get_data(as_text=True).count("data-document-id=") == 2, query


def test_htmx_gets_only_the_list_fragment(maria: WebUser, engine: Engine) -> None:
    _contracts(engine, maria.email, 2)
    html = maria.client.get("/cabinet?q=Д-1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="documents"')
    assert html.count("data-document-id=") == 1


def test_nobody_sees_another_persons_documents_in_their_list(
    maria: WebUser, engine: Engine, client: FlaskClient, mail: MailSink
) -> None:
    _contracts(engine, maria.email, 3)
    maria.logout()
    _other_user(client, mail)
    html = client.get("/cabinet").get_data(as_text=True)
    assert "data-document-id=" not in html and "Документов пока нет." in html
    assert "data-document-id=" not in client.get("/cabinet?q=Д-1").get_data(as_text=True)


def test_history_entries_are_listed_with_the_revision_hash(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    with Session(engine) as session:
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.document_id == document_id)).one()
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert entry.revision_sha256 and f'title="{entry.revision_sha256}"' in html
    assert maria.email in html and "Создан" in html


def test_the_sberbank_requisites_survive_the_round_trip(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    with Session(engine) as session:
        document = session.get(Document, document_id)
        assert document is not None and document.seller_inn == SBERBANK["inn"]
        assert document.counterparty_name == "ИП Иванов Иван Иванович"


def test_a_signatory_sees_the_document_and_finds_it_in_the_cabinet(
    maria: WebUser, engine: Engine, client: FlaskClient, mail: MailSink
) -> None:
    document_id = _create(maria)
    maria.logout()
    semen = _other_user(client, mail)
    with Session(engine) as session:
        session.add(Signatory(document_id=document_id, position=1, name=semen.full_name, email=semen.email.upper(),
                              field_name="sig1"))
        session.commit()
    page = client.get(f"/documents/{document_id}")
    assert page.status_code == 200 and "Акт выполненных работ № 12" in page.get_data(as_text=True)
    assert client.get(f"/documents/{document_id}/pdf").status_code == 200
    assert f'data-document-id="{document_id}"' in client.get("/cabinet").get_data(as_text=True)
