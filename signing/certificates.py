"""Signer certificates in the database: issued on first signature, revoked with a freshly published CRL.

Session first, the caller commits. Private keys are stored only wrapped under the key-encryption key, bound
to their record (user, issuing CA, serial), and unwrapped in memory when a signature needs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from signing.errors import CertificateNotValidNow, CertificateRevoked, FieldError, KeyUnavailable
from signing.models import PublishedCrl, Signatory, SignerCertificate, User
from signing.pades.identity import SignerIdentity
from signing.pades.trust import TrustAnchors
from signing.pki import (
    INN_OID,
    SNILS_OID,
    IssuingCa,
    Person,
    RevokedEntry,
    build_crl,
    generate_signing_key,
    issue_certificate,
    unwrap_private_key,
    wrap_private_key,
)
from signing.pki.issuer import COMMON_NAME_MAX

__all__ = [
    "CRL_LIFETIME",
    "CRL_REFRESH_MARGIN",
    "REVOCATION_REASONS",
    "current_crl",
    "load_identity",
    "revoke_certificate",
    "signatory_identity",
    "signing_identity",
    "trust_anchors",
]

CERTIFICATE_VALIDITY = timedelta(days=365)
CRL_LIFETIME = timedelta(days=7)
CRL_REFRESH_MARGIN = timedelta(days=1)
PUBLISH_ATTEMPTS = 5
REVOCATION_REASONS = frozenset({
    x509.ReasonFlags.unspecified, x509.ReasonFlags.key_compromise, x509.ReasonFlags.affiliation_changed,
    x509.ReasonFlags.superseded, x509.ReasonFlags.cessation_of_operation, x509.ReasonFlags.privilege_withdrawn,
})
"""Reasons a signer certificate may be revoked for; certificateHold is left out: revocation is final here."""


def _key_context(user_id: int, issuer_key_id: str, serial: str) -> bytes:
    """What a wrapped key is bound to, so that a blob copied into another row does not open."""
    return f"podpisant/signer-key/user={user_id}/issuer={issuer_key_id}/serial={serial}".encode()


def _signatory_key_context(signatory_id: int, issuer_key_id: str, serial: str) -> bytes:
    """The same binding for the key of a signatory without an account."""
    return f"podpisant/signer-key/signatory={signatory_id}/issuer={issuer_key_id}/serial={serial}".encode()


def _row_key_context(row: SignerCertificate) -> bytes:
    if row.user_id is not None:
        return _key_context(row.user_id, row.issuer_key_id, row.serial)
    if row.signatory_id is None:
        raise KeyUnavailable(f"signer certificate {row.id} has no holder")
    return _signatory_key_context(row.signatory_id, row.issuer_key_id, row.serial)


def _identity(row: SignerCertificate, ca: IssuingCa, kek: bytes) -> SignerIdentity:
    certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    key = unwrap_private_key(row.wrapped_key, kek, context=_row_key_context(row))
    if key.public_key() != certificate.public_key():
        raise KeyUnavailable(f"the stored key of signer certificate {row.id} does not match its certificate")
    return SignerIdentity(certificate=certificate, private_key=key, chain=ca.chain)


def _current_row(
    session: Session, holder: ColumnElement[bool], ca: IssuingCa, now: datetime
) -> SignerCertificate | None:
    """The holder's newest certificate from `ca` that is valid at `now` and not revoked."""
    return session.scalars(
        select(SignerCertificate)
        .where(holder, SignerCertificate.issuer_key_id == ca.key_id,
               SignerCertificate.revoked_at.is_(None), SignerCertificate.not_before <= now,
               SignerCertificate.not_after > now)
        .order_by(SignerCertificate.not_after.desc(), SignerCertificate.id.desc())
        .limit(1)
    ).first()


def _person(holder: User | Signatory) -> Person:
    """Whom the holder's certificate names: an account with the INN and SNILS of its profile."""
    if isinstance(holder, User):
        return Person(full_name=holder.full_name, email=holder.email, inn=holder.inn, snils=holder.snils)
    return Person(full_name=holder.name, email=holder.email)


