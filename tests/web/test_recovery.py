"""Forgot password, the login lock and the request limits through the real forms: mail over SMTP (the outbox's
delivery job run in-process), limits counted in the test's Redis, time moved with time-machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from signing.config import Settings
from signing.models import OutboxMessage, PasswordResetCode, User
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.round_fixtures import (
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    run_jobs,
    text_of,
)
from web import create_app
from web.limits import storage_uri

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "новый-пароль-для-маяка-2027"
STRANGER = "nobody-here@example.ru"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _jobs_read_the_test_settings(job_environment: Settings) -> None:
    """The outbox's delivery job runs in-process here and reads its settings from the environment."""


@pytest.fixture
def maria(web_user: WebUser) -> WebUser:
    """A confirmed account, logged out."""
    web_user.signup()
    web_user.logout()
    web_user.mail.messages.clear()
    return web_user


def _post(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, **headers: str) -> Any:
    token = csrf_from(client.get(token_from).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


def _forgot(client: FlaskClient, email: str) -> Any:
    return _post(client, "/password/forgot", {"email": email}, token_from="/password/forgot")


def _reset(client: FlaskClient, code: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> Any:
    data = {"code": code, "password": password, "password_confirm": password if confirm is None else confirm}
    return _post(client, "/password/reset", data, token_from="/password/reset")


def _mailed_code(redis: Redis, mail: MailSink, email: str, count: int = 1) -> str:
    run_jobs(redis)
    return mail.last_code(email, count)


def _user(engine: Engine, email: str) -> User:
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def _error_code(response: Any) -> str | None:
    found = re.search(r'data-error-code="([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def _wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


# ---------------------------------------------------------------- forgot password


def test_the_login_page_links_to_forgot_password(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and "Забыли пароль?" in html


def test_a_mailed_code_and_a_new_password_log_in_and_the_old_password_stops_working(
    maria: WebUser, redis: Redis, mail: MailSink, engine: Engine
) -> None:
    response = _forgot(maria.client, maria.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/password/reset")
    page = maria.client.get("/password/reset")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "data-countdown=\"60\"" in page.get_data(as_text=True)  # "send again" waits, visibly
    code = _mailed_code(redis, mail, maria.email)
    response = _reset(maria.client, code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/cabinet")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Иванова Мария Петровна" in maria.client.get("/cabinet").get_data(as_text=True)  # logged in
    run_jobs(redis)
    notice = [m for m in mail.wait_for(maria.email, 2) if "изменён" in str(m["Subject"])]
    assert len(notice) == 1 and "/password/forgot" in text_of(notice[0])
    maria.logout()
    assert maria.login(password=maria.password).status_code == 401
    assert maria.login(password=NEW_PASSWORD).status_code == 302
    with Session(engine) as session:  # the code was redacted from the outbox once sent
        bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "password_reset_code")).all()
        assert bodies and all(code not in body and "[код скрыт]" in body for body in bodies)


def test_an_unknown_address_gets_the_same_answers_as_a_known_one(
    maria: WebUser, app: Flask, redis: Redis, mail: MailSink, engine: Engine
) -> None:
    stranger = app.test_client()
    known, unknown = _forgot(maria.client, maria.email), _forgot(stranger, STRANGER)
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    pages = [c.get("/password/reset").get_data(as_text=True) for c in (maria.client, stranger)]
    assert _normalised(pages[0], maria.email) == _normalised(pages[1], STRANGER)
    wrong = [_reset(c, "000000") for c in (maria.client, stranger)]
    assert [w.status_code for w in wrong] == [422, 422]
    assert _normalised(wrong[0].get_data(as_text=True), maria.email) == _normalised(
        wrong[1].get_data(as_text=True), STRANGER)
    resent = [_post(c, "/password/reset/resend", {}, token_from="/password/reset") for c in (maria.client, stranger)]
    assert [r.status_code for r in resent] == [429, 429]  # the same cooldown for both
    assert _error_code(resent[0]) == _error_code(resent[1]) == "CODE-COOLDOWN"
    run_jobs(redis)
    assert mail.to(STRANGER) == [] and len(mail.to(maria.email)) == 1
    with Session(engine) as session:  # both addresses got a code row: the same work was done
        assert len(session.scalars(select(PasswordResetCode)).all()) == 2


def _normalised(html: str, email: str) -> str:
    """A page with the per-request parts (address, CSRF token, reference id) taken out."""
    html = html.replace(email, "ADDRESS")
    html = re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "TOKEN"', html)
    return re.sub(r"R-[A-Z0-9]{10}", "R-REFERENCE", html)


def test_a_reset_code_works_once(maria: WebUser, app: Flask, redis: Redis, mail: MailSink) -> None:
    _forgot(maria.client, maria.email)
    code = _mailed_code(redis, mail, maria.email)
    assert _reset(maria.client, code).status_code == 302
    other = app.test_client()  # the address is set again in another browser; the used code is offered again
    _forgot(other, maria.email)
    response = _reset(other, code, password="ещё-один-пароль-для-маяка-2028")
    assert response.status_code == 422 and _error_code(response) in ("CODE-EXPIRED", "CODE-INVALID")
    other.post("/logout")
    assert maria.login(password="ещё-один-пароль-для-маяка-2028").status_code == 401


def test_five_wrong_codes_burn_the_code(maria: WebUser, redis: Redis, mail: MailSink) -> None:
    _forgot(maria.client, maria.email)
    code = _mailed_code(redis, mail, maria.email)
    answers = [_reset(maria.client, _wrong_code(code)) for _ in range(5)]
    assert [_error_code(a) for a in answers] == ["CODE-INVALID"] * 4 + ["CODE-ATTEMPTS"]
    assert "Осталось попыток: 4." in answers[0].get_data(as_text=True)
    response = _reset(maria.client, code)
    assert response.status_code == 422 and _error_code(response) == "CODE-ATTEMPTS"
    assert maria.login(password=NEW_PASSWORD).status_code == 401


def test_an_expired_code_is_refused(maria: WebUser, redis: Redis, mail: MailSink) -> None:
    _forgot(maria.client, maria.email)
    code = _mailed_code(redis, mail, maria.email)
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        response = _reset(maria.client, code)
    assert response.status_code == 422 and _error_code(response) == "CODE-EXPIRED"
    assert maria.login(password=maria.password).status_code == 302


def test_a_weak_new_password_costs_no_attempt_and_the_code_still_works(
    maria: WebUser, redis: Redis, mail: MailSink
) -> None:
    _forgot(maria.client, maria.email)
    code = _mailed_code(redis, mail, maria.email)
    response = _reset(maria.client, code, password="1234567890")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="password"' in html
    assert 'value="1234567890"' not in html and f'value="{code}"' not in html  # neither echoed back
    mismatch = _reset(maria.client, code, confirm="другой-пароль-совсем-2027")
    assert 'data-field-error="password_confirm"' in mismatch.get_data(as_text=True)
    assert _reset(maria.client, code).status_code == 302


def test_a_new_code_after_the_cooldown_replaces_the_old_one(maria: WebUser, redis: Redis, mail: MailSink) -> None:
    _forgot(maria.client, maria.email)
    first = _mailed_code(redis, mail, maria.email)
    with time_machine.travel(NOW + timedelta(seconds=90), tick=True):  # the clock ticked during the signup
        response = _post(maria.client, "/password/reset/resend", {}, token_from="/password/reset",
                         **{"HX-Request": "true"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and html.lstrip().startswith('<div class="resend" id="resend">')
        assert "Проверьте папку «Спам»" in html and maria.email in html
        second = _mailed_code(redis, mail, maria.email, count=2)
        assert _error_code(_reset(maria.client, first)) == "CODE-INVALID"
        assert _reset(maria.client, second).status_code == 302


def test_a_reset_ends_every_other_session(maria: WebUser, app: Flask, redis: Redis, mail: MailSink) -> None:
    others = [WebUser(app.test_client(), mail) for _ in range(2)]
    for other in others:
        assert other.login().status_code == 302
        assert other.client.get("/cabinet").status_code == 200
    _forgot(maria.client, maria.email)
    assert _reset(maria.client, _mailed_code(redis, mail, maria.email)).status_code == 302
    for other in others:
        response = other.client.get("/cabinet")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert maria.client.get("/cabinet").status_code == 200


def test_a_logged_in_owner_keeps_the_current_session_and_loses_the_others(
    maria: WebUser, app: Flask, redis: Redis, mail: MailSink
) -> None:
    other = WebUser(app.test_client(), mail)
    other.login()
    maria.login()
    _forgot(maria.client, maria.email)
    assert _reset(maria.client, _mailed_code(redis, mail, maria.email)).status_code == 302
    assert maria.client.get("/cabinet").status_code == 200
    assert other.client.get("/cabinet").status_code == 302


def test_a_mistyped_address_is_shown_at_its_field_and_kept(client: FlaskClient) -> None:
    response = _forgot(client, "maria-at-example.ru")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="email"' in html
    assert 'value="maria-at-example.ru"' in html and response.headers["Referrer-Policy"] == "no-referrer"


def test_the_code_page_without_an_address_goes_to_the_first_step(client: FlaskClient) -> None:
    response = client.get("/password/reset")
    assert response.status_code == 302 and response.headers["Location"].endswith("/password/forgot")


# ---------------------------------------------------------------- the login lock


def test_the_fifth_wrong_password_locks_and_even_the_right_one_is_then_refused_until_a_reset(
    maria: WebUser, redis: Redis, mail: MailSink, engine: Engine
) -> None:
    answers = [maria.login(password="не-тот-пароль-совсем") for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 4 + [423]
    locked = maria.login(password=maria.password)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 423 and _error_code(locked) == "AUTH-LOCKED"
    assert "Вход временно закрыт до 10.12.2026 12:15." in html  # Moscow time, 15 minutes after the 5th
    assert "Забыли пароль?" in html
    assert maria.client.get("/cabinet").status_code == 302
    run_jobs(redis)
    locks = [m for m in mail.to(maria.email) if "закрыт" in str(m["Subject"])]
    assert len(locks) == 1 and "10.12.2026 12:15" in str(locks[0]["Subject"])
    _forgot(maria.client, maria.email)
    assert _reset(maria.client, _mailed_code(redis, mail, maria.email)).status_code == 302
    maria.logout()
    assert maria.login(password=NEW_PASSWORD).status_code == 302
    user = _user(engine, maria.email)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_the_owner_is_mailed_once_per_lock(maria: WebUser, redis: Redis, mail: MailSink) -> None:
    for _ in range(8):
        maria.login(password="не-тот-пароль-совсем")
    run_jobs(redis)
    assert len([m for m in mail.to(maria.email) if "закрыт" in str(m["Subject"])]) == 1


def test_the_lock_ends_after_fifteen_minutes(maria: WebUser, engine: Engine) -> None:
    for _ in range(5):
        maria.login(password="не-тот-пароль-совсем")
    until = _user(engine, maria.email).locked_until
    assert until is not None and timedelta(minutes=15) <= until - NOW < timedelta(minutes=16)
    with time_machine.travel(until - timedelta(seconds=10), tick=False):
        assert maria.login().status_code == 423
    with time_machine.travel(until + timedelta(seconds=1), tick=False):
        assert maria.login().status_code == 302
    assert _user(engine, maria.email).failed_logins == 0


def test_a_success_starts_the_count_over(maria: WebUser, engine: Engine) -> None:
    for _ in range(4):
        maria.login(password="не-тот-пароль-совсем")
    assert _user(engine, maria.email).failed_logins == 4
    assert maria.login().status_code == 302
    maria.logout()
    for _ in range(4):
        assert maria.login(password="не-тот-пароль-совсем").status_code == 401
    assert maria.login().status_code == 302


def test_an_unknown_login_never_says_locked(client: FlaskClient, mail: MailSink) -> None:
    user = WebUser(client, mail, email=STRANGER)
    answers = [user.login(password="не-тот-пароль-совсем") for _ in range(8)]
    assert {a.status_code for a in answers} == {401}
    assert {_error_code(a) for a in answers} == {"AUTH-INVALID"}


def test_a_required_reset_refuses_the_right_password_until_a_new_one_is_set(
    maria: WebUser, redis: Redis, mail: MailSink, engine: Engine
) -> None:
    with Session(engine) as session:
        session.scalars(select(User)).one().password_reset_required = True
        session.commit()
    wrong = maria.login(password="не-тот-пароль-совсем")
    assert wrong.status_code == 401 and _error_code(wrong) == "AUTH-INVALID"  # only the password's owner learns more
    response = maria.login()
    assert response.status_code == 403 and _error_code(response) == "AUTH-RESET-REQUIRED"
    assert maria.client.get("/cabinet").status_code == 302
    _forgot(maria.client, maria.email)
    assert _reset(maria.client, _mailed_code(redis, mail, maria.email)).status_code == 302
    maria.logout()
    assert maria.login(password=NEW_PASSWORD).status_code == 302
    assert _user(engine, maria.email).password_reset_required is False


# ---------------------------------------------------------------- request limits


@pytest.fixture
def patient(settings: Settings, engine: Engine, redis: Redis, mail: MailSink) -> Iterator[WebUser]:
    """A confirmed account, logged out, on an app whose accounts lock only after 100 wrong passwords: the IP limits
    are met first."""
    app = create_app(settings.with_overrides(login_lock_attempts=100))
    user = WebUser(app.test_client(), mail)
    user.signup()
    user.logout()
    yield user
    app.extensions["podpisant"].engine.dispose()


def _login_from(user: WebUser, ip: str, password: str, **headers: str) -> Any:
    token = csrf_from(user.client.get("/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    return user.client.post("/login", data={"login": user.email, "password": password, "csrf_token": token},
                            environ_base={"REMOTE_ADDR": ip}, headers=headers)


def test_the_ip_limit_answers_429_before_the_account_counter_grows(patient: WebUser, engine: Engine) -> None:
    maria = patient
    answers = [_login_from(maria, "198.51.100.7", "не-тот-пароль-совсем") for _ in range(13)]
    assert [a.status_code for a in answers] == [401] * 10 + [429] * 3
    assert _user(engine, maria.email).failed_logins == 10
    limited = answers[-1]
    assert _error_code(limited) == "RATE-LIMITED" and "data-reference" in limited.get_data(as_text=True)
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    as_json = _login_from(maria, "198.51.100.7", maria.password, Accept="application/json")
    error = as_json.get_json()["error"]
    assert as_json.status_code == 429 and error["code"] == "RATE-LIMITED"
    assert error["reference"].startswith("R-") and "Повторите после" in error["hint"]
    assert _user(engine, maria.email).failed_logins == 10
    assert _login_from(maria, "203.0.113.9", maria.password).status_code == 302  # another address is not held up


def test_attempts_refused_by_the_ip_limit_do_not_count_against_the_account(patient: WebUser, engine: Engine) -> None:
    maria = patient
    first = [_login_from(maria, "198.51.100.7", "не-тот-пароль-совсем") for _ in range(15)]
    assert [a.status_code for a in first].count(429) == 5
    second = [_login_from(maria, "198.51.100.8", "не-тот-пароль-совсем") for _ in range(10)]
    assert {a.status_code for a in second} == {401}  # the account's 20 an hour: 10 + 10, the refused 5 not counted
    third = _login_from(maria, "198.51.100.9", maria.password)
    assert third.status_code == 429 and _error_code(third) == "RATE-LIMITED"  # now the account's own limit
    assert _user(engine, maria.email).failed_logins == 20


def test_forgot_password_is_limited_per_ip(client: FlaskClient) -> None:
    answers = [_forgot(client, f"someone{i}@example.ru") for i in range(6)]
    assert [a.status_code for a in answers] == [302] * 5 + [429]
    assert _error_code(answers[-1]) == "RATE-LIMITED" and answers[-1].headers["Retry-After"]


def test_code_entry_is_limited_per_address_whatever_the_ip(
    maria: WebUser, app: Flask, redis: Redis, mail: MailSink
) -> None:
    _forgot(maria.client, maria.email)
    statuses = []
    for i in range(21):
        token = csrf_from(maria.client.get("/password/reset").get_data(as_text=True))
        statuses.append(maria.client.post(
            "/password/reset", data={"code": "12345", "password": "x", "password_confirm": "x", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code)
    assert statuses == [422] * 20 + [429]


def test_the_limits_count_in_the_embedded_redis_through_its_unix_socket() -> None:
    assert storage_uri("unix:///srv/instance/redis/redis.sock") == "redis+unix:///srv/instance/redis/redis.sock"
    assert storage_uri("redis://cache:6379/0") == "redis://cache:6379/0"


def test_a_reset_with_two_factor_on_still_asks_for_the_authenticator_code(
    maria: WebUser, redis: Redis, mail: MailSink, time_machine: TimeMachineFixture
) -> None:
    from tests.web.test_two_factor import enable_two_factor, second_step, signed_in, totp

    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    assert maria.login().status_code in (302, 303)
    secret, _codes = enable_two_factor(maria, moment)
    maria.logout()
    _forgot(maria.client, maria.email)
    response = _reset(maria.client, _mailed_code(redis, mail, maria.email))
    assert response.status_code in (302, 303) and response.headers["Location"].endswith("/login/code")
    assert not signed_in(maria)  # the mailbox is proven, the second factor not yet
    time_machine.move_to(moment + timedelta(minutes=1), tick=False)
    assert second_step(maria, totp(secret, moment + timedelta(minutes=1))).status_code in (302, 303)
    assert signed_in(maria)
