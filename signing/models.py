"""The database schema as typed SQLAlchemy 2.0 models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

__all__ = [
    "Attachment", "Base", "Document", "DocumentSeries", "DocumentStatus", "GuestSession", "HistoryEntry", "Invitation",
    "LoginChallenge", "LoginEvent", "LoginResult", "OneTimeCode", "OutboxMessage", "OutboxStatus",
    "PasswordResetCode", "PendingExternalSignature", "PeriodMode", "PeriodOutcome", "PublishedCrl", "RecoveryCode",
    "Revision", "Signatory", "SignatoryCode", "SignatoryState", "SignerCertificate", "SigningOrder", "Subscription",
    "SubscriptionPeriod", "SubscriptionStatus", "Ticket", "TicketCategory", "TicketMessage", "TicketStatus",
    "TwoFactor", "User", "UserSession", "search_key",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, hands back timezone-aware UTC on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person with an account: initiator, signatory or both."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("inn IS NULL OR length(inn) = 12", name="inn_length"),
        CheckConstraint("snils IS NULL OR length(snils) = 11", name="snils_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str] = mapped_column(String(12), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pd_consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the person agreed to personal-data processing (152-FZ), recorded at registration."""
    pd_consent_version: Mapped[str] = mapped_column(String(20))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Wrong passwords in a row since the last success or lock; raised by one UPDATE so none is lost."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Logins are refused until then (set when `failed_logins` reaches the limit; a password reset clears it)."""
    password_reset_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Login is refused until a new password is set through "forgot password"."""
    inn: Mapped[str | None] = mapped_column(String(12))
    """The person's INN (12 digits, checked), when given in the profile: written into their signing certificate."""
    snils: Mapped[str | None] = mapped_column(String(11))
    """SNILS, 11 digits without separators (checked), when given in the profile: in the signing certificate too."""
    pending_email: Mapped[str | None] = mapped_column(String(320))
    """A new address waiting for the code mailed to it; the account's address changes only when it is entered."""
    pending_phone: Mapped[str | None] = mapped_column(String(12))
    """A new phone waiting for the code sent to it by SMS."""
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Support staff: sees, answers and closes every feedback ticket (`flask staff grant <email>`)."""

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class OneTimeCode(Base):
    """A short numeric code sent by mail; only its keyed hash is stored."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when the code was used, burned by too many attempts, or replaced by a newer one."""


class UserSession(Base):
    """The server-side record behind a login cookie: ending it ends the cookie's power."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))

    user: Mapped[User] = relationship(back_populates="sessions")


class SignerCertificate(Base):
    """A person's X.509 certificate from the service's issuing CA, with its private key wrapped by the KEK."""

    __tablename__ = "signer_certificates"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (signatory_id IS NULL)", name="one_holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    """The account holder; None for a certificate of a signatory without an account."""
    signatory_id: Mapped[int | None] = mapped_column(ForeignKey("signatories.id", ondelete="RESTRICT"), index=True)
    """A counterparty without an account: named as the initiator entered them, their address proven by a code;
    valid for that one signatory (one document), since nothing else ties the person to a later round."""
    issuer_key_id: Mapped[str] = mapped_column(String(64))
    """Hex SubjectKeyIdentifier of the issuing CA, so CRLs are built per CA."""
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    """Hex serial number, as printed on the stamp."""
    certificate_pem: Mapped[str] = mapped_column(Text)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    """The private key, AES-256-GCM under the key-encryption key; never stored in the clear."""
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(40))


class PublishedCrl(Base):
    """Every CRL the service has published; the highest number per CA is the current one."""

    __tablename__ = "published_crls"
    __table_args__ = (UniqueConstraint("issuer_key_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_key_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    crl_der: Mapped[bytes] = mapped_column(LargeBinary)
    this_update: Mapped[datetime] = mapped_column(UTCDateTime())
    next_update: Mapped[datetime] = mapped_column(UTCDateTime())


class PendingExternalSignature(Base):
    """A signature prepared for a key held in a browser, waiting for the browser's answer.

    One row per document at most (the unique key is the guard): a new preparation replaces the old one, and
    finishing consumes the row, so an answer is used once and an answer to a replaced preparation is refused.
    """

    __tablename__ = "pending_external_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_key: Mapped[str] = mapped_column(String(100), unique=True)
    """Which document (and revision) the signature goes into, as the signature round names it."""
    token: Mapped[str] = mapped_column(String(64), unique=True)
    """Random handle given to the browser with the bytes to sign."""
    state: Mapped[str] = mapped_column(Text)
    """`ExternalPreparation.to_json()`: the placeholder document and the signed attributes."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- documents and signature rounds


