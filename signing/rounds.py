"""The signature round: send a document out, then view, sign, decline, withdraw, edit, remind, expire.

Every change takes the document's lock first (`signing.serialise`) and re-reads what it decides on, so
signatures on one document are applied one after another, each on the PDF the previous one produced, and none
lands on a revision that is no longer current. Session first, the caller commits; notices go to the outbox in
the same transaction. Codes and guest sessions live in `signing.guests` and are re-exported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signing import documents, finalization, history, invitations
from signing.accounts import normalize_email
from signing.certificates import current_crl, signatory_identity, signing_identity
from signing.config import Settings
from signing.drafting import render_pdf, validate_draft
from signing.errors import (
    AlreadySigned,
    DeadlinePassed,
    DeclineReasonRequired,
    DocumentNotFound,
    FieldError,
    NotYourTurn,
    ReminderCooldown,
    RoundClosed,
    StaleRevision,
    ValidationFailed,
)
from signing.guests import admit_guest, end_guest_session, guest_signatory, request_code, verify_code
from signing.models import Document, DocumentStatus, Revision, Signatory, SignatoryState, SigningOrder, User
from signing.notices import (
    Party,
    declined_text,
    edited_text,
    ended_text,
    invitation_text,
    parties,
    reminder_text,
    tell,
)
from signing.pades import PdfLimits, SignatorySlot, SignerIdentity, inspect_pdf, prepare_for_round, sign_field
from signing.serialise import current_revision, lock_document, signatories
from signing.trust_services import ca_for, kek_for, timestamper_for

__all__ = [
    "DECLINE_REASON_MAX",
    "MANUAL_REMINDER_COOLDOWN",
    "MAX_SIGNATORIES",
    "SignatorySpec",
    "admit_guest",
    "decline",
    "edit",
    "end_guest_session",
    "expire_due",
    "guest_signatory",
    "mark_viewed",
    "remind",
    "request_code",
    "send",
    "send_due_reminders",
    "sign",
    "turn",
]

MAX_SIGNATORIES = 30
"""Most signatories in one round (the signature page holds them all)."""
DECLINE_REASON_MAX = 2000
"""Longest reason for a decline, in characters."""
MANUAL_REMINDER_COOLDOWN = timedelta(hours=1)
"""The reminder button reaches a signatory at most once an hour (and not within an hour of the invitation)."""
WAITING = (SignatoryState.NOTIFIED, SignatoryState.VIEWED)


@dataclass(frozen=True)
class SignatorySpec:
    """One person the initiator asks to sign."""

    name: str
    """Full name, as on the signature page (and in the certificate of someone without an account)."""
    email: str
    """Where the invitation goes: the address the person proves with a one-time code."""
    organization: str | None = None
    """The organisation the person signs for, if any."""
    role: str | None = None
    """Position or role («Генеральный директор»), if any."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lock_for_initiator(session: Session, document: Document, initiator: User) -> Document:
    if document.initiator_id != initiator.id:
        raise DocumentNotFound(str(document.id))
    return lock_document(session, document.id)


def _ensure_running(document: Document, now: datetime) -> None:
    """The round is on: in signing and before its deadline."""
    if document.status != DocumentStatus.IN_SIGNING:
        raise RoundClosed(document.status)
    if document.deadline is not None and now >= document.deadline:
        raise DeadlinePassed()


def _initiator_name(session: Session, document: Document) -> str:
    initiator = session.get(User, document.initiator_id)
    return initiator.full_name if initiator is not None else ""


# ---------------------------------------------------------------- whose turn it is, and inviting them


def turn(document: Document, people: Sequence[Signatory]) -> list[Signatory]:
    """Who may sign now: every unsigned signatory in a parallel round, the first unsigned one in a sequential one."""
    unsigned = [s for s in people if s.state != SignatoryState.SIGNED]
    return unsigned if document.signing_order == SigningOrder.PARALLEL else unsigned[:1]


def _fresh_link(session: Session, document: Document, signatory: Signatory, settings: Settings,
                now: datetime) -> str:
    token = invitations.issue(session, signatory, revision_seq=document.current_revision,
                              expires_at=document.deadline, now=now)
    return invitations.link(settings, token)


def _mark_notified(session: Session, document: Document, signatory: Signatory, now: datetime) -> None:
    signatory.state = SignatoryState.NOTIFIED
    signatory.notified_at = now
    history.append(session, document, "notified", actor="system", actor_user_id=None, now=now, ip=None,
                   revision_sha256=current_revision(session, document).pdf_sha256,
                   details={"signatory_id": signatory.id, "email": signatory.email})


