"""Finalization: the last signature enqueues one job after its commit; the job makes the PDF B-LTA, completes
the document and mails the final PDF to every party, exactly once — run twice, by two workers, or after dying
half-way."""

from __future__ import annotations

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from signing import finalization, history, jobs, rounds
from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.config import Settings
from signing.models import Document, DocumentStatus, HistoryEntry, OutboxMessage, Revision, SigningOrder
from signing.pades import Verdict, verify
from signing.pades.verify import PadesLevel
from signing.trust_services import ca_for
from tests.conftest import MailSink
from tests.signing.round_fixtures import (
    counterparties,
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    person,
    run_jobs,
    sent_round,
    session_fixture,  # noqa: F401 - fixture `session`
    sign_with_code,
    signatory_for,
)


def _fully_signed(session: Session, settings: Settings, mail: MailSink, n: int = 2) -> Document:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(n), initiator_signs=True)
    for signatory in document.signatories:
        sign_with_code(session, signatory, settings, mail)
    return document


def _revision(session: Session, document: Document) -> Revision:
    session.expire_all()
    return session.scalars(select(Revision).where(Revision.document_id == document.id,
                                                  Revision.seq == document.current_revision)).one()


def _count(session: Session, model: type[HistoryEntry] | type[OutboxMessage], **where: object) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return session.scalar(query) or 0


def _last_signature_uncommitted(session: Session, settings: Settings, mail: MailSink) -> Document:
    """A one-signatory round whose signature is made but not committed yet."""
    document = sent_round(session, settings, person(session, 1), counterparties(1))
    signatory = document.signatories[0]
    rounds.request_code(session, signatory, "sign", settings=settings, now=utcnow())
    session.commit()
    rounds.sign(session, signatory, code=mail.last_code(signatory.email), revision_seq=1, settings=settings,
                now=utcnow(), ip=None)
    return document


def test_the_last_signature_enqueues_finalization_only_once_it_is_committed(
    session: Session, settings: Settings, mail: MailSink, redis: Redis
) -> None:
    document = _last_signature_uncommitted(session, settings, mail)
    queue = Queue("default", connection=redis)
    assert queue.job_ids == []  # not before the commit: a job started now would not see the signature
    session.commit()
    assert queue.job_ids == [finalization.job_id(document.id, 1)]


def test_a_savepoint_released_after_the_last_signature_does_not_enqueue_before_the_commit(
    session: Session, settings: Settings, mail: MailSink, redis: Redis
) -> None:
    document = _last_signature_uncommitted(session, settings, mail)
    queue = Queue("default", connection=redis)
    with session.begin_nested():
        pass
    assert queue.job_ids == []
    session.commit()
    assert queue.job_ids == [finalization.job_id(document.id, 1)]


def test_a_last_signature_that_is_rolled_back_enqueues_nothing(
    session: Session, settings: Settings, mail: MailSink, redis: Redis
) -> None:
    _last_signature_uncommitted(session, settings, mail)
    session.rollback()
    session.commit()  # a later, unrelated commit of the same session does not enqueue it either
    assert Queue("default", connection=redis).job_ids == []


def test_the_job_makes_the_document_b_lta_completed_and_mails_the_final_pdf_to_every_party(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    document = _fully_signed(session, settings, mail)
    assert run_jobs(redis) == [finalization.FINALIZE_JOB, "signing.jobs.deliver_outbox"]
    revision = _revision(session, document)
    session.refresh(document)
    assert document.completed_at is not None
    assert revision.final_pdf is not None and revision.finalized_at is not None
    report = verify(revision.final_pdf, trust=trust_anchors(session, ca_for(settings), now=utcnow()))
    assert report.verdict == Verdict.VALID
    signatures = [s for s in report.signatures if s.kind == "signature"]
    assert len(signatures) == 3 and all(s.valid and s.trusted for s in signatures)
    assert any(s.pades_level == PadesLevel.B_LTA for s in report.signatures)
    assert [e.event for e in history.entries(session, document.id)][-2:] == ["finalized", "delivered"]
    for party in ("person1@example.ru", "party1@example.org", "party2@example.org"):
        [final] = [m for m in mail.to(party) if "подписан всеми сторонами" in str(m["Subject"])]
        attachment = next(final.iter_attachments())
        assert attachment.get_content() == revision.final_pdf
    session.refresh(document)
    assert document.status == DocumentStatus.DELIVERED


def test_finalizing_twice_changes_nothing_the_second_time(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    document = _fully_signed(session, settings, mail)
    revision_id = _revision(session, document).id
    assert jobs.finalize_revision(revision_id) is True
    final = _revision(session, document).final_pdf
    queue = Queue("default", connection=redis)
    queue.enqueue(finalization.FINALIZE_JOB, revision_id)  # enqueued again, as a retry or a replay would
    queue.enqueue(finalization.FINALIZE_JOB, revision_id)
    run_jobs(redis)
    assert _revision(session, document).final_pdf == final
    assert _count(session, HistoryEntry, document_id=document.id, event="finalized") == 1
    assert _count(session, OutboxMessage, document_id=document.id, kind="final") == 3


def test_a_run_that_dies_half_way_leaves_nothing_and_the_rerun_does_it_all(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _fully_signed(session, settings, mail)
    revision_id = _revision(session, document).id
    factory = sessionmaker(engine, expire_on_commit=False)

    def killed(*_args: object, **_kwargs: object) -> bool:
        raise SystemExit("worker killed while writing the final mails")

    monkeypatch.setattr(finalization, "tell", killed)
    with pytest.raises(SystemExit):
        finalization.finalize_revision(factory, revision_id, settings=settings, now=utcnow())
    revision = _revision(session, document)
    assert revision.final_pdf is None and revision.finalized_at is None
    assert session.get(Document, document.id).status == DocumentStatus.IN_SIGNING  # type: ignore[union-attr]
    monkeypatch.undo()
    assert finalization.finalize_revision(factory, revision_id, settings=settings, now=utcnow()) is True
    assert _revision(session, document).final_pdf is not None
    assert _count(session, OutboxMessage, document_id=document.id, kind="final") == 3


def test_a_lost_job_is_found_by_the_hourly_sweep(
    session: Session, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    document = _fully_signed(session, settings, mail)
    Queue("default", connection=redis).empty()  # the job was lost (Redis flushed, say)
    assert jobs.finalize_stalled() == 1
    assert jobs.finalize_stalled() == 0
    assert _revision(session, document).finalized_at is not None


def test_a_revision_that_is_not_fully_signed_or_no_longer_current_is_not_finalized(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2), order=SigningOrder.SEQUENTIAL)
    sign_with_code(session, signatory_for(document, "party1@example.org"), settings, mail)
    factory = sessionmaker(engine, expire_on_commit=False)
    revision = _revision(session, document)
    assert finalization.finalize_revision(factory, revision.id, settings=settings, now=utcnow()) is False
    assert finalization.finalize_revision(factory, 10**9, settings=settings, now=utcnow()) is False
    assert _revision(session, document).final_pdf is None
