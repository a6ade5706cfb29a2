"""Signing one pre-created field: an incremental PAdES B-T update that leaves every earlier signature intact.

The first signature of a document certifies it (DocMDP: form filling and signing allowed); each later one fills
its own field. The hot path avoids pyHanko's costly defaults: the key is already parsed (`SignerIdentity`), and
the space for the signature is sized from the certificates instead of by a dry-run signature; the cyclic garbage
collector waits until the signature is written (`signing.pades.collector`).
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import io
import re
import threading
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import BaseStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.clock import utcnow
from signing.errors import (
    CertificateNotValidNow,
    CertificateRevoked,
    DomainError,
    SignatureFieldMissing,
    SignatureFieldTaken,
    SigningFailed,
    TimestampUnavailable,
)
from signing.pades import cms as cms_parts
from signing.pades.certification import UNREAD, docmdp_permission
from signing.pades.collector import collector_paused
from signing.pades.identity import SignerIdentity, SigningKey
from signing.pades.stamp import MOSCOW, stamp_style, stamp_text_params
from signing.pades.timestamps import GENEROUS_TOKEN_ALLOWANCE, token_allowance
from signing.pades.trust import to_asn1_cert

T = TypeVar("T")

__all__ = [
    "MOSCOW", "Appearance", "KeySigner", "common_name", "default_appearance", "ensure_can_sign", "field_states",
    "reserved_size", "run_pyhanko", "sign_field", "signature_allowance", "signature_meta",
]

TIMESTAMP_TOKEN_ALLOWANCE = GENEROUS_TOKEN_ALLOWANCE
"""Bytes kept for a TSA's token when its size is not known (its certificates included)."""
SIGNATURE_ALLOWANCE = 2048
"""Bytes for the CMS structure, signed attributes and the signature value, when the signer is not known."""
CMS_STRUCTURE_ALLOWANCE = 512
"""Bytes of a SignerInfo and its SignedData besides the certificates, the issuer's name, the signature value and
the timestamp token: version, algorithms, the three signed attributes, the wrappers (~380 bytes measured)."""
_TOO_SMALL = "Final ByteRange payload larger than expected"
"""How pyHanko's SigningError starts when the signature container did not fit the space reserved for it."""
_REQUIRED = re.compile(r"required (\d+) bytes")
RETRY_MARGIN = 1024
"""Bytes added on the second attempt after a container did not fit (the next token may be a little longer)."""


class KeySigner(signers.Signer):
    """A pyHanko signer over a key that is already loaded (SimpleSigner re-parses its key on every signature).

    For a PAdES signature with SHA-256 it assembles the CMS from DER parts cached per certificate
    (`signing.pades.cms`) instead of pyHanko's generic builder; anything else is left to pyHanko.
    """

    def __init__(self, identity: SignerIdentity) -> None:
        certificate, chain, mechanism = _asn1_identity(identity.certificate, identity.chain)
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        super().__init__(signing_cert=certificate, cert_registry=registry)
        self._key: SigningKey = identity.private_key
        self._parts = cms_parts.signer_parts(identity.certificate, identity.chain)
        self._mechanism = mechanism

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        algorithm = _hash(digest_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), algorithm)
        raise SigningFailed(f"unsupported key type {type(self._key).__name__}")

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> asn1_cms.ContentInfo:
        if dry_run or not use_pades or digest_algorithm != "sha256" or encap_content_info is not None \
                or not _plain_pades(signed_attr_settings):
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades, timestamper=timestamper,
                signed_attr_settings=signed_attr_settings, is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        signed_attrs = cms_parts.signed_attributes(self._parts, data_digest, cms_parts.CONTENT_TYPE_DATA)
        signature = await self.async_sign_raw(signed_attrs, digest_algorithm)
        unsigned: tuple[bytes, ...] = ()
        if timestamper is not None:
            token = await timestamper.async_timestamp(hashlib.sha256(signature).digest(), digest_algorithm)
            unsigned = (cms_parts.timestamp_attribute(token.dump()),)
        return asn1_cms.ContentInfo.load(cms_parts.content_info(
            self._parts, encap_content_info=cms_parts.DATA_CONTENT, signed_attrs=signed_attrs,
            signature_algorithm=self._mechanism, signature=signature, unsigned_attrs=unsigned,
        ))