def _invite_turn(session: Session, document: Document, people: Sequence[Signatory], *, settings: Settings,
                 now: datetime) -> None:
    """Send the personal link to everyone whose turn it is and who has not had one for this revision."""
    initiator_name = _initiator_name(session, document)
    for signatory in turn(document, people):
        if signatory.state == SignatoryState.PENDING:
            url = _fresh_link(session, document, signatory, settings, now)
            tell(session, document, Party(signatory.email, signatory.name), "invitation",
                 invitation_text(document, signatory, initiator_name, url), now=now)
            _mark_notified(session, document, signatory, now)


# ---------------------------------------------------------------- sending


def _optional(value: str | None, limit: int) -> str | None:
    cleaned = " ".join((value or "").split())[:limit]
    return cleaned or None


def _clean_spec(index: int, spec: SignatorySpec, seen: set[str], errors: list[FieldError]) -> SignatorySpec | None:
    name = " ".join(spec.name.split())
    if not name or len(name) > 300:
        errors.append(FieldError(f"signatories-{index}-name", "NAME-INVALID"))
    try:
        email = normalize_email(spec.email)
    except FieldError:
        errors.append(FieldError(f"signatories-{index}-email", "EMAIL-INVALID"))
        return None
    if email in seen:
        errors.append(FieldError(f"signatories-{index}-email", "SIGNATORY-DUPLICATE"))
    seen.add(email)
    return SignatorySpec(name, email, _optional(spec.organization, 300), _optional(spec.role, 120))


def _clean_round(specs: Sequence[SignatorySpec], initiator: User | None, order: str, deadline: datetime | None,
                 now: datetime) -> tuple[list[SignatorySpec], SigningOrder]:
    """Signatories (initiator first when signing), checked together: ValidationFailed lists every wrong field."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    people = [SignatorySpec(initiator.full_name, initiator.email)] if initiator is not None else []
    seen.update(p.email.lower() for p in people)
    for index, spec in enumerate(specs):
        cleaned = _clean_spec(index, spec, seen, errors)
        if cleaned is not None:
            people.append(cleaned)
    if not people and not errors:
        errors.append(FieldError("signatories", "SIGNATORIES-REQUIRED"))
    if len(people) > MAX_SIGNATORIES:
        errors.append(FieldError("signatories", "SIGNATORIES-TOO-MANY", limit=MAX_SIGNATORIES))
    if deadline is not None and deadline <= now:
        errors.append(FieldError("deadline", "DEADLINE-PAST"))
    if order not in {o.value for o in SigningOrder}:
        errors.append(FieldError("order", "ORDER-INVALID"))
    if errors:
        raise ValidationFailed(errors)
    return people, SigningOrder(order)


def _account_id(session: Session, email: str) -> int | None:
    """The confirmed account with this address, if any: its holder then signs with their own certificate."""
    return session.scalar(select(User.id).where(func.lower(User.email) == email.lower(),
                                                User.email_confirmed_at.is_not(None)))


def _add_signatories(session: Session, document: Document, initiator: User, people: list[SignatorySpec],
                     initiator_signs: bool) -> list[Signatory]:
    rows = []
    for position, spec in enumerate(people, start=1):
        is_initiator = initiator_signs and position == 1
        rows.append(Signatory(
            document_id=document.id, position=position, name=spec.name, email=spec.email,
            organization=spec.organization, role=spec.role, is_initiator=is_initiator,
            user_id=initiator.id if is_initiator else _account_id(session, spec.email),
            field_name=f"sig{position}", state=SignatoryState.PENDING, reminders_sent=0,
        ))
    session.add_all(rows)
    session.flush()
    return rows


def _slots(people: Sequence[Signatory]) -> list[SignatorySlot]:
    return [SignatorySlot(s.field_name, s.name, s.organization, s.role) for s in people]


def _prepare(revision: Revision, people: Sequence[Signatory]) -> None:
    revision.pdf = prepare_for_round(revision.source_pdf, _slots(people))
    revision.pdf_sha256 = _sha256(revision.pdf)
    revision.signature_count = 0


def send(session: Session, document: Document, initiator: User, signatories_: Sequence[SignatorySpec], *,
         order: str, deadline: datetime | None, initiator_signs: bool, settings: Settings, now: datetime,
         ip: str | None, auto_sign: str | None = None) -> Document:
    """Send a draft out for signature: signature page with a field per signatory, status "in signing", and
    personal links by mail — to everyone at once (parallel) or to the first (sequential).

    `auto_sign` names a standing instruction of the initiator (a subscription with auto-signing on): their own
    signature, with their own certificate, is then applied at once, before anyone else is invited."""
    people, signing_order = _clean_round(signatories_, initiator if initiator_signs else None, order, deadline, now)
    document = _lock_for_initiator(session, document, initiator)
    if document.status != DocumentStatus.DRAFT:
        raise RoundClosed(document.status)
    rows = _add_signatories(session, document, initiator, people, initiator_signs)
    revision = current_revision(session, document)
    signer = _Signer.of(session, rows[0], settings, now) if auto_sign is not None and initiator_signs else None
    _prepare(revision, rows)  # (the signer is looked up first: the prepared PDF is then stored once, signed)
    document.status, document.signing_order, document.deadline = DocumentStatus.IN_SIGNING, signing_order, deadline
    document.sent_at = document.updated_at = now
    history.append(session, document, "sent", actor=initiator.email, actor_user_id=initiator.id, now=now, ip=ip,
                   revision_sha256=revision.pdf_sha256,
                   details={"signatories": len(rows), "order": signing_order.value,
                            "deadline": deadline.isoformat() if deadline else None})
    if signer is not None and auto_sign is not None:
        _sign_for_initiator(session, document, rows[0], signer, consent=auto_sign, settings=settings, now=now)
    if finalization.fully_signed(revision, rows):
        finalization.schedule(session, revision, settings)
    else:
        _invite_turn(session, document, rows, settings=settings, now=now)
    return document


def _sign_for_initiator(session: Session, document: Document, signatory: Signatory, signer: _Signer, *, consent: str,
                        settings: Settings, now: datetime) -> None:
    """The initiator's signature applied on their standing instruction `consent`: no code, their certificate."""
    revision = _apply_signature(session, document, signatory, settings=settings, now=now, signer=signer)
    history.append(session, document, "signed", actor=signatory.email, actor_user_id=signatory.user_id, now=now,
                   ip=None, revision_sha256=revision.pdf_sha256,
                   details={"signatory_id": signatory.id, "certificate_serial": signatory.certificate_serial,
                            "automatic": consent})


