"""Finalization: when the last signature lands, the revision becomes PAdES B-LTA, the document "completed", and
the final PDF goes to every party.

Exactly once per revision: the job takes the document's lock, and a revision with `finalized_at` set (or that is
no longer current, or not fully signed) is left alone. The PDF, the status, the history entry and the "final"
outbox rows are committed together, so a run killed half-way leaves nothing and the next run does it all; two
workers are serialised by the lock, and the second finds the work done.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from signing import history
from signing.certificates import trust_anchors
from signing.config import Settings
from signing.models import Document, DocumentStatus, Revision, Signatory, SignatoryState
from signing.notices import final_text, parties, tell
from signing.pades import finalize
from signing.serialise import lock_document, signatories
from signing.trust_services import ca_for, timestamper_for

__all__ = ["FINALIZE_JOB", "QUEUE", "finalize_revision", "job_id", "schedule", "unfinalized_revisions"]

log = logging.getLogger(__name__)

QUEUE = "default"
FINALIZE_JOB = "signing.jobs.finalize_revision"
RETRY = Retry(max=5, interval=[30, 60, 300, 900, 3600])
"""A failed run (the TSA down, say) is tried again; the hourly sweep catches anything left after that."""
_PENDING = "podpisant.finalize_after_commit"


def job_id(document_id: int, seq: int) -> str:
    """One RQ job id per revision."""
    return f"finalize-{document_id}-{seq}"


def fully_signed(revision: Revision, people: list[Signatory]) -> bool:
    """Every signatory has signed this revision, and its PDF carries one signature each."""
    return bool(people) and all(s.state == SignatoryState.SIGNED for s in people) \
        and revision.signature_count == len(people)


# ---------------------------------------------------------------- enqueueing after the commit


def _enqueue(redis_url: str, jobs: dict[str, int]) -> None:
    try:
        with Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5) as connection:
            queue = Queue(QUEUE, connection=connection)
            for name, revision_id in jobs.items():
                queue.enqueue(FINALIZE_JOB, revision_id, job_id=name, retry=RETRY)
    except RedisError:
        # The signatures are committed; `unfinalized_revisions` (swept by rq cron) finds the revision later.
        log.warning("could not enqueue %s; the cron sweep will", ", ".join(jobs), exc_info=True)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # SQLAlchemy fires this for a released savepoint too
        return
    pending: dict[str, dict[str, int]] = session.info.pop(_PENDING, {})
    for redis_url, jobs in pending.items():
        _enqueue(redis_url, jobs)


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_PENDING, None)


def schedule(session: Session, revision: Revision, settings: Settings) -> None:
    """Enqueue `finalize_revision` for `revision` once the caller's transaction commits (a job started before
    the commit would not see the last signature); nothing is enqueued if it rolls back."""
    pending = session.info.setdefault(_PENDING, {})
    pending.setdefault(settings.effective_redis_url, {})[job_id(revision.document_id, revision.seq)] = revision.id
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)


# ---------------------------------------------------------------- the job's body


def _due(document: Document, revision: Revision, people: list[Signatory]) -> bool:
    return (revision.finalized_at is None and document.status == DocumentStatus.IN_SIGNING
            and document.current_revision == revision.seq and revision.pdf is not None
            and fully_signed(revision, people))


def _finalize_locked(session: Session, document: Document, revision: Revision, *, settings: Settings,
                     now: datetime) -> None:
    assert revision.pdf is not None
    final = finalize(revision.pdf, trust=trust_anchors(session, ca_for(settings), now=now),
                     timestamper=timestamper_for(settings), now=now)
    revision.final_pdf = final
    revision.final_sha256 = hashlib.sha256(final).hexdigest()
    revision.finalized_at = now
    document.status = DocumentStatus.COMPLETED
    document.completed_at = now
    document.updated_at = now
    history.append(session, document, "finalized", actor="system", actor_user_id=None, now=now, ip=None,
                   revision_sha256=revision.final_sha256, details={"revision": revision.seq})
    for party in parties(session, document):
        tell(session, document, party, "final", final_text(document, party.name), now=now, attach_final_pdf=True)


def finalize_revision(session_factory: sessionmaker[Session], revision_id: int, *, settings: Settings,
                      now: datetime) -> bool:
    """Finalize the revision in its own transaction; True when this run did it, False when there was nothing
    to do (done before, superseded, round ended, not fully signed, unknown id)."""
    with session_factory() as session, session.begin():
        found = session.get(Revision, revision_id)
        if found is None:
            return False
        document = lock_document(session, found.document_id)
        revision = session.scalars(
            select(Revision).where(Revision.id == revision_id).execution_options(populate_existing=True)
        ).one()
        if not _due(document, revision, signatories(session, document.id)):
            return False
        _finalize_locked(session, document, revision, settings=settings, now=now)
        return True


def unfinalized_revisions(session: Session) -> list[int]:
    """Revisions whose every signature is in but which are not finalized (their job was lost or failed for good)."""
    query = (
        select(Revision)
        .join(Document, (Document.id == Revision.document_id) & (Document.current_revision == Revision.seq))
        .where(Document.status == DocumentStatus.IN_SIGNING, Revision.finalized_at.is_(None),
               Revision.signature_count > 0)
    )
    return [revision.id for revision in session.scalars(query)
            if fully_signed(revision, signatories(session, revision.document_id))]

