"""The development PKI: a root CA, an issuing CA, their CRLs and a TSA certificate, for local use only.

Every certificate carries O=DEV_ORGANIZATION, which is how production refuses them.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes as IssuerKey
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes as PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.clock import utcnow

__all__ = ["DEV_ORGANIZATION", "DevPki", "DevPkiPaths", "create_dev_pki", "ensure_dev_pki",
           "is_development_certificate", "load_dev_pki"]

DEV_ORGANIZATION = "Podpisant Development"
CLOCK_SKEW = timedelta(hours=1)
CRL_LIFETIME = timedelta(days=30)
CRL_REFRESH_MARGIN = timedelta(days=7)
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class DevPkiPaths:
    """Where each file of the development PKI lives inside its directory."""

    root_cert: Path
    root_key: Path
    root_crl: Path
    issuing_cert: Path
    issuing_key: Path
    issuing_crl: Path
    tsa_cert: Path
    tsa_key: Path
    chain: Path

    @classmethod
    def in_directory(cls, directory: Path) -> DevPkiPaths:
        """The standard file names inside `directory`."""
        return cls(
            root_cert=directory / "root-ca.pem",
            root_key=directory / "root-ca.key",
            root_crl=directory / "root-ca.crl",
            issuing_cert=directory / "issuing-ca.pem",
            issuing_key=directory / "issuing-ca.key",
            issuing_crl=directory / "issuing-ca.crl",
            tsa_cert=directory / "tsa.pem",
            tsa_key=directory / "tsa.key",
            chain=directory / "chain.pem",
        )

    def all(self) -> tuple[Path, ...]:
        """Every file, in a fixed order."""
        return (self.root_cert, self.root_key, self.root_crl, self.issuing_cert, self.issuing_key,
                self.issuing_crl, self.tsa_cert, self.tsa_key, self.chain)


@dataclass(frozen=True)
class DevPki:
    """The loaded certificates, keys and CRLs of the development PKI."""

    root_cert: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    issuing_cert: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    issuing_crl: x509.CertificateRevocationList
    root_crl: x509.CertificateRevocationList
    tsa_cert: x509.Certificate
    tsa_key: rsa.RSAPrivateKey


def _name(common_name: str) -> x509.Name:
    """C=RU, O=DEV_ORGANIZATION, CN=common_name; O and CN are UTF8String (C is PrintableString by RFC)."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(
    *, cert_sign: bool = False, signature: bool = False, non_repudiation: bool = False
) -> x509.KeyUsage:
    """A KeyUsage with only the given bits set (cert_sign covers keyCertSign and cRLSign)."""
    return x509.KeyUsage(
        digital_signature=signature, content_commitment=non_repudiation, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False,
    )


def _authority_key_id(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AuthorityKeyIdentifier pointing at `issuer`'s SubjectKeyIdentifier."""
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
    """A single full-name HTTP distribution point."""
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)], relative_name=None, reasons=None, crl_issuer=None,
    )])


def _certificate(
    common_name: str,
    public_key: PublicKey,
    issuer: x509.Certificate | None,
    issuer_key: IssuerKey,
    now: datetime,
    lifetime: timedelta,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """A certificate signed by `issuer_key` (self-signed when `issuer` is None); SKI, and AKI if issued."""
    subject = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(_authority_key_id(issuer), critical=False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(
    issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey, now: datetime
) -> x509.CertificateRevocationList:
    """An empty CRL number 1 signed by `issuer`, valid for CRL_LIFETIME."""
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + CRL_LIFETIME)
        .add_extension(_authority_key_id(issuer), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _generate(crl_base_url: str, now: datetime) -> DevPki:
    """Build the whole PKI in memory."""
    base = crl_base_url.rstrip("/")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_cert = _certificate("Podpisant Dev Root CA", root_key.public_key(), None, root_key, now, 10 * YEAR, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(cert_sign=True), True),
    ])
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing_cert = _certificate("Podpisant Dev Issuing CA", issuing_key.public_key(), root_cert, root_key,
                                now, 5 * YEAR, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (_key_usage(cert_sign=True, signature=True), True),
        (_crl_distribution_point(f"{base}/pki/root-ca.crl"), False),
    ])
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    tsa_cert = _certificate("Podpisant Dev TSA", tsa_key.public_key(), issuing_cert, issuing_key,
                            now, 5 * YEAR, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(signature=True, non_repudiation=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),  # RFC 3161 §2.3: must be critical
        (_crl_distribution_point(f"{base}/pki/issuing-ca.crl"), False),
    ])
    return DevPki(
        root_cert=root_cert, root_key=root_key, issuing_cert=issuing_cert, issuing_key=issuing_key,
        issuing_crl=_crl(issuing_cert, issuing_key, now), root_crl=_crl(root_cert, root_key, now),
        tsa_cert=tsa_cert, tsa_key=tsa_key,
    )


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Replace `path` with `data` through a temporary file in the same directory (0o600 when secret)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0o600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o600 if secret else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _encrypted_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive flock on `directory` so that concurrent starts do not interleave their files."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _create_unlocked(directory: Path, passphrase: bytes, crl_base_url: str, now: datetime) -> DevPki:
    """Generate and write; old files are removed first, so an interrupted run leaves the set incomplete."""
    if not passphrase:
        raise ValueError("the development CA key passphrase must not be empty")
    paths = DevPkiPaths.in_directory(directory)
    pki = _generate(crl_base_url, now)
    for path in paths.all():
        path.unlink(missing_ok=True)
    pem = serialization.Encoding.PEM
    for path, key in ((paths.root_key, pki.root_key), (paths.issuing_key, pki.issuing_key),
                      (paths.tsa_key, pki.tsa_key)):
        _write(path, _encrypted_pem(key, passphrase), secret=True)
    for path, data in ((paths.root_cert, pki.root_cert.public_bytes(pem)),
                       (paths.issuing_cert, pki.issuing_cert.public_bytes(pem)),
                       (paths.tsa_cert, pki.tsa_cert.public_bytes(pem)),
                       (paths.root_crl, pki.root_crl.public_bytes(pem)),
                       (paths.issuing_crl, pki.issuing_crl.public_bytes(pem)),
                       (paths.chain, pki.issuing_cert.public_bytes(pem) + pki.root_cert.public_bytes(pem))):
        _write(path, data)
    return pki


