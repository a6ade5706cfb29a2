"""Login attempts: the history an account holder reads (when, from where, how it ended — never a password), the
second step of a login when two-factor authentication is on, and «this wasn't me»."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing import two_factor
from signing.accounts import find_by_login
from signing.config import Settings
from signing.errors import LoginChallengeExpired, LoginEventNotFound, TotpInvalid, TotpLocked, TotpReused
from signing.models import LoginChallenge, LoginEvent, LoginResult, User
from signing.sessions import end_all_sessions, token_hash

__all__ = [
    "CHALLENGE_TTL", "HISTORY_SIZE", "Attempt", "Challenge", "challenge_user", "complete_challenge", "history",
    "record", "record_refused", "report_not_me", "start_challenge",
]

CHALLENGE_TTL = timedelta(minutes=5)
"""How long the second step of a login waits for its code."""
HISTORY_SIZE = 50
"""Entries the security page shows."""


@dataclass(frozen=True)
class Attempt:
    """Where a login attempt came from."""

    ip: str | None
    user_agent: str | None
    now: datetime


@dataclass(frozen=True)
class Challenge:
    """A second step just opened: `token` goes to the browser and is stored only hashed."""

    record: LoginChallenge
    token: str


def record(session: Session, user: User, result: LoginResult, attempt: Attempt, *, second_factor: str | None = None,
           session_id: int | None = None) -> LoginEvent:
    """Add one entry to the account's login history."""
    event = LoginEvent(user_id=user.id, created_at=attempt.now, result=result, second_factor=second_factor,
                       ip=attempt.ip, user_agent=(attempt.user_agent or "")[:400] or None, session_id=session_id)
    session.add(event)
    session.flush()
    return event


def record_refused(session: Session, login: str, result: LoginResult, attempt: Attempt) -> LoginEvent | None:
    """A refused login (wrong password, locked) for `login`: recorded when the login names an existing account
    (nothing otherwise)."""
    user = find_by_login(session, login)
    return record(session, user, result, attempt) if user is not None else None


def history(session: Session, user: User, limit: int = HISTORY_SIZE) -> list[LoginEvent]:
    """The account's latest login attempts, newest first."""
    return list(session.scalars(
        select(LoginEvent).where(LoginEvent.user_id == user.id)
        .order_by(LoginEvent.created_at.desc(), LoginEvent.id.desc()).limit(limit)
    ))


def _end_challenges(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(LoginChallenge)
                    .where(LoginChallenge.user_id == user_id, LoginChallenge.ended_at.is_(None))
                    .values(ended_at=now))


def start_challenge(session: Session, user: User, attempt: Attempt) -> Challenge:
    """The password was right and the account has two-factor authentication: open the second step (any earlier
    one of the account ends) and record the attempt as waiting for its code."""
    _end_challenges(session, user.id, attempt.now)
    event = record(session, user, LoginResult.CODE_PENDING, attempt)
    token = secrets.token_urlsafe(32)
    challenge = LoginChallenge(token_hash=token_hash(token), user_id=user.id, login_event_id=event.id,
                               created_at=attempt.now, expires_at=attempt.now + CHALLENGE_TTL)
    session.add(challenge)
    session.flush()
    return Challenge(record=challenge, token=token)


def _open_challenge(session: Session, token: str, now: datetime) -> LoginChallenge:
    challenge = session.scalars(select(LoginChallenge).where(LoginChallenge.token_hash == token_hash(token))
                                .with_for_update()).first()
    if challenge is None or challenge.ended_at is not None or challenge.expires_at <= now:
        raise LoginChallengeExpired()
    return challenge


def challenge_user(session: Session, token: str, *, now: datetime) -> User:
    """The account a live second step belongs to; LoginChallengeExpired when it is unknown, used or too old."""
    user = session.get(User, _open_challenge(session, token, now).user_id)
    assert user is not None
    return user


def complete_challenge(session: Session, token: str, code: str, attempt: Attempt, *,
                       settings: Settings) -> tuple[User, LoginEvent]:
    """Check the authenticator or recovery code of a second step. Accepted: the step ends and its history entry
    becomes a success (the caller opens the session and sets `session_id`). Refused: a «wrong code» entry, and the
    lock ends the step; the caller commits even when this raises."""
    challenge = _open_challenge(session, token, attempt.now)
    user = session.get(User, challenge.user_id)
    assert user is not None
    try:
        factor = two_factor.verify(session, user, code, settings=settings, now=attempt.now, allow_recovery=True)
    except (TotpInvalid, TotpReused):
        record(session, user, LoginResult.WRONG_CODE, attempt)
        raise
    except TotpLocked:
        record(session, user, LoginResult.LOCKED, attempt)
        challenge.ended_at = attempt.now
        raise
    challenge.ended_at = attempt.now
    event = session.get(LoginEvent, challenge.login_event_id) if challenge.login_event_id else None
    if event is None:  # the entry is gone (never in practice): the success is still recorded
        event = record(session, user, LoginResult.SUCCESS, attempt)
    event.result, event.second_factor = LoginResult.SUCCESS, factor
    return user, event


def report_not_me(session: Session, user: User, event_id: int, *, now: datetime) -> int:
    """«This wasn't me» about one entry of the account's history: every session ends, the current one too, and so
    does any second step in progress; returns how many sessions ended. LoginEventNotFound for another's entry."""
    event = session.get(LoginEvent, event_id)
    if event is None or event.user_id != user.id:
        raise LoginEventNotFound(str(event_id))
    event.reported_at = event.reported_at or now
    _end_challenges(session, user.id, now)
    user.password_reset_required = True  # the next login must set a new password first ("forgot password")
    return end_all_sessions(session, user.id, "not_me")
