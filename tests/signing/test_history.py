"""A document's history is a hash chain: any altered, missing or reordered entry is found, and concurrent appends
never fork it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing import history
from signing.models import Document, HistoryEntry
from tests.signing.document_fixtures import IP, NOW, drafted, person

SHA = "ab" * 32


def _document_with_history(session: Session, entries: int = 5) -> Document:
    """A drafted document (entry 1: created) and `entries - 1` more events, committed."""
    document = drafted(session, person(session, 1))
    for n in range(2, entries + 1):
        history.append(session, document, "viewed", actor=f"viewer{n}@example.ru", actor_user_id=None,
                       now=NOW + timedelta(minutes=n), ip=IP, revision_sha256=SHA, details={"n": n})
    session.commit()
    return document


def test_each_entry_carries_the_hash_of_the_one_before(engine: Engine) -> None:
    with Session(engine) as session:
        document = _document_with_history(session, 3)
        stored = history.entries(session, document.id)
        assert [entry.seq for entry in stored] == [1, 2, 3]
        assert stored[0].prev_hash == history.GENESIS
        assert stored[1].prev_hash == stored[0].hash and stored[2].prev_hash == stored[1].hash
        assert document.history_head == stored[2].hash
        assert history.verify_chain(session, document.id) == history.ChainCheck(True, None, 3)


@pytest.mark.parametrize(("column", "value"), [
    ("event", "signed"),
    ("actor", "mallory@example.ru"),
    ("actor_user_id", 999),
    ("at", NOW + timedelta(days=1)),
    ("ip", "198.51.100.7"),
    ("revision_sha256", "cd" * 32),
    ("details", '{"n":99}'),
    ("prev_hash", "ef" * 32),
    ("hash", "01" * 32),
])
def test_altering_any_stored_field_of_an_entry_breaks_the_chain_at_that_entry(
    engine: Engine, column: str, value: object
) -> None:
    with Session(engine) as session:
        document = _document_with_history(session)
        session.execute(update(HistoryEntry).where(HistoryEntry.document_id == document.id, HistoryEntry.seq == 3)
                        .values({column: value}))
        session.commit()
        assert history.verify_chain(session, document.id) == history.ChainCheck(False, 3, 5)


@pytest.mark.parametrize("deleted", [1, 2, 5], ids=["first", "middle", "newest (found through the head)"])
def test_deleting_an_entry_breaks_the_chain_where_it_was(engine: Engine, deleted: int) -> None:
    with Session(engine) as session:
        document = _document_with_history(session)
        session.execute(
            delete(HistoryEntry).where(HistoryEntry.document_id == document.id, HistoryEntry.seq == deleted)
        )
        session.commit()
        assert history.verify_chain(session, document.id) == history.ChainCheck(False, deleted, 4)


def test_swapping_two_entries_breaks_the_chain_at_the_first_of_them(engine: Engine) -> None:
    with Session(engine) as session:
        document = _document_with_history(session)
        by_seq = {entry.seq: entry.id for entry in history.entries(session, document.id)}
        for entry_id, seq in ((by_seq[2], 100), (by_seq[3], 2), (by_seq[2], 3)):
            session.execute(update(HistoryEntry).where(HistoryEntry.id == entry_id).values(seq=seq))
        session.commit()
        assert history.verify_chain(session, document.id) == history.ChainCheck(False, 2, 5)


def test_concurrent_appends_from_separate_transactions_never_fork_the_chain(engine: Engine) -> None:
    with Session(engine) as session:
        document_id = drafted(session, person(session, 1)).id
        session.commit()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def sign(n: int) -> None:
        try:
            with Session(engine) as own:
                document = own.get(Document, document_id)
                assert document is not None
                start.wait(10)
                history.append(own, document, "signed", actor=f"s{n}@example.ru", actor_user_id=None,
                               now=NOW + timedelta(seconds=n), ip=IP, revision_sha256=SHA)
                own.commit()
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with Session(engine) as session:
        stored = history.entries(session, document_id)
        assert [entry.seq for entry in stored] == list(range(1, 10))
        assert sorted(entry.actor for entry in stored[1:]) == sorted(f"s{n}@example.ru" for n in range(8))
        assert history.verify_chain(session, document_id).ok


def test_an_append_that_read_a_stale_last_entry_retries_on_the_next_seq(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as session:
        document = _document_with_history(session, 3)
        stale = history.entries(session, document.id)[1]  # seq 2, as a request that read before seq 3 landed
        reads = iter([stale])
        real_last_entry = history._last_entry
        monkeypatch.setattr(history, "_last_entry", lambda s, d: next(reads, None) or real_last_entry(s, d))
        entry = history.append(session, document, "reminded", actor="system", actor_user_id=None, now=NOW, ip=None,
                               revision_sha256=None)
        session.commit()
        assert entry.seq == 4
        assert history.verify_chain(session, document.id) == history.ChainCheck(True, None, 4)


def test_two_entries_with_one_seq_cannot_be_stored(engine: Engine) -> None:
    with Session(engine) as session:
        document = _document_with_history(session, 2)
        twin = history.entries(session, document.id)[1]
        session.add(HistoryEntry(document_id=document.id, seq=2, event="viewed", actor="x", at=NOW,
                                 details="{}", prev_hash=twin.prev_hash, hash=twin.hash))
        with pytest.raises(IntegrityError):
            session.flush()


def test_an_unknown_event_is_a_programming_error_not_an_entry(engine: Engine) -> None:
    with Session(engine) as session:
        document = _document_with_history(session, 1)
        with pytest.raises(ValueError, match="unknown history event"):
            history.append(session, document, "hacked", actor="x", actor_user_id=None, now=NOW, ip=None,
                           revision_sha256=None)
        assert session.scalars(select(HistoryEntry.event)).all() == ["created"]


def test_every_event_has_a_russian_label_and_an_edit_reads_izmeneno() -> None:
    assert history.EVENT_LABELS["edited"] == "Изменено"
    assert {"created", "edited", "sent", "notified", "viewed", "signed", "declined", "withdrawn", "expired",
            "reminded", "finalized", "delivered", "delivery_failed", "attachment_added"} == history.EVENTS


def test_appends_in_one_transaction_chain_on_each_other_and_a_rolled_back_savepoint_is_not_built_on(
    engine: Engine,
) -> None:
    def view(session: Session, document: Document, n: int) -> HistoryEntry:
        return history.append(session, document, "viewed", actor=f"v{n}@example.ru", actor_user_id=None,
                              now=NOW + timedelta(minutes=n), ip=IP, revision_sha256=SHA)

    with Session(engine) as session:
        document = drafted(session, person(session, 1))  # entry 1 in this same transaction
        view(session, document, 2)
        savepoint = session.begin_nested()
        view(session, document, 3)
        savepoint.rollback()  # entry 3 is gone: the next append must not build on it
        fourth = view(session, document, 4)
        session.commit()
        assert fourth.seq == 3
        assert [entry.actor for entry in history.entries(session, document.id)][1:] == ["v2@example.ru",
                                                                                       "v4@example.ru"]
        assert history.verify_chain(session, document.id) == history.ChainCheck(True, None, 3)
        view(session, document, 5)  # a new transaction starts from the stored tail
        session.commit()
        assert history.verify_chain(session, document.id) == history.ChainCheck(True, None, 4)
