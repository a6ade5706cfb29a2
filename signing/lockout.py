"""The lock after wrong passwords in a row: counted in the account's row by single UPDATE statements, so parallel
wrong guesses cannot lose an increment nor both escape the lock. The owner is mailed once, when a lock starts
(an outbox row written by the statement's transaction, keyed by the lock's end)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, literal, or_, update
from sqlalchemy.orm import Session

from signing import outbox
from signing.config import Settings
from signing.errors import AccountLocked
from signing.models import User, UTCDateTime
from signing.notices import MOSCOW, SIGNATURE

__all__ = ["DEFAULT", "LOCKED", "LockPolicy", "check_not_locked", "lock_policy", "record_failure", "record_success"]

LOCKED = "account_locked"
"""The outbox kind of the mail telling the owner a lock started."""


@dataclass(frozen=True)
class LockPolicy:
    """How many wrong passwords lock an account, for how long, and what the owner's mail says."""

    attempts: int = 5
    """Wrong passwords in a row that start a lock."""
    duration: timedelta = timedelta(minutes=15)
    """How long the lock lasts."""
    zone: ZoneInfo = MOSCOW
    """The time zone the owner reads the lock's end in."""
    base_url: str = "http://127.0.0.1:5000"
    """Where the mailed "forgot password" link points."""


DEFAULT = LockPolicy()


def lock_policy(settings: Settings) -> LockPolicy:
    return LockPolicy(attempts=settings.login_lock_attempts, duration=timedelta(minutes=settings.login_lock_minutes),
                      zone=ZoneInfo(settings.timezone), base_url=settings.base_url)


def _open(now: datetime) -> object:
    """The rows that are not locked at `now` (never locked, or the lock is over)."""
    return or_(User.locked_until.is_(None), User.locked_until <= now)


def check_not_locked(user: User, now: datetime) -> None:
    """AccountLocked while the account's lock lasts."""
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)


def record_failure(session: Session, user: User, policy: LockPolicy, now: datetime) -> None:
    """Count one wrong password; the one that reaches `policy.attempts` starts the lock (the counter starts over,
    so after the lock the person has the full number of tries again), mails the owner and raises AccountLocked.
    AccountLocked too when a parallel request locked the account meanwhile. The caller commits either way."""
    until = now + policy.duration
    reaches = User.failed_logins + 1 >= policy.attempts
    row = session.execute(
        update(User)
        .where(User.id == user.id, _open(now))  # type: ignore[arg-type]
        .values(failed_logins=case((reaches, 0), else_=User.failed_logins + 1),
                locked_until=case((reaches, literal(until, UTCDateTime())), else_=User.locked_until))
        .returning(User.locked_until)
        .execution_options(synchronize_session=False)
    ).first()
    session.expire(user, ["failed_logins", "locked_until"])
    if row is None:  # locked by another request between our read and this statement
        raise AccountLocked(user.locked_until or until)
    if row.locked_until is not None and row.locked_until > now:
        _tell_owner(session, user, policy, row.locked_until, now)
        raise AccountLocked(row.locked_until)


def record_success(session: Session, user: User, now: datetime) -> None:
    """The right password: the count starts over. AccountLocked if a parallel wrong guess locked it meanwhile."""
    done = session.execute(
        update(User)
        .where(User.id == user.id, _open(now))  # type: ignore[arg-type]
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["failed_logins", "locked_until"])
    if getattr(done, "rowcount", 1) == 0:
        raise AccountLocked(user.locked_until or now)


def _tell_owner(session: Session, user: User, policy: LockPolicy, until: datetime, now: datetime) -> None:
    local = until.astimezone(policy.zone).strftime("%d.%m.%Y %H:%M")
    body = (
        f"Здравствуйте, {user.full_name}!\n\n"
        f"В вашу учётную запись в Подписанте {policy.attempts} раз подряд пытались войти с неверным паролем. "
        f"Вход закрыт до {local} ({policy.zone.key}).\n\n"
        f"Если это были вы и пароль забыт, восстановите его — блокировка снимется сразу:\n"
        f"{policy.base_url}/password/forgot\n\n"
        f"Если это были не вы, ваш пароль пока никто не подобрал; советуем сменить его на длинную фразу." + SIGNATURE
    )
    outbox.enqueue(session, dedupe_key=f"user:{user.id}:locked:{until.isoformat()}", recipient=user.email,
                   kind=LOCKED, subject=f"Вход в Подписант закрыт до {local}", body=body, now=now)
