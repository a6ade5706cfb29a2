"""The service's issuing CA: who it is, the signer certificates it issues and the CRLs it signs.

Signer certificates follow the Russian profile for a natural person: the full name in CN (with surname and
given names in SN and G), the email, and where known INN (OID 1.2.643.3.131.1.1) and SNILS (1.2.643.100.3)
as NumericString; key usage digitalSignature + nonRepudiation (critical).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes as PublicKey
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier
from email_validator import EmailNotValidError, validate_email

from signing.config import Settings
from signing.errors import ConfigurationError, FieldError
from signing.pades.identity import SigningKey
from signing.pki.dev import DevPkiPaths, _crl_distribution_point, _key_usage, load_dev_pki

__all__ = [
    "INN_OID",
    "SNILS_OID",
    "IssuingCa",
    "Person",
    "RevokedEntry",
    "build_crl",
    "issue_certificate",
    "issuing_ca",
    "load_issuing_ca",
]

INN_OID = ObjectIdentifier("1.2.643.3.131.1.1")
SNILS_OID = ObjectIdentifier("1.2.643.100.3")
CLOCK_SKEW = timedelta(minutes=5)
COMMON_NAME_MAX = 64  # ub-common-name, RFC 5280
UNLISTED_REASON = x509.ReasonFlags.unspecified  # RFC 5280 §5.3.1: omit reasonCode rather than say "unspecified"


@dataclass(frozen=True)
class Person:
    """Whom a certificate names, as the service knows them."""

    full_name: str
    """"Фамилия Имя Отчество", surname first, as registered."""
    email: str
    """The account's address; also the certificate's emailAddress and rfc822Name."""
    inn: str | None = None
    """Individual taxpayer number, 12 digits, when known."""
    snils: str | None = None
    """Insurance account number, 11 digits without separators, when known."""

    def __post_init__(self) -> None:
        if not self.full_name.strip():
            raise FieldError("full_name", "NAME-INVALID")
        if self.inn is not None and not re.fullmatch(r"[0-9]{12}", self.inn):
            raise FieldError("inn", "INN-INVALID")
        if self.snils is not None and not re.fullmatch(r"[0-9]{11}", self.snils):
            raise FieldError("snils", "SNILS-INVALID")


@dataclass(frozen=True)
class IssuingCa:
    """The CA that issues signer certificates, loaded with its key and its path up to the root."""

    certificate: x509.Certificate
    """The issuing CA's own certificate."""
    private_key: SigningKey
    """Its key: signs certificates and CRLs."""
    chain: tuple[x509.Certificate, ...]
    """The issuing CA first, then each issuer up to and including the root."""
    root_certificate: x509.Certificate
    """The self-signed root the chain ends in."""
    crl_url: str
    """Where the issuing CA's CRL is published; every signer certificate points there."""
    root_crl: x509.CertificateRevocationList | None = None
    """The root's CRL, which covers the issuing CA; None only when the issuing CA is itself the root."""
    crl_number_floor: int = 0
    """CRL number of a CRL published outside the database (certs-dev/issuing-ca.crl); ours count above it."""

    @property
    def key_id(self) -> str:
        """Hex SubjectKeyIdentifier: tells this CA's certificates and CRLs apart from another's."""
        return _subject_key_id(self.certificate).digest.hex()


@dataclass(frozen=True)
class RevokedEntry:
    """One line of a CRL."""

    serial: int
    """Serial number of the revoked certificate."""
    revoked_at: datetime
    """When it was revoked (timezone-aware)."""
    reason: x509.ReasonFlags = UNLISTED_REASON
    """Why; `unspecified` leaves the reasonCode out, as RFC 5280 asks."""


def _subject_key_id(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key())


def _authority_key_id(ca: IssuingCa) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_subject_key_id(ca.certificate))


# ---------------------------------------------------------------- loading


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{what}: cannot read {path} ({exc.strerror})") from exc


