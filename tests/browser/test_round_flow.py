"""The signature round in chromium, end to end: an initiator drafts an act from the form, adds two counterparties
and sends; each counterparty opens the link from the mail, confirms the code and signs; the initiator's tracker
turns completed, then delivered, without a reload; the final PDF holds three signatures that poppler's pdfsig
finds valid and trusted and that the engine reads as PAdES B-LTA. And a counterparty who declines with a reason,
which the initiator sees.

Finalization and mail delivery run where they run in production: in a real `rq worker` process on the test Redis.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.config import Settings
from signing.pades import Verdict, VerificationReport, verify
from signing.pades.verify import PadesLevel, SignatureKind
from signing.pki import issuing_ca
from tests.conftest import MailSink, WebUser
from tests.signing.pades.test_pdfsig import nss_db, run, tool  # noqa: F401 - fixture `nss_db`
from tests.signing.round_fixtures import (
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    link_token,
    text_of,
)
from tests.support.live_round import act_fields, code_after, moscow_today, rq_worker, wait_until

pytestmark = pytest.mark.browser

PARTIES = [("Контрагентов Игорь Петрович", "igor@example.org"), ("Покупателева Анна Сергеевна", "anna@example.org")]
WAIT = 60_000
"""Milliseconds to wait for something the worker does (finalization, delivery) to show."""


@pytest.fixture
def worker(job_environment: Settings, tmp_path: Path, redis: object) -> Iterator[subprocess.Popen[bytes]]:
    with rq_worker(tmp_path / "worker.log") as process:
        yield process


@pytest.fixture
def initiator(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


def _logged_in(browser: Browser, live_url: str, user: WebUser) -> Page:
    page = browser.new_context(locale="ru-RU", accept_downloads=True).new_page()
    page.goto(f"{live_url}/login")
    page.get_by_label("Почта или телефон").fill(user.email)
    page.get_by_label("Пароль", exact=True).fill(user.password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    return page


def _draft_act(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/documents/new?kind=act")
    for name, value in act_fields(moscow_today()).items():
        field = page.locator(f'[name="{name}"]')
        if name.endswith("vat_rate"):
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_test_id("create-draft").click()
    expect(page.get_by_test_id("document-status")).to_have_text("Черновик")


def _send(page: Page, parties: list[tuple[str, str]]) -> None:
    for index, (name, email) in enumerate(parties):
        page.get_by_label(f"ФИО, подписант {index + 1}", exact=True).fill(name)
        page.get_by_label(f"Почта, подписант {index + 1}", exact=True).fill(email)
    expect(page.get_by_test_id("initiator-signs")).to_be_checked()  # «Я тоже подписываю (первым)» by default
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("tracker-status")).to_have_text("На подписании")


def _invitation_link(mail: MailSink, email: str) -> str:
    """The personal link from the invitation the worker delivers (wait for it, then read the token)."""
    message = wait_until(lambda: next((m for m in mail.to(email) if "/s/" in text_of(m)), None), 60,
                         f"the invitation to {email}")
    return link_token(message)


def _sign_here(page: Page, mail: MailSink, email: str) -> None:
    """On the signing page: ask for the code, type it from the mail, confirm."""
    before = len(mail.to(email))
    page.get_by_test_id("sign").click()
    expect(page.get_by_label("Код из письма")).to_be_visible()
    page.get_by_label("Код из письма").fill(code_after(mail, email, before))
    page.get_by_test_id("confirm-sign").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Вы подписали документ", timeout=WAIT)


def _open_as_guest(context: BrowserContext, live_url: str, mail: MailSink, email: str) -> Page:
    page = context.new_page()
    before = len(mail.to(email))
    page.goto(f"{live_url}/s/{_invitation_link(mail, email)}")
    expect(page.get_by_test_id("code-sent")).to_contain_text(email[0] + "***@")
    page.get_by_label("Код из письма").fill(code_after(mail, email, before))
    page.get_by_test_id("open-document").click()
    expect(page.get_by_test_id("pdf-viewer")).to_have_attribute("data-pdf-state", "ready", timeout=WAIT)
    return page


def _engine_report(engine: Engine, settings: Settings, pdf: bytes) -> VerificationReport:
    """The engine's verdict, from another thread: Playwright's sync API keeps an event loop running in this one,
    and pyHanko's validation starts its own."""
    def check() -> VerificationReport:
        with Session(engine) as session:
            trust = trust_anchors(session, issuing_ca(settings), now=utcnow())
            session.commit()
        return verify(pdf, trust=trust, now=utcnow())

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(check).result(120)


