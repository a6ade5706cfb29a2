"""Finalization: make a fully signed document self-sufficient for long-term validation (PAdES B-LTA).

Two incremental updates: a Document Security Store with every certificate and CRL each signature and its
timestamp needs, then a document timestamp over all of it whose own TSA chain and CRLs are embedded too.
After that the file validates years later with nothing but a trust root: no network, no service.
"""

from __future__ import annotations

import io
from datetime import datetime

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator import ValidationContext

from signing.errors import SigningFailed
from signing.pades.sign import run_pyhanko
from signing.pades.trust import TrustAnchors, validation_context

__all__ = ["DOCUMENT_TIMESTAMP_FIELD", "finalize"]

DOCUMENT_TIMESTAMP_FIELD = "PodpisantArchiveTimestamp"
DOC_TIMESTAMP_RESERVED = 2 * 12288
"""Hex digits for the document timestamp token with its TSA chain (no dry run needed)."""


async def _embed_validation_data(pdf: bytes, context: ValidationContext) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = [s for s in reader.embedded_signatures if s.sig_object.get("/Type") != "/DocTimeStamp"]
    if not signatures:
        raise SigningFailed("the document has no signatures to finalize")
    writer = IncrementalPdfFileWriter.from_reader(reader)
    for signature in signatures:
        paths = await collect_validation_info(signature, context)
        DocumentSecurityStore.supply_dss_in_writer(
            writer, signature.pkcs7_content, paths=paths, validation_context=context
        )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


async def _add_document_timestamp(pdf: bytes, context: ValidationContext, timestamper: TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = io.BytesIO()
    await signers.PdfTimeStamper(timestamper, field_name=DOCUMENT_TIMESTAMP_FIELD).async_timestamp_pdf(
        writer,
        "sha256",
        validation_context=context,
        bytes_reserved=DOC_TIMESTAMP_RESERVED,
        output=output,
        dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
    )
    return output.getvalue()


def finalize(pdf: bytes, *, trust: TrustAnchors, timestamper: TimeStamper, now: datetime | None = None) -> bytes:
    """Embed validation data for every signature and seal it with a document timestamp (PAdES B-LTA)."""
    context = validation_context(trust, moment=now)
    with_dss = run_pyhanko(_embed_validation_data(pdf, context), what="embed validation data")
    return run_pyhanko(_add_document_timestamp(with_dss, context, timestamper), what="add the document timestamp")
