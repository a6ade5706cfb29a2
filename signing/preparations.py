"""At most one pending external signature per document, consumed once (see PendingExternalSignature)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.errors import PreparationPending, StalePreparation
from signing.models import PendingExternalSignature
from signing.pades.external import ExternalPreparation

__all__ = ["PREPARATION_TTL", "begin_external", "take_external"]

PREPARATION_TTL = timedelta(minutes=15)
"""How long a browser has to sign what it was given."""


def begin_external(
    session: Session, document_key: str, preparation: ExternalPreparation, *, now: datetime
) -> str:
    """Store the preparation as the document's only pending one (replacing any earlier); returns its token."""
    session.execute(delete(PendingExternalSignature).where(PendingExternalSignature.document_key == document_key))
    token = secrets.token_urlsafe(32)
    row = PendingExternalSignature(
        document_key=document_key, token=token, state=preparation.to_json(),
        created_at=now, expires_at=now + PREPARATION_TTL,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:  # another request prepared the same document at the same moment
        raise PreparationPending(f"a signature for {document_key} is being prepared right now") from exc
    return token


def take_external(session: Session, document_key: str, token: str, *, now: datetime) -> ExternalPreparation:
    """Consume the pending preparation the browser answers; replaced, used or expired ones are stale."""
    row = session.scalars(
        select(PendingExternalSignature)
        .where(PendingExternalSignature.document_key == document_key)
        .with_for_update()
    ).one_or_none()
    if row is None or not secrets.compare_digest(row.token, token):
        raise StalePreparation("this signature was replaced by a newer one or already used")
    session.delete(row)
    session.flush()
    if row.expires_at <= now:
        raise StalePreparation("the time to sign this preparation ran out")
    return ExternalPreparation.from_json(row.state)
