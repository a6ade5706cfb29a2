"""Russian by default, English on request (header, switcher, profile); dates as DD.MM.YYYY."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing.models import User
from tests.conftest import WebUser, csrf_from


def test_russian_is_the_default(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="ru"' in html and "Вход в личный кабинет" in html


def test_accept_language_english_gets_english(client: FlaskClient) -> None:
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="en"' in html and "Log in to your account" in html


def test_the_switcher_sets_the_language_and_returns_to_the_page(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/lang", data={"locale": "en", "next": "/login?x=1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login?x=1"
    assert "Log in to your account" in client.get("/login").get_data(as_text=True)
    evil = client.post("/lang", data={"locale": "ru", "next": "https://evil.example/", "csrf_token": token})
    assert evil.headers["Location"] == "/"


def test_a_logged_in_persons_choice_is_kept_in_the_profile(web_user: WebUser, engine: Engine) -> None:
    web_user.signup()
    token = web_user.token("/cabinet")
    web_user.client.post("/lang", data={"locale": "en", "csrf_token": token})
    with Session(engine) as session:
        assert session.scalars(select(User.locale)).one() == "en"
    web_user.logout()
    web_user.client.delete_cookie("podpisant_session")
    web_user.login()
    assert "My documents" in web_user.client.get("/cabinet").get_data(as_text=True)


def test_dates_are_shown_as_dd_mm_yyyy(web_user: WebUser) -> None:
    with time_machine.travel(datetime(2026, 3, 5, 10, 0, tzinfo=UTC), tick=False):
        web_user.signup()
        html = web_user.client.get("/cabinet").get_data(as_text=True)
    assert 'data-testid="registered">05.03.2026<' in html
