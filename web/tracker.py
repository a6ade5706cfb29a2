"""What the tracker shows of a signature round: each signatory's state, the progress, the final mails' delivery,
and who the person looking is in it. Read-only; the round's changes live in `signing.rounds`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.models import Document, DocumentStatus, OutboxMessage, OutboxStatus, Signatory, SignatoryState, User
from signing.outbox import FINAL
from signing.rounds import turn

__all__ = ["SIGNATORY_STATES", "Tracker", "account_matches", "init_app", "signatory_state"]

SIGNATORY_STATES: dict[str, LazyString] = {
    "pending": _l("Ждёт очереди"),
    "notified": _l("Приглашение отправлено"),
    "viewed": _l("Открыл документ"),
    "signed": _l("Подписал"),
    "declined": _l("Отказался"),
}
"""`SignatoryState` values as the tracker names them."""

LIVE_STATUSES = frozenset({DocumentStatus.IN_SIGNING, DocumentStatus.COMPLETED})
"""While the document is in one of these something may still change by itself (signatures, finalization,
delivery): the tracker keeps polling. Afterwards it stops."""
WAITING = frozenset({SignatoryState.PENDING, SignatoryState.NOTIFIED, SignatoryState.VIEWED})


def signatory_state(state: str | None) -> str:
    return str(SIGNATORY_STATES.get(state or "", state or ""))


def account_matches(account: User, signatory: Signatory) -> bool:
    """The account is this signatory: linked to it, or holding its (confirmed) address."""
    if signatory.user_id is not None:
        return signatory.user_id == account.id
    return account.is_confirmed and account.email.lower() == signatory.email.lower()


@dataclass(frozen=True)
class Tracker:
    """One document's round as a person sees it."""

    document: Document
    signatories: list[Signatory]
    """In signing order."""
    is_initiator: bool
    """The person looking sent the document: they get the round's buttons."""
    me: Signatory | None
    """The person's own place among the signatories, if any."""
    deliveries: list[OutboxMessage]
    """The final PDF's mails, one per party (after finalization)."""
    in_turn: frozenset[int]
    """Ids of the signatories who may sign now."""

    @classmethod
    def of(cls, session: Session, document: Document, account: User | None) -> Tracker:
        people = sorted(document.signatories, key=lambda s: s.position)
        mine = [s for s in people if account is not None and account_matches(account, s)]
        finals = session.scalars(
            select(OutboxMessage).where(OutboxMessage.document_id == document.id, OutboxMessage.kind == FINAL)
            .order_by(OutboxMessage.id)
        ).all()
        running = document.status == DocumentStatus.IN_SIGNING
        return cls(document, people, account is not None and document.initiator_id == account.id,
                   mine[0] if mine else None, list(finals),
                   frozenset(s.id for s in turn(document, people)) if running else frozenset())

    @property
    def signed(self) -> int:
        return sum(1 for s in self.signatories if s.state == SignatoryState.SIGNED)

    @property
    def total(self) -> int:
        return len(self.signatories)

    @property
    def polling(self) -> bool:
        return self.document.status in LIVE_STATUSES and not self.delivery_failed

    @property
    def running(self) -> bool:
        return self.document.status == DocumentStatus.IN_SIGNING

    @property
    def finished(self) -> bool:
        """Signed by everyone: the final PDF and the certificate of completion can be downloaded."""
        return self.document.status in (DocumentStatus.COMPLETED, DocumentStatus.DELIVERED)

    @property
    def delivered(self) -> int:
        return sum(1 for m in self.deliveries if m.status == OutboxStatus.SENT)

    @property
    def delivery_failed(self) -> list[OutboxMessage]:
        return [m for m in self.deliveries if m.status == OutboxStatus.FAILED]

    def may_sign(self, signatory: Signatory) -> bool:
        return signatory.id in self.in_turn and signatory.state in WAITING

    @property
    def my_turn(self) -> bool:
        return self.me is not None and self.may_sign(self.me)


def init_app(app: Flask) -> None:
    app.add_template_filter(signatory_state)
