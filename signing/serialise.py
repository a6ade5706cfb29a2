"""One writer at a time per document: every change to a signature round first takes the document's lock.

PostgreSQL: `SELECT ... FOR UPDATE` on the document row. SQLite has no row locks; its database-wide write lock
serialises instead, taken by a no-op UPDATE of the row as the transaction's first write. SQLite waits for it up
to its busy timeout, then says "database is locked"; the statement is retried a few times before giving up.
"""

from __future__ import annotations

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from signing.models import Document, Revision, Signatory

__all__ = [
    "SQLITE_LOCK_ATTEMPTS", "DocumentMissing", "current_revision", "hold_new", "lock_document", "signatories",
]

_LOCKED = "podpisant.locked_documents"
"""session.info key: {document id: the root transaction that holds its lock}."""
_REVISIONS = "podpisant.current_revisions"
"""session.info key: {document id: (the root transaction, its current revision as read under the lock)}."""
SQLITE_LOCK_ATTEMPTS = 6
"""How many busy timeouts (5 s each) a signature waits for SQLite's write lock before failing."""


class DocumentMissing(LookupError):
    """A document id that names no row: a programming error (callers hold a loaded document)."""


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _take_sqlite_write_lock(session: Session, document_id: int) -> None:
    statement = (
        update(Document).where(Document.id == document_id).values(id=Document.id)
        .execution_options(synchronize_session=False)
    )
    for attempt in range(1, SQLITE_LOCK_ATTEMPTS + 1):
        try:
            # Pending changes are flushed after the lock is held: a flush that failed on "locked" would
            # roll the caller's whole transaction back.
            with session.no_autoflush:
                session.execute(statement)
            return
        except OperationalError as exc:
            if "database is locked" not in str(exc) or attempt == SQLITE_LOCK_ATTEMPTS:
                raise


def lock_document(session: Session, document_id: int) -> Document:
    """Lock the document for the rest of the caller's transaction and return it as it now stands (a document this
    transaction holds already is returned as it is in the session: nobody else can have changed it)."""
    if _holds_lock(session, document_id):
        held = session.get(Document, document_id)
        if held is not None:
            return held
    query = select(Document).where(Document.id == document_id)
    if _is_sqlite(session):
        _take_sqlite_write_lock(session, document_id)
    else:
        query = query.with_for_update()
    document = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if document is None:
        raise DocumentMissing(document_id)
    session.info.setdefault(_LOCKED, {})[document_id] = session.get_transaction()
    return document


def hold_new(session: Session, document: Document, revision: Revision) -> None:
    """`document` and its first `revision` were inserted by this transaction (flushed): no other transaction can
    see, let alone change, them before it commits, so it holds them as if it had locked them, and
    `lock_document` and `current_revision` need not read them again."""
    transaction = session.get_transaction()
    session.info.setdefault(_LOCKED, {})[document.id] = transaction
    session.info.setdefault(_REVISIONS, {})[document.id] = (transaction, revision)


def signatories(session: Session, document_id: int) -> list[Signatory]:
    """The document's signatories in order, read again (after taking the lock, what other writers committed)."""
    query = select(Signatory).where(Signatory.document_id == document_id).order_by(Signatory.position)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _holds_lock(session: Session, document_id: int) -> bool:
    """Whether this session's current transaction took (or created) the document's lock; never outside one."""
    transaction = session.get_transaction()
    return transaction is not None and session.info.get(_LOCKED, {}).get(document_id) is transaction


def current_revision(session: Session, document: Document) -> Revision:
    """The revision that counts, read again: its PDF carries every signature committed so far. Once read under the
    document's lock, the same transaction gets that object back without reading it again (nobody else can change
    it while the lock is held, and what this transaction changed is in the object)."""
    kept = session.info.get(_REVISIONS, {}).get(document.id)
    if kept is not None and kept[0] is session.get_transaction() and _holds_lock(session, document.id):
        revision: Revision = kept[1]
        state = inspect(revision)
        if revision.seq == document.current_revision and (state.persistent or state.pending):
            return revision
    query = select(Revision).where(Revision.document_id == document.id, Revision.seq == document.current_revision)
    revision = session.scalars(query.execution_options(populate_existing=True)).one()
    if _holds_lock(session, document.id):
        session.info.setdefault(_REVISIONS, {})[document.id] = (session.get_transaction(), revision)
    return revision
