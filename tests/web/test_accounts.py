"""Registration, confirmation, login and logout through the real forms, with mail over SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing.models import User, UserSession
from tests.conftest import MailSink, WebUser, csrf_from


def _users(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_registration_mails_a_code_that_confirms_and_opens_the_cabinet(web_user: WebUser, mail: MailSink) -> None:
    response = web_user.register()
    assert response.status_code == 302 and response.headers["Location"].endswith("/confirm")
    message = mail.wait_for(web_user.email)[0]
    assert "Код подтверждения" in message["Subject"]
    response = web_user.confirm()
    assert response.status_code == 302 and response.headers["Location"].endswith("/cabinet")
    cabinet = web_user.client.get("/cabinet").get_data(as_text=True)
    assert "Иванова Мария Петровна" in cabinet and "Документов пока нет." in cabinet


def test_bad_input_gets_messages_at_the_fields_keeps_what_was_typed_and_stores_nothing(
    web_user: WebUser, engine: Engine, mail: MailSink
) -> None:
    response = web_user.register(phone="+7 916 12", email="maria-at-example.ru", consent="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="phone"' in html and 'data-field-error="email"' in html
    assert 'data-field-error="consent"' in html
    assert 'value="+7 916 12"' in html and 'value="maria-at-example.ru"' in html
    assert 'value="Иванова Мария Петровна"' in html
    assert f'value="{web_user.password}"' in html  # the password was fine: no need to retype it
    assert 'data-error-code="FORM-INVALID"' in html and "data-reference" in html
    assert _users(engine) == 0 and mail.messages == []


def test_a_weak_password_is_refused_at_its_field_and_not_echoed_back(web_user: WebUser, engine: Engine) -> None:
    response = web_user.register(password="1234567890", password_confirm="1234567890")
    html = response.get_data(as_text=True)
    assert 'data-field-error="password"' in html and 'value="1234567890"' not in html
    assert _users(engine) == 0


def test_an_email_already_registered_is_reported_at_the_email_field(web_user: WebUser, engine: Engine) -> None:
    web_user.signup()
    web_user.logout()
    response = web_user.register(phone="+7 916 000-00-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="email"' in html and "уже зарегистрирован" in html
    assert _users(engine) == 1


def test_a_wrong_code_counts_down_and_the_fifth_burns_it(web_user: WebUser, engine: Engine) -> None:
    web_user.register()
    right = web_user.mail.last_code(web_user.email)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        html = web_user.confirm(wrong).get_data(as_text=True)
        assert f"Осталось попыток: {left}" in html and 'data-error-code="CODE-INVALID"' in html
    html = web_user.confirm(wrong).get_data(as_text=True)
    assert 'data-error-code="CODE-ATTEMPTS"' in html
    assert web_user.confirm(right).status_code == 422  # burned: even the right code no longer works
    with Session(engine) as session:
        assert session.scalars(select(User)).one().email_confirmed_at is None


def test_an_expired_code_is_refused_and_a_new_one_after_the_cooldown_works(web_user: WebUser) -> None:
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False) as clock:
        web_user.register()
        old = web_user.mail.last_code(web_user.email)
        page = web_user.client.get("/confirm").get_data(as_text=True)
        assert 'data-countdown="60"' in page  # the visible cooldown
        token = csrf_from(page)
        refused = web_user.client.post("/confirm/resend", data={"csrf_token": token})
        assert 'data-error-code="CODE-COOLDOWN"' in refused.get_data(as_text=True)
        assert len(web_user.mail.to(web_user.email)) == 1
        clock.move_to(t0 + timedelta(minutes=10, seconds=1))
        html = web_user.confirm(old).get_data(as_text=True)
        assert 'data-error-code="CODE-EXPIRED"' in html
        web_user.client.post("/confirm/resend", data={"csrf_token": token})
        new = web_user.mail.last_code(web_user.email, count=2)
        assert web_user.confirm(new).headers["Location"].endswith("/cabinet")


def test_resend_through_htmx_returns_only_the_fragment(web_user: WebUser) -> None:
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False) as clock:
        web_user.register()
        token = web_user.token("/confirm")
        clock.move_to(t0 + timedelta(seconds=61))
        response = web_user.client.post("/confirm/resend", headers={"HX-Request": "true", "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="resend" id="resend">') and "<html" not in html
    assert 'data-countdown="60"' in html
    assert len(web_user.mail.wait_for(web_user.email, count=2)) == 2


def test_login_by_phone_renews_the_session_id(web_user: WebUser, engine: Engine) -> None:
    web_user.signup()
    web_user.logout()
    response = web_user.login(login="8 916 123 45 67")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cabinet")
    with Session(engine) as session:
        records = session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert len(records) == 2 and records[0].ended_at is not None and records[1].ended_at is None
    assert records[0].token_hash != records[1].token_hash


def test_wrong_credentials_get_one_neutral_message(web_user: WebUser) -> None:
    web_user.signup()
    web_user.logout()
    wrong_password = web_user.login(password="не-тот-пароль-вовсе").get_data(as_text=True)
    unknown = web_user.login(login="nobody@example.ru").get_data(as_text=True)
    for html in (wrong_password, unknown):
        assert 'data-error-code="AUTH-INVALID"' in html and "Неверный логин или пароль." in html
    assert f'value="{web_user.email}"' in wrong_password  # the login is kept, the password is not


def test_an_old_cookie_no_longer_opens_the_cabinet_after_logout(web_user: WebUser, client: FlaskClient) -> None:
    web_user.signup()
    stolen = client.get_cookie("podpisant_session")
    assert stolen is not None and client.get("/cabinet").status_code == 200
    web_user.logout()
    client.set_cookie("podpisant_session", stolen.value)  # replay the cookie from before logout
    response = client.get("/cabinet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_thirty_minutes_idle_ends_the_session(web_user: WebUser, client: FlaskClient) -> None:
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False) as clock:
        web_user.signup()
        clock.move_to(t0 + timedelta(minutes=29, seconds=59))
        assert client.get("/cabinet").status_code == 200
        clock.move_to(t0 + timedelta(minutes=59, seconds=59))  # 30:00 after the last request: still in
        assert client.get("/cabinet").status_code == 200
        clock.move_to(t0 + timedelta(minutes=90))  # 30:01 after the last request
        response = client.get("/cabinet")
        assert response.status_code == 302 and "expired=1" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert 'data-error-code="AUTH-SESSION-EXPIRED"' in page
        clock.move_to(t0 + timedelta(minutes=90, seconds=5))
        assert client.get("/cabinet").status_code == 302


def test_an_unconfirmed_account_logging_in_is_sent_to_confirm(web_user: WebUser) -> None:
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False) as clock:
        web_user.register()
        web_user.client.delete_cookie("podpisant_session")
        clock.move_to(t0 + timedelta(minutes=2))
        response = web_user.login()
        assert response.headers["Location"].endswith("/confirm")
        code = web_user.mail.last_code(web_user.email, count=2)
        assert web_user.confirm(code).headers["Location"].endswith("/cabinet")


def test_state_changing_requests_without_a_csrf_token_are_refused(web_user: WebUser) -> None:
    web_user.signup()
    for path in ("/logout", "/lang", "/register", "/login"):
        response = web_user.client.post(path, data={"locale": "en"})
        assert response.status_code == 400, path
        assert 'data-error-code="CSRF-FAILED"' in response.get_data(as_text=True)
    assert web_user.client.get("/cabinet").status_code == 200  # still logged in


def test_htmx_requests_carry_the_token_as_a_header(web_user: WebUser) -> None:
    web_user.signup()
    page = web_user.client.get("/cabinet").get_data(as_text=True)
    assert "hx-headers:inherited=" in page and "X-CSRFToken" in page
    token = csrf_from(page)
    response = web_user.client.post("/lang", data={"locale": "en"},
                                    headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302
    refused = web_user.client.post("/lang", data={"locale": "ru"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and refused.get_data(as_text=True).lstrip().startswith('<div class="error-box"')
