"""Monthly subscriptions: each due period issued exactly once, in order, from the last one issued; the clock is the
`now` each run is given (a moment in UTC; the day counts in Moscow), never a sleep."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from time_machine import TimeMachineFixture

from signing import documents, jobs, queues, subscriptions
from signing.certificates import trust_anchors
from signing.config import Settings
from signing.delivery import AFTER_RENEWALS_JOB_IDS, JOB_IDS, deliver_soon
from signing.drafting import DocumentKind, Period
from signing.errors import SubscriptionNotChangeable, ValidationFailed
from signing.models import (
    Document,
    DocumentStatus,
    HistoryEntry,
    OutboxMessage,
    PeriodMode,
    PeriodOutcome,
    Revision,
    SignatoryState,
    SignerCertificate,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
    User,
)
from signing.pades import verify
from signing.subscriptions import SubscriptionTerms
from signing.trust_services import ca_for
from tests.signing.document_fixtures import drafted, person
from tests.signing.drafting.examples import company, form
from tests.signing.round_fixtures import job_environment_fixture, run_jobs  # noqa: F401 - fixture `job_environment`


def at(day: date, hour: int = 9) -> datetime:
    """`hour` UTC on `day` (noon in Moscow)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def initiator_id(factory: sessionmaker[Session]) -> int:
    with factory() as session, session.begin():
        return person(session, 1).id


def subscribe(factory: sessionmaker[Session], initiator_id: int, *, data: dict[str, Any] | None = None,
              **terms: Any) -> int:
    """A subscription from the example act's form (or `data`); `terms` replace the defaults (November 2026 on,
    issued the 5th)."""
    values: dict[str, Any] = {"number_pattern": "{n}/{yyyy}", "issue_day": 5, "first_month": date(2026, 11, 1)}
    values.update(terms)
    with factory() as session, session.begin():
        initiator = session.get(User, initiator_id)
        assert initiator is not None
        made = subscriptions.create_from_draft(session, initiator, data or form(DocumentKind.ACT),
                                               SubscriptionTerms(**values),
                                               now=at(date(2026, 11, 2)))
        return made.id


def issued(factory: sessionmaker[Session]) -> list[Document]:
    with factory() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def periods_of(factory: sessionmaker[Session], subscription_id: int) -> list[SubscriptionPeriod]:
    with factory() as session:
        query = (select(SubscriptionPeriod).where(SubscriptionPeriod.subscription_id == subscription_id)
                 .order_by(SubscriptionPeriod.period_start))
        return list(session.scalars(query))


def subscribe_with(factory: sessionmaker[Session], initiator_id: int, *, buyer: int, **terms: Any) -> int:
    """A subscription to the example act with the `buyer`-th of many counterparties (their periods never overlap)."""
    return subscribe(factory, initiator_id, data=form(DocumentKind.ACT, buyer=company(buyer)), **terms)


def periods_of_all(factory: sessionmaker[Session]) -> list[SubscriptionPeriod]:
    with factory() as session:
        return list(session.scalars(select(SubscriptionPeriod).order_by(SubscriptionPeriod.id)))


def change(factory: sessionmaker[Session], subscription_id: int, action: Any, day: date) -> None:
    with factory() as session, session.begin():
        subscription = session.get(Subscription, subscription_id)
        assert subscription is not None
        action(subscription, now=at(day))


def test_renewal_run_three_times_on_the_same_day_issues_one_document_per_period(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id)
    runs = [subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10), hour))
            for hour in (6, 9, 20)]
    documents = issued(factory)
    assert runs == [1, 0, 0]
    assert [(d.number, d.period_start, d.period_end, d.document_date) for d in documents] == [
        ("1/2026", date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 5))
    ]
    assert [row.document_id for row in periods_of(factory, subscription_id)] == [documents[0].id]


