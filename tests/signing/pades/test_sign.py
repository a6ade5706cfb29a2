"""Signing pre-created fields: certification first, incremental updates, every earlier signature kept valid."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from signing.clock import utcnow
from signing.errors import CertificateNotValidNow, CertificateRevoked, SignatureFieldMissing, SignatureFieldTaken
from signing.pades.sign import sign_field
from signing.pades.timestamps import InProcessTsa, dev_timestamper
from signing.pades.trust import dev_trust, to_asn1_cert, validation_context
from tests.support.pades import CERTS_DIR, PASSPHRASE, dev_pki, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)


def _statuses(pdf: bytes) -> list[PdfSignatureStatus]:
    reader = PdfFileReader(io.BytesIO(pdf))
    context = validation_context(dev_trust(CERTS_DIR, PASSPHRASE))
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]


def test_twenty_signers_each_fill_their_own_field_and_every_signature_stays_valid() -> None:
    names = [f"signer{n}" for n in range(20)]
    pdf = with_fields(plain_pdf(3), names)
    original = pdf
    for n, name in enumerate(names):
        pdf = sign_field(pdf, name, person_identity(f"Подписант Номер {n}"), timestamper=TSA)
    assert pdf.startswith(original), "signing must only append incremental updates"
    statuses = _statuses(pdf)
    assert len(statuses) == 20
    for status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert all(s.docmdp_ok and s.bottom_line for s in statuses)
    assert statuses[0].modification_level is ModificationLevel.FORM_FILLING
    assert statuses[-1].coverage is SignatureCoverageLevel.ENTIRE_FILE


def test_only_the_first_signature_certifies() -> None:
    pdf = with_fields(plain_pdf(), ["a", "b"])
    pdf = sign_field(pdf, "a", person_identity(), timestamper=TSA)
    pdf = sign_field(pdf, "b", person_identity(), timestamper=TSA)
    reader = PdfFileReader(io.BytesIO(pdf))
    first, second = reader.embedded_signatures
    assert first.docmdp_level is MDPPerm.FILL_FORMS
    assert second.docmdp_level is None


def test_a_missing_field_is_refused() -> None:
    with pytest.raises(SignatureFieldMissing):
        sign_field(with_fields(plain_pdf(), ["a"]), "nobody", person_identity(), timestamper=TSA)


def test_a_field_cannot_be_signed_twice() -> None:
    pdf = sign_field(with_fields(plain_pdf(), ["a", "b"]), "a", person_identity(), timestamper=TSA)
    with pytest.raises(SignatureFieldTaken):
        sign_field(pdf, "a", person_identity(), timestamper=TSA)


def test_an_expired_certificate_cannot_sign() -> None:
    identity = person_identity(now=utcnow() - timedelta(days=400), days=365)
    with pytest.raises(CertificateNotValidNow):
        sign_field(with_fields(plain_pdf(), ["a"]), "a", identity, timestamper=TSA)


def test_a_certificate_on_the_crl_cannot_sign() -> None:
    pki = dev_pki()
    identity = person_identity()
    now = utcnow()
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(identity.certificate.serial_number)
            .revocation_date(now).build()
        )
        .sign(pki.issuing_key, hashes.SHA256())
    )
    with pytest.raises(CertificateRevoked):
        sign_field(with_fields(plain_pdf(), ["a"]), "a", identity, timestamper=TSA, crl=crl)


def _contents(pdf: bytes) -> tuple[int, int]:
    """The last signature's reserved /Contents bytes and the CMS actually written into them."""
    reader = PdfFileReader(io.BytesIO(pdf))
    contents = bytes(reader.embedded_signatures[-1].sig_object.raw_get("/Contents"))
    return len(contents), len(cms.ContentInfo.load(contents).dump())  # the zero padding is not part of it


class _CountingTsa(InProcessTsa):
    """The development TSA, counting its tokens; its allowance can be set too small."""

    tokens = 0

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        self.tokens += 1
        return await super().async_timestamp(message_digest, md_algorithm)


def _counting_tsa() -> _CountingTsa:
    pki = dev_pki()
    return _CountingTsa(tsa_cert=to_asn1_cert(pki.tsa_cert), tsa_key=pki.tsa_key)


def test_the_space_reserved_for_the_signature_is_sized_from_the_certificates_and_the_tsa() -> None:
    pdf = sign_field(with_fields(plain_pdf(), ["a"]), "a", person_identity(), timestamper=TSA)
    reserved, used = _contents(pdf)
    assert used <= reserved <= used + 1024, (reserved, used)


def test_the_in_process_tsa_knows_how_large_its_tokens_are() -> None:
    tsa = _counting_tsa()
    sizes = {len(tsa.token(os.urandom(32))) for _ in range(50)}
    assert max(sizes) <= tsa.token_allowance <= max(sizes) + 64


def test_a_token_larger_than_its_allowance_makes_one_more_attempt_with_more_room_instead_of_a_broken_file() -> None:
    tsa = _counting_tsa()
    tsa.token_allowance = 100
    pdf = sign_field(with_fields(plain_pdf(), ["a"]), "a", person_identity(), timestamper=tsa)
    assert tsa.tokens == 2
    (status,) = _statuses(pdf)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    reserved, used = _contents(pdf)
    assert used <= reserved