class DocumentStatus(StrEnum):
    """What a person sees on a document (PRODUCT.md): Черновик, На подписании, Подписан, Доставлено, ..."""

    DRAFT = "draft"
    IN_SIGNING = "in_signing"
    COMPLETED = "completed"
    DELIVERED = "delivered"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class SigningOrder(StrEnum):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"


class SignatoryState(StrEnum):
    """One signatory's progress on the current revision."""

    PENDING = "pending"
    NOTIFIED = "notified"
    VIEWED = "viewed"
    SIGNED = "signed"
    DECLINED = "declined"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Document(Base):
    """An act, contract, invoice, waybill or acceptance act, from a form or uploaded, and its signature round."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_period_parties", "kind", "seller_inn", "buyer_inn", "period_start"),
        Index("ix_documents_initiator_status", "initiator_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    """A `signing.drafting.DocumentKind` value."""
    title: Mapped[str] = mapped_column(String(300))
    number: Mapped[str | None] = mapped_column(String(40))
    document_date: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    seller_inn: Mapped[str | None] = mapped_column(String(12))
    """The first party's INN (Исполнитель, Продавец, ...): with `buyer_inn`, who "the same parties" are."""
    buyer_inn: Mapped[str | None] = mapped_column(String(12))
    counterparty_name: Mapped[str | None] = mapped_column(String(300))
    """For search and lists: the other party's name."""
    draft_json: Mapped[str | None] = mapped_column(Text)
    """`Draft.to_dict()` for documents made from a form; None for uploads."""
    source: Mapped[str] = mapped_column(String(10))
    """`form` or `upload`."""
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.DRAFT)
    signing_order: Mapped[str] = mapped_column(String(12), default=SigningOrder.PARALLEL)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    """`Revision.seq` of the revision that counts."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    """`search_key(title, number, counterparty_name)`, kept by a flush hook: search that ignores case on SQLite too."""
    archive_month: Mapped[date | None] = mapped_column(Date, index=True)
    """1st day of the month the document belongs to (its period, else its date, else its creation in Moscow)."""
    history_head: Mapped[str | None] = mapped_column(String(64))
    """Hash of the last history entry: the chain's anchor, so that losing the newest entries is noticed too."""

    revisions: Mapped[list[Revision]] = relationship(back_populates="document", order_by="Revision.seq")
    signatories: Mapped[list[Signatory]] = relationship(back_populates="document", order_by="Signatory.position")


MOSCOW = ZoneInfo("Europe/Moscow")


def search_key(*parts: str | None) -> str:
    """Lower case with ё as е: what search compares (SQLite's lower() knows only ASCII letters)."""
    return " ".join(part for part in parts if part).casefold().replace("ё", "е")


@event.listens_for(Document, "before_insert")
@event.listens_for(Document, "before_update")
def _derive_columns(_mapper: Mapper[Document], _connection: Connection, document: Document) -> None:
    """Keep the search and archive columns in step with whatever changed the document."""
    document.search_text = search_key(document.title, document.number, document.counterparty_name)
    day = document.period_start or document.document_date
    if day is None and document.created_at is not None:
        day = document.created_at.astimezone(MOSCOW).date()
    document.archive_month = None if day is None else day.replace(day=1)


class DocumentSeries(Base):
    """Periodic documents of one kind between the same two parties: its row is locked while a new period is checked
    for overlaps, so two requests for the same month cannot both pass the check."""

    __tablename__ = "document_series"
    __table_args__ = (UniqueConstraint("kind", "seller_inn", "buyer_inn", name="uq_document_series_parties"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    seller_inn: Mapped[str] = mapped_column(String(12))
    buyer_inn: Mapped[str] = mapped_column(String(12))


class Revision(Base):
    """One version of a document's PDF; editing a document out for signature starts the next one."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    source_pdf: Mapped[bytes] = mapped_column(LargeBinary)
    """The document as rendered or uploaded, before the signature page."""
    source_sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Prepared for the round (signature page, fields) and every signature so far; None while a draft."""
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    final_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    """PAdES B-LTA, written once by the finalization job."""
    final_sha256: Mapped[str | None] = mapped_column(String(64))
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="revisions")


class Signatory(Base):
    """A person who must sign: the initiator, a colleague or a counterparty, with or without an account."""

    __tablename__ = "signatories"
    __table_args__ = (
        UniqueConstraint("document_id", "position", name="uq_signatories_document_position"),
        UniqueConstraint("document_id", "field_name", name="uq_signatories_document_field"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    """Order in a sequential round (1 first); display order in a parallel one."""
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320), index=True)
    organization: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    """Linked when the signatory has (or creates) an account."""
    is_initiator: Mapped[bool] = mapped_column(Boolean, default=False)
    field_name: Mapped[str] = mapped_column(String(64))
    """The signature field on the signature page, stable across revisions."""
    state: Mapped[str] = mapped_column(String(12), default=SignatoryState.PENDING)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    certificate_serial: Mapped[str | None] = mapped_column(String(40))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="signatories")