# ---------------------------------------------------------------- viewing


def mark_viewed(session: Session, signatory: Signatory, *, now: datetime, ip: str | None) -> Signatory:
    """Record that an invited signatory opened the current revision (once per revision; later views, and views
    before their invitation, change nothing: who has not been invited yet still gets the invitation)."""
    if signatory.state != SignatoryState.NOTIFIED:
        return signatory
    document = lock_document(session, signatory.document_id)
    session.refresh(signatory)
    if document.status != DocumentStatus.IN_SIGNING or signatory.state != SignatoryState.NOTIFIED:
        return signatory
    signatory.state = SignatoryState.VIEWED
    signatory.viewed_at = now
    history.append(session, document, "viewed", actor=signatory.email, actor_user_id=signatory.user_id, now=now,
                   ip=ip, revision_sha256=current_revision(session, document).pdf_sha256,
                   details={"signatory_id": signatory.id})
    return signatory


# ---------------------------------------------------------------- signing


def _confirm(session: Session, signatory: Signatory, code: str | None, totp_verified: bool, *,
             settings: Settings, now: datetime) -> None:
    """The signature's confirmation: the account's TOTP (checked by the caller) or the mailed `sign` code."""
    if totp_verified and signatory.user_id is not None:
        return
    if not code or not code.strip():
        raise FieldError("code", "CODE-REQUIRED")
    verify_code(session, signatory, "sign", code, settings=settings, now=now)


def _identity(session: Session, signatory: Signatory, settings: Settings, now: datetime) -> SignerIdentity:
    """The person's own certificate: their account's, or one issued to this signatory when there is no account."""
    ca, kek = ca_for(settings), kek_for(settings)
    user = session.get(User, signatory.user_id) if signatory.user_id is not None else None
    if user is not None:
        return signing_identity(session, user, ca, kek, now=now)
    return signatory_identity(session, signatory, ca, kek, now=now)


def _check_turn(document: Document, signatory: Signatory, people: Sequence[Signatory]) -> None:
    if signatory not in turn(document, people):
        raise NotYourTurn()


