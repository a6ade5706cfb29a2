"""Forgot password: a one-time code mailed to the account's address, then a new password.

Nothing here may tell whether an address has an account. Every typed address gets a code row keyed by a keyed hash
of the address (`PasswordResetCode`), with the same cooldown, lifetime and attempts; only a registered address is
sent its code, through the outbox written in the same transaction (the delivery job sends it right after the
commit), so the request does the same work either way and no SMTP round trip shows in its timing. The code stays
in the outbox only until it is sent (`signing.outbox` redacts it); the table keeps only its hash.

A new password ends the account's lock, its "reset required" mark and every other session, and the owner is mailed
that it changed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing import accounts, codes, outbox, passwords, sessions
from signing.codes import PASSWORD_RESET, CodePolicy
from signing.config import Settings
from signing.errors import CodeCooldown, CodeExpired, FieldError, ValidationFailed
from signing.models import PasswordResetCode, User
from signing.notices import SIGNATURE

__all__ = [
    "CHANGED", "RESET_CODE", "address_key", "check_new_password", "request_reset", "reset_password", "reset_wait",
]

RESET_CODE = "password_reset_code"
"""The outbox kind of the mail with a reset code (redacted once sent)."""
CHANGED = "password_changed"
"""The outbox kind of the mail telling the owner the password changed."""
PURGE_AFTER = timedelta(days=1)
"""Reset code rows older than this are deleted by the next request (they only matter for 10 minutes)."""


def address_key(policy: CodePolicy, email: str) -> str:
    """The keyed hash a normalised address is known by here: the table holds no address nobody registered."""
    return hmac.new(policy.secret, f"reset-address:{email}".encode(), hashlib.sha256).hexdigest()


def _latest(session: Session, key: str, *, lock: bool = False) -> PasswordResetCode | None:
    query = (
        select(PasswordResetCode)
        .where(PasswordResetCode.address_key == key)
        .order_by(PasswordResetCode.created_at.desc(), PasswordResetCode.id.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def reset_wait(session: Session, policy: CodePolicy, email: str, now: datetime) -> int:
    """Seconds before another code may be asked for this address (0: now); the same for any address."""
    latest = _latest(session, address_key(policy, email))
    return codes.cooldown_left(policy, latest.created_at if latest else None, now)


def request_reset(session: Session, policy: CodePolicy, email: str, *, now: datetime) -> None:
    """Issue a reset code for the normalised address `email` and retire its earlier ones; mail it when an account
    has the address. CodeCooldown within `policy.resend_after` of the last one (for any address, registered or
    not). The caller commits; the mail leaves after the commit."""
    key = address_key(policy, email)
    wait = reset_wait(session, policy, email, now)
    if wait:
        raise CodeCooldown(wait)
    session.execute(delete(PasswordResetCode).where(PasswordResetCode.created_at < now - PURGE_AFTER))
    user = session.scalars(select(User).where(User.email == email)).first()
    plain = codes.new_plain(policy)
    record = PasswordResetCode(address_key=key, user_id=user.id if user else None, attempts=0, created_at=now,
                               expires_at=now + policy.ttl, code_hash=codes.digest(policy, key, PASSWORD_RESET, plain))
    try:
        with session.begin_nested():
            session.execute(
                update(PasswordResetCode)
                .where(PasswordResetCode.address_key == key, PasswordResetCode.consumed_at.is_(None))
                .values(consumed_at=now)
                .execution_options(synchronize_session=False)
            )
            session.add(record)
    except IntegrityError as exc:  # a parallel request issued one a moment ago: one live code per address
        raise CodeCooldown(int(policy.resend_after.total_seconds())) from exc
    if user is not None:
        minutes = int(policy.ttl.total_seconds() // 60)
        outbox.enqueue(session, dedupe_key=f"user:{user.id}:password-reset:{record.id}", recipient=user.email,
                       kind=RESET_CODE, subject="Восстановление пароля в Подписанте",
                       body=_code_text(user, plain, minutes), now=now)


def _code_text(user: User, plain: str, minutes: int) -> str:
    return (
        f"{plain} — код для восстановления пароля в Подписанте.\n\n"
        f"Здравствуйте, {user.full_name}! Введите код на странице восстановления и задайте новый пароль. "
        f"Код действует {minutes} минут и подходит один раз. Никому его не сообщайте.\n\n"
        f"Если вы не просили восстановить пароль, просто удалите это письмо: пароль останется прежним." + SIGNATURE
    )


def check_new_password(password: str, password_confirm: str) -> None:
    """The rules that do not depend on the account (length, guessability, the repeat), checked before the code so
    that a mistake here costs no attempt and says nothing about the address."""
    errors: list[FieldError] = []
    try:
        passwords.check_strength(password, [])
    except FieldError as exc:
        errors.append(exc)
    if password != password_confirm:
        errors.append(FieldError("password_confirm", "PASSWORD-MISMATCH"))
    if errors:
        raise ValidationFailed(errors)


def reset_password(session: Session, settings: Settings, policy: CodePolicy, email: str, entered: str,
                   password: str, password_confirm: str, *, now: datetime, keep_session: str | None = None) -> User:
    """Set a new password when `entered` is the address's current code.

    ValidationFailed for a password against the rules (the caller rolls back: the code stays usable and no attempt
    is counted); CodeInvalid, CodeExhausted or CodeExpired for the code (the caller commits, to keep the attempt).
    On success the lock and the "reset required" mark end, an unconfirmed address counts as confirmed (the code
    reached it), every session but `keep_session` ends and the owner is mailed.
    """
    check_new_password(password, password_confirm)
    key = address_key(policy, email)
    record = _latest(session, key, lock=True)
    codes.consume(record, policy, lambda: codes.digest(policy, key, PASSWORD_RESET, entered.strip()), now=now)
    user = session.get(User, record.user_id) if record is not None and record.user_id is not None else None
    if user is None:  # the code of an unknown address, never sent, was guessed
        raise CodeExpired()
    try:
        passwords.check_strength(password, accounts.personal_words(user.full_name, user.email, user.phone))
    except FieldError as exc:
        raise ValidationFailed([exc]) from exc
    user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.password_reset_required = False
    if not user.is_confirmed:
        user.email_confirmed_at = now
        accounts.link_signatories(session, user)
    sessions.end_all_sessions(session, user.id, "password_reset", keep_token=keep_session)
    _tell_owner(session, settings, user, now)
    return user


def _tell_owner(session: Session, settings: Settings, user: User, now: datetime) -> None:
    local = now.astimezone(ZoneInfo(settings.timezone)).strftime("%d.%m.%Y %H:%M")
    body = (
        f"Здравствуйте, {user.full_name}!\n\n"
        f"Пароль вашей учётной записи в Подписанте изменён {local} ({settings.timezone}) через «Забыли пароль?». "
        f"Все остальные сеансы входа завершены.\n\n"
        f"Если это были не вы, сразу восстановите пароль ещё раз — код придёт только на эту почту:\n"
        f"{settings.base_url}/password/forgot\n"
        f"и напишите в поддержку." + SIGNATURE
    )
    outbox.enqueue(session, dedupe_key=f"user:{user.id}:password-changed:{now.isoformat()}", recipient=user.email,
                   kind=CHANGED, subject="Пароль в Подписанте изменён", body=body, now=now)
