"""A person who forgot the password gets a code by mail and sets a new one, in chromium: logged in at once, the new
password opens the account afterwards and the old one no longer does."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from redis import Redis

from signing.config import Settings
from tests.conftest import MailSink, WebUser
from tests.signing.round_fixtures import (
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    run_jobs,
)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "новый-пароль-для-маяка-2027"


def test_forgot_password_from_the_login_page_to_the_cabinet_and_back(
    browser: Browser, live_url: str, web_user: WebUser, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    web_user.signup()
    web_user.logout()
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_url}/login")
    page.get_by_role("link", name="Забыли пароль?").click()
    expect(page.get_by_role("heading", name="Восстановление пароля")).to_be_visible()
    page.get_by_label("Электронная почта").fill(web_user.email)
    page.get_by_role("button", name="Получить код").click()

    expect(page.get_by_role("heading", name="Задайте новый пароль")).to_be_visible()
    expect(page.locator("[data-resend]")).to_be_disabled()  # "send again" waits out its cooldown, visibly
    expect(page.get_by_text("Проверьте папку «Спам»")).to_be_visible()
    expect(page.locator("[data-caps-warning]")).to_have_count(2)  # both password fields warn about Caps Lock
    run_jobs(redis)  # the outbox's delivery job
    page.get_by_label("Код из письма").fill(mail.last_code(web_user.email))
    page.get_by_label("Новый пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Новый пароль ещё раз").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Сменить пароль").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text(web_user.full_name)

    page.get_by_role("button", name="Выйти").click()
    page.get_by_label("Почта или телефон").fill(web_user.email)
    page.get_by_label("Пароль", exact=True).fill(web_user.password)
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("[data-error-code]")).to_have_attribute("data-error-code", "AUTH-INVALID")
    page.get_by_label("Пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    context.close()
