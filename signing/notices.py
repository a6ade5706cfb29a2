"""What the signature round tells people by mail. Each notice is an outbox row written in the same transaction
as the change it reports, keyed (document, revision, kind, recipient[, n]) so that it exists, and goes, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from signing import outbox
from signing.models import Document, Signatory, User

__all__ = [
    "Party",
    "code_text",
    "declined_text",
    "edited_text",
    "ended_text",
    "final_text",
    "invitation_text",
    "parties",
    "reminder_text",
    "tell",
]

MOSCOW = ZoneInfo("Europe/Moscow")
SIGNATURE = "\n\n—\nПодписант, сервис электронного подписания документов"
CODE_PURPOSES = {"admit": "открыть документ", "sign": "подписать документ"}


@dataclass(frozen=True)
class Party:
    """Someone a round's notices go to: the initiator or a signatory."""

    email: str
    """Where the mail goes."""
    name: str
    """How the mail addresses them."""


def parties(session: Session, document: Document) -> list[Party]:
    """The initiator, then every signatory, each address once (the initiator may sign too)."""
    initiator = session.get(User, document.initiator_id)
    found: dict[str, Party] = {}
    if initiator is not None:
        found[initiator.email.lower()] = Party(initiator.email, initiator.full_name)
    for signatory in document.signatories:
        found.setdefault(signatory.email.lower(), Party(signatory.email, signatory.name))
    return list(found.values())


def tell(session: Session, document: Document, to: Party, kind: str, text: tuple[str, str], *, now: datetime,
         suffix: str = "", attach_final_pdf: bool = False) -> bool:
    """Write one notice to the outbox; False when the same notice was written before (nothing new is sent)."""
    subject, body = text
    key = f"doc:{document.id}:rev:{document.current_revision}:{kind}:{to.email.lower()}{suffix}"
    message = outbox.enqueue(session, dedupe_key=key, recipient=to.email, kind=kind, subject=subject,
                             body=body, now=now, document_id=document.id, attach_final_pdf=attach_final_pdf)
    return message is not None


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(MOSCOW):%d.%m.%Y %H:%M} (МСК)"


def _deadline(document: Document) -> str:
    return f"\nПодписать нужно до {_when(document.deadline)}." if document.deadline is not None else ""


def invitation_text(document: Document, signatory: Signatory, initiator_name: str, url: str) -> tuple[str, str]:
    """The personal invitation to sign."""
    return (
        f"Подпишите документ «{document.title}»",
        f"Здравствуйте, {signatory.name}!\n\n{initiator_name} просит вас подписать документ «{document.title}».\n"
        f"Открыть и подписать: {url}{_deadline(document)}\n\n"
        f"Ссылка личная, не пересылайте её." + SIGNATURE,
    )


def reminder_text(document: Document, signatory: Signatory, url: str) -> tuple[str, str]:
    """A reminder to someone who has not signed yet."""
    return (
        f"Напоминание: подпишите документ «{document.title}»",
        f"Здравствуйте, {signatory.name}!\n\nДокумент «{document.title}» ждёт вашей подписи.\n"
        f"Открыть и подписать: {url}{_deadline(document)}" + SIGNATURE,
    )


def edited_text(document: Document, name: str, url: str | None) -> tuple[str, str]:
    """A new revision: earlier signatures no longer count; a link when it is the recipient's turn."""
    action = (f"Откройте и подпишите новую редакцию: {url}{_deadline(document)}" if url is not None
              else "Когда подойдёт ваша очередь подписывать, мы пришлём ссылку.")
    return (
        f"Документ изменён: «{document.title}»",
        f"Здравствуйте, {name}!\n\nДокумент «{document.title}» изменён (редакция {document.current_revision}). "
        f"Подписи под прежней редакцией больше не действуют.\n{action}" + SIGNATURE,
    )


def declined_text(document: Document, name: str, decliner: Signatory, reason: str) -> tuple[str, str]:
    """Someone declined: everyone learns who and why."""
    return (
        f"Отказ от подписания: «{document.title}»",
        f"Здравствуйте, {name}!\n\n{decliner.name} ({decliner.email}) отказывается подписывать документ "
        f"«{document.title}».\nПричина: {reason}\n\nДокумент получил статус «Отказано»." + SIGNATURE,
    )


def ended_text(document: Document, name: str, why: str) -> tuple[str, str]:
    """The round ended without signatures from everyone: `why` is "withdrawn" or "expired"."""
    if why == "withdrawn":
        subject, line = "Документ отозван", "Инициатор отозвал документ «{title}». Подписывать его больше не нужно."
    else:
        subject, line = "Срок подписания истёк", "Срок подписания документа «{title}» истёк, подписи не собраны."
    return f"{subject}: «{document.title}»", f"Здравствуйте, {name}!\n\n{line.format(title=document.title)}" + SIGNATURE


def final_text(document: Document, name: str) -> tuple[str, str]:
    """Everyone signed: the final PDF goes as an attachment."""
    signers = "\n".join(f"— {s.name} ({s.email}), {_when(s.signed_at)}" for s in document.signatories
                        if s.signed_at is not None)
    return (
        f"Документ подписан всеми сторонами: «{document.title}»",
        f"Здравствуйте, {name}!\n\nДокумент «{document.title}» подписан всеми сторонами:\n{signers}\n\n"
        f"Итоговый PDF с подписями и данными для долгосрочной проверки (PAdES B-LTA) — во вложении." + SIGNATURE,
    )


def code_text(document: Document, purpose: str, code: str, minutes: int) -> tuple[str, str]:
    """A one-time code: the code comes first, so it is the first number in the mail."""
    return (
        f"Код подтверждения: {code}",
        f"{code} — ваш код, чтобы {CODE_PURPOSES[purpose]} «{document.title}».\n"
        f"Код действует {minutes} минут. Никому его не сообщайте." + SIGNATURE,
    )
