"""The transactional mail outbox: a message is written with the state change it reports, and a job sends it.

Each message has a `dedupe_key` — (document, recipient, kind[, revision]) — that is unique: enqueueing it again is a
no-op, so each message exists once. Sending claims the row first (a short lease in its own committed transaction, so
two deliverers never both send it), sends, then marks it sent in a second short transaction.

The one window left: the SMTP server has accepted the message and the process dies before "sent" is committed.
The lease then runs out and the message goes again — at most once more per crash. It is kept small by committing
right after the server's answer, and a repeat carries the same Message-ID (derived from the row), so mail clients
show one message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from signing import history
from signing.config import Settings
from signing.db import session_scope
from signing.errors import ConfigurationError, MailUnavailable
from signing.mail import Mailer, build_message
from signing.models import Document, DocumentStatus, OutboxMessage, OutboxStatus, Revision

__all__ = [
    "BACKOFF",
    "FINAL",
    "LEASE",
    "MAX_ATTEMPTS",
    "WROTE_MAIL",
    "Outcome",
    "deliver",
    "deliver_due",
    "enqueue",
    "message_id_header",
]

WROTE_MAIL = "podpisant.outbox_written"
"""session.info key set when the session's transaction wrote outbox rows (`signing.delivery` enqueues delivery
after its commit)."""

FINAL = "final"
"""The kind of the message that carries the final PDF to a party; all of a document's sent → it is delivered."""
BACKOFF: Sequence[timedelta] = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
"""Wait after the 1st, 2nd, ... failed attempt; the attempt after the last wait is the last one."""
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)
"""How long a claimed message is left to its deliverer before another may try (longer than any SMTP exchange)."""
DUE_BATCH = 200
_DEFAULT_SENDER = Settings().mail_from


class Outcome(StrEnum):
    """What one `deliver` call did."""

    SENT = "sent"
    RETRY = "retry"
    """Failed; another attempt is scheduled (`next_attempt_at`)."""
    FAILED = "failed"
    """Failed for the last time; the document's history shows it."""
    SKIPPED = "skipped"
    """Not due, already sent or failed, or claimed by another deliverer: nothing done."""


def enqueue(
    session: Session, *, dedupe_key: str, recipient: str, kind: str, subject: str, body: str, now: datetime,
    document_id: int | None = None, attach_final_pdf: bool = False,
) -> int | None:
    """Write a message in the caller's transaction and return its id; None when a message with this `dedupe_key`
    exists already. One INSERT ... ON CONFLICT DO NOTHING: the unique key decides, even between concurrent
    transactions, and a duplicate leaves the caller's other work standing (nothing fails, nothing to roll back)."""
    values = dict(
        dedupe_key=dedupe_key, document_id=document_id, recipient=recipient, kind=kind, subject=subject[:300],
        body=body, attach_final_pdf=attach_final_pdf, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
        created_at=now,
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (insert(OutboxMessage).values(**values)
                 .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key]).returning(OutboxMessage.id))
    message_id = session.scalar(statement)
    if message_id is not None:
        session.info[WROTE_MAIL] = True
    return message_id


def deliver(
    session_factory: sessionmaker[Session], message_id: int, mailer: Mailer, *, now: datetime,
    sender: str = _DEFAULT_SENDER,
) -> Outcome:
    """Send one message if it is due and nobody else holds it; safe to call twice or from two workers at once."""
    problem: MailUnavailable | None = None
    with session_scope(session_factory) as session:
        claimed = _claim(session, message_id, now)
        if claimed is None:
            return Outcome.SKIPPED
        try:
            email = _build(session, claimed, sender)
        except MailUnavailable as error:  # the attempt still counts: the claim is committed with the failure
            problem = error
    try:
        if problem is not None:
            raise problem
        mailer.send(email)
    except (MailUnavailable, ConfigurationError, OSError) as error:
        with session_scope(session_factory) as session:
            return _record_failure(session, message_id, f"{type(error).__name__}: {error}", now)
    with session_scope(session_factory) as session:
        _record_success(session, claimed, now)
    return Outcome.SENT


def deliver_due(
    session_factory: sessionmaker[Session], mailer: Mailer, *, now: datetime, sender: str = _DEFAULT_SENDER,
) -> int:
    """Try every message that is due, oldest first; returns how many were sent."""
    with session_factory() as session:
        due = list(session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(DUE_BATCH)
        ))
    outcomes = [deliver(session_factory, message_id, mailer, now=now, sender=sender) for message_id in due]
    return outcomes.count(Outcome.SENT)


def message_id_header(message: OutboxMessage | _Claimed) -> str:
    """The same Message-ID on every attempt, so a repeat after a crash reads as the same message."""
    return f"<outbox-{message.id}-{re.sub(r'[^A-Za-z0-9.-]', '.', message.dedupe_key)[:80]}@podpisant.local>"


