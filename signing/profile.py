"""A person's own details: name, INN and SNILS saved at once; a new address or phone only after the code sent
to it is entered (the old address is told about a change of address). Session first, the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing import codes, outbox
from signing.accounts import collect_error, link_signatories, normalize_email, normalize_name, normalize_phone
from signing.errors import CodeExpired, FieldError, ValidationFailed
from signing.models import User
from signing.notices import SIGNATURE
from signing.personal_ids import normalize_person_inn, normalize_snils
from signing.sms import masked_phone

__all__ = [
    "EMAIL_CHANGE",
    "PHONE_CHANGE",
    "PersonalDetails",
    "confirm_email_change",
    "confirm_phone_change",
    "request_email_change",
    "request_phone_change",
    "update_details",
]

EMAIL_CHANGE = "email_change"
"""The purpose of the code mailed to a new address."""
PHONE_CHANGE = "phone_change"
"""The purpose of the code sent by SMS to a new phone."""


@dataclass(frozen=True)
class PersonalDetails:
    """What a person typed into the profile form."""

    full_name: str
    inn: str
    """Empty to remove it."""
    snils: str
    """Empty to remove it; «123-456-789 64» and plain digits alike."""


def update_details(session: Session, user: User, details: PersonalDetails) -> User:
    """Save the name, INN and SNILS; ValidationFailed with every wrong field, nothing changed."""
    errors: list[FieldError] = []
    name = collect_error(errors, normalize_name, details.full_name)
    inn = collect_error(errors, lambda raw: normalize_person_inn(raw) or "", details.inn)
    snils = collect_error(errors, lambda raw: normalize_snils(raw) or "", details.snils)
    if errors:
        raise ValidationFailed(errors)
    user.full_name, user.inn, user.snils = name, inn or None, snils or None
    return user


def _taken(session: Session, user: User, column: str, value: str) -> bool:
    attribute = getattr(User, column)
    found = session.scalar(select(func.count()).where(attribute == value, User.id != user.id))
    return bool(found)


_PENDING = {"email": (EMAIL_CHANGE, "pending_email"), "phone": (PHONE_CHANGE, "pending_phone")}
"""For each changeable contact: the purpose of its code and the column holding the value waiting for it."""


def _request_change(session: Session, policy: codes.CodePolicy, user: User, column: str,
                    value: str) -> codes.IssuedCode:
    if value == getattr(user, column):
        raise FieldError(column, f"{column.upper()}-SAME")
    if _taken(session, user, column, value):
        raise FieldError(column, f"{column.upper()}-TAKEN")
    purpose, pending = _PENDING[column]
    issued = codes.issue_code(session, policy, user.id, purpose)
    setattr(user, pending, value)
    return issued


def request_email_change(session: Session, policy: codes.CodePolicy, user: User, raw: str) -> codes.IssuedCode:
    """Remember the new address and make a code for it (the caller mails it there, then commits). The address
    the account uses stays as it is until the code comes back."""
    return _request_change(session, policy, user, "email", normalize_email(raw))


def request_phone_change(session: Session, policy: codes.CodePolicy, user: User, raw: str) -> codes.IssuedCode:
    """Remember the new phone and make a code for it (the caller sends it there by SMS, then commits)."""
    return _request_change(session, policy, user, "phone", normalize_phone(raw))


def _confirm_change(session: Session, policy: codes.CodePolicy, user: User, column: str,
                    entered: str) -> tuple[str, str]:
    """Switch to the waiting value when `entered` is its code; the old and the new value. The unique key settles a
    race with another account taking the value meanwhile."""
    purpose, pending = _PENDING[column]
    new_value = getattr(user, pending)
    if new_value is None:
        raise CodeExpired()
    codes.verify_code(session, policy, user.id, purpose, entered)
    old_value = getattr(user, column)
    if _taken(session, user, column, new_value):
        raise FieldError(column, f"{column.upper()}-TAKEN")
    setattr(user, column, new_value)
    setattr(user, pending, None)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise FieldError(column, f"{column.upper()}-TAKEN") from None
    return old_value, new_value


def confirm_email_change(
    session: Session, policy: codes.CodePolicy, user: User, entered: str, *, now: datetime
) -> str:
    """Switch the account to the waiting address when `entered` is its code, tell the old address, and give the
    account the signatory places held under the new one. Returns the old address.

    Code errors count the attempt: the caller commits then too. FieldError EMAIL-TAKEN when another account took
    the address meanwhile (the caller rolls back)."""
    old_email, new_email = _confirm_change(session, policy, user, "email", entered)
    user.email_confirmed_at = now
    link_signatories(session, user)
    outbox.enqueue(
        session, dedupe_key=f"user:{user.id}:email-changed:{now.isoformat()}", recipient=old_email,
        kind="email_changed", now=now, subject="Адрес почты в Подписанте изменён",
        body=(f"Здравствуйте, {user.full_name}!\n\nАдрес почты вашей учётной записи в Подписанте изменён с "
              f"{old_email} на {new_email}. Письма и вход теперь по новому адресу.\n\nЕсли вы этого не делали, "
              f"срочно напишите в поддержку через «Обратная связь» и смените пароль." + SIGNATURE),
    )
    return old_email


def confirm_phone_change(
    session: Session, policy: codes.CodePolicy, user: User, entered: str, *, now: datetime
) -> str:
    """Switch the account to the waiting phone when `entered` is its code, and tell the account's address.
    Returns the old phone. Errors as for `confirm_email_change` (PHONE-TAKEN)."""
    old_phone, new_phone = _confirm_change(session, policy, user, "phone", entered)
    outbox.enqueue(
        session, dedupe_key=f"user:{user.id}:phone-changed:{now.isoformat()}", recipient=user.email,
        kind="phone_changed", now=now, subject="Телефон в Подписанте изменён",
        body=(f"Здравствуйте, {user.full_name}!\n\nТелефон вашей учётной записи в Подписанте изменён с "
              f"{masked_phone(old_phone)} на {masked_phone(new_phone)}.\n\nЕсли вы этого не делали, срочно "
              f"напишите в поддержку через «Обратная связь» и смените пароль." + SIGNATURE),
    )
    return old_phone
