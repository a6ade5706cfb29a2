"""«Обратная связь» through the real forms: a numbered ticket, a screenshot judged by its bytes, the error page's
reference carried into the form, staff answering and closing with mail both ways, and nobody else's tickets."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.config import Settings
from signing.models import OutboxMessage, Ticket, User
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.round_fixtures import deliver_all, text_of


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def person(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


@pytest.fixture
def staff(app: Flask, mail: MailSink) -> WebUser:
    """A support person, made staff by the CLI as an operator would."""
    user = WebUser(app.test_client(), mail, full_name="Сидоров Олег Иванович", email="support@example.ru",
                   phone="+7 916 000-00-01")
    user.signup()
    result = app.test_cli_runner().invoke(args=["staff", "grant", "Support@Example.ru"])
    assert result.exit_code == 0, result.output
    return user


def _submit(user: WebUser, *, screenshot: bytes | None = None, filename: str = "shot.png", **fields: str
            ) -> TestResponse:
    data: dict[str, object] = {"category": "error", "description": "Кнопка «Подписать» не нажимается.",
                               "error_reference": "", **fields}
    data["csrf_token"] = user.token("/feedback/new")
    if screenshot is not None:
        data["screenshot"] = (io.BytesIO(screenshot), filename)
    return user.client.post("/feedback/new", data=data, content_type="multipart/form-data")


def _ticket_id(response: TestResponse) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_ticket_gets_a_number_the_person_sees_it_and_staff_are_mailed(
    person: WebUser, staff: WebUser, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    number = _ticket_id(_submit(person, screenshot=_png()))
    page = person.client.get(f"/feedback/{number}").get_data(as_text=True)
    assert f"Обращение № {number}" in page and "Кнопка «Подписать» не нажимается." in page
    assert 'data-status="open"' in page and f'src="/feedback/{number}/screenshot"' in page
    shot = person.client.get(f"/feedback/{number}/screenshot")
    assert shot.status_code == 200 and shot.mimetype == "image/png" and shot.data == _png()
    assert "no-store" in shot.headers["Cache-Control"]
    listing = person.client.get("/feedback").get_data(as_text=True)
    assert f'data-ticket="{number}"' in listing and "Ждёт ответа" in listing
    deliver_all(engine, settings)
    to_staff = mail.wait_for("support@example.ru", count=2)[-1]  # after the registration code
    assert f"№ {number}" in to_staff["Subject"] and "maria@example.ru" in text_of(to_staff)


def test_staff_email_setting_receives_news_of_tickets_instead_of_staff(
    app: Flask, person: WebUser, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    app.extensions["podpisant"].settings = settings.with_overrides(staff_email="desk@example.ru")
    number = _ticket_id(_submit(person))
    deliver_all(engine, settings)
    assert f"№ {number}" in mail.wait_for("desk@example.ru")[0]["Subject"]


@pytest.mark.parametrize(("payload", "filename", "words"), [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "big.png", "больше 5 МБ"),
    (b"%PDF-1.7 not a picture at all", "shot.png", "только картинку PNG или JPG"),
    (b"GIF89a" + b"\0" * 100, "shot.jpg", "только картинку PNG или JPG"),
    (_png()[:60], "cut.png", "повреждена"),
])
def test_a_screenshot_too_big_or_not_an_image_is_refused_clearly_and_nothing_is_stored(
    person: WebUser, engine: Engine, payload: bytes, filename: str, words: str
) -> None:
    response = _submit(person, screenshot=payload, filename=filename, description="Не грузится документ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="screenshot"' in html and words in html
    assert 'data-error-code="FORM-INVALID"' in html and "data-reference" in html
    assert "Не грузится документ" in html  # what was typed stays
    assert _count(engine, Ticket) == 0 and _count(engine, OutboxMessage) == 0


def test_an_empty_description_and_an_unknown_category_are_shown_at_their_fields(
    person: WebUser, engine: Engine
) -> None:
    response = _submit(person, category="bribe", description="   ", error_reference="R-BAD")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("category", "description", "error_reference"):
        assert f'data-field-error="{name}"' in html
    assert 'value="R-BAD"' in html and _count(engine, Ticket) == 0


def test_the_error_page_links_to_the_form_with_its_reference_filled_in(person: WebUser, engine: Engine) -> None:
    error_page = person.client.get("/documents/987654").get_data(as_text=True)
    reference = re.search(r"data-reference>(R-[A-Z0-9]{10})<", error_page)
    assert reference, "the error page shows no reference"
    link = re.search(r'href="(/feedback/new\?ref=R-[A-Z0-9]{10})"', error_page)
    assert link and reference.group(1) in link.group(1)
    form = person.client.get(link.group(1)).get_data(as_text=True)
    assert f'value="{reference.group(1)}"' in form
    number = _ticket_id(_submit(person, error_reference=reference.group(1)))
    with Session(engine) as session:
        assert session.get(Ticket, number).error_reference == reference.group(1)  # type: ignore[union-attr]
    assert reference.group(1) in person.client.get(f"/feedback/{number}").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in_and_come_back_with_the_reference(client: FlaskClient) -> None:
    response = client.get("/feedback/new?ref=R-ABCDEFGHJK")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "ref%3DR-ABCDEFGHJK" in response.headers["Location"]
    assert 'href="/feedback"' in client.get("/login").get_data(as_text=True)  # the footer link


def test_staff_answer_and_close_and_the_person_is_mailed_each_time(
    person: WebUser, staff: WebUser, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    number = _ticket_id(_submit(person))
    everything = staff.client.get("/feedback/all").get_data(as_text=True)
    assert f'data-ticket="{number}"' in everything
    token = csrf_from(staff.client.get(f"/feedback/{number}").get_data(as_text=True))
    answered = staff.client.post(f"/feedback/{number}/reply", data={"body": "Обновите браузер.", "csrf_token": token})
    assert answered.status_code == 303
    deliver_all(engine, settings)
    answer = mail.wait_for("maria@example.ru", count=2)[-1]
    assert f"№ {number}" in answer["Subject"] and "Обновите браузер." in text_of(answer)
    page = person.client.get(f"/feedback/{number}").get_data(as_text=True)
    assert 'data-status="answered"' in page and 'data-from-staff="true"' in page

    token = csrf_from(person.client.get(f"/feedback/{number}").get_data(as_text=True))
    assert person.client.post(f"/feedback/{number}/close", data={"csrf_token": token}).status_code == 403
    token = csrf_from(staff.client.get(f"/feedback/{number}").get_data(as_text=True))
    assert staff.client.post(f"/feedback/{number}/close", data={"csrf_token": token}).status_code == 303
    deliver_all(engine, settings)
    assert "закрыто" in mail.wait_for("maria@example.ru", count=3)[-1]["Subject"]
    token = csrf_from(person.client.get(f"/feedback/{number}").get_data(as_text=True))
    late = person.client.post(f"/feedback/{number}/reply", data={"body": "Ещё вопрос", "csrf_token": token})
    assert late.status_code == 409 and 'data-error-code="TICKET-CLOSED"' in late.get_data(as_text=True)


def test_another_persons_ticket_is_404_and_the_staff_list_403(
    app: Flask, person: WebUser, mail: MailSink, engine: Engine
) -> None:
    number = _ticket_id(_submit(person, screenshot=_png()))
    other = WebUser(app.test_client(), mail, full_name="Чужой Пётр Ильич", email="other@example.ru",
                    phone="+7 916 000-00-02")
    other.signup()
    for path in (f"/feedback/{number}", f"/feedback/{number}/screenshot", f"/feedback/{number + 1}"):
        response = other.client.get(path)
        assert response.status_code == 404 and "Кнопка" not in response.get_data(as_text=True)
    token = other.token("/feedback")
    for path in (f"/feedback/{number}/reply", f"/feedback/{number}/close"):
        assert other.client.post(path, data={"body": "влезть", "csrf_token": token}).status_code == 404
    assert other.client.get("/feedback/all").status_code == 403
    assert f'data-ticket="{number}"' not in other.client.get("/feedback").get_data(as_text=True)
    with Session(engine) as session:
        assert session.scalars(select(Ticket)).one().messages == []


def test_the_staff_cli_says_when_no_account_has_the_address(app: Flask, engine: Engine) -> None:
    result = app.test_cli_runner().invoke(args=["staff", "grant", "nobody@example.ru"])
    assert result.exit_code != 0 and "no account" in result.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.is_staff)) == 0
