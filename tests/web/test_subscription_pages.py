"""The subscriptions pages: «Повторять ежемесячно» from a document's page and from the draft form, mistakes shown at
their fields with what was typed kept, the «Подписки» list (next issue day by the clock, each period linked to its
document and that document's status), pause / resume / cancel, «Повторить сейчас» putting a renewal on the real
queue, and that nobody but the initiator gets anything but a 404."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from signing import subscriptions
from signing.config import Settings
from signing.drafting import DocumentKind
from signing.models import Document, PeriodMode, Subscription, SubscriptionPeriod, SubscriptionStatus, User
from signing.subscriptions import SubscriptionTerms
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.drafting.examples import form
from tests.signing.round_fixtures import job_environment_fixture, run_jobs  # noqa: F401 - fixture `job_environment`
from tests.web.test_documents_pages import NOW, _clock, _create, _flat  # noqa: F401 - fixture `_clock` (at NOW)
from tests.web.test_round_pages import _send

HX = {"HX-Request": "true"}
RENEW_JOB = "signing.jobs.renew_subscription"


@pytest.fixture
def maria(web_user: WebUser) -> WebUser:
    web_user.signup()
    return web_user


@pytest.fixture
def pyotr(app: Flask, mail: MailSink) -> WebUser:
    """Another account, a stranger to Maria's subscriptions."""
    stranger = WebUser(app.test_client(), mail, full_name="Петров Пётр Петрович", email="pyotr@example.ru",
                       phone="+7 916 765-43-21")
    stranger.signup()
    return stranger


def _post(user: WebUser, path: str, data: dict[str, str], *, token_from: str, **headers: str) -> TestResponse:
    token = csrf_from(user.client.get(token_from).get_data(as_text=True))
    return user.client.post(path, data={**data, "csrf_token": token}, headers=headers)


def _terms(**changes: str) -> dict[str, str]:
    """The «Repeat monthly» fields as a person fills them in: November 2026 on, issued on the 5th."""
    fields = {"number_pattern": "АКТ-{yyyy}-{n:03}", "next_number": "1", "first_month": "11.2026",
              "last_month": "", "period_mode": "previous_month", "issue_day": "5", "order": "parallel",
              "signatories-0-name": "Контрагентов Игорь", "signatories-0-email": "igor@example.org"}
    fields.update(changes)
    return fields


def _subscriptions(engine: Engine) -> list[Subscription]:
    with Session(engine) as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def _count(engine: Engine, model: type[Document] | type[Subscription]) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _subscribe(engine: Engine, email: str, **terms: Any) -> int:
    """A subscription made straight through the domain from the example act's form (November 2026 on)."""
    values: dict[str, Any] = {"number_pattern": "{n}/{yyyy}", "issue_day": 5, "first_month": date(2026, 11, 1)}
    values.update(terms)
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User).where(User.email == email)).one()
        return subscriptions.create_from_draft(session, user, form(DocumentKind.ACT), SubscriptionTerms(**values),
                                               now=NOW).id


def _renew(engine: Engine, settings: Settings, subscription_id: int, moment: datetime) -> int:
    return subscriptions.renew(sessionmaker(engine, expire_on_commit=False), subscription_id, now=moment,
                               settings=settings)


def _row(html: str, subscription_id: int) -> str:
    """One subscription's block of the list page."""
    found = re.search(rf'<article id="subscription-{subscription_id}".*?</article>', html, re.S)
    assert found, f"subscription {subscription_id} is not on the page"
    return found.group(0)


def _queued(redis: Redis) -> list[tuple[str, tuple[Any, ...]]]:
    """The renewal jobs waiting on the real queue (mail delivery jobs left out)."""
    queue = Queue("default", connection=redis)
    return [(str(job.func_name), tuple(job.args)) for job in queue.jobs if job.func_name == RENEW_JOB]


# ---------------------------------------------------------------- «Повторять ежемесячно» from a document