def create_dev_pki(
    directory: Path, passphrase: bytes, crl_base_url: str, *, now: datetime | None = None
) -> DevPki:
    """Create a fresh PKI in `directory` (overwrites); the CRLs are published under `crl_base_url`/pki/."""
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        return _create_unlocked(directory, passphrase, crl_base_url, now or utcnow())


def _renewed_crl(
    old: x509.CertificateRevocationList, issuer: x509.Certificate, key: ec.EllipticCurvePrivateKey, now: datetime
) -> x509.CertificateRevocationList:
    """The same revocations under the next CRL number, valid for another CRL_LIFETIME."""
    number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + CRL_LIFETIME)
        .add_extension(_authority_key_id(issuer), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for revoked in old:
        builder = builder.add_revoked_certificate(revoked)
    return builder.sign(key, hashes.SHA256())


def _refresh_stale_crls(directory: Path, passphrase: bytes, now: datetime) -> bool:
    """Re-sign a CRL whose next update is less than CRL_REFRESH_MARGIN away, so an old dev tree keeps validating."""
    paths = DevPkiPaths.in_directory(directory)
    pki = load_dev_pki(directory, passphrase)
    refreshed = False
    for path, crl, issuer, key in ((paths.root_crl, pki.root_crl, pki.root_cert, pki.root_key),
                                   (paths.issuing_crl, pki.issuing_crl, pki.issuing_cert, pki.issuing_key)):
        next_update = crl.next_update_utc
        if next_update is None or next_update - now < CRL_REFRESH_MARGIN:
            _write(path, _renewed_crl(crl, issuer, key, now).public_bytes(serialization.Encoding.PEM))
            refreshed = True
    return refreshed


def ensure_dev_pki(directory: Path, passphrase: bytes, crl_base_url: str) -> bool:
    """Create the PKI when any of its files is missing; return True when it created one, False when all
    files were there (then only CRLs close to their next update are re-signed)."""
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        if all(path.is_file() for path in DevPkiPaths.in_directory(directory).all()):
            _refresh_stale_crls(directory, passphrase, utcnow())
            return False
        _create_unlocked(directory, passphrase, crl_base_url, utcnow())
        return True


def _load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _load_ec_key(path: Path, passphrase: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: expected an EC private key, found {type(key).__name__}")
    return key


def _load_rsa_key(path: Path, passphrase: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: expected an RSA private key, found {type(key).__name__}")
    return key


def load_dev_pki(directory: Path, passphrase: bytes) -> DevPki:
    """Read the PKI from `directory`; OSError when a file is missing, ValueError on a wrong passphrase."""
    paths = DevPkiPaths.in_directory(directory)
    return DevPki(
        root_cert=_load_certificate(paths.root_cert),
        root_key=_load_ec_key(paths.root_key, passphrase),
        issuing_cert=_load_certificate(paths.issuing_cert),
        issuing_key=_load_ec_key(paths.issuing_key, passphrase),
        issuing_crl=x509.load_pem_x509_crl(paths.issuing_crl.read_bytes()),
        root_crl=x509.load_pem_x509_crl(paths.root_crl.read_bytes()),
        tsa_cert=_load_certificate(paths.tsa_cert),
        tsa_key=_load_rsa_key(paths.tsa_key, passphrase),
    )


def is_development_certificate(cert: x509.Certificate) -> bool:
    """True when the subject or the issuer has O=DEV_ORGANIZATION (a dev CA or anything it issued)."""
    return any(attribute.value == DEV_ORGANIZATION for name in (cert.subject, cert.issuer)
               for attribute in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
