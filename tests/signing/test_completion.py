"""The certificate of completion, read back with poppler's pdftotext: every history event with its actor, Moscow time
and revision SHA-256, each signature's certificate serial, and whether the chain holds."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from signing import completion, history
from signing.models import Document, DocumentStatus, HistoryEntry, SignatoryState
from tests.signing.document_fixtures import IP, NOW, add_signatory, drafted, person

SIGNED_SHA = "3f" * 32
FINAL_SHA = "9a" * 32


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _signed_document(session: Session) -> Document:
    """A document two people signed at 12:30 and 23:45 Moscow time (the second one the next day in UTC terms)."""
    initiator = person(session, 1)
    document = drafted(session, initiator)
    for n, (email, minutes, serial) in enumerate(
        [("anna@example.ru", 30, "4A1F00C3"), ("boris@example.ru", 11 * 60 + 45, "7B2E99D1")], start=2
    ):
        signatory = add_signatory(session, document, email, state=SignatoryState.SIGNED)
        signatory.certificate_serial, signatory.signed_at = serial, NOW + timedelta(minutes=minutes)
        history.append(session, document, "signed", actor=email, actor_user_id=None,
                       now=NOW + timedelta(minutes=minutes), ip=f"198.51.100.{n}", revision_sha256=SIGNED_SHA)
    document.status = DocumentStatus.COMPLETED
    history.append(session, document, "finalized", actor="system", actor_user_id=None,
                   now=NOW + timedelta(hours=12), ip=None, revision_sha256=FINAL_SHA)
    session.commit()
    return document


def test_the_certificate_lists_every_event_with_actor_moscow_time_and_revision_hash(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        document = _signed_document(session)
        text = _text(completion.render_certificate(session, document), tmp_path)
        created_sha = history.entries(session, document.id)[0].revision_sha256
    assert "Лист прохождения документа" in text
    assert "Акт выполненных работ № 12 от 30.11.2026" in text
    for label, actor, moment, sha in [
        ("Создан", "person1@example.ru", "10.12.2026 12:00", created_sha),
        ("Подписан", "anna@example.ru", "10.12.2026 12:30", SIGNED_SHA),
        ("Подписан", "boris@example.ru", "10.12.2026 23:45", SIGNED_SHA),
        ("Готов к выдаче", "system", "11.12.2026 00:00", FINAL_SHA),
    ]:
        assert any(moment in line and label in line and actor in line for line in text.splitlines()), label
        assert f"SHA-256: {sha}" in text
    assert f"person1@example.ru, IP {IP}" in text
    assert "4A1F00C3" in text and "7B2E99D1" in text
    assert "цепочка хешей не нарушена (4 записей)" in text
    assert "статус: Подписан" in text


def test_the_certificate_says_where_a_tampered_history_broke(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        document = _signed_document(session)
        session.execute(update(HistoryEntry).where(HistoryEntry.document_id == document.id, HistoryEntry.seq == 2)
                        .values(actor="mallory@example.ru"))
        session.commit()
        text = _text(completion.render_certificate(session, document), tmp_path)
    assert "ЦЕПОЧКА НАРУШЕНА на записи № 2" in text
