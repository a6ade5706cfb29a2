"""Two-factor authentication by TOTP (RFC 6238, the codes of an authenticator app).

The secret is stored only wrapped under the key-encryption key (`signing.pki.seal`). Enrolment is confirmed by a
first code. Each code works once: the last accepted 30-second step is kept and a code of that step or an earlier
one is refused, the step advanced by a conditional UPDATE so that two parallel requests cannot both use it. Ten
recovery codes stand in when the authenticator is lost, each single use, stored as keyed hashes. Five wrong codes in
a row lock the factor for a quarter of an hour. Every function that checks a code counts a wrong one: the caller
commits even when it raises.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from signing import passwords
from signing.codes import keyed_digest
from signing.config import Settings
from signing.errors import FieldError, TotpInvalid, TotpLocked, TotpReused, TwoFactorState
from signing.models import RecoveryCode, TwoFactor, User
from signing.pki import seal, unseal
from signing.trust_services import kek_for

__all__ = [
    "ISSUER", "LOCK", "MAX_FAILURES", "RECOVERY_CODES", "STEP_SECONDS", "Enrolment", "confirm_enrolment", "disable",
    "is_enabled", "pending_enrolment", "recovery_codes_left", "regenerate_recovery_codes", "start_enrolment",
    "time_step", "verify",
]

ISSUER = "Подписант"
"""How the account is named in the authenticator app."""
STEP_SECONDS = 30
VALID_WINDOW = 1
"""Steps accepted either side of now, as pyotp's `valid_window` counts them: clocks a little apart still agree."""
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt
_RECOVERY_LENGTH = 10
_TOTP = re.compile(r"\d{6}")
_RECOVERY_PURPOSE = "recovery"


@dataclass(frozen=True)
class Enrolment:
    """A secret waiting for its first code: `uri` goes into the QR code, `secret` is for typing in by hand."""

    secret: str
    uri: str


def time_step(moment: datetime) -> int:
    """The TOTP counter at `moment`."""
    return int(moment.timestamp()) // STEP_SECONDS


def _context(user_id: int) -> bytes:
    return f"two-factor:user={user_id}".encode()


def _factor(session: Session, user_id: int) -> TwoFactor | None:
    """The account's factor row, locked (on PostgreSQL) so that parallel codes are counted one after another."""
    return session.scalars(select(TwoFactor).where(TwoFactor.user_id == user_id).with_for_update()).first()


def _enabled(session: Session, user: User) -> TwoFactor:
    row = _factor(session, user.id)
    if row is None or row.enabled_at is None:
        raise TwoFactorState("disabled")
    return row


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri)


def is_enabled(session: Session, user: User) -> bool:
    """Whether logins and signatures of this account ask for an authenticator code."""
    enabled = session.scalar(select(TwoFactor.enabled_at).where(TwoFactor.user_id == user.id))
    return enabled is not None


def start_enrolment(session: Session, user: User, *, settings: Settings, now: datetime) -> Enrolment:
    """A fresh secret for the account (replacing one never confirmed); TwoFactorState when the factor is on."""
    row = _factor(session, user.id)
    if row is not None and row.enabled_at is not None:
        raise TwoFactorState("enabled")
    secret = pyotp.random_base32()
    if row is None:
        row = TwoFactor(user_id=user.id)
        session.add(row)
    row.wrapped_secret = seal(secret.encode(), kek_for(settings), context=_context(user.id))
    row.created_at, row.last_step, row.failed_attempts, row.locked_until = now, 0, 0, None
    session.flush()
    return _enrolment(user, secret)


def pending_enrolment(session: Session, user: User, *, settings: Settings) -> Enrolment | None:
    """The enrolment started and not confirmed yet, to show its QR code again."""
    row = session.get(TwoFactor, user.id)
    if row is None or row.enabled_at is not None:
        return None
    return _enrolment(user, _secret(row, settings))


def _secret(row: TwoFactor, settings: Settings) -> str:
    return unseal(row.wrapped_secret, kek_for(settings), context=_context(row.user_id)).decode()


def _check_lock(row: TwoFactor, now: datetime) -> None:
    if row.locked_until is not None and row.locked_until > now:
        raise TotpLocked(max(1, int((row.locked_until - now).total_seconds() + 0.999)))


