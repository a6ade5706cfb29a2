"""The issuing CA: signer certificates in the Russian profile, CRLs, and loading the CA from configuration."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtensionOID, NameOID

from signing.config import Settings
from signing.errors import ConfigurationError, FieldError
from signing.pki import (
    INN_OID,
    SNILS_OID,
    IssuingCa,
    Person,
    RevokedEntry,
    build_crl,
    generate_signing_key,
    issue_certificate,
    issuing_ca,
    load_dev_pki,
    load_issuing_ca,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BASE_URL = "https://podpisant.example"
MARIA = Person(full_name="Иванова Мария Сергеевна", email="maria@example.ru", inn="500100732259",
               snils="11223344595")


@pytest.fixture
def ca(certs_dir: Path) -> IssuingCa:
    return load_issuing_ca(Settings(certs_dir=certs_dir, base_url=BASE_URL))


def _issue(ca: IssuingCa, person: Person = MARIA, **kwargs: timedelta) -> x509.Certificate:
    """Issue, then read the certificate back from DER, as a validator would see it."""
    cert = issue_certificate(ca, person, generate_signing_key().public_key(), now=NOW, **kwargs)
    return x509.load_der_x509_certificate(cert.public_bytes(serialization.Encoding.DER))


def _attribute(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.NameAttribute[str]:
    (attribute,) = cert.subject.get_attributes_for_oid(oid)
    assert isinstance(attribute.value, str)
    return attribute  # type: ignore[return-value]


def test_a_cyrillic_full_name_survives_as_utf8string(ca: IssuingCa) -> None:
    cert = _issue(ca)
    common_name = _attribute(cert, NameOID.COMMON_NAME)
    assert common_name.value == "Иванова Мария Сергеевна"
    assert common_name._type is _ASN1Type.UTF8String
    assert _attribute(cert, NameOID.SURNAME).value == "Иванова"
    assert _attribute(cert, NameOID.GIVEN_NAME).value == "Мария Сергеевна"


def test_inn_and_snils_use_the_russian_oids_as_numeric_strings(ca: IssuingCa) -> None:
    cert = _issue(ca)
    inn, snils = _attribute(cert, INN_OID), _attribute(cert, SNILS_OID)
    assert (INN_OID.dotted_string, SNILS_OID.dotted_string) == ("1.2.643.3.131.1.1", "1.2.643.100.3")
    assert (inn.value, snils.value) == ("500100732259", "11223344595")
    assert inn._type is _ASN1Type.NumericString and snils._type is _ASN1Type.NumericString


def test_inn_and_snils_are_left_out_when_unknown(ca: IssuingCa) -> None:
    cert = _issue(ca, Person(full_name="Петров Пётр Петрович", email="p@example.ru"))
    assert cert.subject.get_attributes_for_oid(INN_OID) == []
    assert cert.subject.get_attributes_for_oid(SNILS_OID) == []


@pytest.mark.parametrize(("inn", "snils", "field"), [
    ("50010073225", None, "inn"), ("5001007322590", None, "inn"), ("50010073225x", None, "inn"),
    (None, "112-233-445 95", "snils"), (None, "1122334459", "snils"),
])
def test_a_malformed_inn_or_snils_is_a_field_error(inn: str | None, snils: str | None, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        Person(full_name="Иванова Мария Сергеевна", email="maria@example.ru", inn=inn, snils=snils)
    assert caught.value.field == field


def test_the_email_is_in_the_subject_and_the_alternative_name(ca: IssuingCa) -> None:
    cert = _issue(ca)
    assert _attribute(cert, NameOID.EMAIL_ADDRESS).value == "maria@example.ru"
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.RFC822Name) == ["maria@example.ru"]


def test_an_internationalized_domain_is_written_as_a_labels(ca: IssuingCa) -> None:
    cert = _issue(ca, Person(full_name="Иванова Мария Сергеевна", email="maria@пример.рф"))
    assert _attribute(cert, NameOID.EMAIL_ADDRESS).value == "maria@xn--e1afmkfd.xn--p1ai"


def test_a_mailbox_that_ia5string_cannot_hold_is_left_out_rather_than_failing(ca: IssuingCa) -> None:
    cert = _issue(ca, Person(full_name="Иванова Мария Сергеевна", email="мария@пример.рф"))
    assert cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS) == []
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


# RFC 5280 bounds a common name at 64 characters; cryptography counts UTF-8 bytes and warns when reading more.
LONG_NAME_WARNING = "ignore:Attribute's length must be:UserWarning"


@pytest.mark.filterwarnings(LONG_NAME_WARNING)
def test_a_cyrillic_name_of_up_to_sixty_four_letters_fits_the_common_name_whole(ca: IssuingCa) -> None:
    name = "Константинопольская Александра Владимировна"  # 43 letters, 84 bytes of UTF-8
    cert = _issue(ca, Person(full_name=name, email="k@example.ru"))
    assert _attribute(cert, NameOID.COMMON_NAME).value == name
    as_pyhanko_reads_it = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    assert as_pyhanko_reads_it.subject.native["common_name"] == name


@pytest.mark.filterwarnings(LONG_NAME_WARNING)


def test_a_name_longer_than_a_common_name_allows_is_kept_whole_in_surname_and_given_name(ca: IssuingCa) -> None:
    given = "Мария-Антуанетта Александра Константиновна Вильгельмина"
    cert = _issue(ca, Person(full_name=f"Салтыкова-Щедрина {given}", email="m@example.ru"))
    assert _attribute(cert, NameOID.COMMON_NAME).value == f"Салтыкова-Щедрина {given}"[:64].rstrip()
    assert _attribute(cert, NameOID.SURNAME).value == "Салтыкова-Щедрина"
    assert _attribute(cert, NameOID.GIVEN_NAME).value == given


def test_key_usage_is_signature_and_non_repudiation_only_and_critical(ca: IssuingCa) -> None:
    extension = _issue(ca).extensions.get_extension_for_class(x509.KeyUsage)
    usage = extension.value
    assert extension.critical
    assert usage.digital_signature and usage.content_commitment
    assert not (usage.key_encipherment or usage.data_encipherment or usage.key_agreement
                or usage.key_cert_sign or usage.crl_sign)


def test_extended_key_usage_is_document_signing_and_email_protection(ca: IssuingCa) -> None:
    extension = _issue(ca).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not extension.critical
    assert set(extension.value) == {x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")}


def test_it_is_an_end_entity_certificate(ca: IssuingCa) -> None:
    extension = _issue(ca).extensions.get_extension_for_class(x509.BasicConstraints)
    assert extension.critical and extension.value.ca is False


def test_the_crl_distribution_point_is_the_services_published_crl(ca: IssuingCa) -> None:
    points = _issue(ca).extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [name.value for point in points for name in point.full_name or []] == [
        f"{BASE_URL}/pki/issuing-ca.crl"
    ]


def test_key_identifiers_link_the_certificate_to_its_key_and_its_issuer(ca: IssuingCa) -> None:
    key = generate_signing_key()
    cert = issue_certificate(ca, MARIA, key.public_key(), now=NOW)
    ski = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert aki.key_identifier is not None and aki.key_identifier.hex() == ca.key_id


def test_the_certificate_is_signed_by_the_issuing_ca_over_the_given_key(ca: IssuingCa) -> None:
    key = generate_signing_key()
    cert = issue_certificate(ca, MARIA, key.public_key(), now=NOW)
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.issuer == ca.certificate.subject
    assert cert.public_key() == key.public_key()


def test_validity_starts_five_minutes_early_and_lasts_a_year(ca: IssuingCa) -> None:
    cert = _issue(ca)
    assert cert.not_valid_before_utc == NOW - timedelta(minutes=5)
    assert cert.not_valid_after_utc == NOW + timedelta(days=365)


def test_validity_never_outlasts_the_issuing_ca(ca: IssuingCa) -> None:
    cert = _issue(ca, validity=timedelta(days=365 * 50))
    assert cert.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_an_expired_issuing_ca_refuses_to_issue(ca: IssuingCa) -> None:
    later = ca.certificate.not_valid_after_utc + timedelta(days=1)
    with pytest.raises(ConfigurationError, match="expired"):
        issue_certificate(ca, MARIA, generate_signing_key().public_key(), now=later)


def test_serial_numbers_are_random_and_positive(ca: IssuingCa) -> None:
    serials = {_issue(ca).serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(0 < serial < 2**159 for serial in serials)


def test_a_crl_lists_revoked_serials_with_their_reasons_under_its_number(ca: IssuingCa) -> None:
    revoked = [RevokedEntry(serial=0xABC, revoked_at=NOW - timedelta(hours=1),
                            reason=x509.ReasonFlags.key_compromise),
               RevokedEntry(serial=0xDEF, revoked_at=NOW - timedelta(minutes=1))]
    crl = build_crl(ca, revoked, number=7, now=NOW, lifetime=timedelta(days=7))
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.certificate.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier is not None and aki.key_identifier.hex() == ca.key_id
    assert (crl.last_update_utc, crl.next_update_utc) == (NOW, NOW + timedelta(days=7))
    compromised, unspecified = crl.get_revoked_certificate_by_serial_number(0xABC), \
        crl.get_revoked_certificate_by_serial_number(0xDEF)
    assert compromised is not None and unspecified is not None
    assert compromised.extensions.get_extension_for_class(x509.CRLReason).value.reason \
        is x509.ReasonFlags.key_compromise
    assert len(unspecified.extensions) == 0  # RFC 5280: no reasonCode rather than "unspecified"
    assert unspecified.revocation_date_utc == NOW - timedelta(minutes=1)


def test_the_development_ca_comes_with_its_chain_root_crl_and_file_crl_number(
    ca: IssuingCa, certs_dir: Path
) -> None:
    pki = load_dev_pki(certs_dir, Settings().ca_key_passphrase.encode())
    assert ca.certificate == pki.issuing_cert
    assert ca.chain == (pki.issuing_cert, pki.root_cert) and ca.root_certificate == pki.root_cert
    assert ca.root_crl == pki.root_crl
    assert ca.crl_number_floor == pki.issuing_crl.extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number
    assert ca.crl_url == f"{BASE_URL}/pki/issuing-ca.crl"


# ---------------------------------------------------------------- a CA given by configuration


@pytest.fixture
def configured(tmp_path: Path, certs_dir: Path) -> Settings:
    """The dev CA's files, copied elsewhere and named the way production names them."""
    shutil.copy(certs_dir / "chain.pem", tmp_path / "ca-chain.pem")
    shutil.copy(certs_dir / "issuing-ca.key", tmp_path / "ca.key")
    shutil.copy(certs_dir / "root-ca.crl", tmp_path / "root.crl")
    return Settings(certs_dir=tmp_path / "nowhere", base_url=BASE_URL, ca_cert_path=tmp_path / "ca-chain.pem",
                    ca_key_path=tmp_path / "ca.key", ca_root_crl_path=tmp_path / "root.crl")


