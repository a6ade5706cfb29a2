"""RFC 3161 timestamps: an in-process TSA from certs-dev/ in development, `TSA_URL` in production."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.pades.trust import to_asn1_cert
from signing.pki import load_dev_pki

__all__ = ["InProcessTsa", "dev_timestamper", "make_timestamper"]


class InProcessTsa(DummyTimeStamper):
    """pyHanko's DummyTimeStamper with the RSA key parsed once (pyHanko re-parses it for every token, ~30 ms)."""

    def __init__(self, *, tsa_key: rsa.RSAPrivateKey, **kwargs: object) -> None:
        der = tsa_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        super().__init__(tsa_key=asn1_keys.PrivateKeyInfo.load(der), **kwargs)  # type: ignore[arg-type]
        self._rsa_key = tsa_key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": dt})),
            simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._rsa_key.sign(signed_attrs.dump(), padding.PKCS1v15(), _hash(md_algorithm))
        return signature, signed_attrs


def _hash(md_algorithm: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[md_algorithm.lower()]


def dev_timestamper(certs_dir: Path, passphrase: bytes) -> TimeStamper:
    """An in-process TSA with the development RSA timestamping key (development and tests only)."""
    pki = load_dev_pki(certs_dir, passphrase)
    chain = SimpleCertificateStore()
    chain.register_multiple([to_asn1_cert(pki.issuing_cert), to_asn1_cert(pki.root_cert)])
    return InProcessTsa(tsa_cert=to_asn1_cert(pki.tsa_cert), tsa_key=pki.tsa_key, certs_to_embed=chain)


def make_timestamper(tsa_url: str, certs_dir: Path, passphrase: bytes, timeout: int = 10) -> TimeStamper:
    """The configured TSA: RFC 3161 over HTTP when `tsa_url` is set, else the development one."""
    if tsa_url:
        return HTTPTimeStamper(tsa_url, timeout=timeout)
    return dev_timestamper(certs_dir, passphrase)
