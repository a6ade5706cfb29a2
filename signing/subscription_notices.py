"""What a subscription tells its initiator by mail: the coming issue day, the document issued (sent, or ready to
send), a period that failed. Each notice is an outbox row keyed (subscription, period, kind), written in the same
transaction as what it reports, so it exists, and goes, once — however often a renewal runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from signing import outbox
from signing.config import Settings
from signing.drafting import Period
from signing.models import Document, Subscription, User
from signing.notices import SIGNATURE

__all__ = ["UPCOMING", "tell_failed", "tell_issued", "tell_skipped", "tell_upcoming"]

UPCOMING = "subscription-upcoming"


def _url(settings: Settings, path: str) -> str:
    return f"{settings.base_url.rstrip('/')}{path}"


def _tell(session: Session, subscription: Subscription, period: Period, kind: str, text: tuple[str, str], *,
          now: datetime, document_id: int | None = None) -> bool:
    initiator = session.get(User, subscription.initiator_id)
    assert initiator is not None
    subject, body = text
    key = f"subscription:{subscription.id}:period:{period.start.isoformat()}:{kind}"
    message = outbox.enqueue(session, dedupe_key=key, recipient=initiator.email, kind=kind, subject=subject,
                             body=f"Здравствуйте, {initiator.full_name}!\n\n{body}{SIGNATURE}", now=now,
                             document_id=document_id)
    return message is not None


def _what(subscription: Subscription, period: Period) -> str:
    return f"документ подписки № {subscription.id} за {period.label()}"


def tell_upcoming(session: Session, subscription: Subscription, period: Period, day: date, *, settings: Settings,
                  now: datetime) -> bool:
    """A few days before the issue day (`Subscription.notice_days`): what will be issued and how to stop it."""
    action = ("подписан вашей подписью и отправлен на подпись" if subscription.auto_sign
              else "подготовлен как черновик, который останется отправить")
    return _tell(session, subscription, period, UPCOMING, (
        f"{day:%d.%m.%Y} будет выпущен {_what(subscription, period)}",
        f"{day:%d.%m.%Y} Подписант выпустит {_what(subscription, period)}; он будет {action}.\n"
        f"Изменить, приостановить или отменить подписку: {_url(settings, '/subscriptions')}",
    ), now=now)


def tell_issued(session: Session, subscription: Subscription, period: Period, document: Document, *,
                sent: bool, settings: Settings, now: datetime) -> bool:
    """After the issue: the document was signed by the initiator and sent, or is a draft waiting to be sent."""
    url = _url(settings, f"/documents/{document.id}")
    if sent:
        text = (f"Выпущен и отправлен на подпись документ № {document.number}",
                f"Выпущен {_what(subscription, period)}: «{document.title}». Он подписан вашей подписью и "
                f"отправлен на подпись остальным участникам.\nХод подписания: {url}")
    else:
        text = (f"Готов черновик № {document.number}: отправьте его на подпись",
                f"Выпущен {_what(subscription, period)}: «{document.title}». Черновик готов — проверьте его и "
                f"отправьте на подпись: {url}")
    return _tell(session, subscription, period, "subscription-issued", text, now=now, document_id=document.id)


def tell_skipped(session: Session, subscription: Subscription, period: Period, reason: str, *, settings: Settings,
                 now: datetime) -> bool:
    """A period not issued because a document made by hand already covers it."""
    return _tell(session, subscription, period, "subscription-skipped", (
        f"Период {period.label()} подписки № {subscription.id} пропущен",
        f"{reason}.\nЧтобы не создавать дубликат, Подписант не выпустил документ за этот период.\n"
        f"Подписка: {_url(settings, '/subscriptions')}",
    ), now=now)


def tell_failed(session: Session, subscription: Subscription, period: Period, reason: str, *, settings: Settings,
                now: datetime) -> bool:
    """The first failure of a period (later attempts of the same period do not mail again)."""
    return _tell(session, subscription, period, "subscription-failed", (
        f"Не удалось выпустить {_what(subscription, period)}",
        f"Не удалось выпустить {_what(subscription, period)}.\nПричина: {reason}\n"
        f"Подписант попробует ещё раз через 1 минуту, 10 минут и час. Если ошибка останется, исправьте подписку и "
        f"нажмите «Повторить сейчас»: {_url(settings, '/subscriptions')}",
    ), now=now)
