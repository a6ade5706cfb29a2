"""Server-side login sessions: the cookie carries a random token, the database decides if it still works."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing.clock import utcnow
from signing.errors import SessionNotFound
from signing.models import User, UserSession

__all__ = [
    "SessionRecord", "end_all_sessions", "end_own_session", "end_session", "is_token_of", "live_sessions",
    "resolve_session", "start_session", "token_hash",
]


@dataclass(frozen=True)
class SessionRecord:
    """A session just opened: `token` goes into the cookie and is stored only hashed."""

    record: UserSession
    token: str


def token_hash(token: str) -> str:
    """What is stored of a browser's token (a session's, a login's second step): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


_hash = token_hash


def start_session(session: Session, user: User, ip: str | None, user_agent: str | None) -> SessionRecord:
    """Open a new session with a fresh 256-bit token (the id is renewed at every login)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(record)
    session.flush()
    return SessionRecord(record=record, token=token)


def resolve_session(session: Session, token: str, idle: timedelta) -> UserSession | None:
    """The live session behind `token`, touched; None when unknown, ended or idle too long.

    An idle session is ended on the spot so that the same cookie stays dead afterwards.
    """
    record = session.scalars(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    if record is None or record.ended_at is not None:
        return None
    now = utcnow()
    if now - record.last_seen_at > idle:
        record.ended_at = now
        record.end_reason = "idle"
        return None
    record.last_seen_at = now
    return record


def end_session(session: Session, token: str, reason: str = "logout") -> None:
    """End the session behind `token` (no error when it is already over)."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def end_all_sessions(session: Session, user_id: int, reason: str, keep_token: str | None = None) -> int:
    """End every live session of a user except, optionally, the current one; returns how many."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_token is not None:
        query = query.where(UserSession.token_hash != _hash(keep_token))
    result = session.execute(query.values(ended_at=utcnow(), end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(session: Session, user_id: int, idle: timedelta, *, now: datetime) -> list[UserSession]:
    """The account's sessions that still work (not ended, not idle too long), the most recently used first."""
    return list(session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.last_seen_at > now - idle)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


def is_token_of(record: UserSession, token: str) -> bool:
    """Whether `token` (a cookie's) is the one behind `record`: how a list marks «this session»."""
    return record.token_hash == _hash(token)


def end_own_session(session: Session, user_id: int, session_id: int, *, now: datetime,
                    reason: str = "ended_by_user") -> UserSession:
    """End one of the account's own sessions by its id; SessionNotFound for an unknown id or another person's."""
    record = session.get(UserSession, session_id)
    if record is None or record.user_id != user_id:
        raise SessionNotFound(str(session_id))
    if record.ended_at is None:
        record.ended_at, record.end_reason = now, reason
    return record