@lru_cache(maxsize=512)
def _asn1_identity(
    certificate: x509.Certificate, chain: tuple[x509.Certificate, ...]
) -> tuple[asn1_x509.Certificate, tuple[asn1_x509.Certificate, ...], bytes]:
    """The signer's certificates parsed for pyHanko once, and the DER of pyHanko's signature mechanism for it."""
    cert = to_asn1_cert(certificate)
    probe = signers.ExternalSigner(signing_cert=cert, cert_registry=SimpleCertificateStore(), signature_value=b"")
    mechanism = probe.get_signature_mechanism_for_digest("sha256")
    return cert, tuple(to_asn1_cert(c) for c in chain), mechanism.dump()


def _plain_pades(settings: PdfCMSSignedAttributes | None) -> bool:
    """Whether the requested signed attributes are just PAdES's mandatory ones (all `sign_field` asks for)."""
    return settings is None or (settings.cades_signed_attrs is None and settings.adobe_revinfo_attr is None)


def _hash(name: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name.lower()]


@dataclass(frozen=True)
class Appearance:
    """What the visible stamp looks like (see `default_appearance` for the Russian stamp every round uses)."""

    style: BaseStampStyle
    """pyHanko stamp style (see `signing.pades.stamp`)."""
    text_params: Mapping[str, str]
    """Values for the style's text template (serial, owner, validity, time)."""


def default_appearance(certificate: x509.Certificate, tz: ZoneInfo = MOSCOW) -> Appearance:
    """The stamp in the Russian convention for `certificate`, with times shown in `tz`."""
    return Appearance(stamp_style(tz), stamp_text_params(certificate, tz=tz))


def reserved_size(
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    timestamp_allowance: int = TIMESTAMP_TOKEN_ALLOWANCE,
    signature_allowance: int = SIGNATURE_ALLOWANCE,
) -> int:
    """Hex digits to reserve for the signature container: the certificates it embeds plus the allowances."""
    certs = sum(len(c.public_bytes(Encoding.DER)) for c in (certificate, *chain))
    return 2 * (certs + timestamp_allowance + signature_allowance)


def signature_allowance(certificate: x509.Certificate) -> int:
    """Bytes for the CMS around the certificates and the token when `certificate`'s key signs: the structure, the
    issuer's name (in the SignerInfo) and the longest signature value of the key."""
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        value = (key.key_size + 7) // 8
    elif isinstance(key, ec.EllipticCurvePublicKey):
        value = 2 * ((key.curve.key_size + 7) // 8) + 9  # DER SEQUENCE of two INTEGERs, each maybe one byte longer
    else:
        return SIGNATURE_ALLOWANCE
    return CMS_STRUCTURE_ALLOWANCE + len(certificate.issuer.public_bytes()) + value


def ensure_can_sign(
    cert: x509.Certificate, *, now: datetime, crl: x509.CertificateRevocationList | None = None
) -> None:
    """Refuse a certificate that is outside its validity period or listed on the issuer's current CRL."""
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateNotValidNow(f"certificate {cert.serial_number:x} is not valid at {now.isoformat()}")
    if crl is not None and crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
        raise CertificateRevoked(f"certificate {cert.serial_number:x} is revoked")


def field_states(reader: PdfFileReader) -> dict[str, bool]:
    """Every signature field of the document, by name, with whether it already holds a signature."""
    return {
        name: value is not None
        for name, value, _ref in fields.enumerate_sig_fields(reader, filled_status=None)
    }


def signature_meta(states: Mapping[str, bool], field_name: str, cert: x509.Certificate) -> signers.PdfSignatureMetadata:
    """What every signature of a round looks like; the first one in the document certifies it."""
    if field_name not in states:
        raise SignatureFieldMissing(f"no signature field {field_name!r}")
    if states[field_name]:
        raise SignatureFieldTaken(f"field {field_name!r} is already signed")
    return signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=not any(states.values()),
        docmdp_permissions=MDPPerm.FILL_FORMS,
        name=common_name(cert),
    )


