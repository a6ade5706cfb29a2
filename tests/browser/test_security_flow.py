"""Two-factor authentication and sessions in chromium: the QR code drawn inline, the first code, the recovery codes,
a second browser's login asking for the code, and that browser's session ended from the list, in place (htmx)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD, MailSink

pytestmark = pytest.mark.browser

T0 = datetime(2026, 12, 10, 9, 0, 5, tzinfo=UTC)
EMAIL = "olga@example.ru"


def _sign_up(page: Page, live_url: str, mail: MailSink) -> None:
    page.goto(f"{live_url}/register")
    page.get_by_label("Фамилия, имя, отчество").fill("Смирнова Ольга Игоревна")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Телефон", exact=True).fill("+7 903 111-22-33")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.get_by_label("Код из письма").fill(mail.last_code(EMAIL))
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def test_enrol_then_a_second_browser_logs_in_with_the_code_and_is_ended_from_the_list(
    browser: Browser, live_url: str, mail: MailSink
) -> None:
    with time_machine.travel(T0, tick=True) as clock:
        first = browser.new_context(locale="ru-RU").new_page()
        _sign_up(first, live_url, mail)
        first.get_by_test_id("nav-security").click()
        expect(first.get_by_role("heading", name="Безопасность", exact=True)).to_be_visible()
        first.get_by_test_id("enable").click()
        expect(first.locator("[data-testid=qr] svg")).to_be_visible()
        secret = re.sub(r"\s", "", first.get_by_test_id("totp-secret").inner_text())
        first.get_by_label("Код из приложения").fill(pyotp.TOTP(secret).now())
        first.get_by_test_id("confirm-enrol").click()
        expect(first.get_by_test_id("recovery-code")).to_have_count(10)

        clock.move_to(T0 + timedelta(seconds=30))  # the next code
        second_context = browser.new_context(locale="ru-RU")
        second = second_context.new_page()
        second.goto(f"{live_url}/login")
        second.get_by_label("Почта или телефон").fill(EMAIL)
        second.get_by_label("Пароль", exact=True).fill(PASSWORD)
        second.get_by_role("button", name="Войти").click()
        expect(second.get_by_role("heading", name="Подтвердите вход")).to_be_visible()
        second.get_by_label("Код из приложения или код восстановления").fill(pyotp.TOTP(secret).now())
        second.get_by_test_id("confirm-login").click()
        expect(second.get_by_role("heading", name="Личный кабинет")).to_be_visible()

        first.goto(f"{live_url}/profile/security")
        rows = first.get_by_test_id("session")
        expect(rows).to_have_count(2)
        expect(first.get_by_test_id("this-session")).to_have_count(1)
        other = rows.filter(has_not=first.get_by_test_id("this-session"))
        other.get_by_test_id("end-session").click()
        expect(other.get_by_test_id("session-ended")).to_be_visible()  # the row replaced itself
        expect(first).to_have_url(f"{live_url}/profile/security")
        expect(first.get_by_test_id("this-session")).to_have_count(1)

        second.goto(f"{live_url}/cabinet")
        expect(second.get_by_role("heading", name="Вход в личный кабинет")).to_be_visible()
        second_context.close()
