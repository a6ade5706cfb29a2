"""One engine per process, sessions handed out per request and per job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["create_db_engine", "session_scope"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_before_savepoint(connection: Any, _name: str | None) -> None:
    """pysqlite opens a transaction only before DML, so a SAVEPOINT that comes first becomes the transaction and
    its RELEASE commits on the spot — half of the caller's unit of work. Open the real transaction first."""
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def _binary_bytea(dbapi_connection: Any, _record: Any) -> None:
    """Send bytes (the PDFs) to PostgreSQL in binary format: psycopg's default text format hex-escapes them, which
    doubles every PDF on the wire and makes the server parse it back."""
    from psycopg.types.string import BytesBinaryDumper

    for kind in (bytes, bytearray, memoryview):
        dbapi_connection.adapters.register_dumper(kind, BytesBinaryDumper)


def create_db_engine(url: str) -> Engine:
    """Create the process's engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _binary_bytea)
    return engine


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for a job: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
