"""«Повторять ежемесячно» in chromium: from a drafted act's page, the number example following the pattern as it is
typed (htmx), the subscription on the «Подписки» page, and cancelling it after the confirmation (the row replaced
in place); the draft form's switch renames its button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_round_flow import _draft_act, _logged_in
from tests.conftest import WebUser

pytestmark = pytest.mark.browser


def test_an_act_repeated_monthly_from_its_page_then_cancelled(browser: Browser, live_url: str,
                                                                web_user: WebUser) -> None:
    web_user.signup()
    page = _logged_in(browser, live_url, web_user)
    _draft_act(page, live_url)

    page.get_by_test_id("repeat-monthly").click()
    expect(page.get_by_role("heading", name="Повторять ежемесячно")).to_be_visible()
    pattern = page.get_by_label("Шаблон номера")
    expect(pattern).not_to_have_value("")
    pattern.fill("АКТ-{yyyy}")
    expect(page.get_by_test_id("number-example")).to_contain_text("счётчик {n}")
    pattern.fill("АКТ-{yyyy}-{n:03}")
    page.get_by_label("Первый номер счётчика").fill("7")
    expect(page.get_by_test_id("number-example").locator("output").first).to_have_text(
        "№ АКТ-" + page.get_by_label("Первый месяц").input_value()[-4:] + "-007")
    page.get_by_label("ФИО, подписант 1", exact=True).fill("Контрагентов Игорь")
    page.get_by_label("Почта, подписант 1", exact=True).fill("igor@example.org")
    page.get_by_test_id("create-subscription").click()

    expect(page.get_by_role("heading", name="Подписки", exact=True)).to_be_visible()
    row = page.get_by_test_id("subscription")
    expect(row.get_by_test_id("subscription-status")).to_have_text("Действует")
    expect(row).to_contain_text("Контрагентов Игорь <igor@example.org>")
    address = page.url
    row.get_by_text("Отменить подписку").click()
    row.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("subscription-status")).to_have_text("Отменена")
    expect(page.get_by_test_id("final")).to_be_visible()
    assert page.url == address  # the row was replaced, the page stayed

    page.goto(f"{live_url}/documents/new?kind=act")
    page.get_by_text("Повторять ежемесячно").click()
    create = page.get_by_test_id("create-draft")
    expect(create).to_have_text("Создать черновик")
    page.get_by_test_id("repeat").check()
    expect(create).to_have_text("Создать подписку")
    page.context.close()