def _load_ca_key(path: Path, passphrase: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "CA_KEY"), password=passphrase.encode() or None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"CA_KEY: {path} is not a PEM private key that CA_KEY_PASSPHRASE opens"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigurationError(f"CA_KEY: {path} holds a {type(key).__name__}; an EC or RSA key is needed")
    return key


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _load_chain(path: Path) -> tuple[x509.Certificate, ...]:
    """CA_CERT: the issuing CA certificate followed by its issuers up to the root, PEM."""
    try:
        chain = tuple(x509.load_pem_x509_certificates(_read(path, "CA_CERT")))
    except ValueError as exc:
        raise ConfigurationError(f"CA_CERT: {path} holds no PEM certificate") from exc
    for child, parent in pairwise(chain):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ConfigurationError(
                f"CA_CERT: in {path}, {parent.subject.rfc4514_string()} did not issue "
                f"{child.subject.rfc4514_string()}; list the issuing CA first, then each issuer up to the root"
            ) from exc
    if not _is_self_signed(chain[-1]):
        raise ConfigurationError(
            f"CA_CERT: {path} must end with the self-signed root: append the issuing CA's chain up to the root"
        )
    return chain


def _load_root_crl(settings: Settings, chain: tuple[x509.Certificate, ...]) -> x509.CertificateRevocationList | None:
    if len(chain) == 1:
        return None
    if settings.ca_root_crl_path is None:
        raise ConfigurationError("CA_ROOT_CRL is not set: set it to the root CA's current CRL (DER or PEM)")
    data = _read(settings.ca_root_crl_path, "CA_ROOT_CRL")
    try:
        return x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise ConfigurationError(f"CA_ROOT_CRL: {settings.ca_root_crl_path} is not a CRL") from exc


def _configured_ca(settings: Settings, cert_path: Path, key_path: Path, crl_url: str) -> IssuingCa:
    chain = _load_chain(cert_path)
    key = _load_ca_key(key_path, settings.ca_key_passphrase)
    if key.public_key() != chain[0].public_key():
        raise ConfigurationError(f"CA_KEY: {key_path} is not the key of the certificate in {cert_path}")
    return IssuingCa(certificate=chain[0], private_key=key, chain=chain, root_certificate=chain[-1],
                     crl_url=crl_url, root_crl=_load_root_crl(settings, chain))


def _development_ca(settings: Settings, crl_url: str) -> IssuingCa:
    try:
        pki = load_dev_pki(settings.certs_dir, settings.ca_key_passphrase.encode())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"the development PKI in {settings.certs_dir} is missing or unreadable: run `flask pki init-dev`"
        ) from exc
    number = pki.issuing_crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    return IssuingCa(certificate=pki.issuing_cert, private_key=pki.issuing_key,
                     chain=(pki.issuing_cert, pki.root_cert), root_certificate=pki.root_cert, crl_url=crl_url,
                     root_crl=pki.root_crl, crl_number_floor=number)


def load_issuing_ca(settings: Settings) -> IssuingCa:
    """The configured CA (CA_CERT + CA_KEY), or the development one in `certs_dir` when neither is set."""
    crl_url = f"{settings.base_url.rstrip('/')}/pki/issuing-ca.crl"
    cert_path, key_path = settings.ca_cert_path, settings.ca_key_path
    if cert_path is None and key_path is None:
        return _development_ca(settings, crl_url)
    if cert_path is None or key_path is None:
        raise ConfigurationError("set both CA_CERT and CA_KEY (or neither, for the development CA)")
    return _configured_ca(settings, cert_path, key_path, crl_url)


_loaded: tuple[tuple[object, ...], IssuingCa] | None = None
"""The last CA `issuing_ca` loaded, with the stamp of the settings and files it came from."""


def _stamp(settings: Settings) -> tuple[object, ...]:
    """What the loaded CA depends on: the settings it reads and the size and mtime of each file."""
    files = [settings.ca_cert_path, settings.ca_key_path, settings.ca_root_crl_path]
    if settings.ca_cert_path is None and settings.ca_key_path is None:
        files = list(DevPkiPaths.in_directory(settings.certs_dir).all())
    stats = []
    for path in files:
        try:
            stat = path.stat() if path is not None else None
        except OSError:
            stat = None
        stats.append((path, stat and stat.st_mtime_ns, stat and stat.st_size))
    return (settings.base_url, settings.ca_key_passphrase, *stats)