def test_repeat_monthly_from_a_document_continues_its_numbering_and_round(
    maria: WebUser, engine: Engine, redis: Redis
) -> None:
    document_id = _create(maria)  # act № 12 of 30.11.2026 for November
    sent = _send(maria, document_id, [("Контрагентов Игорь", "igor@example.org")], initiator_signs=True,
                 order="sequential")
    assert sent.status_code == 303
    page = maria.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert f'href="/documents/{document_id}/repeat"' in page
    html = maria.client.get(f"/documents/{document_id}/repeat").get_data(as_text=True)
    for name, value in {"number_pattern": "{n}", "next_number": "13", "first_month": "12.2026", "issue_day": "28",
                        "signatories-0-email": "igor@example.org"}.items():
        assert f'name="{name}" value="{value}"' in html, name
    assert 'name="period_mode" value="current_month" checked' in html  # dated within its own period
    assert 'name="auto_sign" value="y" data-testid="auto-sign" checked' in html  # the initiator signed first
    assert 'name="order" value="sequential" checked' in html
    assert 'data-number="13"' in html and 'data-number="14"' in html

    fields = {name: value for name, value in _terms(
        number_pattern="{n}", next_number="13", first_month="12.2026", period_mode="current_month", issue_day="28",
        order="sequential", auto_sign="y").items()}
    response = _post(maria, f"/documents/{document_id}/repeat", fields, token_from=f"/documents/{document_id}/repeat")
    assert response.status_code == 303
    [made] = _subscriptions(engine)
    assert response.headers["Location"].endswith(f"/subscriptions#subscription-{made.id}")
    assert (made.source_document_id, made.number_pattern, made.next_number, made.first_month, made.issue_day) == (
        document_id, "{n}", 13, date(2026, 12, 1), 28)
    assert (made.period_mode, made.auto_sign, made.signing_order) == ("current_month", True, "sequential")
    assert "igor@example.org" in made.signatories_json
    assert _queued(redis) == []  # the first document is due on 28.12.2026, not now
    listing = maria.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Первый документ будет выпущен 28.12.2026." in listing
    assert 'data-testid="next-issue" data-date="2026-12-28"' in _row(listing, made.id)


def test_repeat_monthly_is_offered_only_for_periodic_documents_made_from_the_form(
    maria: WebUser, engine: Engine
) -> None:
    contract_id = _create(maria, DocumentKind.CONTRACT)
    page = maria.client.get(f"/documents/{contract_id}").get_data(as_text=True)
    assert "/repeat" not in page
    refused = maria.client.get(f"/documents/{contract_id}/repeat")
    assert refused.status_code == 409 and "SUB-NOT-REPEATABLE" in refused.get_data(as_text=True)
    posted = _post(maria, f"/documents/{contract_id}/repeat", _terms(), token_from="/subscriptions")
    assert posted.status_code == 409
    assert _count(engine, Subscription) == 0


