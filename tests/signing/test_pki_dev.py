"""The development PKI: root CA, issuing CA, their CRLs and an RFC 3161 TSA, with encrypted keys on disk."""

from __future__ import annotations

import asyncio
import hashlib
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy, PolicyBuilder, Store
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing.pki import (
    DEV_ORGANIZATION,
    DevPki,
    DevPkiPaths,
    create_dev_pki,
    ensure_dev_pki,
    is_development_certificate,
    load_dev_pki,
)

PASSPHRASE = b"dev-passphrase"
BASE_URL = "http://127.0.0.1:5000"
DER = serialization.Encoding.DER


@pytest.fixture
def pki(tmp_path: Path) -> DevPki:
    assert ensure_dev_pki(tmp_path, PASSPHRASE, BASE_URL)
    return load_dev_pki(tmp_path, PASSPHRASE)


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in DevPkiPaths.in_directory(directory).all()}


def _crl_urls(cert: x509.Certificate) -> list[str]:
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [name.value for point in points for name in point.full_name or []]


def _tsa_eku(policy: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    if eku is None or ExtendedKeyUsageOID.TIME_STAMPING not in eku:
        raise ValueError("not a time-stamping certificate")


def test_the_tsa_chains_to_the_root_under_the_cryptography_verifier(pki: DevPki) -> None:
    # The stock WebPKI end-entity policy rejects the TSA twice: it wants EKU non-critical (RFC 3161
    # wants it critical) and requires a subjectAltName. Override just those two extensions; replacing
    # the EKU validator also replaces the client verifier's built-in clientAuth check with ours.
    ee_policy = (
        ExtensionPolicy.webpki_defaults_ee()
        .require_present(x509.ExtendedKeyUsage, Criticality.CRITICAL, _tsa_eku)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    )
    verifier = (
        PolicyBuilder().store(Store([pki.root_cert])).time(datetime.now(UTC))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
        .build_client_verifier()
    )
    verified = verifier.verify(pki.tsa_cert, [pki.issuing_cert])
    assert verified.chain == [pki.tsa_cert, pki.issuing_cert, pki.root_cert]
    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(pki.tsa_cert, [])  # no path without the issuing CA


def test_every_certificate_is_signed_by_its_issuer_and_the_chain_file_holds_issuing_then_root(
    pki: DevPki, tmp_path: Path
) -> None:
    pki.root_cert.verify_directly_issued_by(pki.root_cert)
    pki.issuing_cert.verify_directly_issued_by(pki.root_cert)
    pki.tsa_cert.verify_directly_issued_by(pki.issuing_cert)
    with pytest.raises(ValueError):
        pki.tsa_cert.verify_directly_issued_by(pki.root_cert)
    chain = x509.load_pem_x509_certificates(DevPkiPaths.in_directory(tmp_path).chain.read_bytes())
    assert chain == [pki.issuing_cert, pki.root_cert]


def test_the_cas_have_p256_keys_utf8_names_and_the_specified_constraints_and_lifetimes(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    pki = create_dev_pki(tmp_path, PASSPHRASE, BASE_URL, now=now)
    for cert, common_name, path_length, years in (
        (pki.root_cert, "Podpisant Dev Root CA", None, 10),
        (pki.issuing_cert, "Podpisant Dev Issuing CA", 0, 5),
    ):
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name == "secp256r1"
        assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
        assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "RU"
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca and constraints.value.path_length == path_length
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        assert usage.value.digital_signature == (path_length == 0)
        assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert cert.not_valid_before_utc == now - timedelta(hours=1)
        assert cert.not_valid_after_utc == now + timedelta(days=365 * years)
        rdns = asn1_x509.Certificate.load(cert.public_bytes(DER)).subject.chosen
        types = {rdn[0]["type"].native: rdn[0]["value"].name for rdn in rdns}
        assert types == {"country_name": "printable_string", "organization_name": "utf8_string",
                         "common_name": "utf8_string"}
    aki = pki.issuing_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = pki.root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest


def test_the_tsa_has_an_rsa_3072_key_a_critical_time_stamping_eku_and_signing_key_usage(pki: DevPki) -> None:
    assert isinstance(pki.tsa_cert.public_key(), rsa.RSAPublicKey)
    assert pki.tsa_key.key_size == 3072
    eku = pki.tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    usage = pki.tsa_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert pki.tsa_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Podpisant Dev TSA"


def test_the_issuing_ca_and_the_tsa_point_at_their_issuers_crls(pki: DevPki) -> None:
    assert _crl_urls(pki.issuing_cert) == [f"{BASE_URL}/pki/root-ca.crl"]
    assert _crl_urls(pki.tsa_cert) == [f"{BASE_URL}/pki/issuing-ca.crl"]


def test_each_crl_is_signed_by_its_issuer_revokes_nothing_and_is_current(pki: DevPki) -> None:
    now = datetime.now(UTC)
    for crl, issuer, other in ((pki.root_crl, pki.root_cert, pki.issuing_cert),
                               (pki.issuing_crl, pki.issuing_cert, pki.root_cert)):
        issuer_key = issuer.public_key()
        other_key = other.public_key()
        assert isinstance(issuer_key, ec.EllipticCurvePublicKey)
        assert isinstance(other_key, ec.EllipticCurvePublicKey)
        assert crl.is_signature_valid(issuer_key) and not crl.is_signature_valid(other_key)
        assert crl.issuer == issuer.subject and len(crl) == 0
        assert crl.next_update_utc is not None and crl.last_update_utc < now < crl.next_update_utc
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
        assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


def test_keys_on_disk_are_encrypted_with_the_passphrase_and_readable_only_by_the_owner(
    pki: DevPki, tmp_path: Path
) -> None:
    paths = DevPkiPaths.in_directory(tmp_path)
    for key_path in (paths.root_key, paths.issuing_key, paths.tsa_key):
        data = key_path.read_bytes()
        assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(data, password=None)
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(data, password=b"wrong")
        assert serialization.load_pem_private_key(data, password=PASSPHRASE)
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert load_dev_pki(tmp_path, PASSPHRASE).tsa_key.public_key() == pki.tsa_cert.public_key()
    assert stat.S_IMODE(paths.root_cert.stat().st_mode) == 0o644


def test_ensure_creates_the_pki_once_and_then_leaves_every_file_untouched(tmp_path: Path) -> None:
    directory = tmp_path / "certs-dev"
    assert ensure_dev_pki(directory, PASSPHRASE, BASE_URL) is True
    before = _snapshot(directory)
    assert ensure_dev_pki(directory, PASSPHRASE, BASE_URL) is False
    assert _snapshot(directory) == before
    assert sorted(path.name for path in directory.iterdir()) == sorted(before)  # no stray temporary files


def test_ensure_regenerates_everything_when_one_file_is_missing(pki: DevPki, tmp_path: Path) -> None:
    DevPkiPaths.in_directory(tmp_path).tsa_cert.unlink()
    assert ensure_dev_pki(tmp_path, PASSPHRASE, BASE_URL) is True
    regenerated = load_dev_pki(tmp_path, PASSPHRASE)
    assert regenerated.root_cert != pki.root_cert and regenerated.issuing_cert != pki.issuing_cert
    regenerated.tsa_cert.verify_directly_issued_by(regenerated.issuing_cert)
    regenerated.issuing_cert.verify_directly_issued_by(regenerated.root_cert)


def test_development_certificates_are_recognised_and_others_are_not(pki: DevPki) -> None:
    assert all(is_development_certificate(cert) for cert in (pki.root_cert, pki.issuing_cert, pki.tsa_cert))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ООО «Ромашка»"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Иванов Иван")])
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + timedelta(days=1)))
    foreign = builder.issuer_name(name).sign(key, hashes.SHA256())
    assert not is_development_certificate(foreign)
    # a certificate issued by the development CA is a development certificate whatever its own O
    issued_by_dev = builder.issuer_name(pki.issuing_cert.subject).sign(pki.issuing_key, hashes.SHA256())
    assert is_development_certificate(issued_by_dev)
    organization = pki.root_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [attribute.value for attribute in organization] == [DEV_ORGANIZATION]