def issuing_ca(settings: Settings) -> IssuingCa:
    """`load_issuing_ca`, loaded again only when a setting or one of its files changed (decrypting the CA
    key takes a noticeable fraction of a second, too long to repeat for every request)."""
    global _loaded
    stamp = _stamp(settings)
    if _loaded is None or _loaded[0] != stamp:
        _loaded = (stamp, load_issuing_ca(settings))
    return _loaded[1]


# ---------------------------------------------------------------- certificates


def _ascii_email(email: str) -> str | None:
    """The address as IA5String allows (IDN domain as A-labels); None when the mailbox itself is not ASCII."""
    try:
        return validate_email(email, check_deliverability=False).ascii_email
    except EmailNotValidError:
        return None


def _common_name(name: str) -> x509.NameAttribute[str]:
    """At most 64 characters (RFC 5280 ub-common-name). cryptography counts UTF-8 bytes instead, which would
    cut a Cyrillic name at 32 letters, so its check (a warning once disabled) is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return x509.NameAttribute(NameOID.COMMON_NAME, name[:COMMON_NAME_MAX].rstrip(), _validate=False)


def _subject(person: Person, email: str | None) -> x509.Name:
    name = " ".join(person.full_name.split())
    surname, _, given = name.partition(" ")
    attributes = [_common_name(name)]
    if given:
        attributes += [x509.NameAttribute(NameOID.SURNAME, surname),
                       x509.NameAttribute(NameOID.GIVEN_NAME, given)]
    if email is not None:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    for oid, value in ((INN_OID, person.inn), (SNILS_OID, person.snils)):
        if value is not None:
            attributes.append(x509.NameAttribute(oid, value, _type=_ASN1Type.NumericString))
    return x509.Name(attributes)


def _validity(ca: IssuingCa, now: datetime, validity: timedelta) -> tuple[datetime, datetime]:
    """From a little before `now`, never past the CA's own expiry."""
    not_before = now - CLOCK_SKEW
    not_after = min(now + validity, ca.certificate.not_valid_after_utc)
    if not_after <= now:
        raise ConfigurationError(
            f"the issuing CA certificate expired on {ca.certificate.not_valid_after_utc:%Y-%m-%d}: renew CA_CERT"
        )
    return not_before, not_after


DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""
SIGNER_EXTENDED_KEY_USAGE = (x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING)
"""Document signing plus emailProtection: NSS (poppler's pdfsig, Firefox's viewer) checks signer certificates
for e-mail-signer use, and poppler 22 mistakes a certificate without any extended key usage for a bad one."""


def issue_certificate(
    ca: IssuingCa, person: Person, public_key: PublicKey, *, now: datetime, validity: timedelta = timedelta(days=365)
) -> x509.Certificate:
    """A signing certificate for `person` over `public_key`, with a random serial, signed by `ca`."""
    email = _ascii_email(person.email)
    not_before, not_after = _validity(ca, now, validity)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(person, email))
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signature=True, non_repudiation=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(SIGNER_EXTENDED_KEY_USAGE), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(ca), critical=False)
        .add_extension(_crl_distribution_point(ca.crl_url), critical=False)
    )
    if email is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return builder.sign(ca.private_key, hashes.SHA256())


# ---------------------------------------------------------------- CRLs


def _revoked_certificate(entry: RevokedEntry) -> x509.RevokedCertificate:
    builder = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
    if entry.reason is not UNLISTED_REASON:
        builder = builder.add_extension(x509.CRLReason(entry.reason), critical=False)
    return builder.build()


def build_crl(
    ca: IssuingCa, revoked: Iterable[RevokedEntry], *, number: int, now: datetime, lifetime: timedelta
) -> x509.CertificateRevocationList:
    """The issuing CA's CRL number `number`, issued `now`, next update after `lifetime`."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + lifetime)
        .add_extension(_authority_key_id(ca), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(_revoked_certificate(entry))
    return builder.sign(ca.private_key, hashes.SHA256())
