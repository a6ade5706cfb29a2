"""Signer certificates in the database: issued once and reused, renewed after expiry or revocation,
keys wrapped at rest, and revocations published in CRLs that pyHanko's validator honours."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import RevokedError
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session

from signing.certificates import (
    CRL_LIFETIME,
    current_crl,
    load_identity,
    revoke_certificate,
    signing_identity,
    trust_anchors,
)
from signing.clock import utcnow
from signing.config import DEV_KEY_ENCRYPTION_KEY, Settings
from signing.errors import CertificateNotValidNow, CertificateRevoked, FieldError, KeyUnavailable
from signing.models import PublishedCrl, SignerCertificate, User
from signing.pades.identity import SignerIdentity
from signing.pades.trust import to_asn1_cert, validation_context
from signing.pki import IssuingCa, load_issuing_ca, parse_kek
from tests.conftest import make_user

KEK = parse_kek(DEV_KEY_ENCRYPTION_KEY)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def user(session: Session) -> User:
    user = make_user(session)
    user.full_name = "Иванова Мария Сергеевна"
    session.commit()
    return user


@pytest.fixture
def ca(certs_dir: Path) -> IssuingCa:
    return load_issuing_ca(Settings(certs_dir=certs_dir, base_url="https://podpisant.example"))


def _count(session: Session, model: type[SignerCertificate] | type[PublishedCrl]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _row(session: Session, identity: SignerIdentity) -> SignerCertificate:
    serial = f"{identity.certificate.serial_number:x}"
    return session.scalars(select(SignerCertificate).where(SignerCertificate.serial == serial)).one()


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _validate(session: Session, ca: IssuingCa, certificate: x509.Certificate, now: datetime) -> None:
    """Validate as the PAdES engine does: pyHanko's validator, revocation required, the service's CRLs only."""
    context = validation_context(trust_anchors(session, ca, now=now), moment=now)
    validator = CertificateValidator(to_asn1_cert(certificate), validation_context=context)
    asyncio.run(validator.async_validate_usage({"non_repudiation"}))


# ---------------------------------------------------------------- issuing and reusing


def test_the_first_signature_issues_a_certificate_and_the_second_reuses_it(
    session: Session, user: User, ca: IssuingCa
) -> None:
    first = signing_identity(session, user, ca, KEK, now=T0)
    session.commit()
    second = signing_identity(session, user, ca, KEK, now=T0 + timedelta(days=30))
    assert second.certificate == first.certificate
    assert _count(session, SignerCertificate) == 1


def test_the_issued_certificate_names_the_user_and_its_key_signs(
    session: Session, user: User, ca: IssuingCa
) -> None:
    identity = signing_identity(session, user, ca, KEK, now=T0)
    cert = identity.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Иванова Мария Сергеевна"
    assert cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == user.email
    assert identity.chain == ca.chain
    assert isinstance(identity.private_key, ec.EllipticCurvePrivateKey)
    signature = identity.private_key.sign(b"document digest", ec.ECDSA(hashes.SHA256()))
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, b"document digest", ec.ECDSA(hashes.SHA256()))  # raises when it does not match


def test_the_stored_key_is_wrapped_never_in_the_clear(session: Session, user: User, ca: IssuingCa) -> None:
    identity = signing_identity(session, user, ca, KEK, now=T0)
    session.commit()
    row = _row(session, identity)
    pkcs8 = identity.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())
    assert pkcs8 not in row.wrapped_key
    assert "PRIVATE KEY" not in row.certificate_pem
    assert "serial=" in repr(identity) and "private" not in repr(identity).lower()


def test_each_user_gets_a_certificate_of_their_own(session: Session, user: User, ca: IssuingCa) -> None:
    other = make_user(session, email="other@example.ru", phone="+79160000000")
    mine = signing_identity(session, user, ca, KEK, now=T0)
    theirs = signing_identity(session, other, ca, KEK, now=T0)
    assert mine.certificate.serial_number != theirs.certificate.serial_number
    assert theirs.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == other.full_name


def test_an_expired_certificate_is_replaced_by_a_new_one(session: Session, user: User, ca: IssuingCa) -> None:
    with time_machine.travel(T0, tick=False):
        first = signing_identity(session, user, ca, KEK, now=utcnow())
        session.commit()
    with time_machine.travel(first.certificate.not_valid_after_utc + timedelta(seconds=1), tick=False):
        renewed = signing_identity(session, user, ca, KEK, now=utcnow())
        session.commit()
        with pytest.raises(CertificateNotValidNow):
            load_identity(session, _row(session, first).id, ca, KEK, now=utcnow())
    assert renewed.certificate.serial_number != first.certificate.serial_number
    assert renewed.certificate.not_valid_before_utc > first.certificate.not_valid_after_utc - timedelta(minutes=5)
    assert _count(session, SignerCertificate) == 2


def test_a_revoked_certificate_is_replaced_on_the_next_signature(
    session: Session, user: User, ca: IssuingCa
) -> None:
    first = signing_identity(session, user, ca, KEK, now=T0)
    revoke_certificate(session, _row(session, first).id, "keyCompromise", ca, now=T0 + timedelta(hours=1))
    session.commit()
    second = signing_identity(session, user, ca, KEK, now=T0 + timedelta(hours=2))
    assert second.certificate.serial_number != first.certificate.serial_number


# ---------------------------------------------------------------- loading a stored certificate


def test_a_stored_certificate_loads_with_its_key(session: Session, user: User, ca: IssuingCa) -> None:
    issued = signing_identity(session, user, ca, KEK, now=T0)
    session.commit()
    loaded = load_identity(session, _row(session, issued).id, ca, KEK, now=T0 + timedelta(days=1))
    assert loaded.certificate == issued.certificate
    assert loaded.private_key.private_numbers() == issued.private_key.private_numbers()


def test_a_revoked_certificate_can_no_longer_sign(session: Session, user: User, ca: IssuingCa) -> None:
    row_id = _row(session, signing_identity(session, user, ca, KEK, now=T0)).id
    revoke_certificate(session, row_id, "cessationOfOperation", ca, now=T0 + timedelta(hours=1))
    session.commit()
    with pytest.raises(CertificateRevoked):
        load_identity(session, row_id, ca, KEK, now=T0 + timedelta(hours=2))


def test_a_certificate_outside_its_validity_cannot_sign(session: Session, user: User, ca: IssuingCa) -> None:
    identity = signing_identity(session, user, ca, KEK, now=T0)
    row_id = _row(session, identity).id
    with pytest.raises(CertificateNotValidNow):
        load_identity(session, row_id, ca, KEK, now=T0 - timedelta(hours=1))
    with pytest.raises(CertificateNotValidNow):
        load_identity(session, row_id, ca, KEK, now=identity.certificate.not_valid_after_utc)


def test_a_wrong_kek_makes_the_key_unavailable(session: Session, user: User, ca: IssuingCa) -> None:
    row_id = _row(session, signing_identity(session, user, ca, KEK, now=T0)).id
    with pytest.raises(KeyUnavailable):
        load_identity(session, row_id, ca, bytes(32), now=T0)


def test_a_key_copied_into_another_users_record_does_not_open(
    session: Session, user: User, ca: IssuingCa
) -> None:
    other = make_user(session, email="other@example.ru", phone="+79160000000")
    mine = _row(session, signing_identity(session, user, ca, KEK, now=T0))
    theirs = _row(session, signing_identity(session, other, ca, KEK, now=T0))
    theirs.wrapped_key = mine.wrapped_key
    session.commit()
    with pytest.raises(KeyUnavailable):
        load_identity(session, theirs.id, ca, KEK, now=T0)


def test_an_unknown_certificate_is_unavailable(session: Session, ca: IssuingCa) -> None:
    with pytest.raises(KeyUnavailable):
        load_identity(session, 424242, ca, KEK, now=T0)


# ---------------------------------------------------------------- revocation and CRLs


def test_revoking_publishes_a_crl_that_lists_the_serial_with_its_reason(
    session: Session, user: User, ca: IssuingCa
) -> None:
    identity = signing_identity(session, user, ca, KEK, now=T0)
    published = revoke_certificate(session, _row(session, identity).id, "keyCompromise", ca,
                                   now=T0 + timedelta(hours=1))
    session.commit()
    crl = x509.load_der_x509_crl(published.crl_der)
    entry = crl.get_revoked_certificate_by_serial_number(identity.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == T0 + timedelta(hours=1)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert published.number == _crl_number(crl) > ca.crl_number_floor
    assert current_crl(session, ca, now=T0 + timedelta(hours=2)) == crl


def test_each_revocation_publishes_the_next_number_listing_every_revocation(
    session: Session, user: User, ca: IssuingCa
) -> None:
    other = make_user(session, email="other@example.ru", phone="+79160000000")
    mine, theirs = (_row(session, signing_identity(session, u, ca, KEK, now=T0)) for u in (user, other))
    first = revoke_certificate(session, mine.id, "superseded", ca, now=T0 + timedelta(hours=1))
    second = revoke_certificate(session, theirs.id, "affiliationChanged", ca, now=T0 + timedelta(hours=2))
    session.commit()
    assert second.number == first.number + 1
    listed = {entry.serial_number for entry in x509.load_der_x509_crl(second.crl_der)}
    assert listed == {int(mine.serial, 16), int(theirs.serial, 16)}


def test_revoking_twice_keeps_the_first_date_and_reason(session: Session, user: User, ca: IssuingCa) -> None:
    row = _row(session, signing_identity(session, user, ca, KEK, now=T0))
    revoke_certificate(session, row.id, "keyCompromise", ca, now=T0 + timedelta(hours=1))
    again = revoke_certificate(session, row.id, "superseded", ca, now=T0 + timedelta(hours=2))
    session.commit()
    assert (row.revoked_at, row.revocation_reason) == (T0 + timedelta(hours=1), "keyCompromise")
    entry = x509.load_der_x509_crl(again.crl_der).get_revoked_certificate_by_serial_number(int(row.serial, 16))
    assert entry is not None and entry.revocation_date_utc == T0 + timedelta(hours=1)


@pytest.mark.parametrize("reason", ["certificateHold", "removeFromCRL", "lost it", ""])
def test_an_unknown_or_reversible_reason_is_refused_and_nothing_is_revoked(
    session: Session, user: User, ca: IssuingCa, reason: str
) -> None:
    row = _row(session, signing_identity(session, user, ca, KEK, now=T0))
    with pytest.raises(FieldError) as caught:
        revoke_certificate(session, row.id, reason, ca, now=T0)
    assert caught.value.field == "reason"
    assert row.revoked_at is None and _count(session, PublishedCrl) == 0


def test_the_first_crl_is_published_on_demand_above_the_file_crls_number(session: Session, ca: IssuingCa) -> None:
    crl = current_crl(session, ca, now=T0)
    session.commit()
    assert _crl_number(crl) == ca.crl_number_floor + 1
    assert list(crl) == [] and crl.next_update_utc == T0 + CRL_LIFETIME
    assert current_crl(session, ca, now=T0 + timedelta(days=5)) == crl  # still fresh: no new number
    assert _count(session, PublishedCrl) == 1


def test_a_crl_about_to_lapse_is_replaced_with_the_same_revocations(
    session: Session, user: User, ca: IssuingCa
) -> None:
    row = _row(session, signing_identity(session, user, ca, KEK, now=T0))
    old = x509.load_der_x509_crl(revoke_certificate(session, row.id, "superseded", ca, now=T0).crl_der)
    session.commit()
    later = T0 + CRL_LIFETIME - timedelta(hours=12)
    fresh = current_crl(session, ca, now=later)
    assert _crl_number(fresh) == _crl_number(old) + 1
    assert fresh.last_update_utc == later
    assert [entry.serial_number for entry in fresh] == [int(row.serial, 16)]


def test_the_trust_anchors_are_the_root_the_issuing_ca_and_both_current_crls(
    session: Session, ca: IssuingCa
) -> None:
    trust = trust_anchors(session, ca, now=T0)
    assert trust.roots == (ca.root_certificate,)
    assert trust.intermediates == (ca.certificate,)
    assert trust.crls == (current_crl(session, ca, now=T0), ca.root_crl)


# ---------------------------------------------------------------- validation with pyHanko


def test_a_certificate_that_is_not_revoked_validates(session: Session, user: User, ca: IssuingCa) -> None:
    now = utcnow()  # the development root CRL on disk is current in real time
    identity = signing_identity(session, user, ca, KEK, now=now)
    session.commit()
    _validate(session, ca, identity.certificate, now)


def test_validation_reports_a_revoked_certificate_as_revoked(session: Session, user: User, ca: IssuingCa) -> None:
    now = utcnow()
    identity = signing_identity(session, user, ca, KEK, now=now - timedelta(hours=1))
    revoke_certificate(session, _row(session, identity).id, "keyCompromise", ca, now=now - timedelta(minutes=1))
    session.commit()
    with pytest.raises(RevokedError, match="revoked"):
        _validate(session, ca, identity.certificate, now)


def test_a_crl_published_before_the_revocation_does_not_hide_it(
    session: Session, user: User, ca: IssuingCa
) -> None:
    now = utcnow()
    identity = signing_identity(session, user, ca, KEK, now=now - timedelta(hours=2))
    current_crl(session, ca, now=now - timedelta(hours=2))  # a fresh CRL that does not list it yet
    revoke_certificate(session, _row(session, identity).id, "keyCompromise", ca, now=now - timedelta(hours=1))
    session.commit()
    with pytest.raises(RevokedError):
        _validate(session, ca, identity.certificate, now)


def test_a_crl_number_taken_by_another_process_meanwhile_is_skipped(
    session: Session, engine: Engine, ca: IssuingCa
) -> None:
    taken: list[int] = []

    def another_process_publishes_first(_mapper: object, _connection: object, row: PublishedCrl) -> None:
        """Runs just before our INSERT: a concurrent publisher commits the same number on its own connection."""
        with engine.begin() as connection:
            connection.execute(insert(PublishedCrl).values(
                issuer_key_id=row.issuer_key_id, number=row.number, crl_der=row.crl_der,
                this_update=row.this_update, next_update=row.next_update))
        taken.append(row.number)

    event.listen(PublishedCrl, "before_insert", another_process_publishes_first, once=True)
    crl = current_crl(session, ca, now=T0)
    session.commit()
    assert taken == [ca.crl_number_floor + 1]
    assert _crl_number(crl) == ca.crl_number_floor + 2
    assert _count(session, PublishedCrl) == 2