def test_a_subscription_five_months_behind_issues_five_documents_in_period_order(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 7, 1), next_number=7,
                                number_pattern="АКТ-{yyyy}-{mm}-{n:03}")
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 5
    documents = issued(factory)
    assert [(d.number, d.period_start, d.period_end, d.document_date) for d in documents] == [
        ("АКТ-2026-07-007", date(2026, 7, 1), date(2026, 7, 31), date(2026, 8, 5)),
        ("АКТ-2026-08-008", date(2026, 8, 1), date(2026, 8, 31), date(2026, 9, 5)),
        ("АКТ-2026-09-009", date(2026, 9, 1), date(2026, 9, 30), date(2026, 10, 5)),
        ("АКТ-2026-10-010", date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 5)),
        ("АКТ-2026-11-011", date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 5)),
    ]
    assert all(d.status == "draft" and d.seller_inn == "7707083893" for d in documents)


def test_a_period_is_issued_on_its_issue_day_and_never_before(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id)
    # 23:30 UTC on 4 December is already the 5th in Moscow: the day counts in the service's time zone.
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 4), 20)) == 0
    late_evening = datetime(2026, 12, 4, 21, 30, tzinfo=UTC)
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=late_evening) == 1
    assert [d.period_start for d in issued(factory)] == [date(2026, 11, 1)]


def test_due_periods_are_whole_calendar_months_never_in_the_future(
    factory: sessionmaker[Session], initiator_id: int
) -> None:
    previous = subscribe(factory, initiator_id, first_month=date(2026, 10, 17))
    current = subscribe_with(factory, initiator_id, buyer=1, period_mode=PeriodMode.CURRENT_MONTH, issue_day=1)
    with factory() as session:
        by_previous = subscriptions.due_periods(session.get_one(Subscription, previous), today=date(2026, 12, 10))
        by_current = subscriptions.due_periods(session.get_one(Subscription, current), today=date(2026, 12, 10))
    assert by_previous == [Period(date(2026, 10, 1), date(2026, 10, 31)), Period(date(2026, 11, 1), date(2026, 11, 30))]
    assert by_current == [Period(date(2026, 11, 1), date(2026, 11, 30)), Period(date(2026, 12, 1), date(2026, 12, 31))]
    assert all(period.is_calendar_month and period.start <= date(2026, 12, 10) for period in by_previous + by_current)
    assert all(period.end < date(2026, 12, 10) for period in by_previous)


def test_a_paused_subscription_issues_nothing_and_catches_up_when_resumed(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 10, 1))
    change(factory, subscription_id, subscriptions.pause, date(2026, 11, 1))
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 0
    change(factory, subscription_id, subscriptions.resume, date(2026, 12, 11))
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 11))) == 2
    assert [d.period_start for d in issued(factory)] == [date(2026, 10, 1), date(2026, 11, 1)]


def test_a_cancelled_subscription_issues_nothing_more_and_stays_cancelled(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id)
    change(factory, subscription_id, subscriptions.cancel, date(2026, 11, 20))
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2027, 3, 10))) == 0
    assert issued(factory) == []
    for action in (subscriptions.resume, subscriptions.pause, subscriptions.cancel):
        with pytest.raises(SubscriptionNotChangeable):
            change(factory, subscription_id, action, date(2026, 11, 21))
    with factory() as session:
        assert session.get_one(Subscription, subscription_id).status == SubscriptionStatus.CANCELLED


def test_renewal_stops_after_the_last_month(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 9, 1), last_month=date(2026, 10, 31))
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 2
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2027, 6, 10))) == 0
    assert [d.period_start for d in issued(factory)] == [date(2026, 9, 1), date(2026, 10, 1)]


def test_a_period_covered_by_a_hand_made_document_is_skipped_and_flagged_not_duplicated(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    with factory() as session, session.begin():
        by_hand = drafted(session, session.get_one(User, initiator_id)).id  # November 2026, № 12
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 10, 1))
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 1
    rows = periods_of(factory, subscription_id)
    assert [(row.period_start, row.outcome) for row in rows] == [
        (date(2026, 10, 1), PeriodOutcome.ISSUED), (date(2026, 11, 1), PeriodOutcome.SKIPPED)]
    assert rows[1].document_id is None and "№ 12" in (rows[1].reason or "")
    assert [d.id for d in issued(factory) if d.period_start == date(2026, 11, 1)] == [by_hand]
    with factory() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert subscription.last_error == rows[1].reason
        assert subscription.next_number == 2
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 11))) == 0


