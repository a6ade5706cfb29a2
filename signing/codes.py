"""One-time numeric codes: keyed hash at rest, expiry, single use, limited attempts, resend cooldown."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing.clock import utcnow
from signing.errors import CodeCooldown, CodeExhausted, CodeExpired, CodeInvalid
from signing.models import OneTimeCode

__all__ = [
    "EMAIL_CONFIRM", "PASSWORD_RESET", "CodePolicy", "CodeRecord", "IssuedCode", "consume", "cooldown_left", "digest",
    "issue_code", "keyed_digest", "new_plain", "resend_wait", "verify_code",
]

EMAIL_CONFIRM = "email_confirm"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
"""Codes of "forgot password" (`signing.recovery`): keyed by the typed address, not by an account."""


@dataclass(frozen=True)
class CodePolicy:
    """The rules every one-time code follows."""

    secret: bytes
    """Server secret keying the stored hash, so a leaked table cannot be brute-forced offline."""
    ttl: timedelta = timedelta(minutes=10)
    """Lifetime of a code."""
    max_attempts: int = 5
    """Wrong entries before the code is burned."""
    resend_after: timedelta = timedelta(seconds=60)
    """Minimum time between two codes for the same purpose."""
    digits: int = 6
    """Length of the code."""


@dataclass(frozen=True)
class IssuedCode:
    """A code just created: `plain` goes into the email and nowhere else."""

    record: OneTimeCode
    plain: str


def keyed_digest(secret: bytes, subject: int | str, purpose: str, plain: str) -> str:
    """HMAC-SHA256 of a code under the server secret, bound to its subject (a user id, or an address key) and
    purpose: what is stored of a code."""
    message = f"{purpose}:{subject}:{plain}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def digest(policy: CodePolicy, subject: int | str, purpose: str, plain: str) -> str:
    """The keyed hash stored for a code of `purpose` sent to `subject`."""
    return keyed_digest(policy.secret, subject, purpose, plain)


def new_plain(policy: CodePolicy) -> str:
    """A fresh random code of `policy.digits` digits."""
    return f"{secrets.randbelow(10**policy.digits):0{policy.digits}d}"


def cooldown_left(policy: CodePolicy, last_sent: datetime | None, now: datetime) -> int:
    """Whole seconds before another code may follow one sent at `last_sent` (0: now)."""
    if last_sent is None:
        return 0
    left = (last_sent + policy.resend_after - now).total_seconds()
    return max(0, int(left + 0.999))


def _latest(session: Session, user_id: int, purpose: str) -> OneTimeCode | None:
    query = (
        select(OneTimeCode)
        .where(OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def resend_wait(session: Session, policy: CodePolicy, user_id: int, purpose: str) -> int:
    """Seconds left before another code may be sent (0 when it may be sent now)."""
    latest = _latest(session, user_id, purpose)
    return cooldown_left(policy, latest.created_at if latest else None, utcnow())


def issue_code(session: Session, policy: CodePolicy, user_id: int, purpose: str) -> IssuedCode:
    """Create a fresh code and retire every earlier one of the same purpose."""
    wait = resend_wait(session, policy, user_id, purpose)
    if wait:
        raise CodeCooldown(wait)
    now = utcnow()
    session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.user_id == user_id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    plain = new_plain(policy)
    record = OneTimeCode(
        user_id=user_id,
        purpose=purpose,
        code_hash=digest(policy, user_id, purpose, plain),
        created_at=now,
        expires_at=now + policy.ttl,
        attempts=0,
    )
    session.add(record)
    session.flush()
    return IssuedCode(record=record, plain=plain)


def verify_code(session: Session, policy: CodePolicy, user_id: int, purpose: str, entered: str) -> None:
    """Consume the current code if `entered` matches it; otherwise count the attempt and raise.

    The row is locked (on PostgreSQL) so two parallel guesses cannot both use the last attempt.
    The caller must commit even when this raises, so that the counted attempt is kept.
    """
    query = (
        select(OneTimeCode)
        .where(OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    record = session.scalars(query).first()
    consume(record, policy, lambda: digest(policy, user_id, purpose, entered.strip()), now=utcnow())


class CodeRecord(Protocol):
    """What every stored one-time code has (account codes, signatory codes)."""

    code_hash: str
    expires_at: datetime
    attempts: int
    consumed_at: datetime | None


def consume(record: CodeRecord | None, policy: CodePolicy, candidate: Callable[[], str], *, now: datetime) -> None:
    """The rules every code follows: the latest one only, in time, single use, `max_attempts` wrong entries.

    `candidate` computes the keyed hash of what was entered. Raises CodeExpired, CodeExhausted or CodeInvalid.
    """
    if record is None or record.consumed_at is not None:
        if record is not None and record.attempts >= policy.max_attempts:
            raise CodeExhausted()
        raise CodeExpired()
    if record.expires_at <= now:
        raise CodeExpired()
    if hmac.compare_digest(candidate(), record.code_hash):
        record.consumed_at = now
        return
    record.attempts += 1
    if record.attempts >= policy.max_attempts:
        record.consumed_at = now
        raise CodeExhausted()
    raise CodeInvalid(policy.max_attempts - record.attempts)