def test_wrong_terms_are_shown_at_their_fields_keep_what_was_typed_and_store_nothing(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _create(maria)
    typed = _terms(number_pattern="АКТ-{yyyy}", issue_day="31", first_month="13.2026", last_month="01.2027",
                   **{"signatories-0-email": "igor-at-example"})
    response = _post(maria, f"/documents/{document_id}/repeat", typed, token_from=f"/documents/{document_id}/repeat",
                     **HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="subscription-form"' in html and "<html" not in html  # the form alone, swapped in place
    for path in ("number_pattern", "issue_day", "first_month", "signatories-0-email"):
        assert f'data-field-error="{path}"' in html, path
    assert "счётчик {n}" in html and "от 1 до 28" in html and "ММ.ГГГГ" in html
    for name, value in (("number_pattern", "АКТ-{yyyy}"), ("issue_day", "31"), ("first_month", "13.2026"),
                        ("last_month", "01.2027"), ("signatories-0-email", "igor-at-example")):
        assert f'name="{name}" value="{value}"' in html, name
    assert _count(engine, Subscription) == 0


def test_repeating_a_document_twice_for_the_same_months_is_refused_at_the_first_month(
    maria: WebUser, engine: Engine
) -> None:
    document_id = _create(maria)
    repeat = f"/documents/{document_id}/repeat"
    assert _post(maria, repeat, _terms(first_month="12.2026"), token_from=repeat).status_code == 303
    [first] = _subscriptions(engine)
    response = _post(maria, repeat, _terms(first_month="03.2027"), token_from=repeat)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="first_month"' in html and f"уже есть (№ {first.id})" in html
    assert 'name="first_month" value="03.2027"' in html
    assert _count(engine, Subscription) == 1


def test_a_last_month_before_the_first_is_refused_at_the_last_month(maria: WebUser, engine: Engine) -> None:
    document_id = _create(maria)
    response = _post(maria, f"/documents/{document_id}/repeat", _terms(first_month="12.2026", last_month="10.2026"),
                     token_from=f"/documents/{document_id}/repeat")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="last_month"' in html and "Последний месяц раньше первого." in html
    assert _count(engine, Subscription) == 0


def test_signatory_rows_are_added_and_removed_without_losing_the_terms(maria: WebUser) -> None:
    document_id = _create(maria)
    path = f"/documents/{document_id}/repeat"
    added = _post(maria, path, {**_terms(number_pattern="Х-{n}"), "action": "add_signatory"}, token_from=path, **HX)
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'data-signatory-row="1"' in html and 'value="Х-{n}"' in html
    removed = _post(maria, path, {**_terms(), "action": "remove_signatory:0"}, token_from=path, **HX)
    assert 'value="igor@example.org"' not in removed.get_data(as_text=True)


def test_the_number_example_follows_the_pattern_as_typed(maria: WebUser) -> None:
    shown = maria.client.get("/subscriptions/number-example", headers=HX, query_string={
        "number_pattern": "АКТ-{yyyy}-{mm}-{n:03}", "next_number": "7", "first_month": "11.2026"})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="number-example"' in html and "<html" not in html
    assert re.findall(r'data-number="([^"]+)"', html) == ["АКТ-2026-11-007", "АКТ-2026-12-008", "АКТ-2027-01-009"]
    wrong = maria.client.get("/subscriptions/number-example", headers=HX, query_string={
        "number_pattern": "АКТ-{yyyy}", "next_number": "7", "first_month": "11.2026"}).get_data(as_text=True)
    assert "data-number=" not in wrong and "счётчик {n}" in wrong


# ---------------------------------------------------------------- from the draft form


def test_the_draft_form_offers_repeat_monthly_for_periodic_kinds_only(maria: WebUser) -> None:
    act = maria.client.get("/documents/new?kind=act").get_data(as_text=True)
    assert 'data-testid="repeat-section"' in act and 'name="number_pattern"' in act
    assert 'name="first_month" value="11.2026"' in act  # the month just ended, like the draft's own period
    contract = maria.client.get("/documents/new?kind=contract").get_data(as_text=True)
    assert 'data-testid="repeat-section"' not in contract


def test_the_draft_form_with_repeat_on_makes_a_subscription_whose_due_month_is_queued_at_once(
    maria: WebUser, engine: Engine, redis: Redis
) -> None:
    fields = {**_flat(form()), **_terms(), "repeat": "y"}
    response = _post(maria, "/documents/new", fields, token_from="/documents/new?kind=act")
    assert response.status_code == 303 and response.headers["Location"].endswith("/subscriptions")
    [made] = _subscriptions(engine)
    assert (made.kind, made.number_pattern, made.first_month, made.source_document_id) == (
        "act", "АКТ-{yyyy}-{n:03}", date(2026, 11, 1), None)
    assert _count(engine, Document) == 0  # no draft now: November's document is the renewal's to issue
    assert _queued(redis) == [(RENEW_JOB, (made.id,))]  # due since 05.12.2026
    listing = maria.client.get("/subscriptions").get_data(as_text=True)
    assert "Документы за прошедшие месяцы выпускаются сейчас." in listing


def test_the_draft_form_with_repeat_on_keeps_the_draft_and_the_terms_when_either_is_wrong(
    maria: WebUser, engine: Engine
) -> None:
    bad_terms = {**_flat(form()), **_terms(issue_day="0"), "repeat": "y"}
    response = _post(maria, "/documents/new", bad_terms, token_from="/documents/new?kind=act")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="issue_day"' in html and 'name="issue_day" value="0"' in html
    assert 'name="seller.name" value="ПАО Сбербанк"' in html
    assert 'name="repeat" value="y"' in html and "data-repeat-switch" in html and "checked>" in html
    assert 'data-testid="create-draft">Создать подписку<' in html

    bad_draft = {**_flat(form(buyer={"name": "ООО «Ромашка»", "inn": "7707083894"})), **_terms(), "repeat": "y"}
    response = _post(maria, "/documents/new", bad_draft, token_from="/documents/new?kind=act")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="buyer.inn"' in html and 'name="number_pattern" value="АКТ-{yyyy}-{n:03}"' in html
    assert _count(engine, Subscription) == 0 and _count(engine, Document) == 0

    both_bad = {**_flat(form(buyer={"name": "ООО «Ромашка»", "inn": "7707083894"})), **_terms(issue_day="0"),
                "repeat": "y"}
    response = _post(maria, "/documents/new", both_bad, token_from="/documents/new?kind=act")
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # both at once, not one after the other
    assert 'data-field-error="buyer.inn"' in html and 'data-field-error="issue_day"' in html
    assert _count(engine, Subscription) == 0 and _count(engine, Document) == 0


def test_the_draft_form_without_repeat_still_makes_a_draft(maria: WebUser, engine: Engine) -> None:
    fields = {**_flat(form()), **_terms()}
    response = _post(maria, "/documents/new", fields, token_from="/documents/new?kind=act")
    assert response.status_code == 303 and "/documents/" in response.headers["Location"]
    assert _count(engine, Document) == 1 and _count(engine, Subscription) == 0


# ---------------------------------------------------------------- the list


def _listing_on(user: WebUser, moment: datetime, subscription_id: int) -> str:
    """The subscription's row as the list shows it at `moment` (logged in again: the session idles out meanwhile)."""
    with time_machine.travel(moment, tick=False):
        user.login()
        return _row(user.client.get("/subscriptions").get_data(as_text=True), subscription_id)


def test_the_list_shows_the_next_issue_day_by_the_clock_and_each_period_linked_to_its_document(
    maria: WebUser, engine: Engine, settings: Settings
) -> None:
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 12, 1))
    row = _listing_on(maria, datetime(2026, 12, 20, 9, tzinfo=UTC), subscription_id)
    assert 'data-date="2027-01-05"' in row and "05.01.2027" in row and "ожидает выпуска" not in row
    assert "Исполнитель: ПАО Сбербанк" in row and "Заказчик: ИП Иванов Иван Иванович" in row
    assert 'data-testid="no-periods"' in row
    row = _listing_on(maria, datetime(2027, 1, 6, 9, tzinfo=UTC), subscription_id)
    assert "05.01.2027" in row and "ожидает выпуска" in row  # due, the renewal has not run yet

    assert _renew(engine, settings, subscription_id, datetime(2027, 1, 6, 9, tzinfo=UTC)) == 1
    with Session(engine) as session:
        issued = session.scalars(select(Document)).one()
    row = _listing_on(maria, datetime(2027, 1, 6, 10, tzinfo=UTC), subscription_id)
    assert 'data-date="2027-02-05"' in row and "ожидает выпуска" not in row
    period = re.search(r'<tr data-period="2026-12-01" data-outcome="issued">.*?</tr>', row, re.S)
    assert period, row
    assert all(text in period.group(0) for text in ("12.2026", "1/2026", "05.01.2027", "выпущен", "Черновик"))
    assert f'href="/documents/{issued.id}"' in period.group(0) and issued.title in period.group(0)


