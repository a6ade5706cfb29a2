"""The security page: the login history (every attempt on an existing account, with its result, local time, IP
and device), «Это был не я», and the live sessions — end one (htmx row in place), end all others — each person's
own only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.models import LoginEvent, UserSession
from tests.conftest import MailSink, WebUser

T0 = datetime(2026, 12, 10, 9, 0, 5, tzinfo=UTC)
"""12:00 in Moscow."""
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0 "
         "Mobile Safari/537.36")
HX = {"HX-Request": "true"}
SESSION_ID = re.compile(r'data-session-id="(\d+)"')


def browser(app: Flask, mail: MailSink, agent: str = FIREFOX, **who: str) -> WebUser:
    """Another browser of the same person (or of `who`)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    return WebUser(client, mail, **who)


def post(user: WebUser, path: str, **headers: str) -> TestResponse:
    return user.client.post(path, data={"csrf_token": user.token("/profile/security")}, headers=headers)


def session_ids(engine: Engine, *, live: bool) -> list[int]:
    with Session(engine) as session:
        ended = UserSession.ended_at.is_(None) if live else UserSession.ended_at.is_not(None)
        query = select(UserSession.id).where(ended)
        return list(session.scalars(query.order_by(UserSession.id)))


def test_the_page_is_reached_from_the_navigation_and_needs_a_login(web_user: WebUser, app: Flask) -> None:
    assert app.test_client().get("/profile/security").headers["Location"].startswith("/login")
    web_user.signup()
    cabinet = web_user.client.get("/cabinet").get_data(as_text=True)
    assert 'href="/profile/security"' in cabinet
    page = web_user.client.get("/profile/security")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"


def test_every_login_attempt_on_an_existing_account_is_recorded_with_its_result(
    app: Flask, mail: MailSink, engine: Engine
) -> None:
    with time_machine.travel(T0, tick=False):
        owner = browser(app, mail)
        owner.signup()
        owner.logout()
        stranger = browser(app, mail, PHONE)
        assert stranger.login(password="неправильный пароль 1").status_code == 401
        assert stranger.login(login="nobody@example.ru").status_code == 401  # no account: nothing to record
        assert owner.login().status_code == 302
        page = owner.client.get("/profile/security").get_data(as_text=True)
    with Session(engine) as session:
        events = session.scalars(select(LoginEvent).order_by(LoginEvent.id)).all()
    assert [e.result for e in events] == ["success", "wrong_password", "success"]  # the first: the confirmation
    assert events[1].user_agent == PHONE and events[1].ip == "127.0.0.1"
    rows = re.findall(r'<tr data-testid="login-event" data-result="(\w+)"', page)
    assert rows == ["success", "wrong_password", "success"]  # newest first
    assert "10.12.2026 12:00" in page  # Moscow time
    assert "Неверный пароль" in page and "Chrome, Android" in page and "Firefox, Linux" in page
    assert "неправильный пароль" not in page


def test_this_wasnt_me_ends_every_session_and_the_old_cookies_are_refused(
    app: Flask, mail: MailSink, engine: Engine
) -> None:
    owner = browser(app, mail)
    owner.signup()
    laptop = browser(app, mail, PHONE)
    laptop.login()
    with Session(engine) as session:
        event_id = session.scalars(select(LoginEvent.id).order_by(LoginEvent.id.desc())).first()
    response = post(owner, f"/profile/security/logins/{event_id}/not-me")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "смените пароль" in owner.client.get("/login").get_data(as_text=True)
    for person in (owner, laptop):
        refused = person.client.get("/cabinet")
        assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert session_ids(engine, live=True) == []
    with Session(engine) as session:
        assert session.get(LoginEvent, event_id).reported_at is not None  # type: ignore[union-attr]
    refused = owner.login()  # the right old password: a new one must be set first
    assert refused.status_code == 403 and "AUTH-RESET-REQUIRED" in refused.get_data(as_text=True)
    assert owner.client.get("/cabinet").status_code == 302