def _names(row: SignerCertificate, person: Person) -> bool:
    """Whether the certificate still names the person as the profile now says (name, address, INN, SNILS)."""
    subject = x509.load_pem_x509_certificate(row.certificate_pem.encode()).subject

    def value(oid: x509.ObjectIdentifier) -> str | None:
        found = subject.get_attributes_for_oid(oid)
        return str(found[0].value) if found else None

    return (value(NameOID.EMAIL_ADDRESS), value(INN_OID), value(SNILS_OID), value(NameOID.COMMON_NAME)) == (
        person.email, person.inn, person.snils, " ".join(person.full_name.split())[:COMMON_NAME_MAX].rstrip())


def _issue(session: Session, holder: User | Signatory, ca: IssuingCa, kek: bytes, now: datetime) -> SignerCertificate:
    key = generate_signing_key()
    certificate = issue_certificate(ca, _person(holder), key.public_key(), now=now, validity=CERTIFICATE_VALIDITY)
    row = SignerCertificate(
        issuer_key_id=ca.key_id, serial=f"{certificate.serial_number:x}",
        certificate_pem=certificate.public_bytes(Encoding.PEM).decode(),
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc, created_at=now,
    )
    if isinstance(holder, User):
        row.user_id = holder.id
    else:
        row.signatory_id = holder.id
    row.wrapped_key = wrap_private_key(key, kek, context=_row_key_context(row))
    session.add(row)
    session.flush()
    return row


def signing_identity(session: Session, user: User, ca: IssuingCa, kek: bytes, *, now: datetime) -> SignerIdentity:
    """The user's certificate valid at `now` with its key; a new one is issued on first use, after expiry
    or revocation, and when the name, address, INN or SNILS in the profile no longer match it. Before issuing,
    the user's row is locked, and looked at again, so that concurrent first signatures issue only one. The lock
    is FOR NO KEY UPDATE: it does not wait for the key-share locks that the same person's other transactions hold
    through their foreign keys (inserting their documents), which a FOR UPDATE would, deadlocking two of them
    that each wanted it."""
    mine, person = SignerCertificate.user_id == user.id, _person(user)
    row = _current_row(session, mine, ca, now)
    if row is None or not _names(row, person):  # first use, or the profile changed since it was issued
        session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
        row = _current_row(session, mine, ca, now)
        if row is None or not _names(row, person):
            row = _issue(session, user, ca, kek, now)
    return _identity(row, ca, kek)


def signatory_identity(
    session: Session, signatory: Signatory, ca: IssuingCa, kek: bytes, *, now: datetime
) -> SignerIdentity:
    """The certificate of a signatory without an account, issued on their first signature: it names the person
    as the initiator entered them and the address they proved with a one-time code, and serves that signatory
    (one document) only. The signatory's row is locked first, so concurrent requests issue one certificate."""
    session.execute(select(Signatory.id).where(Signatory.id == signatory.id).with_for_update())
    row = (_current_row(session, SignerCertificate.signatory_id == signatory.id, ca, now)
           or _issue(session, signatory, ca, kek, now))
    return _identity(row, ca, kek)


def _row(session: Session, certificate_id: int) -> SignerCertificate:
    row = session.get(SignerCertificate, certificate_id)
    if row is None:
        raise KeyUnavailable(f"there is no signer certificate {certificate_id}")
    return row


def load_identity(
    session: Session, certificate_id: int, ca: IssuingCa, kek: bytes, *, now: datetime
) -> SignerIdentity:
    """A stored certificate with its key, for a signature made at `now`; refuses revoked and lapsed ones
    (and raises KeyUnavailable for an id with no certificate: there is no key to give)."""
    row = _row(session, certificate_id)
    if row.revoked_at is not None:
        raise CertificateRevoked(f"signer certificate {row.serial} was revoked on {row.revoked_at:%Y-%m-%d}")
    if not row.not_before <= now < row.not_after:
        raise CertificateNotValidNow(
            f"signer certificate {row.serial} is valid from {row.not_before:%Y-%m-%d %H:%M} "
            f"until {row.not_after:%Y-%m-%d %H:%M} UTC"
        )
    if row.issuer_key_id != ca.key_id:
        raise CertificateNotValidNow(f"signer certificate {row.serial} was issued by a CA no longer in use")
    return _identity(row, ca, kek)


