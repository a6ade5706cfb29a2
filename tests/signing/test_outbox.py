"""The mail outbox over a real SMTP sink: each message exists once and is sent once, failures back off and then show
on the document, the final PDF arrives attached, and a document whose every final mail went out is delivered."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from redis import Redis
from rq.cron import CronScheduler
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from time_machine import TimeMachineFixture

from signing import history, jobs, outbox
from signing.clock import utcnow
from signing.mail import SmtpMailer
from signing.models import Document, DocumentStatus, OutboxMessage, OutboxStatus
from tests.conftest import MailSink, free_port
from tests.signing.document_fixtures import NOW, drafted, person
from tests.support.pades import plain_pdf

FINAL_PDF = plain_pdf(2, text="Final B-LTA stand-in")


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """The wall clock (mail Date headers) stands at `NOW` until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _completed_document(factory: sessionmaker[Session], recipients: tuple[str, ...] = ()) -> int:
    """A completed document whose current revision holds `FINAL_PDF`, with a final mail queued per recipient."""
    with factory.begin() as session:
        document = drafted(session, person(session, 1))
        document.status = DocumentStatus.COMPLETED
        session.flush()
        revision = document.revisions[0]
        revision.final_pdf, revision.final_sha256 = FINAL_PDF, "f" * 64
        for recipient in recipients:
            _final(session, document.id, recipient)
        return document.id


def _final(session: Session, document_id: int, recipient: str) -> int | None:
    return outbox.enqueue(session, dedupe_key=f"final:{document_id}:{recipient}", recipient=recipient,
                          kind=outbox.FINAL, subject="Документ подписан всеми сторонами", body="PDF во вложении.",
                          now=utcnow(), document_id=document_id, attach_final_pdf=True)


def _notice(factory: sessionmaker[Session], key: str = "notice:1", to: str = "anna@example.ru") -> int | None:
    with factory.begin() as session:
        message = outbox.enqueue(session, dedupe_key=key, recipient=to, kind="invitation",
                                 subject="Приглашение подписать", body=f"Ссылка: http://localhost/s/{LINK_TOKEN}",
                                 now=utcnow())
        return message


LINK_TOKEN = "Qx7vN3bP0aL9sT2kW5yZ8cE1gH4jM6nR"