def test_repeat_monthly_from_a_document_issues_the_next_months_with_its_parties_and_items(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    with factory() as session, session.begin():
        initiator = session.get_one(User, initiator_id)
        source = drafted(session, initiator)
        subscription_id = subscriptions.create_from_document(
            session, initiator, source, SubscriptionTerms("{n}/{yyyy}", 3, date(2026, 12, 1), next_number=13),
            now=at(date(2026, 12, 1))).id
        source_id, source_title = source.id, source.counterparty_name
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2027, 1, 3))) == 1
    renewed = [d for d in issued(factory) if d.id != source_id]
    assert [(d.number, d.period_start, d.document_date, d.counterparty_name) for d in renewed] == [
        ("13/2026", date(2026, 12, 1), date(2027, 1, 3), source_title)]


@pytest.mark.parametrize(("terms", "field", "code"), [
    ({"number_pattern": "АКТ-{yyyy}"}, "number_pattern", "PATTERN-WITHOUT-COUNTER"),
    ({"number_pattern": "{n.__class__}"}, "number_pattern", "PATTERN-INVALID"),
    ({"number_pattern": "{n:>999999999}"}, "number_pattern", "PATTERN-INVALID"),
    ({"number_pattern": "{n"}, "number_pattern", "PATTERN-INVALID"),
    ({"issue_day": 29}, "issue_day", "ISSUE-DAY-RANGE"),
    ({"last_month": date(2026, 10, 1)}, "last_month", "LAST-MONTH-BEFORE-FIRST"),
    ({"signatories": [{"name": "Иванов", "email": "nobody"}]}, "signatories.0.email", "EMAIL-INVALID"),
])
def test_wrong_terms_are_refused_with_the_field_and_nothing_is_stored(
    factory: sessionmaker[Session], initiator_id: int, terms: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        subscribe(factory, initiator_id, **terms)
    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (field, code)
    with factory() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_the_terms_and_the_draft_are_judged_together_so_every_error_shows_at_once(
    factory: sessionmaker[Session], initiator_id: int
) -> None:
    data = form(DocumentKind.ACT)
    data["buyer"] = {**data["buyer"], "inn": "7707083890"}  # wrong check digit
    with pytest.raises(ValidationFailed) as refused:
        subscribe(factory, initiator_id, data=data, issue_day=30, number_pattern="АКТ")
    found = {(error.field, error.code) for error in refused.value.errors}
    assert {("issue_day", "ISSUE-DAY-RANGE"), ("number_pattern", "PATTERN-WITHOUT-COUNTER")} <= found
    assert any(field.startswith("buyer.inn") for field, _code in found), found
    with factory() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_a_second_subscription_for_the_same_document_and_months_is_refused_naming_the_first(
    factory: sessionmaker[Session], initiator_id: int
) -> None:
    first = subscribe(factory, initiator_id, first_month=date(2026, 11, 1), last_month=date(2027, 1, 1))
    with pytest.raises(ValidationFailed) as refused:
        subscribe(factory, initiator_id, first_month=date(2027, 1, 1))
    (error,) = refused.value.errors
    assert (error.field, error.code, error.params["id"]) == ("first_month", "SUBSCRIPTION-EXISTS", first)
    change(factory, first, subscriptions.pause, date(2026, 11, 20))
    with pytest.raises(ValidationFailed):  # a paused one counts too
        subscribe(factory, initiator_id, first_month=date(2026, 6, 1), last_month=date(2026, 12, 1))
    after = subscribe(factory, initiator_id, first_month=date(2027, 2, 1))  # after its last month
    other_buyer = subscribe_with(factory, initiator_id, buyer=1, first_month=date(2026, 11, 1))
    change(factory, first, subscriptions.cancel, date(2026, 11, 21))
    again = subscribe(factory, initiator_id, first_month=date(2026, 11, 1), last_month=date(2027, 1, 1))
    assert len({first, after, other_buyer, again}) == 4


def test_a_kind_without_periods_cannot_be_a_subscription(factory: sessionmaker[Session], initiator_id: int) -> None:
    with factory() as session, pytest.raises(ValidationFailed) as refused:
        subscriptions.create_from_draft(session, session.get_one(User, initiator_id),
                                        form(DocumentKind.CONTRACT),
                                        SubscriptionTerms("{n}", 5, date(2026, 11, 1)), now=at(date(2026, 11, 2)))
    assert [error.code for error in refused.value.errors] == ["KIND-NOT-PERIODIC"]


def test_workers_renewing_the_same_subscription_at_once_issue_one_document_per_period(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    racers = 4
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 8, 1))
    barrier = threading.Barrier(racers)
    outcomes: list[object] = [None] * racers

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = subscriptions.renew(factory, subscription_id, settings=settings,
                                                  now=at(date(2026, 12, 10)))
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(outcome for outcome in outcomes if isinstance(outcome, int)) == 4, outcomes
    documents = issued(factory)
    assert [d.period_start for d in documents] == [date(2026, m, 1) for m in (8, 9, 10, 11)]
    assert [d.number for d in documents] == ["1/2026", "2/2026", "3/2026", "4/2026"]