def _wrong(row: TwoFactor, now: datetime) -> NoReturn:
    """Count a wrong code and raise: TotpInvalid, or TotpLocked at the fifth in a row."""
    row.failed_attempts += 1
    if row.failed_attempts >= MAX_FAILURES:
        row.failed_attempts, row.locked_until = 0, now + LOCK
        raise TotpLocked(int(LOCK.total_seconds()))
    raise TotpInvalid(MAX_FAILURES - row.failed_attempts)


def _accept_totp(session: Session, row: TwoFactor, entered: str, settings: Settings, now: datetime) -> None:
    totp = pyotp.TOTP(_secret(row, settings), interval=STEP_SECONDS)
    current = time_step(now)
    matched = [step for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1)
               if hmac.compare_digest(totp.at(step * STEP_SECONDS), entered)]
    if not matched:
        _wrong(row, now)
    fresh = [step for step in matched if step > row.last_step]
    if not fresh:
        raise TotpReused()
    step = max(fresh)
    taken = session.execute(
        update(TwoFactor)
        .where(TwoFactor.user_id == row.user_id, TwoFactor.last_step < step)
        .values(last_step=step, failed_attempts=0)
    )
    if getattr(taken, "rowcount", 0) != 1:  # a parallel request took this step first
        raise TotpReused()


def _recovery_digest(settings: Settings, user_id: int, plain: str) -> str:
    return keyed_digest(settings.secret_key.encode(), user_id, _RECOVERY_PURPOSE, plain)


def _normalise_recovery(entered: str) -> str:
    return re.sub(r"[\s-]", "", entered).lower()


def _use_recovery(session: Session, row: TwoFactor, entered: str, settings: Settings, now: datetime) -> None:
    digest = _recovery_digest(settings, row.user_id, _normalise_recovery(entered))
    used = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == row.user_id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(used, "rowcount", 0) != 1:
        _wrong(row, now)
    row.failed_attempts = 0


def _new_recovery_codes(session: Session, user_id: int, settings: Settings, now: datetime) -> list[str]:
    """Ten fresh codes replacing every earlier one; returned in the clear once, stored only hashed."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    plain = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=_recovery_digest(settings, user_id, code), created_at=now)
                    for code in plain)
    session.flush()
    half = _RECOVERY_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in plain]


def confirm_enrolment(session: Session, user: User, code: str, *, settings: Settings, now: datetime) -> list[str]:
    """Turn the factor on when `code` is the authenticator's current one; returns the ten recovery codes, which
    are shown once. TwoFactorState without an enrolment (or when already on)."""
    row = _factor(session, user.id)
    if row is None or row.enabled_at is not None:
        raise TwoFactorState("enabled" if row is not None else "disabled")
    _check_lock(row, now)
    entered = code.strip().replace(" ", "")
    if not _TOTP.fullmatch(entered):
        _wrong(row, now)
    _accept_totp(session, row, entered, settings, now)
    row.enabled_at = now
    return _new_recovery_codes(session, user.id, settings, now)


def verify(session: Session, user: User, code: str, *, settings: Settings, now: datetime,
           allow_recovery: bool = False) -> str:
    """Accept a current authenticator code (or, when allowed, an unused recovery code); returns which: `totp` or
    `recovery`. TotpInvalid, TotpReused, TotpLocked otherwise; TwoFactorState when the factor is off."""
    row = _enabled(session, user)
    _check_lock(row, now)
    entered = code.strip().replace(" ", "")
    if _TOTP.fullmatch(entered):
        _accept_totp(session, row, entered, settings, now)
        return "totp"
    if allow_recovery and entered:
        _use_recovery(session, row, entered, settings, now)
        return "recovery"
    _wrong(row, now)


def disable(session: Session, user: User, password: str, code: str, *, settings: Settings, now: datetime) -> None:
    """Turn the factor off: the password and a current code (or a recovery code, for a lost authenticator).
    FieldError("password", "PASSWORD-WRONG") for a wrong password, before any code is looked at."""
    if not passwords.verify_password(user.password_hash, password):
        raise FieldError("password", "PASSWORD-WRONG")
    verify(session, user, code, settings=settings, now=now, allow_recovery=True)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))


def regenerate_recovery_codes(session: Session, user: User, code: str, *, settings: Settings,
                              now: datetime) -> list[str]:
    """Ten new recovery codes for a current authenticator code; every earlier one stops working."""
    verify(session, user, code, settings=settings, now=now)
    return _new_recovery_codes(session, user.id, settings, now)


def recovery_codes_left(session: Session, user: User) -> int:
    count = session.scalar(select(func.count()).select_from(RecoveryCode)
                           .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    return int(count or 0)
