"""RFC 3161 timestamps: an in-process TSA from certs-dev/ in development, `TSA_URL` in production."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.pades.trust import to_asn1_cert
from signing.pki import load_dev_pki

__all__ = ["dev_timestamper", "make_timestamper"]


def dev_timestamper(certs_dir: Path, passphrase: bytes) -> TimeStamper:
    """pyHanko's DummyTimeStamper acting as a TSA with the development RSA timestamping key."""
    pki = load_dev_pki(certs_dir, passphrase)
    key_der = pki.tsa_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    chain = SimpleCertificateStore()
    chain.register_multiple([to_asn1_cert(pki.issuing_cert), to_asn1_cert(pki.root_cert)])
    return DummyTimeStamper(
        tsa_cert=to_asn1_cert(pki.tsa_cert),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=chain,
    )


def make_timestamper(tsa_url: str, certs_dir: Path, passphrase: bytes, timeout: int = 10) -> TimeStamper:
    """The configured TSA: RFC 3161 over HTTP when `tsa_url` is set, else the development one."""
    if tsa_url:
        return HTTPTimeStamper(tsa_url, timeout=timeout)
    return dev_timestamper(certs_dir, passphrase)
