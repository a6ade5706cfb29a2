"""At most one pending external signature per document; an answer is used once, in time, for the latest one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing.errors import StalePreparation
from signing.models import PendingExternalSignature
from signing.pades.external import ExternalPreparation, prepare_external
from signing.preparations import PREPARATION_TTL, begin_external, take_external
from tests.support.pades import person_identity, plain_pdf, with_fields

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def preparation() -> ExternalPreparation:
    browser = person_identity()
    return prepare_external(with_fields(plain_pdf(), ["a"]), "a", browser.certificate, browser.chain)


def _pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PendingExternalSignature)) or 0


def test_a_new_preparation_replaces_the_pending_one_and_the_old_answer_is_refused(
    engine: Engine, preparation: ExternalPreparation
) -> None:
    with Session(engine) as session, session.begin():
        first = begin_external(session, "doc-1/rev-1", preparation, now=NOW)
        second = begin_external(session, "doc-1/rev-1", preparation, now=NOW)
        begin_external(session, "doc-2/rev-1", preparation, now=NOW)
        assert _pending(session) == 2
    with Session(engine) as session, session.begin(), pytest.raises(StalePreparation):
        take_external(session, "doc-1/rev-1", first, now=NOW)
    with Session(engine) as session, session.begin():
        assert take_external(session, "doc-1/rev-1", second, now=NOW).field_name == "a"


def test_an_answer_is_used_once(engine: Engine, preparation: ExternalPreparation) -> None:
    with Session(engine) as session, session.begin():
        token = begin_external(session, "doc-1/rev-1", preparation, now=NOW)
    with Session(engine) as session, session.begin():
        take_external(session, "doc-1/rev-1", token, now=NOW)
    with Session(engine) as session, session.begin(), pytest.raises(StalePreparation):
        take_external(session, "doc-1/rev-1", token, now=NOW)


def test_an_answer_after_the_deadline_is_refused(engine: Engine, preparation: ExternalPreparation) -> None:
    with Session(engine) as session, session.begin():
        token = begin_external(session, "doc-1/rev-1", preparation, now=NOW)
    later = NOW + PREPARATION_TTL + timedelta(seconds=1)
    with Session(engine) as session, session.begin(), pytest.raises(StalePreparation):
        take_external(session, "doc-1/rev-1", token, now=later)


def test_the_database_allows_one_pending_row_per_document(engine: Engine, preparation: ExternalPreparation) -> None:
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as session, session.begin():
        begin_external(session, "doc-1/rev-1", preparation, now=NOW)
    with Session(engine) as session, pytest.raises(IntegrityError), session.begin():
        session.add(PendingExternalSignature(
            document_key="doc-1/rev-1", token="other", state="{}", created_at=NOW, expires_at=NOW,
        ))
