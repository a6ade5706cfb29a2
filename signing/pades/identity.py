"""Who signs: a certificate, its private key and the chain up to a root, already loaded and ready to use."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["SignerIdentity", "SigningKey"]

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class SignerIdentity:
    """A person's signing certificate with its unwrapped private key (held in memory only, never logged)."""

    certificate: x509.Certificate
    """The signer's own certificate, issued by the service's issuing CA."""
    private_key: SigningKey
    """The key matching `certificate`; ECDSA P-256 for certificates the service issues."""
    chain: tuple[x509.Certificate, ...] = ()
    """Issuing CA first, then up to the root; embedded in each signature so validators can build the path."""

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"SignerIdentity(serial={self.certificate.serial_number:x})"
