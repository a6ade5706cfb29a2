"""RFC 3161 timestamps: an in-process TSA from certs-dev/ in development, `TSA_URL` in production."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import get_nonce
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.pades import cms as cms_parts
from signing.pades.trust import to_asn1_cert
from signing.pki import load_dev_pki

__all__ = [
    "GENEROUS_TOKEN_ALLOWANCE", "InProcessTsa", "SizedHttpTimeStamper", "dev_timestamper", "make_timestamper",
    "token_allowance",
]

GENEROUS_TOKEN_ALLOWANCE = 6144
"""Bytes kept for a token from a TSA whose tokens have not been seen yet (a production chain is well under this)."""
TOKEN_MARGIN = 32
"""Bytes over a measured token: its nonces (8 or 9 bytes each), GeneralizedTime's fraction (0–7 characters) and the
lengths of the enclosing DER elements vary from one token to the next."""
HTTP_TOKEN_MARGIN = 512
"""Bytes over the largest token an HTTP TSA has returned (its tokens may carry optional fields or a renewed chain)."""


DEV_TSA_POLICY = "1.3.6.1.4.1.4146.2.2"
"""The policy OID pyHanko's DummyTimeStamper puts in its tokens (development TSA only)."""
SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
RSA_PKCS1V15 = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}).dump()
TST_INFO_HEAD = cms_parts.der_integer(1) + core.ObjectIdentifier(DEV_TSA_POLICY).dump()


class InProcessTsa(DummyTimeStamper):
    """pyHanko's DummyTimeStamper with the RSA key parsed once (pyHanko re-parses it for every token, ~30 ms).

    SHA-256 tokens are assembled from DER parts computed once (`signing.pades.cms`) rather than by asn1crypto,
    which re-encodes the embedded certificates for every token; the content is the DummyTimeStamper's.
    """

    def __init__(self, *, tsa_key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        der = tsa_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        super().__init__(tsa_key=asn1_keys.PrivateKeyInfo.load(der), **kwargs)
        self._rsa_key = tsa_key
        embedded = tuple(x509.load_der_x509_certificate(c.dump()) for c in self.certs_to_embed)
        self._parts = cms_parts.signer_parts(
            x509.load_der_x509_certificate(self.tsa_cert.dump()), embedded, ess_v1=True
        )
        tsa_name = asn1_x509.GeneralName(name="directory_name", value=self.tsa_cert.subject)
        self._tsa_name = cms_parts.der(0xA0, tsa_name.dump())  # TSTInfo's `tsa [0]`
        self.token_allowance = len(self.token(bytes(32))) + TOKEN_MARGIN
        """Bytes a token of this TSA takes at most: one measured token plus what varies between tokens."""

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        if md_algorithm.lower() != "sha256":
            return await super().async_timestamp(message_digest, md_algorithm)
        return cms.ContentInfo.load(self.token(message_digest))

    def token(self, message_digest: bytes) -> bytes:
        """The DER of a timestamp token over a SHA-256 `message_digest`, signed now (or at `fixed_dt`)."""
        moment = (self.fixed_dt or datetime.now(UTC)).astimezone(UTC)
        tst_info = self._tst_info(message_digest, moment)
        signing_time = cms_parts.attribute("signing_time", cms_parts.der(0x17, f"{moment:%y%m%d%H%M%S}Z".encode()))
        signed_attrs = cms_parts.signed_attributes(
            self._parts, hashlib.sha256(tst_info).digest(), cms_parts.CONTENT_TYPE_TST_INFO, signing_time
        )
        signature = self._rsa_key.sign(signed_attrs, padding.PKCS1v15(), hashes.SHA256())
        return cms_parts.content_info(
            self._parts, encap_content_info=cms_parts.tst_info_content(tst_info), signed_attrs=signed_attrs,
            signature_algorithm=RSA_PKCS1V15, signature=signature,
        )

    def _tst_info(self, message_digest: bytes, moment: datetime) -> bytes:
        nonce = cms_parts.der_integer(get_nonce()) if self.include_nonce else b""
        return cms_parts.der(0x30, (
            TST_INFO_HEAD
            + cms_parts.der(0x30, SHA256 + cms_parts.der(0x04, message_digest))
            + cms_parts.der_integer(get_nonce())
            + cms_parts.der(0x18, _generalized_time(moment))
            + nonce
            + self._tsa_name
        ))

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


def _generalized_time(moment: datetime) -> bytes:
    """DER GeneralizedTime in UTC: fractional seconds without trailing zeros, none at all when whole."""
    fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    return f"{moment:%Y%m%d%H%M%S}{fraction}Z".encode()


def _hash(md_algorithm: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[md_algorithm.lower()]


class SizedHttpTimeStamper(HTTPTimeStamper):
    """pyHanko's RFC 3161 client that remembers how large this TSA's tokens are, to reserve no more than needed.

    Until a token has been seen the allowance is generous; then it is the largest token so far plus a margin
    (no dry-run request per signature). Safe to share between threads.
    """

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._largest = 0
        self._lock = threading.Lock()

    @property
    def token_allowance(self) -> int:
        """Bytes to reserve for this TSA's next token."""
        with self._lock:
            largest = self._largest
        return largest + HTTP_TOKEN_MARGIN if largest else GENEROUS_TOKEN_ALLOWANCE

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        token = await super().async_timestamp(message_digest, md_algorithm)
        size = len(token.dump())
        with self._lock:
            self._largest = max(self._largest, size)
        return token


def token_allowance(timestamper: TimeStamper) -> int:
    """Bytes to reserve in a signature for `timestamper`'s token: exact for ours, generous for any other."""
    if isinstance(timestamper, InProcessTsa | SizedHttpTimeStamper):
        return timestamper.token_allowance
    return GENEROUS_TOKEN_ALLOWANCE


def dev_timestamper(certs_dir: Path, passphrase: bytes) -> TimeStamper:
    """An in-process TSA with the development RSA timestamping key (development and tests only)."""
    pki = load_dev_pki(certs_dir, passphrase)
    chain = SimpleCertificateStore()
    chain.register_multiple([to_asn1_cert(pki.issuing_cert), to_asn1_cert(pki.root_cert)])
    return InProcessTsa(tsa_cert=to_asn1_cert(pki.tsa_cert), tsa_key=pki.tsa_key, certs_to_embed=chain)


def make_timestamper(tsa_url: str, certs_dir: Path, passphrase: bytes, timeout: int = 10) -> TimeStamper:
    """The configured TSA: RFC 3161 over HTTP when `tsa_url` is set, else the development one."""
    if tsa_url:
        return SizedHttpTimeStamper(tsa_url, timeout=timeout)
    return dev_timestamper(certs_dir, passphrase)