# ---------------------------------------------------------------- CRLs


def _revoked_entries(session: Session, ca: IssuingCa) -> list[RevokedEntry]:
    rows = session.execute(
        select(SignerCertificate.serial, SignerCertificate.revoked_at, SignerCertificate.revocation_reason)
        .where(SignerCertificate.issuer_key_id == ca.key_id, SignerCertificate.revoked_at.is_not(None))
        .order_by(SignerCertificate.revoked_at, SignerCertificate.serial)
    ).all()
    return [RevokedEntry(serial=int(serial, 16), revoked_at=revoked_at,
                         reason=x509.ReasonFlags(reason or x509.ReasonFlags.unspecified.value))
            for serial, revoked_at, reason in rows if revoked_at is not None]


def _next_number(session: Session, ca: IssuingCa) -> int:
    newest = session.scalar(select(func.max(PublishedCrl.number)).where(PublishedCrl.issuer_key_id == ca.key_id))
    return max(newest or 0, ca.crl_number_floor) + 1


def _try_publish(session: Session, ca: IssuingCa, now: datetime) -> PublishedCrl | None:
    """Sign and store the next CRL inside a savepoint; None when another process took that number first."""
    crl = build_crl(ca, _revoked_entries(session, ca), number=_next_number(session, ca), now=now,
                    lifetime=CRL_LIFETIME)
    row = PublishedCrl(issuer_key_id=ca.key_id,
                       number=crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number,
                       crl_der=crl.public_bytes(Encoding.DER), this_update=now, next_update=now + CRL_LIFETIME)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _publish(session: Session, ca: IssuingCa, now: datetime) -> PublishedCrl:
    """The next CRL with every revocation of this CA; the (issuer, number) unique key settles races."""
    for _ in range(PUBLISH_ATTEMPTS):
        row = _try_publish(session, ca, now)
        if row is not None:
            return row
    raise RuntimeError(f"could not take a CRL number in {PUBLISH_ATTEMPTS} attempts")


def _reason(reason: str) -> x509.ReasonFlags:
    for flag in REVOCATION_REASONS:
        if flag.value == reason:
            return flag
    raise FieldError("reason", "REVOCATION-REASON-INVALID", allowed=sorted(r.value for r in REVOCATION_REASONS))


def revoke_certificate(
    session: Session, certificate_id: int, reason: str, ca: IssuingCa, *, now: datetime
) -> PublishedCrl:
    """Revoke for `reason` (an RFC 5280 reason name such as "keyCompromise") and publish a CRL listing it.
    Revoking again keeps the first date and reason. A certificate of a CA no longer in use stops signing
    at once but cannot be listed: only that CA's key could sign its CRL."""
    flag = _reason(reason)
    row = _row(session, certificate_id)
    if row.revoked_at is None:
        row.revoked_at, row.revocation_reason = now, flag.value
        session.flush()
    return _publish(session, ca, now)


def _newest(session: Session, ca: IssuingCa) -> PublishedCrl | None:
    return session.scalars(
        select(PublishedCrl).where(PublishedCrl.issuer_key_id == ca.key_id)
        .order_by(PublishedCrl.number.desc()).limit(1)
    ).first()


def current_crl(session: Session, ca: IssuingCa, *, now: datetime) -> x509.CertificateRevocationList:
    """The newest published CRL; a fresh one is published when none exists or the newest lapses within a day."""
    row = _newest(session, ca)
    if row is None or row.next_update - now < CRL_REFRESH_MARGIN:
        row = _publish(session, ca, now)
    return x509.load_der_x509_crl(row.crl_der)


def trust_anchors(session: Session, ca: IssuingCa, *, now: datetime) -> TrustAnchors:
    """The service's root, its issuing CA and both current CRLs: what signatures are validated against."""
    crls = [current_crl(session, ca, now=now)]
    if ca.root_crl is not None:
        crls.append(ca.root_crl)
    intermediates = tuple(cert for cert in ca.chain if cert != ca.root_certificate)
    return TrustAnchors(roots=(ca.root_certificate,), intermediates=intermediates, crls=tuple(crls))
