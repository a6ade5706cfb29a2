"""Signatories proving they own their address: one-time codes mailed at once (to open a document as a guest,
or to confirm a signature) and guest sessions limited to one signatory of one document.

Codes follow the account codes' rules (`signing.codes`): keyed hash at rest, 10 minutes, single use, 5 wrong
entries, 60 seconds between two codes. They are sent by SMTP inside the request, not through the outbox: a code
cannot wait for the next delivery tick. When the mail server fails, nothing of the new code is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing.codes import CodePolicy, consume
from signing.config import Settings
from signing.errors import CodeCooldown, FieldError, RoundClosed
from signing.mail import build_message, mailer_from_settings
from signing.models import DocumentStatus, GuestSession, Signatory, SignatoryCode, SignatoryState
from signing.notices import code_text

__all__ = [
    "GUEST_IDLE",
    "PURPOSES",
    "admit_guest",
    "code_policy",
    "end_guest_session",
    "guest_signatory",
    "request_code",
    "verify_code",
]

PURPOSES = ("admit", "sign")
GUEST_IDLE = timedelta(minutes=30)
"""A guest session ends after this long without a request."""


def code_policy(settings: Settings) -> CodePolicy:
    """The same rules as account codes, from the same settings."""
    return CodePolicy(secret=settings.secret_key.encode(), ttl=timedelta(minutes=settings.code_ttl_minutes),
                      max_attempts=settings.code_max_attempts,
                      resend_after=timedelta(seconds=settings.code_resend_seconds))


def _digest(policy: CodePolicy, signatory_id: int, purpose: str, plain: str) -> str:
    # "signatory:" keeps these apart from account codes, whose user ids may equal signatory ids.
    message = f"signatory:{purpose}:{signatory_id}:{plain}".encode()
    return hmac.new(policy.secret, message, hashlib.sha256).hexdigest()


def _latest(session: Session, signatory_id: int, purpose: str, *, lock: bool = False) -> SignatoryCode | None:
    query = (
        select(SignatoryCode)
        .where(SignatoryCode.signatory_id == signatory_id, SignatoryCode.purpose == purpose)
        .order_by(SignatoryCode.created_at.desc(), SignatoryCode.id.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise FieldError("purpose", "CODE-PURPOSE-INVALID", allowed=list(PURPOSES))


def _check_open(signatory: Signatory) -> None:
    """Codes only while the signatory still has something to do in a running round."""
    status = signatory.document.status
    if status != DocumentStatus.IN_SIGNING:
        raise RoundClosed(status)
    if signatory.state in (SignatoryState.SIGNED, SignatoryState.DECLINED):
        raise RoundClosed(f"{signatory.state} by this signatory")


def _cooldown(session: Session, policy: CodePolicy, signatory: Signatory, purpose: str, now: datetime) -> None:
    latest = _latest(session, signatory.id, purpose)
    if latest is not None:
        left = (latest.created_at + policy.resend_after - now).total_seconds()
        if left > 0:
            raise CodeCooldown(int(left + 0.999))


def request_code(session: Session, signatory: Signatory, purpose: str, *, settings: Settings,
                 now: datetime) -> None:
    """Mail a fresh code to the signatory's address and retire earlier ones of the same purpose.

    CodeCooldown within a minute of the last one; MailUnavailable when the mail server fails, and then the new
    code and the retirement of the old ones are rolled back (a savepoint), so nothing half-done stays.
    """
    _check_purpose(purpose)
    _check_open(signatory)
    policy = code_policy(settings)
    _cooldown(session, policy, signatory, purpose, now)
    plain = f"{secrets.randbelow(10**policy.digits):0{policy.digits}d}"
    subject, body = code_text(signatory.document, purpose, plain, int(policy.ttl.total_seconds() // 60))
    message = build_message(settings.mail_from, signatory.email, subject, body)
    with session.begin_nested():
        session.execute(
            update(SignatoryCode)
            .where(SignatoryCode.signatory_id == signatory.id, SignatoryCode.purpose == purpose,
                   SignatoryCode.consumed_at.is_(None))
            .values(consumed_at=now)
            .execution_options(synchronize_session=False)
        )
        session.add(SignatoryCode(signatory_id=signatory.id, purpose=purpose, attempts=0, created_at=now,
                                  expires_at=now + policy.ttl,
                                  code_hash=_digest(policy, signatory.id, purpose, plain)))
        session.flush()
        mailer_from_settings(settings.smtp_url, settings.outbox_dir).send(message)


def verify_code(session: Session, signatory: Signatory, purpose: str, entered: str, *, settings: Settings,
                now: datetime) -> None:
    """Consume the current code when `entered` matches; otherwise count the attempt and raise
    (CodeInvalid, CodeExhausted, CodeExpired). The caller commits even when this raises, to keep the count."""
    _check_purpose(purpose)
    policy = code_policy(settings)
    record = _latest(session, signatory.id, purpose, lock=True)
    consume(record, policy, lambda: _digest(policy, signatory.id, purpose, entered.strip()), now=now)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def admit_guest(session: Session, signatory: Signatory, code: str, *, settings: Settings, now: datetime,
                ip: str | None) -> str:
    """Check the `admit` code and open a guest session for this signatory; returns the session token
    (256 random bits, stored hashed) for the cookie."""
    _check_open(signatory)
    verify_code(session, signatory, "admit", code, settings=settings, now=now)
    token = secrets.token_urlsafe(32)
    session.add(GuestSession(token_hash=_hash(token), signatory_id=signatory.id, created_at=now, last_seen_at=now,
                             ip=ip))
    session.flush()
    return token


def guest_signatory(session: Session, token: str, *, now: datetime) -> Signatory | None:
    """The signatory behind a live guest session, which is touched; None when unknown, ended or idle for
    30 minutes (an idle session is ended on the spot, so the same cookie stays dead)."""
    if not token or len(token) > 100:
        return None
    record = session.scalars(select(GuestSession).where(GuestSession.token_hash == _hash(token))).first()
    if record is None or record.ended_at is not None:
        return None
    if now - record.last_seen_at > GUEST_IDLE:
        record.ended_at = now
        return None
    record.last_seen_at = now
    return session.get(Signatory, record.signatory_id)


def end_guest_session(session: Session, token: str, *, now: datetime) -> None:
    """Log a guest out (no error when the session is already over)."""
    session.execute(
        update(GuestSession).where(GuestSession.token_hash == _hash(token), GuestSession.ended_at.is_(None))
        .values(ended_at=now).execution_options(synchronize_session=False)
    )
