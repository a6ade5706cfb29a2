"""Feedback tickets: a person writes to support (a category, a description, optionally a screenshot and the
reference of the error page they came from) and gets a numbered ticket; support staff answer and close it. Each
side hears of the other's step by mail, written to the outbox in the same transaction. Session first, the caller
commits; another person's ticket is the same TicketNotFound as an unknown one."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from signing import outbox
from signing.errors import (
    FieldError,
    ScreenshotRejected,
    StaffOnly,
    TicketClosed,
    TicketNotFound,
    ValidationFailed,
)
from signing.images import image_problem
from signing.models import Ticket, TicketCategory, TicketMessage, TicketStatus, User
from signing.notices import SIGNATURE

__all__ = [
    "DESCRIPTION_MAX",
    "SCREENSHOT_MAX_BYTES",
    "TicketRequest",
    "all_tickets",
    "close",
    "get_ticket",
    "open_ticket",
    "own_tickets",
    "reply",
    "screenshot_type",
    "set_staff",
    "staff_recipients",
]

log = logging.getLogger("podpisant.feedback")
DESCRIPTION_MAX = 5000
"""Longest description or message, in characters."""
SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
SCREENSHOT_MAX_PIXELS = 50_000_000
REFERENCE = re.compile(r"R-[A-HJ-NP-Z2-9]{10}")
"""What `web.errors.new_reference` makes."""
CATEGORY_TITLES: dict[str, str] = {
    TicketCategory.ERROR: "ошибка в работе сервиса", TicketCategory.SIGNING: "подписание и сертификаты",
    TicketCategory.ACCOUNT: "учётная запись и вход", TicketCategory.SUGGESTION: "предложение",
    TicketCategory.OTHER: "другое",
}
"""How mail to support names a category."""
_FORMATS = ((b"\x89PNG\r\n\x1a\n", "PNG", "image/png"), (b"\xff\xd8\xff", "JPEG", "image/jpeg"))


@dataclass(frozen=True)
class TicketRequest:
    """What a person typed into the feedback form."""

    category: str
    description: str
    error_reference: str = ""
    screenshot: bytes | None = None
    """The uploaded file's bytes (at most one byte past the limit is enough to refuse it); None or empty: none."""