def test_renew_due_renews_every_due_subscription_once(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscribe(factory, initiator_id, first_month=date(2026, 11, 1))
    subscribe_with(factory, initiator_id, buyer=1, first_month=date(2026, 12, 1))  # first due on 5 January
    assert subscriptions.renew_due(factory, settings=settings, now=at(date(2026, 12, 10))) == 1
    assert subscriptions.renew_due(factory, settings=settings, now=at(date(2026, 12, 10))) == 0


def test_the_daily_tick_enqueues_renewals_that_issue_each_due_period_once_even_when_run_twice(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture,
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 9, 1))
    time_machine.move_to(at(date(2026, 12, 10)), tick=False)
    assert [jobs.enqueue_renewals(), jobs.enqueue_renewals()] == [1, 1]
    assert [job for job in run_jobs(redis) if "renew" in job] == ["signing.jobs.renew_subscriptions"] * 2
    assert [row.period_start for row in periods_of(factory, subscription_id)] == [
        date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert len(issued(factory)) == 3
    assert jobs.enqueue_renewals() == 0


def test_the_daily_tick_puts_the_due_subscriptions_in_batches_and_each_is_renewed_once(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "RENEWAL_BATCH", 2)
    due = [subscribe_with(factory, initiator_id, buyer=i) for i in range(5)]
    subscribe_with(factory, initiator_id, buyer=9, first_month=date(2026, 12, 1))  # not due yet
    time_machine.move_to(at(date(2026, 12, 10)), tick=False)
    assert jobs.enqueue_renewals() == 5
    assert Queue(queues.DEFAULT, connection=redis).count == 0  # nothing a person waits for queues behind them
    queued = Queue(queues.RENEWALS, connection=redis).get_jobs()
    assert [job.args for job in queued] == [([due[0], due[1]],), ([due[2], due[3]],), ([due[4]],)]
    assert all(job.retries_left == jobs.RENEWAL_RETRY.max for job in queued)
    assert [job for job in run_jobs(redis) if "renew" in job] == ["signing.jobs.renew_subscriptions"] * 3
    assert sorted(row.subscription_id for row in periods_of_all(factory)) == due
    assert len(issued(factory)) == 5


def periods_issued_so_far() -> int:
    """A job that reports how many periods were issued when it ran (the clock is frozen: job times cannot order)."""
    from signing.config import load_settings

    with jobs.job_sessions(load_settings()) as factory, factory() as session:
        return len(session.scalars(select(SubscriptionPeriod)).all())


def test_mail_and_finalizations_go_before_the_renewal_batches_queued_earlier(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture,
) -> None:
    subscribe(factory, initiator_id, first_month=date(2026, 11, 1))
    time_machine.move_to(at(date(2026, 12, 10)), tick=False)
    assert jobs.enqueue_renewals() == 1
    later = Queue(queues.DEFAULT, connection=redis).enqueue(periods_issued_so_far)  # e.g. a login code's mail
    run_jobs(redis)
    assert later.return_value() == 0  # it ran before the renewal batch queued ahead of it
    assert len(periods_of_all(factory)) == 1


def test_a_batch_sends_its_mail_after_the_batches_queued_before_it_and_other_mail_is_not_held_up(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "RENEWAL_BATCH", 1)
    first, second = (subscribe_with(factory, initiator_id, buyer=i, auto_sign=True, signatories=[PARTY])
                     for i in (1, 2))
    time_machine.move_to(at(date(2026, 12, 10)), tick=False)
    assert jobs.enqueue_renewals() == 2
    renewals, default = (Queue(name, connection=redis) for name in queues.QUEUES[::-1])
    waiting_batch = renewals.job_ids[1]
    renewals.remove(renewals.job_ids[0])
    assert jobs.renew_subscriptions([first]) == 1  # as a worker would run the first batch
    assert renewals.job_ids == [waiting_batch, AFTER_RENEWALS_JOB_IDS[0]] and default.job_ids == []
    deliver_soon(redis)  # a person's code, say, a moment later: its own job, served first
    assert default.job_ids == [JOB_IDS[0]]
    run_jobs(redis)
    with factory() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")).all() == []
    assert len(periods_of_all(factory)) == 2 and {row.subscription_id for row in periods_of_all(factory)} == {
        first, second}


def test_a_failure_in_a_batch_holds_up_no_other_subscription_and_fails_the_job_for_a_retry(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, broken, last = (subscribe_with(factory, initiator_id, buyer=i) for i in (1, 2, 3))
    real_render = documents.render_pdf
    failing = {"yes": True}

    def render(draft: Any) -> bytes:
        if failing["yes"] and draft.buyer.inn == company(2)["inn"]:
            raise RuntimeError("шрифт не найден")
        return real_render(draft)

    monkeypatch.setattr(documents, "render_pdf", render)
    time_machine.move_to(at(date(2026, 12, 10)), tick=False)
    with pytest.raises(jobs.RenewalsFailed) as failed:
        jobs.renew_subscriptions([first, broken, last])
    assert failed.value.subscription_ids == [broken]
    assert sorted(row.subscription_id for row in periods_of_all(factory)) == [first, last]
    with factory() as session:
        assert "шрифт не найден" in (session.get_one(Subscription, broken).last_error or "")
    failing["yes"] = False  # fixed: RQ's retry runs the whole batch again
    assert jobs.renew_subscriptions([first, broken, last]) == 1
    assert sorted(row.subscription_id for row in periods_of_all(factory)) == [first, broken, last]
    assert len(issued(factory)) == 3


# ---------------------------------------------------------------- auto-signing, mail to the initiator, failures


PARTY = {"name": "Контрагентов Игорь Петрович", "email": "party@example.org", "organization": "ООО «Ромашка»"}


def outbox_of(factory: sessionmaker[Session], kind: str) -> list[OutboxMessage]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                    .order_by(OutboxMessage.id)))