def test_a_subscription_past_its_last_month_shows_no_next_issue_day(
    maria: WebUser, engine: Engine, settings: Settings
) -> None:
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 10, 1), last_month=date(2026, 11, 1))
    assert _renew(engine, settings, subscription_id, NOW) == 2
    row = _row(maria.client.get("/subscriptions").get_data(as_text=True), subscription_id)
    assert 'data-testid="next-issue" data-date=""' in row and 'data-testid="finished"' in row
    assert re.findall(r'data-period="([^"]+)" data-outcome="issued"', row) == ["2026-11-01", "2026-10-01"]


def test_a_skipped_period_shows_its_reason_and_the_last_error_with_retry_now(
    maria: WebUser, engine: Engine, redis: Redis, settings: Settings
) -> None:
    _create(maria)  # act № 12 for November, made by hand
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 11, 1))
    assert _renew(engine, settings, subscription_id, NOW) == 0
    row = _row(maria.client.get("/subscriptions").get_data(as_text=True), subscription_id)
    assert 'data-outcome="skipped"' in row and "пропущен" in row and "№ 12" in row
    assert 'data-testid="last-error"' in row and 'data-testid="retry"' in row

    retried = _post(maria, f"/subscriptions/{subscription_id}/retry", {}, token_from="/subscriptions", **HX)
    html = retried.get_data(as_text=True)
    assert retried.status_code == 200 and html.lstrip().startswith(f'<article id="subscription-{subscription_id}"')
    assert "Поставлено в очередь." in html
    assert _queued(redis) == [(RENEW_JOB, (subscription_id,))]