def screenshot_type(data: bytes) -> str:
    """`image/png` or `image/jpeg`, judged by the bytes and a whole decode; ScreenshotRejected otherwise."""
    if len(data) > SCREENSHOT_MAX_BYTES:
        raise ScreenshotRejected("size", limit_mb=SCREENSHOT_MAX_BYTES // (1024 * 1024))
    for magic, name, content_type in _FORMATS:
        if data.startswith(magic):
            problem = image_problem(data, name, SCREENSHOT_MAX_PIXELS)
            if problem is not None:
                raise ScreenshotRejected(problem)
            return content_type
    raise ScreenshotRejected("type")


def _text(field: str, raw: str) -> str:
    text = raw.replace("\r\n", "\n").strip()
    if not text:
        raise FieldError(field, "REQUIRED")
    if len(text) > DESCRIPTION_MAX:
        raise FieldError(field, "TOO-LONG", max_length=DESCRIPTION_MAX)
    return text


def _reference(raw: str) -> str | None:
    text = raw.strip().upper()
    if not text:
        return None
    if not REFERENCE.fullmatch(text):
        raise FieldError("error_reference", "REFERENCE-INVALID")
    return text


def _validated(request: TicketRequest) -> tuple[str, str | None, str | None]:
    """The description, the error reference and the screenshot's type; ValidationFailed with every wrong field."""
    errors: list[FieldError] = []
    if request.category not in set(TicketCategory):
        errors.append(FieldError("category", "CHOICE-INVALID"))
    description = reference = content_type = None
    try:
        description = _text("description", request.description)
    except FieldError as exc:
        errors.append(exc)
    try:
        reference = _reference(request.error_reference)
    except FieldError as exc:
        errors.append(exc)
    try:
        content_type = screenshot_type(request.screenshot) if request.screenshot else None
    except FieldError as exc:
        errors.append(exc)
    if errors or description is None:
        raise ValidationFailed(errors)
    return description, reference, content_type


def staff_recipients(session: Session, staff_email: str) -> list[str]:
    """Where news of tickets goes: the STAFF_EMAIL addresses (comma-separated) when set, else every staff member."""
    given = [address.strip() for address in staff_email.split(",") if address.strip()]
    if given:
        return given
    return list(session.scalars(select(User.email).where(User.is_staff.is_(True)).order_by(User.id)))


def _tell(session: Session, ticket: Ticket, recipients: list[str], kind: str, subject: str, body: str, *,
          now: datetime, step: int) -> None:
    for recipient in recipients:
        outbox.enqueue(session, dedupe_key=f"ticket:{ticket.id}:{step}:{kind}:{recipient.lower()}",
                       recipient=recipient, kind=kind, subject=subject, body=body + SIGNATURE, now=now)
    if not recipients:
        log.warning("ticket %s: no staff to tell (set STAFF_EMAIL or grant staff)", ticket.id)


def _tell_staff(session: Session, ticket: Ticket, author: User, text: str, *, now: datetime, staff_email: str,
                step: int, new: bool) -> None:
    what = "Новое обращение" if new else "Ответ в обращении"
    subject = f"{what} № {ticket.id}: {CATEGORY_TITLES.get(ticket.category, ticket.category)}"
    reference = f"\nНомер ошибки: {ticket.error_reference}" if ticket.error_reference else ""
    body = f"{author.full_name} <{author.email}> пишет:\n\n{text}{reference}"
    _tell(session, ticket, staff_recipients(session, staff_email), "ticket_staff", subject, body, now=now,
          step=step)


def open_ticket(session: Session, author: User, request: TicketRequest, *, now: datetime,
                staff_email: str = "") -> Ticket:
    """A numbered ticket, and mail to support; ValidationFailed with every wrong field and nothing stored."""
    description, reference, content_type = _validated(request)
    ticket = Ticket(user_id=author.id, category=request.category, description=description,
                    error_reference=reference, screenshot=request.screenshot if content_type else None,
                    screenshot_type=content_type, status=TicketStatus.OPEN, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    _tell_staff(session, ticket, author, description, now=now, staff_email=staff_email, step=0, new=True)
    return ticket


def own_tickets(session: Session, user: User) -> list[Ticket]:
    """The person's tickets, newest first."""
    query = (select(Ticket).where(Ticket.user_id == user.id).order_by(Ticket.id.desc()))
    return list(session.scalars(query))


def all_tickets(session: Session, staff: User, *, status: str | None = None) -> list[Ticket]:
    """Every ticket (of one status when given), those waiting for support first, then by last change."""
    if not staff.is_staff:
        raise StaffOnly()
    query = select(Ticket).options(defer(Ticket.screenshot))
    if status in set(TicketStatus):
        query = query.where(Ticket.status == status)
    waiting_first = (Ticket.status != TicketStatus.OPEN)
    return list(session.scalars(query.order_by(waiting_first, Ticket.updated_at.desc(), Ticket.id.desc())))


def get_ticket(session: Session, user: User, ticket_id: int) -> Ticket:
    """The ticket when `user` wrote it or is staff; TicketNotFound otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not (ticket.user_id == user.id or user.is_staff):
        raise TicketNotFound(str(ticket_id))
    return ticket


def _from_staff(user: User, ticket: Ticket) -> bool:
    return user.is_staff and user.id != ticket.user_id


def reply(session: Session, user: User, ticket: Ticket, body: str, *, now: datetime,
          staff_email: str = "") -> TicketMessage:
    """Support's answer (the person is mailed) or the person's next message (support is mailed)."""
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed(str(ticket.id))
    text = _text("body", body)
    from_staff = _from_staff(user, ticket)
    message = TicketMessage(ticket_id=ticket.id, author_id=user.id, from_staff=from_staff, body=text, created_at=now)
    session.add(message)
    ticket.status = TicketStatus.ANSWERED if from_staff else TicketStatus.OPEN
    ticket.updated_at = now
    session.flush()
    if from_staff:
        owner = session.get(User, ticket.user_id)
        assert owner is not None
        _tell(session, ticket, [owner.email], "ticket_answer", f"Ответ на обращение № {ticket.id}",
              f"Здравствуйте, {owner.full_name}!\n\nПоддержка ответила на ваше обращение № {ticket.id}:\n\n{text}"
              "\n\nОтветить можно на странице обращения в разделе «Обратная связь».", now=now, step=message.id)
    else:
        _tell_staff(session, ticket, user, text, now=now, staff_email=staff_email, step=message.id, new=False)
    return message


def close(session: Session, user: User, ticket: Ticket, *, now: datetime) -> Ticket:
    """Support closes the ticket and the person is mailed; closing a closed ticket changes nothing."""
    if not user.is_staff:
        raise StaffOnly()
    if ticket.status == TicketStatus.CLOSED:
        return ticket
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = ticket.updated_at = now
    owner = session.get(User, ticket.user_id)
    assert owner is not None
    _tell(session, ticket, [owner.email], "ticket_closed", f"Обращение № {ticket.id} закрыто",
          f"Здравствуйте, {owner.full_name}!\n\nПоддержка закрыла ваше обращение № {ticket.id}. Если вопрос "
          "остался, напишите новое обращение в разделе «Обратная связь».", now=now, step=-1)
    return ticket


def set_staff(session: Session, email: str, *, staff: bool) -> User | None:
    """Grant or take away the staff role; None when no account has that address."""
    user = session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if user is not None:
        user.is_staff = staff
    return user