def test_the_session_list_marks_this_session_and_ending_one_kills_that_cookie_only(
    app: Flask, mail: MailSink, engine: Engine
) -> None:
    owner = browser(app, mail)
    owner.signup()
    phone, tablet = browser(app, mail, PHONE), browser(app, mail)
    phone.login()
    tablet.login()
    page = owner.client.get("/profile/security").get_data(as_text=True)
    assert len(SESSION_ID.findall(page)) == 3 and page.count('data-testid="this-session"') == 1
    mine = re.search(r'data-session-id="(\d+)">\s*<p[^>]*><strong>[^<]*</strong>\s*<span class="badge" '
                     r'data-testid="this-session"', page)
    assert mine and int(mine.group(1)) == session_ids(engine, live=True)[0]  # the owner's, opened first
    phones = session_ids(engine, live=True)[1]
    row = post(owner, f"/profile/security/sessions/{phones}/end", **HX)
    html = row.get_data(as_text=True)
    assert row.status_code == 200 and html.lstrip().startswith(f'<li class="session-row" id="session-{phones}"')
    assert 'data-testid="session-ended"' in html and "<html" not in html
    assert phone.client.get("/cabinet").status_code == 302  # that cookie is dead
    assert tablet.client.get("/cabinet").status_code == 200 and owner.client.get("/cabinet").status_code == 200


def test_ending_all_other_sessions_keeps_this_one(app: Flask, mail: MailSink, engine: Engine) -> None:
    owner = browser(app, mail)
    owner.signup()
    others = [browser(app, mail, PHONE), browser(app, mail)]
    for other in others:
        other.login()
    fragment = post(owner, "/profile/security/sessions/end-others", **HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card" id="sessions"') and "Завершено сеансов: 2." in fragment
    assert len(SESSION_ID.findall(fragment)) == 1
    assert all(other.client.get("/cabinet").status_code == 302 for other in others)
    assert owner.client.get("/cabinet").status_code == 200


def test_ending_this_session_from_the_list_logs_out(web_user: WebUser, engine: Engine) -> None:
    web_user.signup()
    (mine,) = session_ids(engine, live=True)
    response = post(web_user, f"/profile/security/sessions/{mine}/end", **HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/login"
    assert web_user.client.get("/cabinet").status_code == 302


def test_another_persons_session_or_login_entry_is_not_found(app: Flask, mail: MailSink, engine: Engine) -> None:
    owner = browser(app, mail)
    owner.signup()
    other = browser(app, mail, full_name="Петров Пётр Петрович", email="petr@example.ru", phone="+7 916 111-22-33")
    other.signup()
    with Session(engine) as session:
        theirs = session.scalars(select(UserSession).where(UserSession.user.has(email="petr@example.ru"))).one()
        their_event = session.scalars(select(LoginEvent.id).where(LoginEvent.user_id == theirs.user_id)).first()
    ended = post(owner, f"/profile/security/sessions/{theirs.id}/end")
    assert ended.status_code == 404 and "SESSION-NOT-FOUND" in ended.get_data(as_text=True)
    assert post(owner, "/profile/security/sessions/999999/end").status_code == 404
    reported = post(owner, f"/profile/security/logins/{their_event}/not-me")
    assert reported.status_code == 404 and "LOGIN-EVENT-NOT-FOUND" in reported.get_data(as_text=True)
    assert other.client.get("/cabinet").status_code == 200 and owner.client.get("/cabinet").status_code == 200


def test_the_security_forms_refuse_a_request_without_the_csrf_token(web_user: WebUser, engine: Engine) -> None:
    web_user.signup()
    (mine,) = session_ids(engine, live=True)
    for path in ("/profile/security/two-factor/enrol", f"/profile/security/sessions/{mine}/end",
                 "/profile/security/sessions/end-others"):
        assert web_user.client.post(path).status_code == 400
    assert web_user.client.get("/cabinet").status_code == 200