class Invitation(Base):
    """A signatory's personal link: 128+ random bits, only the hash stored, bound to one revision."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    signatory_id: Mapped[int] = mapped_column(ForeignKey("signatories.id", ondelete="CASCADE"), index=True)
    revision_seq: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The round's deadline; None when the round has none (the link then ends with the round)."""
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when the revision is superseded, the round ends, or the signatory has signed or declined."""


class GuestSession(Base):
    """A counterparty without an account, admitted by an emailed code: sees one document, as one signatory."""

    __tablename__ = "guest_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    signatory_id: Mapped[int] = mapped_column(ForeignKey("signatories.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))


class SignatoryCode(Base):
    """A one-time code mailed to a signatory (guest admission or signing confirmation); only its hash kept."""

    __tablename__ = "signatory_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    signatory_id: Mapped[int] = mapped_column(ForeignKey("signatories.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    """`admit` (open the document as a guest) or `sign` (confirm a signature)."""
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HistoryEntry(Base):
    """Append-only history of a document; each entry carries the hash of the previous one (a chain)."""

    __tablename__ = "history_entries"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(320))
    """Who: an e-mail, or `system` for jobs."""
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    revision_sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")
    """JSON with what the event needs (reason of a decline, signatory id, ...)."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    """A supporting file (PDF or JPG) that travels with a document but is not signed."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """Mail written in the same transaction as the state change it reports; a job sends it.

    `dedupe_key` — (document, recipient, kind[, revision]) — is unique: each such message exists, and is sent, once.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attach_final_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    """Attach the document's final PDF (read when sending, so the outbox row stays small)."""
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- monthly subscriptions


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    """Final: a cancelled subscription issues nothing more."""


class PeriodMode(StrEnum):
    """Which calendar month a renewal covers, relative to the month it is issued in."""

    PREVIOUS_MONTH = "previous_month"
    CURRENT_MONTH = "current_month"


class PeriodOutcome(StrEnum):
    ISSUED = "issued"
    SKIPPED = "skipped"
    """Not issued: the period overlaps a document made by hand (the reason is kept on the row)."""


class Subscription(Base):
    """A document issued every month for the new period from one template, until paused, cancelled or its last
    month."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("issue_day BETWEEN 1 AND 28", name="issue_day_range"),
        CheckConstraint("notice_days BETWEEN 0 AND 14", name="notice_days_range"),
        Index("ix_subscriptions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    """A periodic `signing.drafting.DocumentKind` value."""
    draft_json: Mapped[str] = mapped_column(Text)
    """`Draft.to_dict()` of the template: parties, items, extra fields; number, date and period are replaced."""
    signatories_json: Mapped[str] = mapped_column(Text, default="[]")
    """[{"name", "email", "organization", "role"}] in signing order, for the round of each renewed document."""
    signing_order: Mapped[str] = mapped_column(String(12), default=SigningOrder.PARALLEL)
    period_mode: Mapped[str] = mapped_column(String(20), default=PeriodMode.PREVIOUS_MONTH)
    number_pattern: Mapped[str] = mapped_column(String(60))
    """`str.format` pattern with {n} (counter, format spec like {n:03} allowed), {yyyy} and {mm} of the period."""
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    issue_day: Mapped[int] = mapped_column(Integer)
    """Day of the month (1–28) a period's document is issued on."""
    auto_sign: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    """The initiator is told this many days before each issue day (0: no advance notice)."""
    first_month: Mapped[date] = mapped_column(Date)
    """1st day of the first period to issue."""
    last_month: Mapped[date | None] = mapped_column(Date)
    """1st day of the last period to issue; None: until cancelled."""
    status: Mapped[str] = mapped_column(String(12), default=SubscriptionStatus.ACTIVE)
    last_error: Mapped[str | None] = mapped_column(Text)
    """Why the last renewal did not issue a period (failure or a skipped overlap); cleared by the next success."""
    source_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    periods: Mapped[list[SubscriptionPeriod]] = relationship(
        back_populates="subscription", order_by="SubscriptionPeriod.period_start"
    )