@dataclass(frozen=True)
class _Signer:
    """What a signature needs from the database: the signer's certificate and key, and the CA's current CRL."""

    identity: SignerIdentity
    crl: x509.CertificateRevocationList

    @classmethod
    def of(cls, session: Session, signatory: Signatory, settings: Settings, now: datetime) -> _Signer:
        return cls(_identity(session, signatory, settings, now), current_crl(session, ca_for(settings), now=now))


def _apply_signature(session: Session, document: Document, signatory: Signatory, *, settings: Settings,
                     now: datetime, signer: _Signer | None = None) -> Revision:
    revision = current_revision(session, document)
    assert revision.pdf is not None
    signer = signer or _Signer.of(session, signatory, settings, now)
    identity = signer.identity
    revision.pdf = sign_field(revision.pdf, signatory.field_name, identity, timestamper=timestamper_for(settings),
                              crl=signer.crl, now=now)
    revision.pdf_sha256 = _sha256(revision.pdf)
    revision.signature_count += 1
    signatory.state = SignatoryState.SIGNED
    signatory.signed_at = now
    signatory.certificate_serial = f"{identity.certificate.serial_number:x}"
    return revision


def sign(session: Session, signatory: Signatory, *, code: str | None, totp_verified: bool = False,
         revision_seq: int, settings: Settings, now: datetime, ip: str | None) -> Signatory:
    """Sign the current revision as `signatory`, with their own certificate.

    Idempotent: a signatory who has signed gets their signatory back unchanged (double click, reload, replay).
    StaleRevision when `revision_seq` (what the person saw) is not current; NotYourTurn in a sequential round;
    the code is checked last, and the caller commits even when it is wrong so that the attempt counts. The last
    signature schedules finalization for after the commit.
    """
    document = lock_document(session, signatory.document_id)
    people = signatories(session, document.id)
    if signatory.state == SignatoryState.SIGNED:
        return signatory
    _ensure_running(document, now)
    if revision_seq != document.current_revision:
        raise StaleRevision(f"revision {revision_seq} was superseded by {document.current_revision}")
    _check_turn(document, signatory, people)
    _confirm(session, signatory, code, totp_verified, settings=settings, now=now)
    revision = _apply_signature(session, document, signatory, settings=settings, now=now)
    invitations.revoke(session, [signatory.id], now=now)
    document.updated_at = now
    history.append(session, document, "signed", actor=signatory.email, actor_user_id=signatory.user_id, now=now,
                   ip=ip, revision_sha256=revision.pdf_sha256,
                   details={"signatory_id": signatory.id, "certificate_serial": signatory.certificate_serial})
    if finalization.fully_signed(revision, people):
        finalization.schedule(session, revision, settings)
    else:
        _invite_turn(session, document, people, settings=settings, now=now)
    return signatory


# ---------------------------------------------------------------- declining, withdrawing, expiring


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DeclineReasonRequired()
    if len(text) > DECLINE_REASON_MAX:
        raise FieldError("reason", "DECLINE-REASON-TOO-LONG", limit=DECLINE_REASON_MAX)
    return text


def decline(session: Session, signatory: Signatory, reason: str, *, now: datetime, ip: str | None) -> Signatory:
    """Refuse to sign, with a reason: the document becomes "declined" and every party is told why.
    Declining twice changes nothing; after signing it is AlreadySigned."""
    text = _clean_reason(reason)
    document = lock_document(session, signatory.document_id)
    people = signatories(session, document.id)
    if signatory.state == SignatoryState.DECLINED:
        return signatory
    _ensure_running(document, now)
    if signatory.state == SignatoryState.SIGNED:
        raise AlreadySigned()
    signatory.state, signatory.declined_at, signatory.decline_reason = SignatoryState.DECLINED, now, text
    document.status, document.decline_reason, document.updated_at = DocumentStatus.DECLINED, text, now
    invitations.revoke(session, [s.id for s in people], now=now)
    history.append(session, document, "declined", actor=signatory.email, actor_user_id=signatory.user_id, now=now,
                   ip=ip, revision_sha256=current_revision(session, document).pdf_sha256,
                   details={"signatory_id": signatory.id, "reason": text})
    for party in parties(session, document):
        tell(session, document, party, "declined", declined_text(document, party.name, signatory, text), now=now)
    return signatory


