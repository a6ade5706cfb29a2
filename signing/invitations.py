"""Personal links to the signing page: 256 random bits, only their SHA-256 stored, bound to one signatory and
one revision, valid until the round's deadline and revoked when the signatory is done or the revision is not
current any more."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing.config import Settings
from signing.errors import InvitationExpired, InvitationInvalid
from signing.models import DocumentStatus, Invitation, Signatory

__all__ = ["TOKEN_BYTES", "issue", "link", "open", "revoke", "token_hash"]

TOKEN_BYTES = 32
"""Random bytes in a token (the product asks for at least 128 bits)."""
MAX_TOKEN_LENGTH = 100
"""Longer strings are not tokens of ours; refused before hashing."""


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex. A token has 256 random bits, so no key is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, signatory: Signatory, *, revision_seq: int, expires_at: datetime | None,
          now: datetime) -> str:
    """A new link token for `signatory` on revision `revision_seq`; the plain token goes into one mail only."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(Invitation(signatory_id=signatory.id, revision_seq=revision_seq, token_hash=token_hash(token),
                           created_at=now, expires_at=expires_at))
    return token


def link(settings: Settings, token: str) -> str:
    """The address a signatory opens: `BASE_URL/s/<token>`."""
    return f"{settings.base_url.rstrip('/')}/s/{token}"


def open(session: Session, token: str, *, now: datetime) -> Signatory:
    """The signatory a link belongs to, while it still works; InvitationInvalid or InvitationExpired otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationInvalid()
    invitation = session.scalars(select(Invitation).where(Invitation.token_hash == token_hash(token))).first()
    signatory = None if invitation is None else session.get(Signatory, invitation.signatory_id)
    if invitation is None or signatory is None:
        raise InvitationInvalid()
    document = signatory.document
    if document.status == DocumentStatus.EXPIRED and invitation.revision_seq == document.current_revision:
        raise InvitationExpired()
    superseded = invitation.revision_seq != document.current_revision
    if invitation.revoked_at is not None or superseded or document.status != DocumentStatus.IN_SIGNING:
        raise InvitationInvalid()
    if invitation.expires_at is not None and now >= invitation.expires_at:
        raise InvitationExpired()
    return signatory


def revoke(session: Session, signatory_ids: Sequence[int], *, now: datetime) -> int:
    """Revoke every live link of these signatories; returns how many."""
    if not signatory_ids:
        return 0
    result = session.execute(
        update(Invitation)
        .where(Invitation.signatory_id.in_(list(signatory_ids)), Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