def sign_field(
    pdf: bytes,
    field_name: str,
    identity: SignerIdentity,
    *,
    timestamper: TimeStamper,
    appearance: Appearance | None = None,
    crl: x509.CertificateRevocationList | None = None,
    now: datetime | None = None,
) -> bytes:
    """Sign `field_name` of `pdf` as an incremental update; the first signature of the document certifies it."""
    ensure_can_sign(identity.certificate, now=now or utcnow(), crl=crl)
    appearance = appearance or default_appearance(identity.certificate)
    reserved = reserved_size(
        identity.certificate, identity.chain, timestamp_allowance=token_allowance(timestamper),
        signature_allowance=signature_allowance(identity.certificate),
    )
    try:
        return _sign_once(pdf, field_name, identity, timestamper, appearance, reserved)
    except _ReservationTooSmall as exc:
        # The token was larger than its allowance said (an HTTP TSA's allowance has learnt its size by now):
        # sign again with at least twice the space rather than write a broken file.
        enlarged = max(2 * reserved, exc.required + 2 * RETRY_MARGIN, reserved_size(
            identity.certificate, identity.chain, timestamp_allowance=token_allowance(timestamper),
            signature_allowance=signature_allowance(identity.certificate) + RETRY_MARGIN,
        ))
        try:
            return _sign_once(pdf, field_name, identity, timestamper, appearance, enlarged)
        except _ReservationTooSmall as again:
            raise SigningFailed(f"could not sign field {field_name!r}: {again}") from again


class _PdfSigner(signers.PdfSigner):
    """pyHanko's signer, reading the certifying signature's permission without parsing its dictionary when the
    dictionary is spelt as ours are (`signing.pades.certification`); the rest is pyHanko's."""

    def _enforce_certification_constraints(self, reader: PdfFileReader) -> None:
        if self.signature_meta.certify:
            super()._enforce_certification_constraints(reader)
            return
        permission = docmdp_permission(reader)
        if permission is UNREAD:
            super()._enforce_certification_constraints(reader)
        elif permission is MDPPerm.NO_CHANGES:
            raise SigningError("Author signature forbids all changes")  # pyHanko's refusal, word for word


class _ReservationTooSmall(Exception):
    """The signature container did not fit the space reserved for it in the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        found = _REQUIRED.search(message)
        self.required = int(found.group(1)) if found else 0
        """Hex digits the container needed, as pyHanko reported them (0 when it did not say)."""


def _sign_once(
    pdf: bytes, field_name: str, identity: SignerIdentity, timestamper: TimeStamper, appearance: Appearance,
    reserved: int,
) -> bytes:
    with collector_paused():
        return _sign_with_pyhanko(pdf, field_name, identity, timestamper, appearance, reserved)


def _sign_with_pyhanko(
    pdf: bytes, field_name: str, identity: SignerIdentity, timestamper: TimeStamper, appearance: Appearance,
    reserved: int,
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signature_meta(field_states(writer.prev), field_name, identity.certificate)
    pdf_signer = _PdfSigner(meta, KeySigner(identity), timestamper=timestamper, stamp_style=appearance.style)
    output = io.BytesIO()
    step = pdf_signer.async_sign_pdf(
        writer, existing_fields_only=True, bytes_reserved=reserved,
        appearance_text_params=dict(appearance.text_params), output=output,
    )
    try:
        run_pyhanko(step, what=f"sign field {field_name!r}")
    except SigningFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, SigningError) and str(cause).startswith(_TOO_SMALL):
            raise _ReservationTooSmall(str(cause)) from cause
        raise
    return output.getvalue()


def run_pyhanko(step: Coroutine[Any, Any, T], *, what: str) -> T:
    """Run one of pyHanko's coroutines; its many exception types become SigningFailed or TimestampUnavailable."""
    try:
        return _runner().run(step)
    except DomainError:
        raise
    except Exception as exc:
        if isinstance(exc, TimestampRequestError) or isinstance(exc.__cause__, TimestampRequestError):
            raise TimestampUnavailable(f"the timestamp authority failed: {exc}") from exc
        raise SigningFailed(f"could not {what}: {exc}") from exc


_RUNNERS = threading.local()


def _runner() -> asyncio.Runner:
    """This thread's event loop, kept between signatures (a fresh loop per call costs more than the CMS)."""
    runner: asyncio.Runner | None = getattr(_RUNNERS, "runner", None)
    if runner is None:
        runner = _RUNNERS.runner = asyncio.Runner()
        atexit.register(runner.close)
    return runner


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value if isinstance(value, str) else value.decode()