def _carries_pdf(message: EmailMessage) -> bool:
    return any(part.get_content_type() == "application/pdf" for part in message.iter_attachments())


def test_three_parties_sign_and_the_tracker_turns_completed_then_delivered_without_a_reload(
    browser: Browser, live_url: str, app: Flask, engine: Engine, settings: Settings, mail: MailSink,
    initiator: WebUser, worker: subprocess.Popen[bytes], nss_db: Path, tmp_path: Path,  # noqa: F811
) -> None:
    page = _logged_in(browser, live_url, initiator)
    _draft_act(page, live_url)
    _send(page, PARTIES)
    document_url = page.url

    page.get_by_test_id("go-sign").click()  # the initiator signs first
    _sign_here(page, mail, initiator.email)
    page.goto(document_url)
    expect(page.get_by_test_id("progress")).to_have_text("Подписали 1 из 3")
    page.evaluate("window.__sameDocument = true")

    status = page.get_by_test_id("tracker-status")
    with mail.holding(_carries_pdf):  # the final mails wait in the SMTP conversation until "completed" was seen
        for _name, email in PARTIES:
            context = browser.new_context(locale="ru-RU")
            guest = _open_as_guest(context, live_url, mail, email)
            _sign_here(guest, mail, email)
            context.close()
        expect(status).to_have_text("Подписан", timeout=WAIT)  # finalized by the worker, seen by polling
    expect(status).to_have_text("Доставлено", timeout=WAIT)  # every final mail sent
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    expect(page.get_by_test_id("progress")).to_have_text("Подписали 3 из 3")
    expect(page.locator("#tracker")).not_to_have_attribute("hx-trigger", re.compile(".+"))  # polling stopped

    with page.expect_download() as download:
        page.get_by_test_id("download-final").click()
    final = tmp_path / "final.pdf"
    download.value.save_as(final)
    checked = run(tool("pdfsig"), "-nssdir", f"sql:{nss_db}", "-no-ocsp", str(final))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    signers = [name for name, _email in PARTIES] + [initiator.full_name]
    blocks = checked.stdout.split("Signature #")[1:]
    signed_blocks = [block for block in blocks if any(name in block for name in signers)]
    assert len(signed_blocks) == 3, checked.stdout
    for block in signed_blocks:
        assert "Signature is Valid." in block and "Certificate is Trusted." in block, block
    report = _engine_report(engine, settings, final.read_bytes())
    signatures = [s for s in report.signatures if s.kind == SignatureKind.SIGNATURE]
    assert report.verdict == Verdict.VALID and len(signatures) == 3
    assert all(s.pades_level == PadesLevel.B_LTA for s in signatures)
    for _name, email in PARTIES:
        finals = [m for m in mail.to(email) if "подписан всеми сторонами" in str(m["Subject"])]
        assert len(finals) == 1
        assert [part.get_content_type() for part in finals[0].iter_attachments()] == ["application/pdf"]


def test_a_counterparty_declines_with_a_reason_and_the_initiator_sees_it(
    browser: Browser, live_url: str, mail: MailSink, initiator: WebUser, worker: subprocess.Popen[bytes],
) -> None:
    page = _logged_in(browser, live_url, initiator)
    _draft_act(page, live_url)
    _send(page, PARTIES[:1])
    page.evaluate("window.__sameDocument = true")

    context = browser.new_context(locale="ru-RU")
    guest = _open_as_guest(context, live_url, mail, PARTIES[0][1])
    guest.get_by_test_id("open-decline").click()
    guest.get_by_test_id("decline").click()  # no reason yet
    expect(guest.locator('[data-field-error="reason"]')).to_contain_text("Напишите причину отказа")
    guest.get_by_label("Причина отказа").fill("Объём работ в акте не совпадает с договором")
    guest.get_by_test_id("decline").click()
    expect(guest.get_by_test_id("outcome")).to_contain_text("Объём работ в акте не совпадает с договором")
    context.close()

    expect(page.get_by_test_id("tracker-status")).to_have_text("Отказано", timeout=WAIT)
    expect(page.get_by_test_id("tracker-decline-reason")).to_contain_text("Объём работ в акте не совпадает")
    assert page.evaluate("window.__sameDocument") is True
    declined = wait_until(lambda: [m for m in mail.to(initiator.email) if "Отказ" in str(m["Subject"])], 60,
                          "the decline notice to the initiator")
    assert "Объём работ в акте не совпадает с договором" in text_of(declined[0])
