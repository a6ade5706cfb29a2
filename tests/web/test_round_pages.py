"""The signature round in the browser without JavaScript: sending from the document page, the tracker, the
personal link and the guest's code, the signing page (sign once, decline with a reason), downloads, edits,
reminders and withdrawal; and who may open what — one signatory's link or guest session never opens another's
view or another document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.config import Settings, load_settings
from signing.models import (
    Document,
    DocumentStatus,
    HistoryEntry,
    Invitation,
    OutboxMessage,
    Revision,
    Signatory,
    SignatoryState,
)
from signing.pades import Verdict, VerificationReport, verify
from signing.pades.verify import PadesLevel, SignatureKind
from signing.pki import issuing_ca
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.drafting.examples import form
from tests.signing.round_fixtures import (
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    link_token,
    run_jobs,
    text_of,
)
from tests.support.pades import plain_pdf
from tests.web.test_documents_pages import _flat

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
"""12:00 in Moscow on 10.12.2026: the example act (November 2026) can be drafted."""
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _jobs_read_the_test_settings(job_environment: Settings) -> None:
    """Jobs (delivery, finalization) run in-process here and read their settings from the environment."""


# ---------------------------------------------------------------- people and their browsers


def _person(app: Flask, mail: MailSink, name: str, email: str, phone: str) -> WebUser:
    user = WebUser(app.test_client(), mail, full_name=name, email=email, phone=phone)
    user.signup()
    return user


def _draft(user: WebUser, **changes: Any) -> int:
    token = user.token("/documents/new?kind=act")
    response = user.client.post("/documents/new", data={**_flat(form(**changes)), "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _send_fields(people: list[tuple[str, str]], *, initiator_signs: bool = False, **more: str) -> dict[str, str]:
    fields = {"order": "parallel", "deadline": "", "action": "send", **more}
    if initiator_signs:
        fields["initiator_signs"] = "y"
    for index, (name, email) in enumerate(people):
        fields[f"signatories-{index}-name"] = name
        fields[f"signatories-{index}-email"] = email
    return fields


def _post(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, **headers: str) -> TestResponse:
    page = client.get(token_from)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


def _send(user: WebUser, document_id: int, people: list[tuple[str, str]], **more: Any) -> TestResponse:
    return _post(user.client, f"/documents/{document_id}/send", _send_fields(people, **more),
                 token_from=f"/documents/{document_id}")


def _invitation(mail: MailSink, email: str) -> str:
    """The link in the latest mail to `email` that has one (delivery ran before: the sink holds it already)."""
    with_links = [m for m in mail.to(email) if "/s/" in text_of(m)]
    assert with_links, f"no invitation to {email}"
    return link_token(with_links[-1])


def _admit(client: FlaskClient, mail: MailSink, email: str, token: str) -> TestResponse:
    """Open the personal link, read the code from the mail, type it in."""
    before = len(mail.to(email))
    page = client.get(f"/s/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)[:1500]
    code = mail.last_code(email, before + 1)
    return client.post(f"/s/{token}", data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))})


def _sign(client: FlaskClient, mail: MailSink, signatory: Signatory | int, email: str, *,
          revision: int = 1) -> TestResponse:
    sid = signatory if isinstance(signatory, int) else signatory.id
    before = len(mail.to(email))
    asked = _post(client, f"/sign/{sid}/code", {}, token_from=f"/sign/{sid}")
    assert asked.status_code == 200 and 'name="code"' in asked.get_data(as_text=True)
    code = mail.last_code(email, before + 1)
    return _post(client, f"/sign/{sid}/sign", {"code": code, "revision": str(revision)}, token_from=f"/sign/{sid}")


def _signatory(engine: Engine, document_id: int, email: str) -> Signatory:
    with Session(engine) as session:
        return session.scalars(select(Signatory).where(Signatory.document_id == document_id,
                                                       Signatory.email == email)).one()


def _document(engine: Engine, document_id: int) -> Document:
    with Session(engine, expire_on_commit=False) as session:
        document = session.get(Document, document_id)
        assert document is not None
        session.expunge(document)
        return document


def _count(engine: Engine, model: type, *where: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _signatures(engine: Engine, document_id: int) -> list[int]:
    """Signatures on each revision of the document, oldest first."""
    with Session(engine) as session:
        return list(session.scalars(select(Revision.signature_count).where(Revision.document_id == document_id)
                                    .order_by(Revision.seq)))


def _verified(engine: Engine, pdf: bytes) -> VerificationReport:
    """The engine's report on `pdf` against the service's own trust anchors."""
    with Session(engine) as session:
        trust = trust_anchors(session, issuing_ca(load_settings()), now=utcnow())
        session.commit()
    return verify(pdf, trust=trust, now=utcnow())


def _events(engine: Engine, document_id: int) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(HistoryEntry.event).where(HistoryEntry.document_id == document_id)
                                    .order_by(HistoryEntry.seq)))


@dataclass
class Round:
    """Maria sent an act to Semён (who has an account) and to a counterparty without one, admitted as a guest;
    a second act went to another guest. Pyotr is a stranger to both."""

    maria: WebUser
    semen: WebUser
    guest: FlaskClient
    other_guest: FlaskClient
    stranger: WebUser
    anonymous: FlaskClient
    document_id: int
    other_document_id: int
    semen_id: int
    guest_id: int
    other_guest_id: int
    guest_link: str


GUEST = "party1@example.org"
OTHER_GUEST = "party2@example.org"


@pytest.fixture
def maria(app: Flask, mail: MailSink) -> WebUser:
    return _person(app, mail, "Иванова Мария Петровна", "maria@example.ru", "+7 916 123-45-67")


@pytest.fixture
def sent(app: Flask, mail: MailSink, engine: Engine, redis: Redis[bytes], maria: WebUser) -> Round:
    semen = _person(app, mail, "Сидоров Семён Семёнович", "semen@example.ru", "+7 916 765-43-21")
    stranger = _person(app, mail, "Петров Пётр Петрович", "petr@example.ru", "+7 916 111-22-33")
    document_id = _draft(maria)
    assert _send(maria, document_id, [(semen.full_name, semen.email), ("Контрагентов Игорь", GUEST)]).status_code == 303
    other_id = _draft(maria, number="13", period={"start": "01.10.2026", "end": "31.10.2026"})
    assert _send(maria, other_id, [("Другой Гость", OTHER_GUEST)]).status_code == 303
    run_jobs(redis)  # the invitations: the send enqueued their delivery
    guest, other_guest = app.test_client(), app.test_client()
    link = _invitation(mail, GUEST)
    assert _admit(guest, mail, GUEST, link).status_code == 303
    assert _admit(other_guest, mail, OTHER_GUEST, _invitation(mail, OTHER_GUEST)).status_code == 303
    return Round(maria, semen, guest, other_guest, stranger, app.test_client(), document_id, other_id,
                 _signatory(engine, document_id, semen.email).id, _signatory(engine, document_id, GUEST).id,
                 _signatory(engine, other_id, OTHER_GUEST).id, link)


# ---------------------------------------------------------------- sending


def test_a_draft_offers_the_initiator_the_send_form_with_the_initiator_signing_first(maria: WebUser) -> None:
    document_id = _draft(maria)
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-testid="send-form"' in html and "Я тоже подписываю (первым)" in html
    assert re.search(r'name="initiator_signs" value="y"[^>]*checked', html)
    assert 'name="signatories-0-email"' in html and 'name="signatories-1-email"' in html
    assert 'value="parallel" checked' in html and 'name="deadline"' in html


def test_sending_starts_the_round_and_mails_each_signatory_a_personal_link(
    maria: WebUser, engine: Engine, mail: MailSink, redis: Redis[bytes]
) -> None:
    document_id = _draft(maria)
    response = _send(maria, document_id, [("Контрагентов Игорь", GUEST), ("Второй Подписант", OTHER_GUEST)],
                     initiator_signs=True, deadline="20.12.2026 18:00",
                     **{"signatories-0-organization": "ООО «Ромашка»", "signatories-0-role": "Директор"})
    assert response.status_code == 303 and response.headers["Location"] == f"/documents/{document_id}"
    document = _document(engine, document_id)
    assert document.status == DocumentStatus.IN_SIGNING
    assert document.deadline == datetime(2026, 12, 20, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
    assert "signing.jobs.deliver_outbox" in run_jobs(redis)
    for email, count in ((maria.email, 2), (GUEST, 1), (OTHER_GUEST, 1)):  # Maria's first mail confirmed her
        assert re.search(r"http://localhost/s/[\w-]{40,}", text_of(mail.wait_for(email, count)[-1]))
    html = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-testid="send-form"' not in html and 'data-testid="tracker"' in html
    assert "Подписали 0 из 3" in html and "ООО «Ромашка»" in html and "Директор" in html
    assert html.count("Приглашение отправлено") == 3 and "20.12.2026 18:00 МСК" in html
    assert 'data-testid="round-actions"' in html


SEND_ERRORS = [
    ({"signatories-0-email": "не-почта"}, "signatories-0-email", "Адрес почты записан с ошибкой"),
    ({"signatories-0-name": ""}, "signatories-0-name", "Укажите фамилию, имя"),
    ({"signatories-1-email": GUEST}, "signatories-1-email", "Этот адрес уже есть в списке"),
    ({"deadline": "завтра"}, "deadline", "ДД.ММ.ГГГГ ЧЧ:ММ"),
    ({"deadline": "31.02.2027 10:00"}, "deadline", "ДД.ММ.ГГГГ ЧЧ:ММ"),
    ({"deadline": "01.12.2026 10:00"}, "deadline", "позже текущего момента"),
    ({"order": "random"}, "order", "Выберите порядок подписания"),
]


@pytest.mark.parametrize(("changes", "path", "words"), SEND_ERRORS, ids=[p for _, p, _ in SEND_ERRORS])
def test_a_send_form_with_a_mistake_shows_it_at_its_field_and_stores_nothing(
    maria: WebUser, engine: Engine, changes: dict[str, str], path: str, words: str
) -> None:
    document_id = _draft(maria)
    fields = {**_send_fields([("Контрагентов Игорь", GUEST), ("Второй Подписант", OTHER_GUEST)]), **changes}
    response = _post(maria.client, f"/documents/{document_id}/send", fields, token_from=f"/documents/{document_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-field-error="{path}"' in html and words in html and 'data-error-code="FORM-INVALID"' in html
    assert 'value="Второй Подписант"' in html  # what was typed comes back
    assert _document(engine, document_id).status == DocumentStatus.DRAFT
    assert _count(engine, Signatory) == 0 and _count(engine, OutboxMessage) == 0 and _count(engine, Invitation) == 0
    with Session(engine) as session:
        assert session.scalars(select(Revision.pdf)).one() is None


def test_every_mistake_of_the_send_form_is_shown_at_once(maria: WebUser, engine: Engine) -> None:
    document_id = _draft(maria)
    fields = _send_fields([("", "плохо"), ("Второй", GUEST)], deadline="вчера")
    html = _post(maria.client, f"/documents/{document_id}/send", fields,
                 token_from=f"/documents/{document_id}").get_data(as_text=True)
    for path in ("signatories-0-name", "signatories-0-email", "deadline"):
        assert f'data-field-error="{path}"' in html, path
    assert _count(engine, Signatory) == 0


def test_sending_to_nobody_asks_for_a_signatory(maria: WebUser, engine: Engine) -> None:
    document_id = _draft(maria)
    response = _send(maria, document_id, [])
    assert response.status_code == 422 and "Добавьте хотя бы одного подписанта" in response.get_data(as_text=True)
    assert _count(engine, Signatory) == 0


def test_signatory_rows_are_added_and_removed_by_submitting_and_blank_rows_are_skipped(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _draft(maria)
    fields = _send_fields([("Первый", "first@example.org"), ("Второй", "second@example.org")])
    added = _post(maria.client, f"/documents/{document_id}/send", {**fields, "action": "add_row"},
                  token_from=f"/documents/{document_id}", **HX)
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and html.lstrip().startswith('<form id="send-form"')
    assert 'data-signatory-row="3"' in html and 'data-signatory-row="4"' not in html  # 2 typed, 1 spare, 1 added
    removed = _post(maria.client, f"/documents/{document_id}/send", {**fields, "action": "remove_row:0"},
                    token_from=f"/documents/{document_id}").get_data(as_text=True)
    assert 'name="signatories-0-name" value="Второй"' in removed and "Первый" not in removed
    assert _count(engine, Signatory) == 0
    gap = {**_send_fields([("Первый", "first@example.org")]), "signatories-3-name": "Четвёртый",
           "signatories-3-email": "fourth@example.org"}
    assert _post(maria.client, f"/documents/{document_id}/send", gap,
                 token_from=f"/documents/{document_id}").status_code == 303
    with Session(engine) as session:
        assert [s.email for s in session.scalars(select(Signatory).order_by(Signatory.position))] == \
            ["first@example.org", "fourth@example.org"]


# ---------------------------------------------------------------- the personal link and the guest


def test_the_link_asks_a_guest_for_the_code_mailed_to_their_masked_address(
    sent: Round, app: Flask, mail: MailSink
) -> None:
    browser = app.test_client()
    page = browser.get(f"/s/{sent.guest_link}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "p***@example.org" in html and GUEST not in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and "no-store" in page.headers["Cache-Control"]
    assert 'name="code"' in html and "Акт выполненных работ № 12" in html
    assert browser.get(f"/sign/{sent.guest_id}").status_code == 404  # no session yet


def test_a_wrong_code_counts_and_says_how_many_tries_are_left(sent: Round, app: Flask, engine: Engine) -> None:
    with time_machine.travel(NOW + timedelta(minutes=2), tick=True):  # a new code may go a minute after the last
        browser = app.test_client()
        page = browser.get(f"/s/{sent.guest_link}").get_data(as_text=True)
        wrong = browser.post(f"/s/{sent.guest_link}", data={"code": "000000", "csrf_token": csrf_from(page)})
        html = wrong.get_data(as_text=True)
        assert wrong.status_code == 422 and 'data-field-error="code"' in html and "Осталось попыток: 4" in html
        assert "podpisant_guest_" not in str(wrong.headers.getlist("Set-Cookie"))
        garbage = browser.post(f"/s/{sent.guest_link}", data={"code": "abc", "csrf_token": csrf_from(page)})
        assert garbage.status_code == 422 and "Введите 6 цифр из письма." in garbage.get_data(as_text=True)
        assert browser.get(f"/sign/{sent.guest_id}").status_code == 404


def test_the_guest_session_opens_this_signatory_only_and_marks_the_document_viewed(
    sent: Round, engine: Engine
) -> None:
    page = sent.guest.get(f"/sign/{sent.guest_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert f'data-pdf-url="/sign/{sent.guest_id}/pdf"' in html and 'data-testid="sign"' in html
    assert "Сидоров Семён Семёнович" in html and "semen@example.ru" not in html  # who else signs, no addresses
    assert _signatory(engine, sent.document_id, GUEST).state == SignatoryState.VIEWED
    pdf = sent.guest.get(f"/sign/{sent.guest_id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "no-store" in pdf.headers["Cache-Control"]
    tracker = sent.maria.client.get(f"/documents/{sent.document_id}/tracker", headers=HX).get_data(as_text=True)
    assert "Открыл документ" in tracker


def test_a_signatory_with_an_account_goes_straight_in_from_the_link(sent: Round, mail: MailSink) -> None:
    link = _invitation(mail, sent.semen.email)
    before = len(mail.to(sent.semen.email))
    response = sent.semen.client.get(f"/s/{link}")
    assert response.status_code == 303 and response.headers["Location"] == f"/sign/{sent.semen_id}"
    assert len(mail.to(sent.semen.email)) == before  # no code needed to open it
    assert sent.semen.client.get(f"/sign/{sent.semen_id}").status_code == 200
    document_page = sent.semen.client.get(f"/documents/{sent.document_id}").get_data(as_text=True)
    assert f'href="/sign/{sent.semen_id}"' in document_page  # «Перейти к подписанию»
    assert 'data-testid="round-actions"' not in document_page  # the initiator's buttons are not his


def test_asking_for_another_code_within_a_minute_is_refused_with_the_wait(sent: Round, app: Flask,
                                                                            mail: MailSink) -> None:
    browser = app.test_client()
    page = browser.get(f"/s/{sent.guest_link}").get_data(as_text=True)
    assert "новый можно запросить через" in page  # the admission code went out moments ago
    before = len(mail.to(GUEST))
    again = browser.post(f"/s/{sent.guest_link}/code", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 429 and 'data-error-code="CODE-COOLDOWN"' in again.get_data(as_text=True)
    sign_code = _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    assert sign_code.status_code == 200
    twice = _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    assert twice.status_code == 200 and "Новый можно запросить через" in twice.get_data(as_text=True)
    assert 'name="code"' in twice.get_data(as_text=True)  # the code sent a moment ago can still be typed
    assert len(mail.to(GUEST)) == before + 1  # one signing code, nothing more


def test_in_turn_order_only_the_first_is_invited_and_the_next_waits(
    maria: WebUser, engine: Engine, mail: MailSink, redis: Redis[bytes]
) -> None:
    document_id = _draft(maria)
    response = _send(maria, document_id, [("Первый Гость", GUEST), ("Второй Гость", OTHER_GUEST)], order="sequential")
    assert response.status_code == 303
    run_jobs(redis)
    assert mail.to(GUEST) and not mail.to(OTHER_GUEST)
    tracker = maria.client.get(f"/documents/{document_id}/tracker", headers=HX).get_data(as_text=True)
    assert "По очереди" in tracker and "Ждёт очереди" in tracker and "Приглашение отправлено" in tracker


def test_a_guest_session_ends_after_thirty_idle_minutes(sent: Round) -> None:
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        response = sent.guest.get(f"/sign/{sent.guest_id}")
    assert response.status_code == 401
    assert 'data-error-code="GUEST-SESSION-EXPIRED"' in response.get_data(as_text=True)
    assert sent.guest.get(f"/sign/{sent.guest_id}").status_code == 404  # the cookie is gone with it


def test_the_link_opened_again_after_the_session_ended_asks_for_a_new_code(sent: Round, mail: MailSink) -> None:
    with time_machine.travel(NOW + timedelta(minutes=31), tick=True):
        before = len(mail.to(GUEST))
        again = sent.guest.get(f"/s/{sent.guest_link}")
        assert again.status_code == 200 and 'name="code"' in again.get_data(as_text=True)
        code = mail.last_code(GUEST, before + 1)  # a fresh code
        admitted = sent.guest.post(f"/s/{sent.guest_link}",
                                   data={"code": code, "csrf_token": csrf_from(again.get_data(as_text=True))})
        assert admitted.status_code == 303
        assert sent.guest.get(f"/sign/{sent.guest_id}").status_code == 200


def test_leaving_ends_the_guest_session(sent: Round) -> None:
    response = _post(sent.guest, f"/sign/{sent.guest_id}/leave", {}, token_from=f"/sign/{sent.guest_id}")
    assert response.status_code == 303
    assert sent.guest.get(f"/sign/{sent.guest_id}").status_code == 404


def test_an_unknown_link_says_what_to_do(app: Flask) -> None:
    response = app.test_client().get("/s/" + "x" * 43)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and 'data-error-code="INVITE-INVALID"' in html
    assert "Откройте ссылку из последнего письма" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert app.test_client().get("/s/" + "y" * 500).status_code == 404


def test_a_link_past_the_deadline_has_expired(maria: WebUser, app: Flask, mail: MailSink, redis: Redis[bytes]) -> None:
    document_id = _draft(maria)
    assert _send(maria, document_id, [("Гость", GUEST)], deadline="11.12.2026 12:00").status_code == 303
    run_jobs(redis)
    link = _invitation(mail, GUEST)
    with time_machine.travel(datetime(2026, 12, 11, 9, 1, tzinfo=UTC), tick=False):
        response = app.test_client().get(f"/s/{link}")
    assert response.status_code == 410 and 'data-error-code="INVITE-EXPIRED"' in response.get_data(as_text=True)


# ---------------------------------------------------------------- signing and declining


def test_signing_asks_for_a_code_then_signs_the_revision_shown(sent: Round, engine: Engine, mail: MailSink) -> None:
    response = _sign(sent.guest, mail, sent.guest_id, GUEST)
    assert response.status_code == 303 and response.headers["Location"] == f"/sign/{sent.guest_id}"
    html = sent.guest.get(f"/sign/{sent.guest_id}").get_data(as_text=True)
    assert 'data-testid="outcome"' in html and "Вы подписали документ 10.12.2026" in html
    assert 'data-testid="sign"' not in html and "Отказаться от подписания" not in html
    with Session(engine) as session:
        revision = session.scalars(select(Revision).where(Revision.document_id == sent.document_id)).one()
        assert revision.signature_count == 1 and revision.pdf is not None
        report = _verified(engine, revision.pdf)
        assert len(report.signatures) == 1 and report.verdict == Verdict.VALID
    assert "Подписали 1 из 2" in sent.maria.client.get(f"/documents/{sent.document_id}/tracker",
                                                       headers=HX).get_data(as_text=True)


def test_a_sign_request_sent_twice_signs_once(sent: Round, engine: Engine, mail: MailSink) -> None:
    before = len(mail.to(GUEST))
    _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    code = mail.last_code(GUEST, before + 1)
    token = csrf_from(sent.guest.get(f"/sign/{sent.guest_id}").get_data(as_text=True))
    form_data = {"code": code, "revision": "1", "csrf_token": token}
    first = sent.guest.post(f"/sign/{sent.guest_id}/sign", data=form_data)
    replay = sent.guest.post(f"/sign/{sent.guest_id}/sign", data=form_data)
    assert first.status_code == replay.status_code == 303
    assert _signatures(engine, sent.document_id) == [1]
    assert _events(engine, sent.document_id).count("signed") == 1


SIGN_ERRORS = [
    ({"code": "000000", "revision": "1"}, 422, "Код не подходит. Осталось попыток: 4."),
    ({"code": "", "revision": "1"}, 422, "Введите код из письма."),
    ({"code": "123456", "revision": "один"}, 422, "В форме есть ошибки."),
    ({"code": "123456"}, 422, "В форме есть ошибки."),
]


@pytest.mark.parametrize(("data", "status", "words"), SIGN_ERRORS, ids=["wrong-code", "no-code", "bad-revision",
                                                                        "no-revision"])
def test_a_sign_form_with_a_mistake_signs_nothing_and_says_why(
    sent: Round, engine: Engine, mail: MailSink, data: dict[str, str], status: int, words: str
) -> None:
    _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    response = _post(sent.guest, f"/sign/{sent.guest_id}/sign", data, token_from=f"/sign/{sent.guest_id}", **HX)
    html = response.get_data(as_text=True)
    assert response.status_code == status and words in html
    assert html.lstrip().startswith('<section id="sign-actions"')
    assert _signatory(engine, sent.document_id, GUEST).state != SignatoryState.SIGNED
    assert _signatures(engine, sent.document_id) == [0]


def test_a_signature_for_a_revision_that_was_edited_meanwhile_is_refused(
    sent: Round, engine: Engine, mail: MailSink
) -> None:
    before = len(mail.to(GUEST))
    _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    code = mail.last_code(GUEST, before + 1)
    edited = _post(sent.maria.client, f"/documents/{sent.document_id}/edit",
                   {**_flat(form(notes="Исправлена цена")), "action": "create"},
                   token_from=f"/documents/{sent.document_id}/edit")
    assert edited.status_code == 303
    page = sent.guest.get(f"/sign/{sent.guest_id}").get_data(as_text=True)
    stale = sent.guest.post(f"/sign/{sent.guest_id}/sign",
                            data={"code": code, "revision": "1", "csrf_token": csrf_from(page)})
    assert stale.status_code == 409 and 'data-error-code="REVISION-STALE"' in stale.get_data(as_text=True)
    assert _signatures(engine, sent.document_id) == [0, 0]


def test_declining_needs_a_reason_and_then_tells_the_initiator(
    sent: Round, engine: Engine, mail: MailSink, redis: Redis[bytes]
) -> None:
    empty = _post(sent.guest, f"/sign/{sent.guest_id}/decline", {"reason": "   "},
                  token_from=f"/sign/{sent.guest_id}")
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and 'data-field-error="reason"' in html and "Напишите причину отказа" in html
    assert _document(engine, sent.document_id).status == DocumentStatus.IN_SIGNING
    too_long = _post(sent.guest, f"/sign/{sent.guest_id}/decline", {"reason": "я" * 2001},
                     token_from=f"/sign/{sent.guest_id}")
    assert too_long.status_code == 422 and "не больше 2000 знаков" in too_long.get_data(as_text=True)
    assert _document(engine, sent.document_id).status == DocumentStatus.IN_SIGNING
    declined = _post(sent.guest, f"/sign/{sent.guest_id}/decline", {"reason": "Неверная сумма в строке 1"},
                     token_from=f"/sign/{sent.guest_id}")
    assert declined.status_code == 303
    assert "Вы отказались подписывать документ" in sent.guest.get(f"/sign/{sent.guest_id}").get_data(as_text=True)
    tracker = sent.maria.client.get(f"/documents/{sent.document_id}/tracker", headers=HX).get_data(as_text=True)
    assert 'data-status="declined"' in tracker and "Отказано" in tracker
    assert "Неверная сумма в строке 1" in tracker and "hx-trigger" not in tracker  # over: polling stops
    run_jobs(redis)
    assert "Неверная сумма в строке 1" in text_of(mail.to(sent.maria.email)[-1])


def test_the_whole_round_in_the_web_ends_delivered_with_downloads_for_every_party(
    sent: Round, engine: Engine, mail: MailSink, redis: Redis[bytes]
) -> None:
    assert _sign(sent.guest, mail, sent.guest_id, GUEST).status_code == 303
    assert _sign(sent.semen.client, mail, sent.semen_id, sent.semen.email).status_code == 303
    tracker = sent.maria.client.get(f"/documents/{sent.document_id}/tracker", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in tracker and "Подписали 2 из 2" in tracker
    ran = run_jobs(redis)
    assert "signing.jobs.finalize_revision" in ran  # and the fixed-id delivery job after it (checked below)
    run_jobs(redis)
    tracker = sent.maria.client.get(f"/documents/{sent.document_id}/tracker", headers=HX).get_data(as_text=True)
    assert 'data-status="delivered"' in tracker and "Доставлено" in tracker and "hx-trigger" not in tracker
    assert "отправлен по почте: 3 из 3" in tracker
    final = sent.maria.client.get(f"/documents/{sent.document_id}/final.pdf?download=1")
    assert final.status_code == 200 and final.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in final.headers["Cache-Control"]
    report = _verified(engine, final.data)
    signatures = [s for s in report.signatures if s.kind == SignatureKind.SIGNATURE]
    assert report.verdict == Verdict.VALID and len(signatures) == 2
    assert all(s.pades_level == PadesLevel.B_LTA for s in signatures)
    assert sent.guest.get(f"/sign/{sent.guest_id}/final.pdf").data == final.data
    assert sent.semen.client.get(f"/documents/{sent.document_id}/final.pdf").data == final.data
    for client, path in ((sent.maria.client, f"/documents/{sent.document_id}/certificate.pdf"),
                         (sent.guest, f"/sign/{sent.guest_id}/certificate.pdf")):
        certificate = client.get(path)
        assert certificate.status_code == 200 and certificate.data.startswith(b"%PDF")
        assert "no-store" in certificate.headers["Cache-Control"]
    assert 'data-testid="download-final"' in sent.guest.get(f"/sign/{sent.guest_id}").get_data(as_text=True)


# ---------------------------------------------------------------- the initiator's buttons


def test_the_reminder_button_reminds_those_who_have_not_signed_once_an_hour(
    sent: Round, mail: MailSink, redis: Redis[bytes]
) -> None:
    path = f"/documents/{sent.document_id}"
    with time_machine.travel(NOW + timedelta(hours=2), tick=True):  # an hour after the invitations
        sent.maria.login()  # her session ended after 30 idle minutes
        first = _post(sent.maria.client, f"{path}/remind", {}, token_from=path)
        assert first.status_code == 303
        assert "Отправлено напоминаний: 2." in sent.maria.client.get(path).get_data(as_text=True)
        again = _post(sent.maria.client, f"{path}/remind", {}, token_from=path)
        assert again.status_code == 303
        assert "Следующее можно отправить через" in sent.maria.client.get(path).get_data(as_text=True)
        run_jobs(redis)
    assert any("Напоминание" in str(m["Subject"]) for m in mail.to(GUEST))


def test_withdrawing_ends_the_round_and_the_links_stop_working(sent: Round, engine: Engine, app: Flask) -> None:
    path = f"/documents/{sent.document_id}"
    html = sent.maria.client.get(path).get_data(as_text=True)
    assert "<details" in html and "Да, отозвать" in html  # the confirmation step, no script needed
    assert _post(sent.maria.client, f"{path}/withdraw", {}, token_from=path).status_code == 303
    assert _document(engine, sent.document_id).status == DocumentStatus.WITHDRAWN
    page = sent.maria.client.get(path).get_data(as_text=True)
    assert "Отозван" in page and 'data-testid="round-actions"' not in page
    assert app.test_client().get(f"/s/{sent.guest_link}").status_code == 404
    refused = _post(sent.guest, f"/sign/{sent.guest_id}/code", {}, token_from=f"/sign/{sent.guest_id}")
    assert refused.status_code == 409 and 'data-error-code="ROUND-CLOSED"' in refused.get_data(as_text=True)


def test_editing_during_the_round_makes_a_new_revision_marked_changed(
    sent: Round, engine: Engine, app: Flask, mail: MailSink, redis: Redis[bytes]
) -> None:
    path = f"/documents/{sent.document_id}"
    page = sent.maria.client.get(f"{path}/edit").get_data(as_text=True)
    assert 'data-testid="new-revision-warning"' in page
    assert 'name="seller.inn" value="7707083893"' in page and 'name="period.start" value="01.11.2026"' in page
    assert 'name="items.0.price" value="1500,5"' in page and "Сохранить изменения" in page
    bad = _post(sent.maria.client, f"{path}/edit", {**_flat(form()), "seller.inn": "7707083894"},
                token_from=f"{path}/edit")
    assert bad.status_code == 422 and 'data-field-error="seller.inn"' in bad.get_data(as_text=True)
    assert _document(engine, sent.document_id).current_revision == 1
    assert _post(sent.maria.client, f"{path}/edit", _flat(form(notes="Новая редакция")),
                 token_from=f"{path}/edit").status_code == 303
    assert _document(engine, sent.document_id).current_revision == 2
    assert _events(engine, sent.document_id)[-1] in ("edited", "notified")
    html = sent.maria.client.get(path).get_data(as_text=True)
    assert 'data-event="edited"' in html and "Изменено" in html
    assert app.test_client().get(f"/s/{sent.guest_link}").status_code == 404  # the old link is superseded
    run_jobs(redis)
    assert any("изменён" in str(m["Subject"]) for m in mail.to(GUEST))


def test_an_uploaded_document_is_edited_by_uploading_a_new_pdf(
    maria: WebUser, engine: Engine, redis: Redis[bytes]
) -> None:
    import io

    token = maria.token("/documents/new")
    created = maria.client.post("/documents/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "title": "Договор поставки", "kind": "contract",
        "file": (io.BytesIO(plain_pdf(1)), "contract.pdf")})
    document_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert _send(maria, document_id, [("Гость", GUEST)]).status_code == 303
    edit_token = maria.token(f"/documents/{document_id}/edit")
    refused = maria.client.post(f"/documents/{document_id}/edit", content_type="multipart/form-data", data={
        "csrf_token": edit_token, "file": (io.BytesIO(b"not a pdf"), "x.pdf")})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-field-error="file"' in html and "Файл не является PDF." in html
    missing = maria.client.post(f"/documents/{document_id}/edit", data={"csrf_token": edit_token})
    assert missing.status_code == 422 and 'data-field-error="file"' in missing.get_data(as_text=True)
    assert _document(engine, document_id).current_revision == 1
    replaced = maria.client.post(f"/documents/{document_id}/edit", content_type="multipart/form-data", data={
        "csrf_token": edit_token, "file": (io.BytesIO(plain_pdf(2)), "v2.pdf")})
    assert replaced.status_code == 303 and _document(engine, document_id).current_revision == 2


def test_a_draft_from_the_form_is_edited_in_place(maria: WebUser, engine: Engine) -> None:
    document_id = _draft(maria)
    page = maria.client.get(f"/documents/{document_id}/edit").get_data(as_text=True)
    assert 'data-testid="new-revision-warning"' not in page and 'name="number" value="12"' in page
    saved = _post(maria.client, f"/documents/{document_id}/edit", _flat(form(number="12-А")),
                  token_from=f"/documents/{document_id}/edit")
    assert saved.status_code == 303
    document = _document(engine, document_id)
    assert document.number == "12-А" and document.current_revision == 1 and document.status == DocumentStatus.DRAFT


# ---------------------------------------------------------------- the tracker


def test_the_tracker_polls_itself_while_the_round_runs(sent: Round) -> None:
    fragment = sent.maria.client.get(f"/documents/{sent.document_id}/tracker", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and html.lstrip().startswith('<section id="tracker"')
    assert f'hx-get="/documents/{sent.document_id}/tracker"' in html and 'hx-trigger="every 2s"' in html
    assert 'hx-swap="outerHTML"' in html and "<html" not in html
    full = sent.maria.client.get(f"/documents/{sent.document_id}/tracker")
    assert full.status_code == 302 and full.headers["Location"] == f"/documents/{sent.document_id}"


def test_the_tracker_reads_in_english(sent: Round) -> None:
    html = sent.maria.client.get(f"/documents/{sent.document_id}/tracker",
                                 headers={**HX, "Accept-Language": "en"}).get_data(as_text=True)
    assert "Invitation sent" in html and "In signing" in html and "Приглашение" not in html


# ---------------------------------------------------------------- who may open what


def _roles(sent: Round) -> dict[str, FlaskClient]:
    return {"initiator": sent.maria.client, "signatory": sent.semen.client, "guest": sent.guest,
            "other_guest": sent.other_guest, "stranger": sent.stranger.client, "anonymous": sent.anonymous}


ROLES = ("initiator", "signatory", "guest", "other_guest", "stranger", "anonymous")
NOT_LOGGED_IN = frozenset({"guest", "other_guest", "anonymous"})
"""Guests hold a session for one signatory, not a login: account pages send them to the login page."""


def _account_route(*allowed: str) -> dict[str, int]:
    """A /documents route: who may see it gets 200, another account 404, anyone not logged in the login page."""
    return {role: 200 if role in allowed else 302 if role in NOT_LOGGED_IN else 404 for role in ROLES}


def _sign_route(*allowed: str) -> dict[str, int]:
    """A /sign route: its own signatory gets 200, everyone else the 404 of an unknown id."""
    return {role: 200 if role in allowed else 404 for role in ROLES}


DOCUMENT_ROUTES = {
    "/documents/{a}": _account_route("initiator", "signatory"),
    "/documents/{a}/pdf": _account_route("initiator", "signatory"),
    "/documents/{a}/certificate.pdf": _account_route("initiator", "signatory"),
    "/documents/{a}/final.pdf": _account_route(),  # nothing final before everyone signed
    "/documents/{a}/edit": _account_route("initiator"),
    "/sign/{semen}": _sign_route("signatory"),
    "/sign/{guest}": _sign_route("guest"),
    "/sign/{guest}/pdf": _sign_route("guest"),
    "/sign/{guest}/certificate.pdf": _sign_route("guest"),
    "/sign/{guest}/final.pdf": _sign_route(),
    "/sign/{other}": _sign_route("other_guest"),
    "/sign/{other}/pdf": _sign_route("other_guest"),
}


def _path(template: str, sent: Round) -> str:
    return template.format(a=sent.document_id, semen=sent.semen_id, guest=sent.guest_id, other=sent.other_guest_id)


def test_every_page_of_a_round_opens_only_for_who_may_see_it(sent: Round) -> None:
    roles = _roles(sent)
    for template, expected in DOCUMENT_ROUTES.items():
        for role, status in expected.items():
            response = roles[role].get(_path(template, sent))
            assert response.status_code == status, f"{role} GET {template}: {response.status_code}"
            if status == 404:
                html = response.get_data(as_text=True)
                assert "Акт выполненных работ" not in html and 'data-error-code="DOC-NOT-FOUND"' in html


def test_the_tracker_fragment_is_for_the_documents_parties_only(sent: Round) -> None:
    roles = _roles(sent)
    expected = {"initiator": 200, "signatory": 200, "guest": 401, "other_guest": 401, "stranger": 404,
                "anonymous": 401}
    for role, status in expected.items():
        assert roles[role].get(f"/documents/{sent.document_id}/tracker", headers=HX).status_code == status, role


INITIATOR_POSTS = ["send", "remind", "withdraw", "edit"]


def test_only_the_initiator_may_send_remind_withdraw_or_edit(sent: Round, engine: Engine) -> None:
    roles = _roles(sent)
    tokens = {role: csrf_from(client.get("/login").get_data(as_text=True)) for role, client in roles.items()
              if role in ("guest", "other_guest", "anonymous")}
    tokens.update({"signatory": sent.semen.token("/cabinet"), "stranger": sent.stranger.token("/cabinet")})
    for action in INITIATOR_POSTS:
        for role, token in tokens.items():
            response = roles[role].post(f"/documents/{sent.document_id}/{action}",
                                        data={**_flat(form()), "csrf_token": token})
            expected = 404 if role in ("signatory", "stranger") else 302
            assert response.status_code == expected, f"{role} POST {action}: {response.status_code}"
    assert _document(engine, sent.document_id).status == DocumentStatus.IN_SIGNING
    assert _document(engine, sent.document_id).current_revision == 1


def test_no_one_signs_or_declines_for_another_signatory(sent: Round, engine: Engine, mail: MailSink) -> None:
    roles = _roles(sent)
    tokens = {"initiator": sent.maria.token("/cabinet"), "signatory": sent.semen.token("/cabinet"),
              "other_guest": csrf_from(sent.other_guest.get(f"/sign/{sent.other_guest_id}").get_data(as_text=True)),
              "stranger": sent.stranger.token("/cabinet"),
              "anonymous": csrf_from(sent.anonymous.get("/login").get_data(as_text=True))}
    for action, data in (("code", {}), ("sign", {"code": "123456", "revision": "1"}),
                         ("decline", {"reason": "Не согласен"})):
        for role, token in tokens.items():
            response = roles[role].post(f"/sign/{sent.guest_id}/{action}", data={**data, "csrf_token": token})
            assert response.status_code == 404, f"{role} POST {action}: {response.status_code}"
    guest = _signatory(engine, sent.document_id, GUEST)
    assert guest.state == SignatoryState.NOTIFIED and _document(engine, sent.document_id).status == "in_signing"


def test_a_guest_cookie_moved_to_another_signatory_opens_nothing(sent: Round, app: Flask) -> None:
    cookie = sent.other_guest.get_cookie(f"podpisant_guest_{sent.other_guest_id}")
    assert cookie is not None
    thief = app.test_client()
    for target in (sent.guest_id, sent.semen_id):
        thief.set_cookie(f"podpisant_guest_{target}", cookie.value)
        assert thief.get(f"/sign/{target}").status_code == 404
        assert thief.get(f"/sign/{target}/pdf").status_code == 404
    thief.set_cookie(f"podpisant_guest_{sent.other_guest_id}", "forged-" + "x" * 40)
    assert thief.get(f"/sign/{sent.other_guest_id}").status_code == 401


def test_a_guest_link_never_opens_another_signatorys_page(sent: Round, app: Flask) -> None:
    response = app.test_client().get(f"/s/{sent.guest_link}")
    assert response.status_code == 200 and "p***@example.org" in response.get_data(as_text=True)
    assert "s***@example.ru" not in response.get_data(as_text=True)
    redirect = sent.guest.get(f"/s/{sent.guest_link}")
    assert redirect.status_code == 303 and redirect.headers["Location"] == f"/sign/{sent.guest_id}"


def test_round_forms_without_the_csrf_token_are_refused(sent: Round, engine: Engine) -> None:
    for client, path in ((sent.maria.client, f"/documents/{sent.document_id}/withdraw"),
                         (sent.guest, f"/sign/{sent.guest_id}/decline")):
        response = client.post(path, data={"reason": "без токена"})
        assert response.status_code == 400, path
    assert _document(engine, sent.document_id).status == DocumentStatus.IN_SIGNING
