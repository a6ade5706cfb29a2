"""What every party of a sent document gets besides the signature: the supporting files (each through the routes
its kind of visitor may use), and for a counterparty without an account, after signing or declining, the offer of
one — the address filled in, and the document in the new cabinet once the address is confirmed."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.models import Attachment, Signatory
from tests.conftest import MailSink, WebUser
from tests.signing.round_fixtures import (
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    run_jobs,
)
from tests.support.pades import plain_pdf
from tests.web.test_round_pages import (  # noqa: F401 - the round pages' clock and job settings
    GUEST,
    OTHER_GUEST,
    _admit,
    _clock,
    _draft,
    _invitation,
    _jobs_read_the_test_settings,
    _person,
    _post,
    _send,
    _sign,
)

INVOICE = plain_pdf(1)
NAME = "Счёт №7 на оплату.pdf"


@dataclass
class Parties:
    """Maria attached a file to an act and sent it to Semён (an account) and a guest; another guest signs another
    document of hers."""

    maria: WebUser
    semen: WebUser
    guest: FlaskClient
    other_guest: FlaskClient
    document_id: int
    attachment_id: int
    guest_id: int
    other_guest_id: int
    guest_link: str


def _attach(user: WebUser, document_id: int, name: str, data: bytes) -> TestResponse:
    token = user.token(f"/documents/{document_id}")
    return user.client.post(f"/documents/{document_id}/attachments", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(data), name), "csrf_token": token})


def _signatory_id(engine: Engine, document_id: int, email: str) -> int:
    with Session(engine) as session:
        return int(session.scalars(select(Signatory.id).where(Signatory.document_id == document_id,
                                                              Signatory.email == email)).one())


@pytest.fixture
def parties(app: Flask, mail: MailSink, engine: Engine, redis: Redis[bytes]) -> Parties:
    maria = _person(app, mail, "Иванова Мария Петровна", "maria@example.ru", "+7 916 123-45-67")
    semen = _person(app, mail, "Сидоров Семён Семёнович", "semen@example.ru", "+7 916 765-43-21")
    document_id = _draft(maria)
    assert _attach(maria, document_id, NAME, INVOICE).status_code == 303
    assert _send(maria, document_id, [(semen.full_name, semen.email), ("Контрагентов Игорь", GUEST)]).status_code \
        == 303
    other_id = _draft(maria, number="13", period={"start": "01.10.2026", "end": "31.10.2026"})
    assert _send(maria, other_id, [("Другой Гость", OTHER_GUEST)]).status_code == 303
    run_jobs(redis)
    guest, other_guest = app.test_client(), app.test_client()
    link = _invitation(mail, GUEST)
    assert _admit(guest, mail, GUEST, link).status_code == 303
    assert _admit(other_guest, mail, OTHER_GUEST, _invitation(mail, OTHER_GUEST)).status_code == 303
    with Session(engine) as session:
        attachment_id = int(session.scalars(select(Attachment.id)).one())
    return Parties(maria, semen, guest, other_guest, document_id, attachment_id,
                   _signatory_id(engine, document_id, GUEST), _signatory_id(engine, other_id, OTHER_GUEST), link)


# ---------------------------------------------------------------- attachments for every party


def test_every_party_sees_the_attachment_and_downloads_it_through_its_own_route(parties: Parties) -> None:
    p = parties
    account_link = f"/documents/{p.document_id}/attachments/{p.attachment_id}"
    for user in (p.maria, p.semen):
        html = user.client.get(f"/documents/{p.document_id}").get_data(as_text=True)
        assert NAME in html and f'href="{account_link}"' in html
        assert 'data-testid="attachment-form"' not in html  # sent: nothing more can be attached
        assert user.client.get(account_link).get_data() == INVOICE
    guest_link = f"/sign/{p.guest_id}/attachments/{p.attachment_id}"
    page = p.guest.get(f"/sign/{p.guest_id}").get_data(as_text=True)
    assert NAME in page and f'href="{guest_link}"' in page
    download = p.guest.get(guest_link)
    assert download.status_code == 200 and download.get_data() == INVOICE
    assert download.headers["Content-Type"] == "application/pdf" and "no-store" in download.headers["Cache-Control"]
    assert f"filename*=UTF-8''{quote(NAME)}" in download.headers["Content-Disposition"]


def test_no_one_else_gets_the_attachment(parties: Parties, app: Flask) -> None:
    p = parties
    for client, path in (
        (p.other_guest, f"/sign/{p.guest_id}/attachments/{p.attachment_id}"),  # another guest's session
        (p.other_guest, f"/sign/{p.other_guest_id}/attachments/{p.attachment_id}"),  # another document's file
        (app.test_client(), f"/sign/{p.guest_id}/attachments/{p.attachment_id}"),
        (p.semen.client, f"/sign/{p.guest_id}/attachments/{p.attachment_id}"),
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_data() != INVOICE
    assert p.guest.get(f"/documents/{p.document_id}/attachments/{p.attachment_id}").status_code == 302  # a login


def test_nothing_is_attached_once_the_document_is_sent(parties: Parties, engine: Engine) -> None:
    p = parties
    refused = _attach(p.maria, p.document_id, "late.pdf", plain_pdf(1))
    assert refused.status_code == 409 and 'data-error-code="DOC-NOT-EDITABLE"' in refused.get_data(as_text=True)
    with Session(engine) as session:
        assert len(session.scalars(select(Attachment.id)).all()) == 1


# ---------------------------------------------------------------- an account afterwards


def test_a_guest_is_offered_an_account_only_after_signing(parties: Parties, mail: MailSink) -> None:
    p = parties
    before = p.guest.get(f"/sign/{p.guest_id}").get_data(as_text=True)
    assert 'data-testid="account-offer"' not in before
    assert _sign(p.guest, mail, p.guest_id, GUEST).status_code == 303
    after = p.guest.get(f"/sign/{p.guest_id}").get_data(as_text=True)
    assert "Создать учётную запись" in after and f'href="/sign/{p.guest_id}/account"' in after


def test_after_declining_the_guest_registers_with_the_address_filled_in_and_finds_the_document(
    parties: Parties, mail: MailSink, engine: Engine
) -> None:
    p = parties
    declined = _post(p.guest, f"/sign/{p.guest_id}/decline", {"reason": "Сумма не совпадает"},
                     token_from=f"/sign/{p.guest_id}")
    assert declined.status_code == 303
    assert "Создать учётную запись" in p.guest.get(f"/sign/{p.guest_id}").get_data(as_text=True)
    offer = p.guest.get(f"/sign/{p.guest_id}/account")
    assert offer.status_code == 303 and offer.headers["Location"] == "/register"  # the address is not in a URL
    form = p.guest.get("/register").get_data(as_text=True)
    assert f'value="{GUEST}"' in form
    igor = WebUser(p.guest, mail, full_name="Контрагентов Игорь Олегович", email=GUEST, phone="+7 916 222-33-44")
    assert igor.register().status_code == 302
    assert igor.confirm().status_code == 302
    cabinet = p.guest.get("/cabinet").get_data(as_text=True)
    assert f'href="/documents/{p.document_id}"' in cabinet
    with Session(engine) as session:
        signatory = session.get(Signatory, p.guest_id)
        assert signatory is not None and signatory.user_id is not None
    page = p.guest.get(f"/documents/{p.document_id}").get_data(as_text=True)
    assert "Сумма не совпадает" in page and NAME in page


def test_a_guest_whose_address_has_an_account_is_offered_to_log_in(
    parties: Parties, app: Flask, mail: MailSink
) -> None:
    p = parties
    semen_as_guest = app.test_client()  # Semён opens his link on a device where he is not logged in
    admitted = _admit(semen_as_guest, mail, p.semen.email, _invitation(mail, p.semen.email))
    sign_path = admitted.headers["Location"]
    declined = _post(semen_as_guest, f"{sign_path}/decline", {"reason": "Не тот договор"}, token_from=sign_path)
    assert declined.status_code == 303
    html = semen_as_guest.get(sign_path).get_data(as_text=True)
    assert 'data-testid="account-offer"' in html and "Создать учётную запись" not in html
    assert 'href="/login"' in html
