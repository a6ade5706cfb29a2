"""A person registers, confirms by the emailed code, logs in, switches language and logs out, in chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD, MailSink

pytestmark = pytest.mark.browser


def test_signup_confirm_login_language_logout_and_the_old_session_is_dead(
    browser: Browser, live_url: str, mail: MailSink
) -> None:
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_url}/register")
    page.get_by_label("Фамилия, имя, отчество").fill("Кузнецов Алексей Сергеевич")
    page.get_by_label("Электронная почта").fill("alexey@example.ru")
    page.get_by_label("Телефон", exact=True).fill("+7 903 765-43-21")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Зарегистрироваться").click()

    expect(page.get_by_role("heading", name="Подтвердите адрес почты")).to_be_visible()
    expect(page.locator("[data-resend]")).to_be_disabled()  # the 60-second cooldown is visible
    page.get_by_label("Код из письма").fill(mail.last_code("alexey@example.ru"))
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_test_id("who")).to_have_text("Кузнецов Алексей Сергеевич")

    page.get_by_role("button", name="Выйти").click()
    page.get_by_label("Почта или телефон").fill("8 903 765 43 21")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    expect(page.get_by_test_id("no-documents")).to_be_visible()

    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    logged_in_cookies = context.cookies()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to your account")).to_be_visible()

    replay = browser.new_context()
    replay.add_cookies(logged_in_cookies)  # the cookie from before logout
    stale = replay.new_page()
    stale.goto(f"{live_url}/cabinet")
    expect(stale).to_have_url(f"{live_url}/login?next=/cabinet&expired=1")
    expect(stale.get_by_role("heading", name="Log in to your account")).to_be_visible()
    expect(stale.locator("[data-error-code]")).to_have_attribute("data-error-code", "AUTH-SESSION-EXPIRED")
    replay.close()
    context.close()
