"""CMS SignedData assembled from DER parts: what depends on the certificates is encoded once, per signature only
the digest, the signature value and the timestamp token are spliced in.

asn1crypto builds the same structures generically, re-encoding every embedded certificate on each signature
(about 10 ms of a 1 MB signature). The parts here are produced by asn1crypto and pyHanko's own helpers, so the
bytes are the ones pyHanko would write; only the concatenation is done by hand, in DER (sets sorted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.general import as_signing_certificate, as_signing_certificate_v2, simple_cms_attribute

__all__ = [
    "CONTENT_TYPE_DATA", "CONTENT_TYPE_TST_INFO", "DATA_CONTENT", "SignerParts", "attribute", "content_info", "der",
    "der_integer", "signed_attributes", "signer_parts", "timestamp_attribute", "tst_info_content",
]

SEQUENCE, SET, OCTET_STRING, INTEGER = 0x30, 0x31, 0x04, 0x02
IMPLICIT_0, IMPLICIT_1 = 0xA0, 0xA1
SIGNED_DATA_OID = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
SIGNATURE_TIMESTAMP_OID = cms.CMSAttributeType("signature_time_stamp_token").dump()
TST_INFO_OID = cms.ContentType("tst_info").dump()
DATA_CONTENT = cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
"""EncapsulatedContentInfo of a detached signature over external data (the PDF byte range)."""
CONTENT_TYPE_DATA = simple_cms_attribute("content_type", "data").dump()
"""The content-type signed attribute for `DATA_CONTENT`."""
CONTENT_TYPE_TST_INFO = simple_cms_attribute("content_type", "tst_info").dump()
"""The content-type signed attribute of a timestamp token."""


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV with a definite length."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def der_integer(value: int) -> bytes:
    """A DER INTEGER (two's complement, minimal length)."""
    return der(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _set_of(elements: Iterable[bytes], tag: int = SET) -> bytes:
    return der(tag, b"".join(sorted(elements)))


@dataclass(frozen=True)
class SignerParts:
    """The DER of everything in a SignedData that depends only on the signer's certificates."""

    certificates: bytes
    """`[0] IMPLICIT SET OF Certificate`: the signer's certificate and its chain, sorted as DER requires."""
    signer_info_head: bytes
    """SignerInfo's version, `sid` (issuer and serial number) and digest algorithm, already concatenated."""
    digest_algorithms: bytes
    """SignedData's `SET OF DigestAlgorithmIdentifier` (SHA-256)."""
    signing_certificate: bytes
    """The signed attribute that binds the certificate (ESS signing-certificate v2, or v1 for a TSA)."""
    message_digest_prefix: bytes
    """The message-digest attribute up to its 32-byte SHA-256 value."""


@lru_cache(maxsize=512)
def signer_parts(
    certificate: x509.Certificate, chain: tuple[x509.Certificate, ...], *, ess_v1: bool = False
) -> SignerParts:
    """The certificate-dependent DER, computed once per signer (certificates compare and hash by their DER)."""
    cert = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
    sid = cms.SignerIdentifier({
        "issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number,
        }),
    }).dump()
    ess = (
        simple_cms_attribute("signing_certificate", as_signing_certificate(cert)) if ess_v1
        else simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(cert))
    )
    unique = {c.public_bytes(Encoding.DER) for c in (certificate, *chain)}
    return SignerParts(
        certificates=_set_of(unique, IMPLICIT_0),
        signer_info_head=der_integer(1) + sid + sha256,
        digest_algorithms=der(SET, sha256),
        signing_certificate=ess.dump(),
        message_digest_prefix=simple_cms_attribute("message_digest", bytes(32)).dump()[:-32],
    )


def attribute(attr_type: str, value_der: bytes) -> bytes:
    """A single-valued CMS Attribute from the DER of its value."""
    return der(SEQUENCE, cms.CMSAttributeType(attr_type).dump() + der(SET, value_der))


def signed_attributes(parts: SignerParts, digest: bytes, *extra: bytes) -> bytes:
    """The DER `SET OF Attribute` that is signed: content type (extra), message digest, signing certificate."""
    if len(digest) != 32:
        raise ValueError("only SHA-256 digests are supported")
    return _set_of((parts.message_digest_prefix + digest, parts.signing_certificate, *extra))


def timestamp_attribute(token_der: bytes) -> bytes:
    """The unsigned signature-time-stamp-token attribute carrying an RFC 3161 token."""
    return der(SEQUENCE, SIGNATURE_TIMESTAMP_OID + der(SET, token_der))


def content_info(
    parts: SignerParts,
    *,
    encap_content_info: bytes,
    signed_attrs: bytes,
    signature_algorithm: bytes,
    signature: bytes,
    unsigned_attrs: Sequence[bytes] = (),
) -> bytes:
    """A `ContentInfo` holding one SignedData with one SignerInfo; `signed_attrs` as from `signed_attributes`."""
    signer_info = (
        parts.signer_info_head
        + bytes((IMPLICIT_0,)) + signed_attrs[1:]  # the signed SET, re-tagged [0] IMPLICIT
        + signature_algorithm
        + der(OCTET_STRING, signature)
        + (_set_of(unsigned_attrs, IMPLICIT_1) if unsigned_attrs else b"")
    )
    version = 1 if encap_content_info == DATA_CONTENT else 3
    signed_data = (
        der_integer(version) + parts.digest_algorithms + encap_content_info + parts.certificates
        + der(SET, der(SEQUENCE, signer_info))
    )
    return der(SEQUENCE, SIGNED_DATA_OID + der(IMPLICIT_0, der(SEQUENCE, signed_data)))



def tst_info_content(tst_info_der: bytes) -> bytes:
    """EncapsulatedContentInfo of a timestamp token: the TSTInfo wrapped in an OCTET STRING."""
    return der(SEQUENCE, TST_INFO_OID + der(IMPLICIT_0, der(OCTET_STRING, tst_info_der)))