def test_a_configured_ca_is_read_from_its_chain_key_and_root_crl(configured: Settings, ca: IssuingCa) -> None:
    loaded = load_issuing_ca(configured)
    assert loaded.certificate == ca.certificate and loaded.chain == ca.chain
    assert loaded.root_certificate == ca.root_certificate and loaded.root_crl == ca.root_crl
    assert loaded.crl_number_floor == 0
    issue_certificate(loaded, MARIA, generate_signing_key().public_key(), now=NOW).verify_directly_issued_by(
        ca.certificate)


def test_a_root_crl_in_der_is_read_too(configured: Settings, ca: IssuingCa) -> None:
    assert configured.ca_root_crl_path is not None and ca.root_crl is not None
    configured.ca_root_crl_path.write_bytes(ca.root_crl.public_bytes(serialization.Encoding.DER))
    assert load_issuing_ca(configured).root_crl == ca.root_crl


def test_a_wrong_passphrase_is_a_configuration_error_that_does_not_repeat_it(configured: Settings) -> None:
    with pytest.raises(ConfigurationError, match="CA_KEY_PASSPHRASE") as caught:
        load_issuing_ca(configured.with_overrides(ca_key_passphrase="wrong-passphrase-4242"))
    assert "wrong-passphrase-4242" not in str(caught.value)


