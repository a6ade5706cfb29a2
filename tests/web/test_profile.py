"""The profile page through the real forms: details with INN and SNILS, a new address confirmed by the code mailed
to it (and the old address told), a new phone confirmed by the code sent by SMS."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.config import Settings
from signing.models import User
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.round_fixtures import deliver_all, text_of
from tests.support.sms import RecordingSms


@pytest.fixture
def sms(app: Flask) -> RecordingSms:
    double = RecordingSms()
    app.extensions["podpisant"].sms = double
    return double


@pytest.fixture
def person(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


def _post(user: WebUser, path: str, data: dict[str, str]) -> TestResponse:
    return user.client.post(path, data={**data, "csrf_token": user.token("/profile")})


def _account(engine: Engine) -> User:
    with Session(engine) as session:
        return session.scalars(select(User)).one()


def test_the_profile_page_shows_the_account_and_links_to_security(person: WebUser) -> None:
    html = person.client.get("/profile").get_data(as_text=True)
    assert 'value="Иванова Мария Петровна"' in html and "maria@example.ru" in html
    assert 'href="/profile/security"' in html and "Безопасность" in html


def test_details_are_saved_and_snils_is_shown_as_on_the_card(person: WebUser, engine: Engine) -> None:
    response = _post(person, "/profile", {"full_name": "Иванова Мария Петровна", "inn": "5001 0073 2259",
                                          "snils": "11223344595"})
    assert response.status_code == 303
    assert (_account(engine).inn, _account(engine).snils) == ("500100732259", "11223344595")
    html = person.client.get("/profile").get_data(as_text=True)
    assert 'value="112-233-445 95"' in html and 'value="500100732259"' in html


def test_wrong_inn_and_snils_are_shown_at_their_fields_with_what_was_typed(person: WebUser, engine: Engine) -> None:
    response = _post(person, "/profile", {"full_name": "Иванова Мария", "inn": "500100732258",
                                          "snils": "112-233-445 96"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="inn"' in html and "контрольная цифра" in html
    assert 'data-field-error="snils"' in html and "СНИЛС" in html
    assert 'value="500100732258"' in html and 'value="112-233-445 96"' in html and 'value="Иванова Мария"' in html
    assert 'data-error-code="FORM-INVALID"' in html and "data-reference" in html
    account = _account(engine)
    assert (account.full_name, account.inn, account.snils) == ("Иванова Мария Петровна", None, None)


def test_a_new_address_is_used_only_after_the_code_mailed_to_it_and_the_old_one_is_told(
    person: WebUser, mail: MailSink, engine: Engine, settings: Settings
) -> None:
    response = _post(person, "/profile/email", {"email": "Maria.New@Example.ru"})
    assert response.status_code == 303
    code = mail.last_code("maria.new@example.ru")
    account = _account(engine)
    assert (account.email, account.pending_email) == ("maria@example.ru", "maria.new@example.ru")
    assert 'data-testid="pending-email"' in person.client.get("/profile").get_data(as_text=True)

    wrong = "000000" if code != "000000" else "111111"
    refused = _post(person, "/profile/email/confirm", {"email-code": wrong})
    assert refused.status_code == 422 and "Осталось попыток: 4" in refused.get_data(as_text=True)
    assert f'value="{wrong}"' not in refused.get_data(as_text=True)  # a code is never shown back
    assert _account(engine).email == "maria@example.ru"

    assert _post(person, "/profile/email/confirm", {"email-code": code}).status_code == 303
    assert (_account(engine).email, _account(engine).pending_email) == ("maria.new@example.ru", None)
    deliver_all(engine, settings)
    notice = mail.wait_for("maria@example.ru", count=2)[-1]  # the first was the registration code
    assert "изменён" in notice["Subject"] and "maria.new@example.ru" in text_of(notice)

    person.logout()
    assert person.login(login="maria@example.ru").status_code == 401
    assert person.login(login="maria.new@example.ru").status_code == 302


def test_an_address_another_account_holds_is_refused_at_the_field_and_no_code_goes(
    app: Flask, person: WebUser, mail: MailSink, engine: Engine
) -> None:
    other = WebUser(app.test_client(), mail, email="taken@example.ru", phone="+7 916 000-00-09")
    other.signup()
    before = len(mail.messages)
    response = _post(person, "/profile/email", {"email": "taken@example.ru"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="email"' in html and 'value="taken@example.ru"' in html
    assert len(mail.messages) == before and _account_by(engine, "maria@example.ru").pending_email is None


def test_a_malformed_address_keeps_what_was_typed(person: WebUser) -> None:
    response = _post(person, "/profile/email", {"email": "maria-at-example"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="email"' in html and 'value="maria-at-example"' in html


def test_a_new_phone_is_used_only_after_the_code_sent_by_sms(
    person: WebUser, sms: RecordingSms, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    bad = _post(person, "/profile/phone", {"phone": "+7 916 12"})
    assert bad.status_code == 422 and 'value="+7 916 12"' in bad.get_data(as_text=True) and sms.sent == []

    assert _post(person, "/profile/phone", {"phone": "8 (926) 555-44-33"}).status_code == 303
    assert _account(engine).phone == "+79161234567"
    code = sms.last_code("+79265554433")
    html = person.client.get("/profile").get_data(as_text=True)
    assert 'data-testid="pending-phone"' in html and "Код из SMS" in html

    assert _post(person, "/profile/phone/confirm", {"phone-code": code}).status_code == 303
    assert (_account(engine).phone, _account(engine).pending_phone) == ("+79265554433", None)
    deliver_all(engine, settings)
    assert "Телефон" in mail.wait_for("maria@example.ru", count=2)[-1]["Subject"]


def test_a_confirmation_without_a_change_waiting_is_refused(person: WebUser) -> None:
    response = _post(person, "/profile/phone/confirm", {"phone-code": "123456"})
    assert response.status_code == 422 and 'data-error-code="CODE-EXPIRED"' in response.get_data(as_text=True)


def test_the_profile_is_for_logged_in_people_only(client: FlaskClient) -> None:
    response = client.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    posted = client.post("/profile/email", data={"email": "x@example.ru", "csrf_token": token})
    assert posted.status_code == 302 and "/login" in posted.headers["Location"]


def _account_by(engine: Engine, email: str) -> User:
    with Session(engine) as session:
        return session.scalars(select(User).where(User.email == email)).one()