def test_with_auto_signing_the_initiator_signs_with_their_own_certificate_and_the_counterparty_is_invited(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id, auto_sign=True, signatories=[PARTY])
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 1
    with factory() as session:
        document = session.scalars(select(Document)).one()
        initiator = session.get_one(User, initiator_id)
        people = sorted(document.signatories, key=lambda s: s.position)
        assert document.status == DocumentStatus.IN_SIGNING
        assert [(s.email, s.state, s.is_initiator) for s in people] == [
            (initiator.email, SignatoryState.SIGNED, True), (PARTY["email"], SignatoryState.NOTIFIED, False)]
        revision = session.scalars(select(Revision).where(Revision.document_id == document.id)).one()
        assert revision.pdf is not None
        report = verify(revision.pdf, trust=trust_anchors(session, ca_for(settings), now=at(date(2026, 12, 10))),
                        now=at(date(2026, 12, 10)))
        certificate = session.scalars(select(SignerCertificate).where(SignerCertificate.user_id == initiator_id)).one()
        automatic = [e.details for e in session.scalars(select(HistoryEntry).where(
            HistoryEntry.document_id == document.id, HistoryEntry.event == "signed"))]
    signed = [s for s in report.signatures if s.kind.value != "document_timestamp"]
    assert len(signed) == 1 and signed[0].valid and signed[0].intact and signed[0].signer_name == initiator.full_name
    assert signed[0].certificate_serial is not None
    assert int(signed[0].certificate_serial, 16) == int(certificate.serial, 16)
    assert [json.loads(details)["automatic"] for details in automatic] == [f"subscription:{subscription_id}"]
    assert [m.recipient for m in outbox_of(factory, "invitation")] == [PARTY["email"]]
    told = outbox_of(factory, "subscription-issued")
    assert [m.recipient for m in told] == [initiator.email] and "отправлен на подпись" in told[0].body