def _end_round(session: Session, document: Document, status: DocumentStatus, *, actor: User | None,
               now: datetime, ip: str | None) -> None:
    """Withdrawn or expired: links stop working, history, and everyone but the actor is told."""
    document.status, document.updated_at = status, now
    invitations.revoke(session, [s.id for s in signatories(session, document.id)], now=now)
    event = "withdrawn" if status == DocumentStatus.WITHDRAWN else "expired"
    history.append(session, document, event, actor=actor.email if actor else "system",
                   actor_user_id=actor.id if actor else None, now=now, ip=ip,
                   revision_sha256=current_revision(session, document).pdf_sha256)
    for party in parties(session, document):
        if actor is None or party.email.lower() != actor.email.lower():
            tell(session, document, party, event, ended_text(document, party.name, event), now=now)


def withdraw(session: Session, document: Document, initiator: User, *, now: datetime, ip: str | None) -> Document:
    """The initiator calls the round off: "withdrawn", links revoked, signatories told."""
    document = _lock_for_initiator(session, document, initiator)
    if document.status != DocumentStatus.IN_SIGNING:
        raise RoundClosed(document.status)
    _end_round(session, document, DocumentStatus.WITHDRAWN, actor=initiator, now=now, ip=ip)
    return document


def expire_due(session: Session, *, now: datetime) -> int:
    """Rounds past their deadline become "expired" and every party is told; returns how many. A round whose
    signatures are all in is left to finalization."""
    ids = session.scalars(select(Document.id).where(Document.status == DocumentStatus.IN_SIGNING,
                                                    Document.deadline <= now)).all()
    expired = 0
    for document_id in ids:
        document = lock_document(session, document_id)
        if document.status != DocumentStatus.IN_SIGNING or document.deadline is None or document.deadline > now:
            continue
        if finalization.fully_signed(current_revision(session, document), signatories(session, document_id)):
            continue
        _end_round(session, document, DocumentStatus.EXPIRED, actor=None, now=now, ip=None)
        expired += 1
    return expired


# ---------------------------------------------------------------- reminders


def _remind_one(session: Session, document: Document, signatory: Signatory, *, settings: Settings,
                now: datetime) -> bool:
    """A reminder with a fresh link (only hashes of the old ones are kept); numbered, so each goes once."""
    url = _fresh_link(session, document, signatory, settings, now)
    sent = tell(session, document, Party(signatory.email, signatory.name), "reminder",
                reminder_text(document, signatory, url), now=now, suffix=f":{signatory.reminders_sent + 1}")
    signatory.reminders_sent += 1
    signatory.last_reminded_at = now
    return sent


def _record_reminders(session: Session, document: Document, reminded: list[Signatory], *, actor: User | None,
                      now: datetime, ip: str | None) -> None:
    history.append(session, document, "reminded", actor=actor.email if actor else "system",
                   actor_user_id=actor.id if actor else None, now=now, ip=ip,
                   revision_sha256=current_revision(session, document).pdf_sha256,
                   details={"signatory_ids": [s.id for s in reminded], "automatic": actor is None})


def _last_contact(signatory: Signatory) -> datetime | None:
    return signatory.last_reminded_at or signatory.notified_at


def remind(session: Session, document: Document, initiator: User, *, settings: Settings, now: datetime,
           ip: str | None) -> int:
    """The reminder button: everyone whose turn it is and who has not signed gets a reminder with a fresh link;
    returns how many. ReminderCooldown when each of them was contacted within the hour."""
    document = _lock_for_initiator(session, document, initiator)
    _ensure_running(document, now)
    waiting = [s for s in turn(document, signatories(session, document.id)) if s.state in WAITING]
    contacts = [_last_contact(s) for s in waiting]
    due = [s for s, last in zip(waiting, contacts, strict=True)
           if last is None or now - last >= MANUAL_REMINDER_COOLDOWN]
    if waiting and not due:
        soonest = min(last for last in contacts if last is not None) + MANUAL_REMINDER_COOLDOWN
        raise ReminderCooldown(int((soonest - now).total_seconds() + 0.999))
    for signatory in due:
        _remind_one(session, document, signatory, settings=settings, now=now)
    if due:
        _record_reminders(session, document, due, actor=initiator, now=now, ip=ip)
    return len(due)


def _reminder_due(signatory: Signatory, settings: Settings, now: datetime) -> bool:
    """First after `reminder_first_days` from the invitation, then every `reminder_every_days`, at most
    `reminder_max` per revision (button reminders count too, and restart the interval)."""
    if signatory.state not in WAITING or signatory.reminders_sent >= settings.reminder_max:
        return False
    if signatory.last_reminded_at is not None:
        return now >= signatory.last_reminded_at + timedelta(days=settings.reminder_every_days)
    return signatory.notified_at is not None and now >= signatory.notified_at + timedelta(
        days=settings.reminder_first_days)


