"""The verification report: what each signature proves, the PAdES level it reaches and the document's verdict."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from signing.clock import utcnow
from signing.pades.finalize import DOCUMENT_TIMESTAMP_FIELD, finalize
from signing.pades.identity import SignerIdentity
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from signing.pades.trust import TrustAnchors, dev_trust
from signing.pades.verify import VerificationReport, verify
from tests.support.pades import CERTS_DIR, PASSPHRASE, dev_pki, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)
TRUST = dev_trust(CERTS_DIR, PASSPHRASE)
SIGNERS = ("Иванова Мария Сергеевна", "Петров Пётр Петрович", "Сидорова Анна Ивановна")


def signed_by(identities: list[SignerIdentity], *, spare_fields: int = 0) -> bytes:
    """A two-page PDF with a field per identity (plus spare empty ones), each signed in order."""
    names = [f"signer{n}" for n in range(len(identities) + spare_fields)]
    pdf = with_fields(plain_pdf(2), names)
    for name, identity in zip(names, identities, strict=False):
        pdf = sign_field(pdf, name, identity, timestamper=TSA)
    return pdf


def codes(report: VerificationReport) -> set[str]:
    return {reason.code for reason in report.reasons}


def test_three_valid_signatures_are_each_reported_with_signer_certificate_and_times() -> None:
    identities = [person_identity(name) for name in SIGNERS]
    before = utcnow() - timedelta(seconds=1)
    report = verify(signed_by(identities), trust=TRUST)
    assert report.verdict == "valid" and report.reasons == ()
    assert report.signature_count == 3
    for entry, identity, name in zip(report.signatures, identities, SIGNERS, strict=True):
        assert entry.kind == "signature" and entry.signer_name == name
        assert entry.certificate_serial == f"{identity.certificate.serial_number:X}"
        assert entry.issuer == "Podpisant Dev Issuing CA"
        assert entry.intact and entry.valid and entry.trusted and not entry.revoked and entry.docmdp_ok
        assert entry.pades_level == "B-T" and entry.problems == ()
        assert entry.claimed_signing_time is not None and entry.claimed_signing_time >= before.replace(microsecond=0)
        assert entry.timestamp_time is not None and entry.timestamp_time >= before
    first, second, _ = report.signatures
    assert first.certifying and first.docmdp_permission == "fill_forms"
    assert not second.certifying and second.docmdp_permission is None
    assert [s.coverage for s in report.signatures] == ["entire_revision", "entire_revision", "entire_file"]
    assert [s.modification_level for s in report.signatures] == ["form_filling", "form_filling", "none"]


def test_the_report_records_the_sha256_of_the_verified_bytes() -> None:
    pdf = signed_by([person_identity()])
    assert verify(pdf, trust=TRUST).sha256 == hashlib.sha256(pdf).hexdigest()


def test_a_finalized_document_reaches_b_lta_and_lists_its_document_timestamp() -> None:
    final = finalize(signed_by([person_identity(n) for n in SIGNERS]), trust=TRUST, timestamper=TSA)
    report = verify(final, trust=TRUST)
    assert report.verdict == "valid", report.reasons
    *signatures, archive = report.signatures
    assert [s.pades_level for s in signatures] == ["B-LTA"] * 3
    assert [s.modification_level for s in signatures] == ["form_filling", "form_filling", "lta_updates"]
    assert archive.field_name == DOCUMENT_TIMESTAMP_FIELD and archive.kind == "document_timestamp"
    assert archive.trusted and archive.timestamp_time is not None and archive.pades_level is None
    assert archive.signer_name == dev_pki().tsa_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_validation_data_without_a_document_timestamp_is_b_lt() -> None:
    final = finalize(signed_by([person_identity()]), trust=TRUST, timestamper=TSA)
    dss_revision_end = final.rindex(b"%%EOF", 0, len(final) - 8) + len(b"%%EOF\n")
    report = verify(final[:dss_revision_end], trust=TRUST)
    assert report.verdict == "valid", report.reasons
    assert [s.pades_level for s in report.signatures] == ["B-LT"]


def crls_at(now: datetime, *, revoked: tuple[int, ...] = ()) -> list[x509.CertificateRevocationList]:
    """Fresh CRLs of the development issuing CA (listing `revoked` serials) and root CA, as published at `now`."""
    pki = dev_pki()
    entries = [
        x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(minutes=1)).build()
        for serial in revoked
    ]
    return [
        _crl(pki.issuing_cert, pki.issuing_key, entries, now),
        _crl(pki.root_cert, pki.root_key, [], now),
    ]


def _crl(
    ca: x509.Certificate, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    entries: list[x509.RevokedCertificate], now: datetime,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=7))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .add_extension(x509.CRLNumber(int(now.timestamp())), False)
    )
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(key, hashes.SHA256())


def test_a_revoked_certificate_makes_its_signature_untrusted_and_the_document_invalid() -> None:
    victim = person_identity("Отозванный Сертификат")
    pdf = signed_by([person_identity(), victim])
    report = verify(pdf, trust=TRUST.with_crls(crls_at(utcnow(), revoked=(victim.certificate.serial_number,))))
    assert report.verdict == "invalid"
    honest, revoked = report.signatures
    assert honest.trusted and not honest.revoked
    assert revoked.revoked and not revoked.trusted and revoked.intact and revoked.valid
    assert [(r.code, r.field_name) for r in report.reasons] == [("CERT-REVOKED", "signer1")]


def stranger_identity() -> SignerIdentity:
    """A signer whose certificate comes from a CA the service has never heard of."""
    now = utcnow()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Самодельный УЦ")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Незнакомец")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    return SignerIdentity(certificate=cert, private_key=key, chain=(ca,))


def test_a_signer_from_an_unknown_ca_is_untrusted_and_the_verdict_indeterminate() -> None:
    report = verify(signed_by([person_identity(), stranger_identity()]), trust=TRUST)
    assert report.verdict == "indeterminate"
    _, stranger = report.signatures
    assert stranger.intact and stranger.valid and not stranger.trusted and not stranger.revoked
    assert stranger.issuer == "Самодельный УЦ"
    assert [(r.code, r.field_name) for r in report.reasons] == [("CERT-UNTRUSTED", "signer1")]


def test_trust_is_judged_against_the_anchors_given() -> None:
    pdf = signed_by([person_identity()])
    stranger_root = stranger_identity().chain[0]
    report = verify(pdf, trust=TrustAnchors(roots=(stranger_root,)))
    assert report.verdict == "indeterminate" and codes(report) == {"CERT-UNTRUSTED", "TIMESTAMP-UNTRUSTED"}


def test_a_signature_checked_after_its_certificate_expired_is_no_longer_trusted() -> None:
    pdf = signed_by([person_identity(days=30)])
    later = utcnow() + timedelta(days=60)
    assert verify(pdf, trust=TRUST.with_crls(crls_at(later - timedelta(days=40))), now=later - timedelta(days=40))\
        .verdict == "valid"
    report = verify(pdf, trust=TRUST.with_crls(crls_at(later)), now=later)
    assert report.verdict == "indeterminate" and not report.signatures[0].trusted
    assert [(r.code, r.field_name) for r in report.reasons] == [("CERT-UNTRUSTED", "signer0")]
    assert "OUT_OF_BOUNDS" in report.reasons[0].detail  # ETSI: expired, no proof of existence before expiry


def test_a_pdf_without_signatures_is_unsigned() -> None:
    for pdf in (plain_pdf(), with_fields(plain_pdf(), ["empty"])):
        report = verify(pdf, trust=TRUST)
        assert report.verdict == "unsigned" and report.signature_count == 0 and report.signatures == ()


def test_garbage_and_truncated_files_are_invalid_without_an_exception() -> None:
    signed = signed_by([person_identity()])
    for data in (b"", b"not a pdf at all", b"%PDF-1.7\n" + bytes(range(256)) * 20, signed[: len(signed) // 2]):
        report = verify(data, trust=TRUST)
        assert report.verdict == "invalid", data[:20]
        assert report.reasons and report.reasons[0].code in {"PDF-UNREADABLE", "SIG-UNREADABLE"}
        json.dumps(report.to_dict())


def test_the_report_is_plain_json_with_iso_times_and_lower_case_enums() -> None:
    report = verify(signed_by([person_identity()], spare_fields=1), trust=TRUST)
    data = report.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    entry = data["signatures"][0]
    assert data["verdict"] == "valid" and entry["coverage"] == "entire_file" and entry["kind"] == "signature"
    assert entry["modification_level"] == "none" and entry["pades_level"] == "B-T"
    assert datetime.fromisoformat(entry["timestamp_time"]).tzinfo is not None
    assert isinstance(entry["certificate_serial"], str) and entry["problems"] == []