class SubscriptionPeriod(Base):
    """One period a subscription has handled: the unique (subscription, period start) makes it exactly once."""

    __tablename__ = "subscription_periods"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_subscription_periods_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issue_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(10), default=PeriodOutcome.ISSUED)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    number: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscription: Mapped[Subscription] = relationship(back_populates="periods")


class PasswordResetCode(Base):
    """A password-reset code, keyed by the typed address (a keyed hash of it), whether or not an account has it:
    an unknown address gets a row too, with a code nobody is sent, so both cost the same and answer the same."""

    __tablename__ = "password_reset_codes"
    __table_args__ = (
        Index("uq_password_reset_codes_live", "address_key", unique=True,
              sqlite_where=text("consumed_at IS NULL"), postgresql_where=text("consumed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    """HMAC of the normalised address: the table never holds an address nobody registered."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    """The account with that address when the code was issued; None for an unknown address."""
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when used, burned by wrong entries, or replaced by a newer code; at most one live code per address."""
# ---------------------------------------------------------------- two-factor authentication and login history


class TwoFactor(Base):
    """An account's TOTP authenticator. The secret is kept only wrapped under the key-encryption key; the row exists
    from the start of enrolment and the factor is on once a first code confirmed it (`enabled_at`)."""

    __tablename__ = "two_factor"
    __table_args__ = (CheckConstraint("failed_attempts >= 0", name="failed_attempts_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    wrapped_secret: Mapped[bytes] = mapped_column(LargeBinary)
    """The base32 secret, AES-256-GCM under the KEK (`signing.pki.seal`), bound to the account."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    """The 30-second time step of the last accepted code: a code of this step or an earlier one is refused."""
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong codes in a row (TOTP or recovery); the fifth locks the factor until `locked_until`."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """A one-time code for when the authenticator is lost: ten per account, only their keyed hash stored."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginResult(StrEnum):
    """How one login attempt ended, as the account's login history shows it."""

    SUCCESS = "success"
    CODE_PENDING = "code_pending"
    """The password was right; the second step was not completed (yet)."""
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a result, not a password
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"
    UNCONFIRMED = "unconfirmed"
    """The password was right but the address is not confirmed: a confirmation code went out instead."""


class LoginEvent(Base):
    """One login attempt that named an existing account. Never the password: only when, from where, how it ended."""

    __tablename__ = "login_events"
    __table_args__ = (
        CheckConstraint(
            "result IN ('success', 'code_pending', 'wrong_password', 'wrong_code', 'locked', 'unconfirmed')",
            name="result_known",
        ),
        Index("ix_login_events_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[str] = mapped_column(String(20))
    second_factor: Mapped[str | None] = mapped_column(String(10))
    """`totp` or `recovery` when a second factor was accepted or refused."""
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("user_sessions.id", ondelete="SET NULL"))
    """The session a successful login opened."""
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the account holder said «this wasn't me» about it."""


class LoginChallenge(Base):
    """The second step of a login: the password was right, the account is not signed in until a code is accepted.
    The browser holds a random token (only its hash here); it works once and for five minutes."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    login_event_id: Mapped[int | None] = mapped_column(ForeignKey("login_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
# ---------------------------------------------------------------- feedback tickets


class TicketCategory(StrEnum):
    ERROR = "error"
    SIGNING = "signing"
    ACCOUNT = "account"
    SUGGESTION = "suggestion"
    OTHER = "other"


class TicketStatus(StrEnum):
    OPEN = "open"
    """Waiting for support: new, or the person wrote again."""
    ANSWERED = "answered"
    """Support answered; waiting for the person."""
    CLOSED = "closed"
    """Final: nothing more is written in it."""


class Ticket(Base):
    """A person's message to support («Обращение № <id>»): the id is the number people quote."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("(screenshot IS NULL) = (screenshot_type IS NULL)", name="screenshot_typed"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    """A `TicketCategory` value."""
    description: Mapped[str] = mapped_column(Text)
    error_reference: Mapped[str | None] = mapped_column(String(12))
    """The reference id (R-XXXXXXXXXX) of the error page the person came from, to find it in the log."""
    screenshot: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """A PNG or JPEG (checked by its bytes, decoded whole, at most 5 MB); loaded only when shown."""
    screenshot_type: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=TicketStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    messages: Mapped[list[TicketMessage]] = relationship(back_populates="ticket", order_by="TicketMessage.id")


class TicketMessage(Base):
    """An answer from support, or the person's next message, in a ticket."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_staff: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
