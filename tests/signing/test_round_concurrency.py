"""Signatures at the same moment: each in its own thread, session and transaction, as concurrent requests are.
They are serialised on the document (a row lock on PostgreSQL — set TEST_DATABASE_URL — or SQLite's write lock),
so none is lost, none is applied twice, none lands on a revision that was superseded meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable

from redis import Redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from signing import finalization, history, rounds
from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.config import Settings
from signing.errors import StaleRevision
from signing.models import DocumentStatus, OutboxMessage, Revision, Signatory
from signing.pades import Verdict, verify
from signing.trust_services import ca_for
from tests.conftest import MailSink
from tests.signing.drafting.examples import TODAY, form
from tests.signing.round_fixtures import (
    counterparties,
    deliver_all,
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    person,
    run_jobs,
    sent_round,
    session_fixture,  # noqa: F401 - fixture `session`
)


def _at_once(engine: Engine, actions: list[Callable[[Session], object]]) -> list[object]:
    """Run each action in its own thread and session, released together; what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                outcomes[index] = actions[index](own)
                own.commit()
            except Exception as exc:
                own.rollback()
                outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return outcomes


def _codes(session: Session, people: list[Signatory], settings: Settings, mail: MailSink) -> dict[int, str]:
    for signatory in people:
        rounds.request_code(session, signatory, "sign", settings=settings, now=utcnow())
        session.commit()
    return {s.id: mail.last_code(s.email) for s in people}


def _signing(signatory_id: int, code: str, settings: Settings, seq: int = 1) -> Callable[[Session], object]:
    def action(own: Session) -> object:
        signatory = own.get(Signatory, signatory_id)
        assert signatory is not None
        return rounds.sign(own, signatory, code=code, revision_seq=seq, settings=settings, now=utcnow(), ip=None)
    return action


def _revision(session: Session, document_id: int, seq: int) -> Revision:
    session.expire_all()
    return session.scalars(select(Revision).where(Revision.document_id == document_id, Revision.seq == seq)).one()


def test_ten_signatories_signing_at_the_same_moment_all_land_and_finalization_runs_once(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(10))
    codes = _codes(session, document.signatories, settings, mail)
    outcomes = _at_once(engine, [_signing(sid, code, settings) for sid, code in codes.items()])
    assert all(isinstance(outcome, Signatory) for outcome in outcomes), outcomes
    revision = _revision(session, document.id, 1)
    assert revision.signature_count == 10
    assert revision.pdf is not None
    report = verify(revision.pdf, trust=trust_anchors(session, ca_for(settings), now=utcnow()))
    assert report.verdict == Verdict.VALID
    assert len(report.signatures) == 10 and all(s.valid and s.trusted and s.intact for s in report.signatures)
    assert len({s.certificate_serial for s in report.signatures}) == 10
    finalization_jobs = [name for name in run_jobs(redis) if name == finalization.FINALIZE_JOB]
    assert finalization_jobs == [finalization.FINALIZE_JOB]
    session.refresh(document)
    assert document.status in (DocumentStatus.COMPLETED, DocumentStatus.DELIVERED)
    assert [e.event for e in history.entries(session, document.id)].count("finalized") == 1
    deliver_all(engine, settings)
    for email in [initiator.email] + [f"party{i}@example.org" for i in range(1, 11)]:
        finals = [m for m in mail.to(email) if "подписан всеми сторонами" in str(m["Subject"])]
        assert len(finals) == 1, email


def test_a_double_click_at_the_same_moment_signs_once(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    signatory = document.signatories[0]
    code = _codes(session, [signatory], settings, mail)[signatory.id]
    outcomes = _at_once(engine, [_signing(signatory.id, code, settings) for _ in range(4)])
    assert all(isinstance(outcome, Signatory) for outcome in outcomes), outcomes
    assert _revision(session, document.id, 1).signature_count == 1
    assert [e.event for e in history.entries(session, document.id)].count("signed") == 1


def test_a_signature_racing_an_edit_never_lands_on_the_new_revision(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2))
    signatory = document.signatories[0]
    code = _codes(session, [signatory], settings, mail)[signatory.id]

    def editing(own: Session) -> object:
        mine = own.get(type(document), document.id)
        assert mine is not None
        who = own.get(type(initiator), initiator.id)
        assert who is not None
        return rounds.edit(own, mine, who, data=form(notes="Правка"), settings=settings, today=TODAY, now=utcnow(),
                           ip=None)

    signed, _edited = _at_once(engine, [_signing(signatory.id, code, settings), editing])
    assert isinstance(signed, Signatory | StaleRevision), signed
    old, new = _revision(session, document.id, 1), _revision(session, document.id, 2)
    assert new.signature_count == 0
    assert old.signature_count == (1 if isinstance(signed, Signatory) else 0)
    session.refresh(signatory)
    assert signatory.state != "signed" and signatory.signed_at is None  # the old signature does not count


def test_three_workers_finalizing_at_once_finalize_once_and_write_one_final_mail_per_party(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(3))
    codes = _codes(session, document.signatories, settings, mail)
    assert all(isinstance(o, Signatory) for o in _at_once(engine, [_signing(s, c, settings) for s, c in codes.items()]))
    revision_id = _revision(session, document.id, 1).id
    factory = sessionmaker(engine, expire_on_commit=False)

    def finalizing(_own: Session) -> object:
        return finalization.finalize_revision(factory, revision_id, settings=settings, now=utcnow())

    assert sorted(_at_once(engine, [finalizing] * 3), key=str) == [False, False, True]  # three workers, one run
    finals = session.scalar(select(func.count()).select_from(OutboxMessage).filter_by(document_id=document.id,
                                                                                       kind="final"))
    assert finals == 4