def test_with_auto_signing_and_no_one_else_the_document_is_complete_once_finalized(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,
    time_machine: TimeMachineFixture,
) -> None:
    subscription_id = subscribe(factory, initiator_id, auto_sign=True)
    time_machine.move_to(at(date(2026, 12, 10), 10), tick=False)
    assert subscriptions.renew(factory, subscription_id, settings=job_environment, now=at(date(2026, 12, 10))) == 1
    assert "signing.jobs.finalize_revision" in run_jobs(redis)
    with factory() as session:
        assert session.scalars(select(Document)).one().status in {DocumentStatus.COMPLETED, DocumentStatus.DELIVERED}


def test_without_auto_signing_the_initiator_gets_a_ready_draft_and_a_reminder_to_send_it(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    subscription_id = subscribe(factory, initiator_id, signatories=[PARTY])
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10))) == 1
    document = issued(factory)[0]
    assert document.status == DocumentStatus.DRAFT
    assert outbox_of(factory, "invitation") == []
    told = outbox_of(factory, "subscription-issued")
    assert len(told) == 1 and "отправьте его на подпись" in told[0].subject
    assert f"/documents/{document.id}" in told[0].body


def test_the_initiator_is_told_before_the_issue_day_once_and_not_when_notices_are_off(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings
) -> None:
    told = subscribe(factory, initiator_id, notice_days=3)  # November, issued on 5 December
    subscribe_with(factory, initiator_id, buyer=1, notice_days=0)

    def notify(day: date) -> int:
        with factory() as session, session.begin():
            return subscriptions.notify_upcoming(session, settings=settings, now=at(day))

    assert [notify(date(2026, 12, d)) for d in (1, 2, 3, 4, 5)] == [0, 1, 0, 0, 0]
    messages = outbox_of(factory, "subscription-upcoming")
    assert len(messages) == 1 and "05.12.2026" in messages[0].subject and str(told) in messages[0].subject


def test_a_failed_renewal_is_recorded_and_mailed_once_and_a_retry_after_the_fix_issues_the_missing_period(
    factory: sessionmaker[Session], initiator_id: int, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=date(2026, 10, 1))
    real_render = documents.render_pdf
    failing = {"November 2026": True}

    def render(draft: Any) -> bytes:
        if failing["November 2026"] and draft.period.start == date(2026, 11, 1):
            raise RuntimeError("шрифт не найден")
        return real_render(draft)

    monkeypatch.setattr(documents, "render_pdf", render)
    for attempt in range(2):  # the job and its first retry
        with pytest.raises(RuntimeError):
            subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10), 9 + attempt))
    assert [row.period_start for row in periods_of(factory, subscription_id)] == [date(2026, 10, 1)]
    with factory() as session:
        last_error = session.get_one(Subscription, subscription_id).last_error or ""
    assert "11.2026" in last_error or "ноябрь" in last_error.lower()
    assert "шрифт не найден" in last_error
    failed = outbox_of(factory, "subscription-failed")
    assert len(failed) == 1 and "шрифт не найден" in failed[0].body
    failing["November 2026"] = False  # fixed; "retry now"
    assert subscriptions.renew(factory, subscription_id, settings=settings, now=at(date(2026, 12, 10), 12)) == 1
    assert [d.period_start for d in issued(factory)] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert [d.number for d in issued(factory)] == ["1/2026", "2/2026"]
    with factory() as session:
        assert session.get_one(Subscription, subscription_id).last_error is None


def test_a_notice_period_outside_the_range_is_refused(factory: sessionmaker[Session], initiator_id: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        subscribe(factory, initiator_id, notice_days=15)
    assert [(e.field, e.code) for e in refused.value.errors] == [("notice_days", "NOTICE-DAYS-RANGE")]