def test_retry_now_runs_the_renewal_job_that_issues_the_due_period(
    maria: WebUser, engine: Engine, redis: Redis, job_environment: Settings
) -> None:
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 11, 1))
    with Session(engine) as session, session.begin():
        session.get_one(Subscription, subscription_id).last_error = "Период за ноябрь 2026 г. не выпущен: TSA"
    response = _post(maria, f"/subscriptions/{subscription_id}/retry", {}, token_from="/subscriptions")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#subscription-{subscription_id}")
    assert [job for job in run_jobs(redis) if job == RENEW_JOB] == [RENEW_JOB]  # then delivery of its mail
    with Session(engine) as session:
        rows = session.scalars(select(SubscriptionPeriod)).all()
        assert [(row.period_start, row.number) for row in rows] == [(date(2026, 11, 1), "1/2026")]
        assert session.get_one(Subscription, subscription_id).last_error is None
    listing = maria.client.get("/subscriptions").get_data(as_text=True)
    assert "Поставлено в очередь." in listing and 'data-testid="last-error"' not in _row(listing, subscription_id)


def test_the_list_is_empty_for_someone_without_subscriptions(maria: WebUser) -> None:
    page = maria.client.get("/subscriptions")
    assert page.status_code == 200 and 'data-testid="no-subscriptions"' in page.get_data(as_text=True)
    assert 'href="/subscriptions"' in maria.client.get("/cabinet").get_data(as_text=True)


# ---------------------------------------------------------------- pause, resume, cancel


def _status(engine: Engine, subscription_id: int) -> str:
    with Session(engine) as session:
        return session.get_one(Subscription, subscription_id).status


def test_pause_resume_and_cancel_replace_the_row_and_cancel_is_final(maria: WebUser, engine: Engine) -> None:
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 12, 1))
    path = f"/subscriptions/{subscription_id}"

    paused = _post(maria, f"{path}/pause", {}, token_from="/subscriptions", **HX).get_data(as_text=True)
    assert 'data-status="paused"' in paused and 'data-testid="resume"' in paused and 'data-testid="pause"' not in paused
    assert 'data-testid="next-issue" data-date=""' in paused
    assert _status(engine, subscription_id) == SubscriptionStatus.PAUSED

    resumed = _post(maria, f"{path}/resume", {}, token_from="/subscriptions", **HX).get_data(as_text=True)
    assert 'data-status="active"' in resumed and 'data-date="2027-01-05"' in resumed

    cancelled = _post(maria, f"{path}/cancel", {}, token_from="/subscriptions", **HX).get_data(as_text=True)
    assert 'data-status="cancelled"' in cancelled and 'data-testid="final"' in cancelled
    assert all(f'data-testid="{button}"' not in cancelled for button in ("pause", "resume", "confirm-cancel"))
    assert _status(engine, subscription_id) == SubscriptionStatus.CANCELLED

    again = _post(maria, f"{path}/resume", {}, token_from="/subscriptions", **HX)
    assert again.status_code == 409 and "SUB-NOT-CHANGEABLE" in again.get_data(as_text=True)
    assert _status(engine, subscription_id) == SubscriptionStatus.CANCELLED