def test_a_certificate_without_its_chain_to_the_root_is_refused(configured: Settings, certs_dir: Path) -> None:
    assert configured.ca_cert_path is not None
    shutil.copy(certs_dir / "issuing-ca.pem", configured.ca_cert_path)
    with pytest.raises(ConfigurationError, match="self-signed root"):
        load_issuing_ca(configured)


def test_a_chain_in_the_wrong_order_is_refused(configured: Settings, ca: IssuingCa) -> None:
    assert configured.ca_cert_path is not None
    pem = serialization.Encoding.PEM
    configured.ca_cert_path.write_bytes(ca.root_certificate.public_bytes(pem) + ca.certificate.public_bytes(pem))
    with pytest.raises(ConfigurationError, match="did not issue"):
        load_issuing_ca(configured)


def test_a_key_that_does_not_match_the_certificate_is_refused(configured: Settings, certs_dir: Path) -> None:
    assert configured.ca_key_path is not None
    shutil.copy(certs_dir / "root-ca.key", configured.ca_key_path)
    with pytest.raises(ConfigurationError, match="not the key"):
        load_issuing_ca(configured)


def test_a_missing_root_crl_is_refused_with_what_to_set(configured: Settings) -> None:
    with pytest.raises(ConfigurationError, match="CA_ROOT_CRL"):
        load_issuing_ca(configured.with_overrides(ca_root_crl_path=None))


def test_an_unreadable_file_names_its_setting_and_path(configured: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"CA_CERT: cannot read .*absent\.pem"):
        load_issuing_ca(configured.with_overrides(ca_cert_path=tmp_path / "absent.pem"))


def test_only_one_of_certificate_and_key_is_refused(configured: Settings) -> None:
    with pytest.raises(ConfigurationError, match="both CA_CERT and CA_KEY"):
        load_issuing_ca(configured.with_overrides(ca_key_path=None))


def test_a_missing_development_pki_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="flask pki init-dev"):
        load_issuing_ca(Settings(certs_dir=tmp_path / "empty"))


def test_the_cached_ca_is_reused_until_a_setting_or_file_changes(configured: Settings) -> None:
    first = issuing_ca(configured)
    assert issuing_ca(configured) is first
    assert configured.ca_root_crl_path is not None
    stat = configured.ca_root_crl_path.stat()
    os.utime(configured.ca_root_crl_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    replaced = issuing_ca(configured)
    assert replaced is not first  # read again
    assert (replaced.certificate, replaced.root_crl) == (first.certificate, first.root_crl)
    moved = issuing_ca(configured.with_overrides(base_url="https://elsewhere.example"))
    assert moved.crl_url == "https://elsewhere.example/pki/issuing-ca.crl"
