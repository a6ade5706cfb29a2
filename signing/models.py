"""The database schema as typed SQLAlchemy 2.0 models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
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
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Base", "OneTimeCode", "PendingExternalSignature", "PublishedCrl", "SignerCertificate", "User", "UserSession",
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

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
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
