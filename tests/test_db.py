"""The embedded database keeps a unit of work whole, savepoints included."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, func, select
from sqlalchemy.orm import Session

from signing.db import create_db_engine

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True))


def test_a_savepoint_released_first_thing_does_not_commit_the_transaction_on_sqlite(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    ROWS.metadata.create_all(engine)
    with Session(engine) as session:
        with session.begin_nested():
            session.execute(ROWS.insert().values(id=1))
        session.rollback()  # the whole unit of work is abandoned, the savepoint's insert with it
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ROWS)) == 0
    engine.dispose()