def _due_reminders_for(session: Session, document_id: int, *, settings: Settings, now: datetime) -> int:
    document = lock_document(session, document_id)
    if document.status != DocumentStatus.IN_SIGNING or (document.deadline is not None and now >= document.deadline):
        return 0
    due = [s for s in turn(document, signatories(session, document_id)) if _reminder_due(s, settings, now)]
    for signatory in due:
        _remind_one(session, document, signatory, settings=settings, now=now)
    if due:
        _record_reminders(session, document, due, actor=None, now=now, ip=None)
    return len(due)


def send_due_reminders(session: Session, *, settings: Settings, now: datetime) -> int:
    """Automatic reminders (rq cron, hourly); returns how many went out. Safe to run twice: each document is
    re-checked under its lock, and each reminder's outbox key is numbered."""
    ids = session.scalars(
        select(Signatory.document_id).join(Document, Document.id == Signatory.document_id)
        .where(Document.status == DocumentStatus.IN_SIGNING, Signatory.state.in_(list(WAITING)),
               Signatory.reminders_sent < settings.reminder_max)
        .distinct()
    ).all()
    return sum(_due_reminders_for(session, document_id, settings=settings, now=now) for document_id in ids)


# ---------------------------------------------------------------- editing during the round


def _new_source(session: Session, document: Document, data: Mapping[str, object] | None, pdf: bytes | None, *,
                settings: Settings, today: date) -> bytes:
    """The edited document: re-rendered from the form (period checked again), or a replacement upload."""
    if document.source == "form":
        if data is None:
            raise FieldError("data", "REQUIRED")
        draft = validate_draft(data, today=today)
        if draft.period is not None:
            documents.ensure_period_free(session, draft.kind.value, draft.seller.inn, draft.buyer.inn, draft.period,
                                         exclude_document_id=document.id)
        documents.apply_draft(document, draft)
        return render_pdf(draft)
    if pdf is None:
        raise FieldError("pdf", "REQUIRED")
    inspect_pdf(pdf, PdfLimits.from_settings(settings))
    return pdf


def _reset(people: Sequence[Signatory]) -> None:
    """Earlier signatures no longer count: everyone starts again on the new revision."""
    for s in people:
        s.state, s.notified_at, s.viewed_at, s.signed_at = SignatoryState.PENDING, None, None, None
        s.certificate_serial, s.reminders_sent, s.last_reminded_at = None, 0, None


def _tell_edited(session: Session, document: Document, people: Sequence[Signatory], *, settings: Settings,
                 now: datetime) -> None:
    """Everyone hears of the new revision; those whose turn it is get their new link in the same mail."""
    now_turn = turn(document, people)
    for signatory in people:
        url = _fresh_link(session, document, signatory, settings, now) if signatory in now_turn else None
        tell(session, document, Party(signatory.email, signatory.name), "edited",
             edited_text(document, signatory.name, url), now=now)
        if url is not None:
            _mark_notified(session, document, signatory, now)


def edit(session: Session, document: Document, initiator: User, *, data: Mapping[str, object] | None = None,
         pdf: bytes | None = None, settings: Settings, today: date, now: datetime, ip: str | None) -> Document:
    """Change a document that is out for signature (form `data`, or a new `pdf` for an upload): a new revision
    starts, signatures on the old one no longer count, old links stop working, every signatory is told, and
    the history says «Изменено». Drafts are changed with `documents.update_draft` instead."""
    document = _lock_for_initiator(session, document, initiator)
    _ensure_running(document, now)
    source = _new_source(session, document, data, pdf, settings=settings, today=today)
    people = signatories(session, document.id)
    old = current_revision(session, document)
    old.superseded_at = now
    invitations.revoke(session, [s.id for s in people], now=now)
    new = Revision(document_id=document.id, seq=old.seq + 1, source_pdf=source, source_sha256=_sha256(source),
                   created_at=now)
    _prepare(new, people)
    session.add(new)
    document.current_revision, document.updated_at = new.seq, now
    session.flush()
    _reset(people)
    history.append(session, document, "edited", actor=initiator.email, actor_user_id=initiator.id, now=now, ip=ip,
                   revision_sha256=new.pdf_sha256, details={"revision": new.seq, "previous_sha256": old.pdf_sha256})
    _tell_edited(session, document, people, settings=settings, now=now)
    return document

