"""Mail a request writes leaves at once: a commit that wrote outbox rows puts one delivery job on the real RQ
queue (bursts share it), a rolled-back one puts none, and Redis being down never fails the person's request."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing import outbox
from signing.clock import utcnow
from signing.config import Settings
from signing.delivery import DELIVER_JOB, JOB_IDS
from signing.models import OutboxMessage, OutboxStatus
from tests.conftest import MailSink, WebUser, free_port
from tests.signing.round_fixtures import (
    deliver_all,
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    run_jobs,
)
from tests.web.test_round_pages import (  # noqa: F401 - the round pages' clock and job settings
    GUEST,
    OTHER_GUEST,
    _clock,
    _draft,
    _jobs_read_the_test_settings,
    _person,
    _send,
)
from web import create_app

DELIVERY = "signing.jobs.deliver_outbox"


@pytest.fixture(name="maria")
def maria_fixture(app: Flask, mail: MailSink) -> WebUser:
    return _person(app, mail, "Иванова Мария Петровна", "maria@example.ru", "+7 916 123-45-67")


def _queued(redis: Redis[bytes]) -> list[str]:
    return Queue("default", connection=redis).get_job_ids()


def _pending(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status == OutboxStatus.PENDING)) or 0)


def test_sending_a_round_enqueues_delivery_and_the_job_mails_the_invitations(
    maria: WebUser, engine: Engine, mail: MailSink, redis: Redis[bytes]
) -> None:
    document_id = _draft(maria)
    assert _send(maria, document_id, [("Контрагентов Игорь", GUEST), ("Второй Гость", OTHER_GUEST)]).status_code == 303
    assert _queued(redis) == [JOB_IDS[0]] and not mail.to(GUEST)  # waiting for a worker, not for the cron tick
    assert run_jobs(redis) == [DELIVER_JOB]
    for email in (GUEST, OTHER_GUEST):
        assert "/s/" in str(mail.wait_for(email)[0].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert _pending(engine) == 0


def test_a_burst_of_commits_shares_one_waiting_job(maria: WebUser, mail: MailSink, redis: Redis[bytes]) -> None:
    first, second = _draft(maria), _draft(maria, number="13", period={"start": "01.10.2026", "end": "31.10.2026"})
    assert _send(maria, first, [("Гость", GUEST)]).status_code == 303
    assert _send(maria, second, [("Другой Гость", OTHER_GUEST)]).status_code == 303
    assert _queued(redis) == [JOB_IDS[0]]
    assert run_jobs(redis) == [DELIVERY]
    assert mail.wait_for(GUEST) and mail.wait_for(OTHER_GUEST)


def test_a_commit_after_the_job_ran_enqueues_it_again(maria: WebUser, mail: MailSink, redis: Redis[bytes]) -> None:
    first, second = _draft(maria), _draft(maria, number="13", period={"start": "01.10.2026", "end": "31.10.2026"})
    assert _send(maria, first, [("Гость", GUEST)]).status_code == 303
    run_jobs(redis)
    assert _send(maria, second, [("Другой Гость", OTHER_GUEST)]).status_code == 303
    assert _queued(redis) == [JOB_IDS[0]]
    assert run_jobs(redis) == [DELIVERY] and mail.wait_for(OTHER_GUEST)


def test_a_commit_while_a_delivery_runs_queues_a_second_one(redis: Redis[bytes], app: Flask) -> None:
    from rq.job import JobStatus

    from signing.delivery import deliver_soon

    running = Queue("default", connection=redis).enqueue(DELIVER_JOB, job_id=JOB_IDS[0])
    running.set_status(JobStatus.STARTED)
    deliver_soon(redis)
    deliver_soon(redis)
    assert _queued(redis) == [JOB_IDS[0], JOB_IDS[1]]  # the running one's entry, and one follow-up only


def test_writing_no_mail_or_rolling_it_back_enqueues_nothing(
    maria: WebUser, engine: Engine, redis: Redis[bytes]
) -> None:
    document_id = _draft(maria)
    assert _queued(redis) == []  # the draft wrote no mail
    refused = _send(maria, document_id, [("Гость", GUEST)], deadline="завтра")  # the round is built, then undone
    assert refused.status_code == 422 and 'data-field-error="deadline"' in refused.get_data(as_text=True)
    assert _queued(redis) == [] and _pending(engine) == 0


def test_only_a_whole_transactions_commit_enqueues_not_a_savepoint_nor_after_a_rollback(
    app: Flask, redis: Redis[bytes]
) -> None:
    factory = app.extensions["podpisant"].session_factory

    def write_mail(session: Session, key: str) -> None:
        outbox.enqueue(session, dedupe_key=key, recipient="a@example.org", kind="test", subject="Тема", body="Текст",
                       now=utcnow())

    with factory() as session:
        write_mail(session, "test:1")  # inside a savepoint, released: the transaction is still open
        assert _queued(redis) == []
        session.rollback()
        session.commit()
        assert _queued(redis) == []
        write_mail(session, "test:2")
        session.commit()
    assert _queued(redis) == [JOB_IDS[0]]


def test_redis_being_down_does_not_fail_the_request_and_the_cron_tick_sends_later(
    settings: Settings, engine: Engine, mail: MailSink, caplog: pytest.LogCaptureFixture
) -> None:
    dead = create_app(dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    initiator = _person(dead, mail, "Иванова Мария Петровна", "maria@example.ru", "+7 916 123-45-67")
    document_id = _draft(initiator)
    with caplog.at_level(logging.WARNING, logger="podpisant.delivery"):
        response = _send(initiator, document_id, [("Гость", GUEST)])
    assert response.status_code == 303
    assert any("rq cron will send it" in record.getMessage() for record in caplog.records)
    assert _pending(engine) == 1 and not mail.to(GUEST)
    assert deliver_all(engine, settings) == 1 and mail.wait_for(GUEST)  # what the every-minute job does
    dead.extensions["podpisant"].engine.dispose()