def test_pyhanko_timestamps_with_the_tsa_and_trusts_the_token_through_the_root_and_crls(pki: DevPki) -> None:
    tsa_cert = asn1_x509.Certificate.load(pki.tsa_cert.public_bytes(DER))
    tsa_key = asn1_keys.PrivateKeyInfo.load(pki.tsa_key.private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    digest = hashlib.sha256(b"%PDF-1.7 signed bytes").digest()
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key)
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    assert token["content_type"].native == "signed_data"
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert tst_info["message_imprint"]["hashed_message"].native == digest

    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(pki.root_cert.public_bytes(DER))],
        other_certs=[asn1_x509.Certificate.load(pki.issuing_cert.public_bytes(DER))],
        crls=[asn1_crl.CertificateList.load(pki.root_crl.public_bytes(DER)),
              asn1_crl.CertificateList.load(pki.issuing_crl.public_bytes(DER))],
        allow_fetching=False, revocation_mode="hard-fail",
    )
    status = TimestampSignatureStatus(
        **asyncio.run(validate_tst_signed_data(token["content"], context, lambda algorithm: digest)))
    assert status.intact and status.valid and status.trusted


def test_an_old_development_tree_gets_fresh_crls_with_the_next_number(tmp_path: Path) -> None:
    start = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    create_dev_pki(tmp_path, PASSPHRASE, "http://localhost", now=start)
    with time_machine.travel(start + timedelta(days=25), tick=False):
        assert ensure_dev_pki(tmp_path, PASSPHRASE, "http://localhost") is False
        pki = load_dev_pki(tmp_path, PASSPHRASE)
    for crl, issuer in ((pki.root_crl, pki.root_cert), (pki.issuing_crl, pki.issuing_cert)):
        assert crl.next_update_utc == start + timedelta(days=55)
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
        assert crl.is_signature_valid(issuer.public_key())
