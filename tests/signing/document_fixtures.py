"""Real documents for the documents, history, outbox and completion tests: drafted through the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from signing import documents
from signing.drafting import DocumentKind
from signing.models import Document, Signatory, SignatoryState, User
from tests.conftest import make_user
from tests.signing.drafting.examples import TODAY, form

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
"""12:00 in Moscow on `TODAY`."""
IP = "203.0.113.5"


def person(session: Session, n: int, *, confirmed: bool = True) -> User:
    """The n-th distinct account (own e-mail and phone)."""
    user = make_user(session, email=f"person{n}@example.ru", phone=f"+7916000{n:04d}")
    user.email_confirmed_at = NOW if confirmed else None
    session.flush()
    return user


def drafted(session: Session, initiator: User, kind: DocumentKind = DocumentKind.ACT, **changes: Any) -> Document:
    """A draft made from the example form of `kind`, `changes` replacing its top-level fields."""
    return documents.create_from_form(session, initiator, form(kind, **changes), today=TODAY, now=NOW, ip=IP)


def add_signatory(session: Session, document: Document, email: str, *, user: User | None = None,
                  state: SignatoryState = SignatoryState.PENDING) -> Signatory:
    """A signatory row as the signature round writes it (linked to an account or not)."""
    position = len(document.signatories) + 1
    signatory = Signatory(document_id=document.id, position=position, name=f"Подписант {position}", email=email,
                          user_id=None if user is None else user.id, field_name=f"sig{position}", state=state)
    session.add(signatory)
    session.flush()
    session.refresh(document)
    return signatory
