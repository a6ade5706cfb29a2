"""Registration, email confirmation and password login."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing import codes, lockout, passwords
from signing.clock import utcnow
from signing.errors import (
    AccountNotConfirmed,
    FieldError,
    InvalidCredentials,
    PasswordResetRequired,
    ValidationFailed,
)
from signing.models import Signatory, User

__all__ = [
    "PD_CONSENT_VERSION",
    "Registration",
    "authenticate",
    "collect_error",
    "confirm_email",
    "find_by_login",
    "link_signatories",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "personal_words",
    "register",
]

PD_CONSENT_VERSION = "2026-11"
"""Version of the personal-data consent text shown at registration."""

_PHONE_NOISE = re.compile(r"[\s()\-.]")
_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'\- .]*$")
# A password hash nobody's password matches, so unknown logins cost the same time as known ones.
_DUMMY_HASH = passwords.hash_password("timing-equaliser-not-a-password")


@dataclass(frozen=True)
class Registration:
    """What a person typed into the registration form."""

    full_name: str
    email: str
    phone: str
    password: str
    password_confirm: str
    consent: bool


def normalize_email(raw: str) -> str:
    """Lower-cased, syntax-checked address; raises FieldError("email", ...) when malformed."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError("email", "EMAIL-INVALID") from exc
    return result.normalized.lower()


def normalize_phone(raw: str) -> str:
    """`+7` and ten digits; accepts spaces, brackets, dashes and a leading 8."""
    digits = _PHONE_NOISE.sub("", raw.strip())
    if re.fullmatch(r"8\d{10}", digits):
        digits = "+7" + digits[1:]
    if not re.fullmatch(r"\+7\d{10}", digits):
        raise FieldError("phone", "PHONE-INVALID")
    return digits


def normalize_name(raw: str) -> str:
    name = " ".join(raw.split())
    if len(name) < 3 or len(name) > 300 or " " not in name or not _NAME.match(name):
        raise FieldError("full_name", "NAME-INVALID")
    return name


def collect_error(errors: list[FieldError], check: Callable[[str], str], raw: str) -> str:
    """Run one field's check, remembering its error instead of stopping at the first."""
    try:
        return check(raw)
    except FieldError as exc:
        errors.append(exc)
        return ""


def personal_words(full_name: str, email: str, phone: str) -> list[str]:
    """What a password must not be built from: the person's own name, address and phone."""
    return [full_name, email, email.split("@")[0], phone, *full_name.split()]


def _validated(session: Session, form: Registration) -> tuple[str, str, str]:
    errors: list[FieldError] = []
    name = collect_error(errors, normalize_name, form.full_name)
    email = collect_error(errors, normalize_email, form.email)
    phone = collect_error(errors, normalize_phone, form.phone)
    try:
        passwords.check_strength(form.password, personal_words(name, email, phone))
    except FieldError as exc:
        errors.append(exc)
    if form.password != form.password_confirm:
        errors.append(FieldError("password_confirm", "PASSWORD-MISMATCH"))
    if not form.consent:
        errors.append(FieldError("consent", "CONSENT-REQUIRED"))
    if email and session.scalar(select(func.count()).where(User.email == email)):
        errors.append(FieldError("email", "EMAIL-TAKEN"))
    if phone and session.scalar(select(func.count()).where(User.phone == phone)):
        errors.append(FieldError("phone", "PHONE-TAKEN"))
    if errors:
        raise ValidationFailed(errors)
    return name, email, phone


def register(
    session: Session, policy: codes.CodePolicy, form: Registration
) -> tuple[User, codes.IssuedCode]:
    """Create an unconfirmed account with recorded consent and a confirmation code.

    Raises ValidationFailed before writing anything; the caller commits only after the
    code has been mailed, so a failed send leaves no half-made account behind.
    """
    name, email, phone = _validated(session, form)
    now = utcnow()
    user = User(
        full_name=name,
        email=email,
        phone=phone,
        password_hash=passwords.hash_password(form.password),
        created_at=now,
        pd_consent_at=now,
        pd_consent_version=PD_CONSENT_VERSION,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a parallel registration won the race for the same address
        session.rollback()
        field = "phone" if "phone" in str(exc.orig).lower() else "email"
        raise ValidationFailed([FieldError(field, f"{field.upper()}-TAKEN")]) from exc
    return user, codes.issue_code(session, policy, user.id, codes.EMAIL_CONFIRM)


def confirm_email(session: Session, policy: codes.CodePolicy, user_id: int, entered: str) -> User:
    """Mark the address confirmed when the code matches (attempts are counted otherwise), and link the signatory
    places held under that address to the account."""
    user = session.get(User, user_id)
    if user is None:
        raise InvalidCredentials()
    if not user.is_confirmed:
        codes.verify_code(session, policy, user_id, codes.EMAIL_CONFIRM, entered)
        user.email_confirmed_at = utcnow()
        link_signatories(session, user)
    return user


def link_signatories(session: Session, user: User) -> int:
    """Give a confirmed account the signatory places held under its address without an account (a counterparty
    who signed as a guest, then registered): those documents are its own from now on. Returns how many."""
    if not user.is_confirmed:
        return 0
    places = session.scalars(
        select(Signatory).where(func.lower(Signatory.email) == user.email.lower(), Signatory.user_id.is_(None))
    ).all()
    for signatory in places:
        signatory.user_id = user.id
    return len(places)


def find_by_login(session: Session, login: str) -> User | None:
    """The account whose email or phone is `login`, if any."""
    login = login.strip()
    if "@" in login:
        return session.scalars(select(User).where(User.email == login.lower())).first()
    try:
        phone = normalize_phone(login)
    except FieldError:
        return None
    return session.scalars(select(User).where(User.phone == phone)).first()


def authenticate(session: Session, login: str, password: str, lock: lockout.LockPolicy = lockout.DEFAULT) -> User:
    """The account for these credentials; one error for an unknown login and a wrong password.

    A locked account is refused (AccountLocked) before its password is looked at, so the right password does not
    open it either; a wrong password is counted and the one that reaches the limit starts the lock. The caller
    commits even when this raises, so that the count is kept. An unknown login is never "locked".
    """
    user = find_by_login(session, login)
    if user is None:
        passwords.verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials()
    now = utcnow()
    lockout.check_not_locked(user, now)
    if not passwords.verify_password(user.password_hash, password):
        lockout.record_failure(session, user, lock, now)
        raise InvalidCredentials()
    lockout.record_success(session, user, now)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.password_reset_required:
        raise PasswordResetRequired()
    if not user.is_confirmed:
        raise AccountNotConfirmed(user.id)
    return user
