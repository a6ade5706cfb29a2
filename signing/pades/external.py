"""Two-phase signing for keys that never leave the signer's browser (WebCrypto).

`prepare_external` writes the signature placeholder and returns the DER of the CMS signed attributes: that is
what the browser signs (WebCrypto hashes its input itself, so the attributes go to it whole). The returned
`ExternalPreparation` is plain data and can be stored; `finish_external` may run in another process, takes the
signature (WebCrypto's raw r‖s or DER) and embeds it with a timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.clock import utcnow
from signing.errors import ExternalSignatureInvalid, StalePreparation
from signing.pades.sign import (
    Appearance,
    default_appearance,
    ensure_can_sign,
    field_states,
    reserved_size,
    run_pyhanko,
    signature_meta,
)
from signing.pades.trust import to_asn1_cert

__all__ = ["ExternalPreparation", "finish_external", "prepare_external", "signature_to_der"]

STATE_VERSION = 1


@dataclass(frozen=True)
class ExternalPreparation:
    """Everything `finish_external` needs, independent of the process that prepared it."""

    field_name: str
    """The signatory's pre-created field."""
    base_sha256: str
    """SHA-256 of the document revision the signature goes into; a different current revision makes it stale."""
    to_be_signed: bytes
    """DER of the CMS signed attributes (a SET OF Attribute): the exact bytes the browser signs."""
    prepared_pdf: bytes
    """The document with the signature placeholder written in."""
    document_digest: bytes
    """SHA-256 over the placeholder document's byte range (inside `to_be_signed` as messageDigest)."""
    reserved_region: tuple[int, int]
    """Start and end offsets of the placeholder (the hex string of /Contents)."""
    certificate: x509.Certificate
    """The signer's certificate; its public key must verify the signature."""
    chain: tuple[x509.Certificate, ...]
    """Issuing CA up to the root, embedded with the signature."""
    prepared_at: datetime

    def to_json(self) -> str:
        """A compact JSON document for storage (binary parts base64)."""
        b64 = _b64
        return json.dumps({
            "v": STATE_VERSION,
            "field": self.field_name,
            "base": self.base_sha256,
            "tbs": b64(self.to_be_signed),
            "pdf": b64(self.prepared_pdf),
            "digest": b64(self.document_digest),
            "region": list(self.reserved_region),
            "cert": b64(self.certificate.public_bytes(Encoding.DER)),
            "chain": [b64(c.public_bytes(Encoding.DER)) for c in self.chain],
            "at": self.prepared_at.isoformat(),
        })

    @classmethod
    def from_json(cls, text: str) -> ExternalPreparation:
        try:
            data = json.loads(text)
            if data["v"] != STATE_VERSION:
                raise ValueError(f"state version {data['v']}")
            load = base64.b64decode
            start, end = data["region"]
            return cls(
                field_name=data["field"],
                base_sha256=data["base"],
                to_be_signed=load(data["tbs"]),
                prepared_pdf=load(data["pdf"]),
                document_digest=load(data["digest"]),
                reserved_region=(int(start), int(end)),
                certificate=x509.load_der_x509_certificate(load(data["cert"])),
                chain=tuple(x509.load_der_x509_certificate(load(c)) for c in data["chain"]),
                prepared_at=datetime.fromisoformat(data["at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StalePreparation(f"the stored preparation cannot be read: {exc}") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _external_signer(
    certificate: x509.Certificate, chain: tuple[x509.Certificate, ...], signature_value: bytes = b"\x00" * 72
) -> signers.ExternalSigner:
    """pyHanko's signer for a value computed elsewhere; the default value only serves the preparation."""
    registry = SimpleCertificateStore()
    registry.register_multiple([to_asn1_cert(c) for c in chain])
    return signers.ExternalSigner(
        signing_cert=to_asn1_cert(certificate), cert_registry=registry, signature_value=signature_value
    )


def prepare_external(
    pdf: bytes,
    field_name: str,
    certificate: x509.Certificate,
    chain: tuple[x509.Certificate, ...],
    *,
    appearance: Appearance | None = None,
    crl: x509.CertificateRevocationList | None = None,
    now: datetime | None = None,
) -> ExternalPreparation:
    """Write the placeholder into `field_name` and return what the browser must sign."""
    now = now or utcnow()
    ensure_can_sign(certificate, now=now, crl=crl)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signature_meta(field_states(writer.prev), field_name, certificate)
    signer = _external_signer(certificate, chain)
    appearance = appearance or default_appearance(certificate)
    pdf_signer = signers.PdfSigner(meta, signer, stamp_style=appearance.style)
    output = io.BytesIO()
    digest, _tbs, _out = run_pyhanko(
        pdf_signer.async_digest_doc_for_signing(
            writer,
            existing_fields_only=True,
            bytes_reserved=reserved_size(certificate, chain),
            appearance_text_params=dict(appearance.text_params),
            output=output,
        ),
        what=f"prepare field {field_name!r}",
    )
    attrs = run_pyhanko(
        signer.signed_attrs(
            digest.document_digest, "sha256", attr_settings=PdfCMSSignedAttributes(signing_time=now), use_pades=True
        ),
        what="build the signed attributes",
    )
    return ExternalPreparation(
        field_name=field_name,
        base_sha256=hashlib.sha256(pdf).hexdigest(),
        to_be_signed=attrs.dump(),
        prepared_pdf=output.getvalue(),
        document_digest=digest.document_digest,
        reserved_region=(digest.reserved_region_start, digest.reserved_region_end),
        certificate=certificate,
        chain=chain,
        prepared_at=now,
    )


def signature_to_der(signature: bytes, certificate: x509.Certificate) -> bytes:
    """Accept WebCrypto's raw ECDSA r‖s (or DER as is) and return the DER form CMS carries."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        size = (key.curve.key_size + 7) // 8
        if len(signature) == 2 * size:
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            return encode_dss_signature(r, s)
    return signature


def _check_signature(prep: ExternalPreparation, der_signature: bytes) -> None:
    key = prep.certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(der_signature, prep.to_be_signed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(der_signature, prep.to_be_signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise ExternalSignatureInvalid("the certificate's key type cannot sign documents")
    except (InvalidSignature, ValueError) as exc:
        raise ExternalSignatureInvalid("the signature does not match the prepared document and certificate") from exc


def finish_external(
    prep: ExternalPreparation,
    signature: bytes,
    *,
    timestamper: TimeStamper,
    current_pdf: bytes | None = None,
) -> bytes:
    """Embed the browser's signature (checked first) with a timestamp; the result is the signed document."""
    if current_pdf is not None and hashlib.sha256(current_pdf).hexdigest() != prep.base_sha256:
        raise StalePreparation("the document changed after this signature was prepared")
    der_signature = signature_to_der(signature, prep.certificate)
    _check_signature(prep, der_signature)
    signer = _external_signer(prep.certificate, prep.chain, der_signature)
    signed_attrs = cms.CMSAttributes.load(prep.to_be_signed)
    container = run_pyhanko(
        signer.async_sign_prescribed_attributes("sha256", signed_attrs=signed_attrs, timestamper=timestamper),
        what="assemble the signature",
    )
    output = io.BytesIO(prep.prepared_pdf)
    digest = PreparedByteRangeDigest(prep.document_digest, *prep.reserved_region)
    run_pyhanko(PdfTBSDocument.async_finish_signing(output, digest, container), what="embed the signature")
    return output.getvalue()
