"""A document's append-only history: each entry carries the hash of the previous one, so any edit shows.

hash = sha256(prev_hash + canonical JSON of the entry's own fields); the first entry's prev_hash is 64 zeros, and
the document keeps the newest hash (`Document.history_head`), so dropping the newest entries shows too.

Concurrency: `append` locks the document row (PostgreSQL; SQLite's write lock serialises anyway), then takes the
next seq; the unique (document_id, seq) is the guard should anything append without the lock, and a conflict is
retried on a fresh read inside a savepoint, so the chain never forks. Within one transaction the document stays
locked and the entry just appended is the tail: the next append in the same transaction builds on it without
locking or reading again, and without a flush of its own (the entry must still be in the session, so a rolled-back
savepoint sends it back to the checked path).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy import inspect as inspect_state
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.models import Document, HistoryEntry

__all__ = ["EVENTS", "EVENT_LABELS", "GENESIS", "ChainCheck", "append", "entries", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
"""prev_hash of a document's first entry."""
EVENT_LABELS: Mapping[str, str] = {
    "created": "Создан",
    "edited": "Изменено",
    "attachment_added": "Добавлено вложение",
    "sent": "Отправлен на подпись",
    "notified": "Отправлено приглашение",
    "viewed": "Просмотрен",
    "reminded": "Отправлено напоминание",
    "signed": "Подписан",
    "declined": "Отказано",
    "withdrawn": "Отозван",
    "expired": "Срок истёк",
    "finalized": "Готов к выдаче",
    "delivered": "Доставлено",
    "delivery_failed": "Ошибка доставки",
}
"""Russian label of each event, as the history page and the certificate of completion show it."""
EVENTS = frozenset(EVENT_LABELS)
APPEND_RETRIES = 5
_TAILS = "podpisant.history_tails"
"""session.info key: {document id: (the root transaction, the entry it appended last)}."""


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of re-hashing a document's history."""

    ok: bool
    broken_at_seq: int | None
    """The first seq whose entry is altered, missing or out of place; None when the chain holds."""
    entries: int
    """How many entries were read."""


def canonical_json(value: object) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: HistoryEntry) -> str:
    """The hash `entry` must carry, given its fields and its prev_hash."""
    fields = {
        "document_id": entry.document_id,
        "seq": entry.seq,
        "event": entry.event,
        "actor": entry.actor,
        "actor_user_id": entry.actor_user_id,
        "at": entry.at.astimezone(UTC).isoformat(),
        "ip": entry.ip,
        "revision_sha256": entry.revision_sha256,
        "details": entry.details,
    }
    return hashlib.sha256((entry.prev_hash + canonical_json(fields)).encode()).hexdigest()


def append(
    session: Session,
    document: Document,
    event: str,
    *,
    actor: str,
    actor_user_id: int | None,
    now: datetime,
    ip: str | None,
    revision_sha256: str | None,
    details: Mapping[str, object] | None = None,
    new_document: bool = False,
) -> HistoryEntry:
    """Add the next entry to `document`'s history (flushed, not committed: the caller's transaction owns it).
    `new_document`: the document was inserted by this transaction, so its history is empty and nobody else can
    append to it before the commit (no lock, no read)."""
    if event not in EVENTS:
        raise ValueError(f"unknown history event {event!r}")
    if document.id is None:
        session.flush()
    tail = None if new_document else _tail(session, document.id)
    if tail is not None or new_document:
        entry = _entry(document, tail, event, actor, actor_user_id, now, ip, revision_sha256, details)
        session.add(entry)
        return _appended(session, document, entry)
    _lock_document(session, document.id)
    for _ in range(APPEND_RETRIES):
        last = _last_entry(session, document.id)
        entry = _entry(document, last, event, actor, actor_user_id, now, ip, revision_sha256, details)
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:  # someone appended without the lock: read the new last entry and go again
            continue
        return _appended(session, document, entry)
    raise RuntimeError(f"history of document {document.id} kept changing under {APPEND_RETRIES} appends")


def entries(session: Session, document_id: int) -> list[HistoryEntry]:
    """The history in order, oldest first."""
    query = select(HistoryEntry).where(HistoryEntry.document_id == document_id).order_by(HistoryEntry.seq)
    return list(session.scalars(query))


def verify_chain(session: Session, document_id: int) -> ChainCheck:
    """Re-hash the stored history: an altered field, a missing, inserted or reordered entry breaks the chain."""
    stored = entries(session, document_id)
    prev_hash = GENESIS
    for expected_seq, entry in enumerate(stored, start=1):
        if entry.seq != expected_seq or entry.prev_hash != prev_hash or entry.hash != entry_hash(entry):
            return ChainCheck(False, expected_seq, len(stored))
        prev_hash = entry.hash
    head = session.scalar(select(Document.history_head).where(Document.id == document_id))
    if head is not None and head != prev_hash:  # the newest entries are gone (or the head was forged)
        return ChainCheck(False, len(stored) + 1, len(stored))
    return ChainCheck(True, None, len(stored))


def _entry(document: Document, last: HistoryEntry | None, event: str, actor: str, actor_user_id: int | None,
           now: datetime, ip: str | None, revision_sha256: str | None,
           details: Mapping[str, object] | None) -> HistoryEntry:
    entry = HistoryEntry(
        document_id=document.id,
        seq=1 if last is None else last.seq + 1,
        event=event,
        actor=actor[:320],
        actor_user_id=actor_user_id,
        at=now.astimezone(UTC),
        ip=ip,
        revision_sha256=revision_sha256,
        details=canonical_json(dict(details or {})),
        prev_hash=GENESIS if last is None else last.hash,
    )
    entry.hash = entry_hash(entry)
    return entry


def _appended(session: Session, document: Document, entry: HistoryEntry) -> HistoryEntry:
    document.history_head = entry.hash
    session.info.setdefault(_TAILS, {})[document.id] = (session.get_transaction(), entry)
    return entry


def _tail(session: Session, document_id: int) -> HistoryEntry | None:
    """The entry this transaction appended last to the document (which it holds locked), if still in force."""
    transaction, entry = session.info.get(_TAILS, {}).get(document_id, (None, None))
    if not isinstance(entry, HistoryEntry) or transaction is not session.get_transaction():
        return None
    state = inspect_state(entry)
    if not (state.persistent or state.pending):  # gone with a rolled-back savepoint
        return None
    return entry


def _lock_document(session: Session, document_id: int) -> None:
    session.execute(select(Document.id).where(Document.id == document_id).with_for_update())


def _last_entry(session: Session, document_id: int) -> HistoryEntry | None:
    top = select(func.max(HistoryEntry.seq)).where(HistoryEntry.document_id == document_id).scalar_subquery()
    query = select(HistoryEntry).where(HistoryEntry.document_id == document_id, HistoryEntry.seq == top)
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
