"""The vendored pdf.js draws every page of a document in chromium, and htmx adds and removes item rows in place."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import WebUser
from tests.support.pades import plain_pdf

pytestmark = pytest.mark.browser


def _logged_in_page(browser: Browser, live_url: str, user: WebUser) -> Page:
    page = browser.new_context(locale="ru-RU").new_page()
    page.goto(f"{live_url}/login")
    page.get_by_label("Почта или телефон").fill(user.email)
    page.get_by_label("Пароль", exact=True).fill(user.password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    return page


def test_the_viewer_draws_every_page_and_keeps_the_download_link(
    browser: Browser, live_url: str, web_user: WebUser
) -> None:
    web_user.signup()
    token = web_user.token("/documents/new")
    body = {"csrf_token": token, "title": "Три страницы", "kind": "contract",
            "file": (io.BytesIO(plain_pdf(3)), "three.pdf")}
    created = web_user.client.post("/documents/upload", data=body, content_type="multipart/form-data")
    assert created.status_code == 303
    page = _logged_in_page(browser, live_url, web_user)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_url + created.headers["Location"])
    viewer = page.get_by_test_id("pdf-viewer")
    expect(viewer).to_have_attribute("data-pdf-state", "ready", timeout=15000)
    expect(viewer.locator("canvas.pdf-page")).to_have_count(3)
    expect(viewer.locator("canvas.pdf-page").first).to_have_attribute("data-pdf-rendered", "1", timeout=15000)
    expect(viewer.locator("canvas.pdf-page").nth(2)).to_have_attribute("aria-label", "Страница 3 из 3")
    expect(page.get_by_test_id("pdf-download")).to_be_visible()
    assert errors == []


def test_item_rows_are_added_and_removed_without_reloading_the_page(
    browser: Browser, live_url: str, web_user: WebUser
) -> None:
    web_user.signup()
    page = _logged_in_page(browser, live_url, web_user)
    page.goto(f"{live_url}/documents/new?kind=act")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Наименование, строка 1", exact=True).fill("Сопровождение 1С")
    page.get_by_test_id("add-row").click()
    expect(page.locator("tr[data-row]")).to_have_count(4)
    page.get_by_label("Удалить строку 1", exact=True).click()
    expect(page.locator("tr[data-row]")).to_have_count(3)
    expect(page.get_by_label("Наименование, строка 1", exact=True)).to_have_value("")
    assert page.evaluate("window.__sameDocument") is True
    expect(page).to_have_url(re.compile(r"/documents/new\?kind=act$"))
