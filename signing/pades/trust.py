"""What a signature is validated against: trust roots, intermediates and CRLs, never fetched from the network.

Revocation is checked in pyHanko's `require` mode: every certificate below a root must have revocation
information, so a revoked or unknown status is never silently accepted (`hard-fail` skips certificates
whose status cannot be determined).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import ValidationContext

from signing.pki import load_dev_pki

__all__ = ["TrustAnchors", "dev_trust", "to_asn1_cert", "to_asn1_crl", "validation_context"]


def to_asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def to_asn1_crl(crl: x509.CertificateRevocationList) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(crl.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class TrustAnchors:
    """The service's view of its PKI at a moment: whom it trusts and what is revoked."""

    roots: tuple[x509.Certificate, ...]
    """Self-signed roots every chain must end in."""
    intermediates: tuple[x509.Certificate, ...] = ()
    """Issuing CAs, handed to path building (signatures also carry them)."""
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    """Current CRLs of every CA, as published by the service."""

    def with_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> TrustAnchors:
        return TrustAnchors(self.roots, self.intermediates, tuple(crls))


def validation_context(
    trust: TrustAnchors, *, moment: datetime | None = None, retroactive_revinfo: bool = False
) -> ValidationContext:
    """A pyHanko validation context that checks revocation of every certificate and never goes online."""
    return ValidationContext(
        trust_roots=[to_asn1_cert(c) for c in trust.roots],
        other_certs=[to_asn1_cert(c) for c in trust.intermediates],
        crls=[to_asn1_crl(c) for c in trust.crls],
        allow_fetching=False,
        revocation_mode="require",
        moment=moment,
        retroactive_revinfo=retroactive_revinfo,
    )


def dev_trust(certs_dir: Path, passphrase: bytes) -> TrustAnchors:
    """Trust the development PKI in `certs_dir` (tests and development only)."""
    pki = load_dev_pki(certs_dir, passphrase)
    return TrustAnchors(
        roots=(pki.root_cert,), intermediates=(pki.issuing_cert,), crls=(pki.issuing_crl, pki.root_crl)
    )