def test_resuming_queues_the_renewal_of_the_months_that_fell_due_during_the_pause(
    maria: WebUser, engine: Engine, redis: Redis
) -> None:
    subscription_id = _subscribe(engine, maria.email, first_month=date(2026, 11, 1))  # due since 05.12.2026
    _post(maria, f"/subscriptions/{subscription_id}/pause", {}, token_from="/subscriptions", **HX)
    assert _queued(redis) == []
    resumed = _post(maria, f"/subscriptions/{subscription_id}/resume", {}, token_from="/subscriptions", **HX)
    assert 'data-status="active"' in resumed.get_data(as_text=True) and "ожидает выпуска" in resumed.get_data(
        as_text=True)
    assert _queued(redis) == [(RENEW_JOB, (subscription_id,))]


def test_without_javascript_the_buttons_come_back_to_the_list_with_a_message(maria: WebUser, engine: Engine) -> None:
    subscription_id = _subscribe(engine, maria.email)
    page = maria.client.get("/subscriptions").get_data(as_text=True)
    assert 'data-testid="confirm-cancel"' in page and "<details" in page  # cancel asks first
    response = _post(maria, f"/subscriptions/{subscription_id}/pause", {}, token_from="/subscriptions")
    assert response.status_code == 303
    assert "Подписка приостановлена." in maria.client.get(response.headers["Location"]).get_data(as_text=True)
    _post(maria, f"/subscriptions/{subscription_id}/cancel", {}, token_from="/subscriptions")
    refused = _post(maria, f"/subscriptions/{subscription_id}/cancel", {}, token_from="/subscriptions")
    assert refused.status_code == 303
    assert "Подписку уже нельзя изменить так." in maria.client.get("/subscriptions").get_data(as_text=True)


def test_every_post_needs_the_csrf_token(maria: WebUser, engine: Engine) -> None:
    subscription_id = _subscribe(engine, maria.email)
    document_id = _create(maria)
    for path in (f"/subscriptions/{subscription_id}/pause", f"/subscriptions/{subscription_id}/cancel",
                 f"/subscriptions/{subscription_id}/retry", f"/documents/{document_id}/repeat"):
        response = maria.client.post(path, data=_terms())
        assert response.status_code == 400 and "CSRF-FAILED" in response.get_data(as_text=True), path
    assert _status(engine, subscription_id) == SubscriptionStatus.ACTIVE
    assert len(_subscriptions(engine)) == 1


# ---------------------------------------------------------------- nobody else's


def test_another_account_gets_404_on_every_route_and_changes_nothing(
    maria: WebUser, pyotr: WebUser, engine: Engine, redis: Redis
) -> None:
    document_id = _create(maria)
    subscription_id = _subscribe(engine, maria.email, period_mode=PeriodMode.PREVIOUS_MONTH)
    assert pyotr.client.get(f"/documents/{document_id}/repeat").status_code == 404
    for path in (f"/documents/{document_id}/repeat", *(f"/subscriptions/{subscription_id}/{action}"
                                                       for action in ("pause", "resume", "cancel", "retry"))):
        response = _post(pyotr, path, _terms(), token_from="/subscriptions")
        assert response.status_code == 404, path
        assert _post(pyotr, path, _terms(), token_from="/subscriptions", **HX).status_code == 404, path
    listing = pyotr.client.get("/subscriptions").get_data(as_text=True)
    assert f'id="subscription-{subscription_id}"' not in listing and 'data-testid="no-subscriptions"' in listing
    assert _status(engine, subscription_id) == SubscriptionStatus.ACTIVE
    assert len(_subscriptions(engine)) == 1 and _queued(redis) == []


def test_someone_not_logged_in_is_sent_to_the_login_page(maria: WebUser, engine: Engine) -> None:
    subscription_id = _subscribe(engine, maria.email)
    maria.logout()
    for path in ("/subscriptions", "/subscriptions/number-example"):
        response = maria.client.get(path)
        assert response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login"), path
    assert _status(engine, subscription_id) == SubscriptionStatus.ACTIVE