@dataclass(frozen=True)
class _Claimed:
    """What sending a claimed message needs of its row, read by the claim itself."""

    id: int
    dedupe_key: str
    recipient: str
    kind: str
    subject: str
    body: str
    document_id: int | None
    attach_final_pdf: bool


def _claim(session: Session, message_id: int, now: datetime) -> _Claimed | None:
    """Take the lease and count the attempt (committed before sending), reading the message in the same
    statement: the message when it is ours to send, None otherwise."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, OutboxMessage.dedupe_key, OutboxMessage.recipient, OutboxMessage.kind,
                   OutboxMessage.subject, OutboxMessage.body, OutboxMessage.document_id,
                   OutboxMessage.attach_final_pdf)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if claimed is None else _Claimed(**claimed._mapping)


def _build(session: Session, message: _Claimed, sender: str) -> EmailMessage:
    email = build_message(sender, message.recipient, message.subject, message.body)
    del email["Message-ID"]
    email["Message-ID"] = message_id_header(message)
    if message.attach_final_pdf:
        name, pdf = _final_pdf(session, message.document_id)
        email.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
    return email


def _final_pdf(session: Session, document_id: int | None) -> tuple[str, bytes]:
    """The file name and bytes of the document's final PDF; a missing one is a failure of this attempt."""
    document = None if document_id is None else session.get(Document, document_id)
    revision = None if document is None else session.scalars(
        select(Revision).where(Revision.document_id == document.id, Revision.seq == document.current_revision)
    ).first()
    if document is None or revision is None or revision.final_pdf is None:
        raise MailUnavailable(f"document {document_id} has no final PDF to attach")
    name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", document.title).strip() or f"document-{document.id}"
    return f"{name}.pdf", revision.final_pdf


SECRET_LINK = re.compile(r"/s/[A-Za-z0-9_-]{16,}")
"""A signatory's personal link: kept in the outbox only until it is sent (the database stores links hashed)."""
REDACTED_LINK = "/s/[ссылка скрыта]"


ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
CODE_KINDS = frozenset({"password_reset_code"})
"""Kinds whose mail carries a one-time code: kept in the outbox only until it is sent (codes are stored hashed)."""
REDACTED_CODE = "[код скрыт]"


def _redacted(kind: str, body: str) -> str:
    """The body as kept once sent: personal links (and one-time codes) taken out."""
    body = SECRET_LINK.sub(REDACTED_LINK, body)
    return ONE_TIME_CODE.sub(REDACTED_CODE, body) if kind in CODE_KINDS else body


def _redact(message: OutboxMessage) -> None:
    message.body = _redacted(message.kind, message.body)


def _record_success(session: Session, message: _Claimed, now: datetime) -> None:
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id)
        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None, body=_redacted(message.kind, message.body))
        .execution_options(synchronize_session=False)
    )
    if message.kind == FINAL and message.document_id is not None:
        _mark_delivered_if_all_sent(session, message.document_id, now)


def _mark_delivered_if_all_sent(session: Session, document_id: int, now: datetime) -> None:
    """Completed → delivered once every final message of the document is sent. The document row is locked first, so
    two deliverers finishing the last two messages at once cannot both miss the other's."""
    session.flush()
    document = session.scalars(select(Document).where(Document.id == document_id).with_for_update()).one()
    if document.status != DocumentStatus.COMPLETED:
        return
    unsent = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.document_id == document_id, OutboxMessage.kind == FINAL,
                                       OutboxMessage.status != OutboxStatus.SENT).limit(1)
    )
    if unsent is not None:
        return
    document.status = DocumentStatus.DELIVERED
    document.delivered_at = now
    history.append(session, document, "delivered", actor="system", actor_user_id=None, now=now, ip=None,
                   revision_sha256=_final_sha256(session, document))


def _record_failure(session: Session, message_id: int, error: str, now: datetime) -> Outcome:
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    message.last_error = error[:1000]
    if message.attempts < MAX_ATTEMPTS:
        message.next_attempt_at = now + BACKOFF[message.attempts - 1]
        return Outcome.RETRY
    _redact(message)
    message.status = OutboxStatus.FAILED
    document = None if message.document_id is None else session.get(Document, message.document_id)
    if document is not None:
        history.append(session, document, "delivery_failed", actor="system", actor_user_id=None, now=now, ip=None,
                       revision_sha256=_final_sha256(session, document) if message.attach_final_pdf else None,
                       details={"recipient": message.recipient, "kind": message.kind,
                                "attempts": message.attempts, "error": message.last_error})
    return Outcome.FAILED


def _final_sha256(session: Session, document: Document) -> str | None:
    return session.scalar(
        select(Revision.final_sha256).where(Revision.document_id == document.id,
                                            Revision.seq == document.current_revision)
    )
