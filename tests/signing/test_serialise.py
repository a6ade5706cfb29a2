"""The document lock: taken by the first statement of a transaction too, and known without a statement for a document
the transaction itself created (nobody else can see that row before the commit)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from signing.serialise import current_revision, lock_document
from tests.signing.document_fixtures import drafted, person


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _locked_elsewhere(engine: Engine, document_id: int) -> bool:
    """Whether another connection, not willing to wait, is refused the document's lock (SQLite: any write)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            return "locked" in str(error)
        finally:
            other.close()
        return False
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as other:
        other.execute("SET lock_timeout = '50ms'")
        try:
            other.execute("SELECT id FROM documents WHERE id = %s FOR UPDATE", (document_id,))
        except psycopg.errors.LockNotAvailable:
            return True
        return False


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_lock_is_taken_when_it_is_the_first_thing_a_transaction_does(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    with factory() as session, session.begin():
        document_id = drafted(session, person(session, 1)).id
    with factory() as session:  # a fresh session: no transaction has begun yet
        assert session.get_transaction() is None
        document = lock_document(session, document_id)
        assert document.id == document_id
        assert _locked_elsewhere(engine, document_id)
        session.rollback()
    assert not _locked_elsewhere(engine, document_id)


def test_a_document_created_in_this_transaction_is_held_without_locking_or_reading_it_again(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    with factory() as session, session.begin():
        document = drafted(session, person(session, 1))
        revision = current_revision(session, document)
        with statements(engine) as seen:
            assert lock_document(session, document.id) is document
            assert current_revision(session, document) is revision
        assert seen == []
    with factory() as session, session.begin():  # the next transaction locks and reads as usual
        with statements(engine) as seen:
            again = lock_document(session, document.id)
            current_revision(session, again)
        assert len(seen) >= 2