def _row(factory: sessionmaker[Session], message_id: int) -> OutboxMessage:
    with factory() as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def test_enqueueing_one_key_twice_keeps_one_row_and_sends_one_mail(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    first = _notice(factory)
    assert first is not None and _notice(factory) is None
    mailer = SmtpMailer(mail.url)
    assert outbox.deliver_due(factory, mailer, now=utcnow()) == 1
    assert outbox.deliver_due(factory, mailer, now=utcnow()) == 0
    assert outbox.deliver(factory, first, mailer, now=utcnow()) is outbox.Outcome.SKIPPED
    [received] = mail.wait_for("anna@example.ru")
    assert received["Subject"] == "Приглашение подписать"
    assert received["Message-ID"] == outbox.message_id_header(_row(factory, first))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert _row(factory, first).status == OutboxStatus.SENT
    assert LINK_TOKEN in received.get_content(), "the person gets the link"
    assert LINK_TOKEN not in _row(factory, first).body, "the database keeps no usable link once it is sent"


def test_a_duplicate_enqueue_inside_a_larger_transaction_leaves_the_rest_of_it_standing(
    factory: sessionmaker[Session], clock: TimeMachineFixture
) -> None:
    _notice(factory)
    with factory.begin() as session:
        document = drafted(session, person(session, 1))
        assert outbox.enqueue(session, dedupe_key="notice:1", recipient="x@example.ru", kind="invitation",
                              subject="s", body="b", now=utcnow()) is None
    with factory() as session:
        assert session.get(Document, document.id) is not None


def test_two_deliverers_racing_for_one_message_send_it_once(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    message_id = _notice(factory)
    assert message_id is not None
    start = threading.Barrier(4)
    outcomes: list[outbox.Outcome] = []

    def deliverer() -> None:
        start.wait(10)
        outcomes.append(outbox.deliver(factory, message_id, SmtpMailer(mail.url), now=NOW))

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == sorted([outbox.Outcome.SENT] + [outbox.Outcome.SKIPPED] * 3)
    assert len(mail.to("anna@example.ru")) == 1


def test_smtp_down_backs_off_1_5_30_120_360_minutes_then_fails_and_shows_on_the_document(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    document_id = _completed_document(factory, ("boris@example.ru",))
    with factory() as session:
        message_id = session.scalars(select(OutboxMessage.id)).one()
    down = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    moment = NOW
    for attempt, wait in enumerate([*outbox.BACKOFF, None], start=1):
        clock.move_to(moment)
        early = outbox.deliver(factory, message_id, down, now=moment - timedelta(seconds=1))
        assert early is outbox.Outcome.SKIPPED or attempt == 1
        outcome = outbox.deliver(factory, message_id, down, now=moment)
        row = _row(factory, message_id)
        assert row.attempts == attempt and "MailUnavailable" in (row.last_error or "")
        if wait is None:
            assert (outcome, row.status) == (outbox.Outcome.FAILED, OutboxStatus.FAILED)
        else:
            assert (outcome, row.status, row.next_attempt_at) == (outbox.Outcome.RETRY, "pending", moment + wait)
            moment += wait
    assert outbox.deliver_due(factory, SmtpMailer(mail.url), now=moment + timedelta(days=30)) == 0
    assert mail.to("boris@example.ru") == []
    with factory() as session:
        failed = history.entries(session, document_id)[-1]
        assert (failed.event, failed.actor) == ("delivery_failed", "system")
        assert '"recipient":"boris@example.ru"' in failed.details and '"attempts":6' in failed.details
        assert session.get(Document, document_id).status == DocumentStatus.COMPLETED  # type: ignore[union-attr]
        assert history.verify_chain(session, document_id).ok


def test_a_deliverer_that_died_after_its_claim_leaves_the_message_to_the_next_after_the_lease(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    message_id = _notice(factory)
    assert message_id is not None

    class Dies:
        def send(self, _message: object) -> None:
            raise KeyboardInterrupt  # the process is killed mid-send

    with pytest.raises(KeyboardInterrupt):
        outbox.deliver(factory, message_id, Dies(), now=NOW)
    smtp = SmtpMailer(mail.url)
    assert outbox.deliver(factory, message_id, smtp, now=NOW + outbox.LEASE - timedelta(seconds=1)) == "skipped"
    assert outbox.deliver(factory, message_id, smtp, now=NOW + outbox.LEASE) is outbox.Outcome.SENT
    assert len(mail.to("anna@example.ru")) == 1
    assert _row(factory, message_id).attempts == 2


def test_the_final_pdf_arrives_attached_as_application_pdf_with_its_exact_bytes(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    _completed_document(factory, ("anna@example.ru",))
    assert outbox.deliver_due(factory, SmtpMailer(mail.url), now=NOW) == 1
    [received] = mail.wait_for("anna@example.ru")
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == FINAL_PDF
    assert attachment.get_filename() == "Акт выполненных работ № 12 от 30.11.2026.pdf"


def test_a_final_mail_without_a_final_pdf_is_retried_not_sent_bare(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    with factory.begin() as session:
        document = drafted(session, person(session, 1))
        message_id = _final(session, document.id, "anna@example.ru")
        assert message_id is not None
    assert outbox.deliver(factory, message_id, SmtpMailer(mail.url), now=NOW) is outbox.Outcome.RETRY
    assert "no final PDF" in (_row(factory, message_id).last_error or "")
    assert mail.to("anna@example.ru") == []


def test_the_document_is_delivered_once_every_final_mail_is_sent(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    document_id = _completed_document(factory, ("anna@example.ru", "boris@example.ru"))
    with factory() as session:
        anna, boris = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    smtp = SmtpMailer(mail.url)
    assert outbox.deliver(factory, anna, smtp, now=NOW) is outbox.Outcome.SENT
    with factory() as session:
        assert session.get(Document, document_id).status == DocumentStatus.COMPLETED  # type: ignore[union-attr]
    later = NOW + timedelta(minutes=3)
    assert outbox.deliver(factory, boris, smtp, now=later) is outbox.Outcome.SENT
    with factory() as session:
        document = session.get(Document, document_id)
        assert document is not None
        assert (document.status, document.delivered_at) == (DocumentStatus.DELIVERED, later)
        assert [e.event for e in history.entries(session, document_id)][-1] == "delivered"
        assert history.verify_chain(session, document_id).ok


def test_the_last_two_final_mails_sent_at_once_still_deliver_the_document_once(
    factory: sessionmaker[Session], mail: MailSink, clock: TimeMachineFixture
) -> None:
    recipients = ("anna@example.ru", "boris@example.ru", "vera@example.ru")
    document_id = _completed_document(factory, recipients)
    with factory() as session:
        ids = session.scalars(select(OutboxMessage.id)).all()
    start = threading.Barrier(len(ids))

    def deliverer(message_id: int) -> None:
        start.wait(10)
        outbox.deliver(factory, message_id, SmtpMailer(mail.url), now=NOW)

    threads = [threading.Thread(target=deliverer, args=(message_id,)) for message_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(len(mail.to(recipient)) == 1 for recipient in recipients)
    with factory() as session:
        assert session.get(Document, document_id).status == DocumentStatus.DELIVERED  # type: ignore[union-attr]
        assert [e.event for e in history.entries(session, document_id)].count("delivered") == 1


def test_the_deliver_outbox_job_sends_what_is_due_with_the_configured_smtp_and_sender(
    factory: sessionmaker[Session], mail: MailSink, database_url: str, monkeypatch: pytest.MonkeyPatch,
    clock: TimeMachineFixture,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SMTP_URL", mail.url)
    monkeypatch.setenv("MAIL_FROM", "Подписант <robot@podpisant.test>")
    _notice(factory)
    assert jobs.deliver_outbox() == 1
    assert jobs.deliver_outbox() == 0
    [received] = mail.wait_for("anna@example.ru")
    assert "robot@podpisant.test" in str(received["From"])


def test_rq_cron_runs_deliver_outbox_every_minute(redis: Redis[bytes]) -> None:
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file("signing.cron_config")
    crons = {job.func_name: job.cron for job in scheduler.get_jobs()}
    assert crons["signing.jobs.deliver_outbox"] == "* * * * *"
