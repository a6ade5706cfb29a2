"""Real material for PAdES tests: people's certificates from the development issuing CA, and plain PDFs."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields

from signing.clock import utcnow
from signing.config import PROJECT_ROOT, Settings
from signing.pades.identity import SignerIdentity
from signing.pki import DevPki, ensure_dev_pki, load_dev_pki
from signing.pki.issuer import Person, issue_certificate, issuing_ca
from signing.pki.keys import generate_signing_key

CERTS_DIR = PROJECT_ROOT / "certs-dev"
PASSPHRASE = Settings().ca_key_passphrase.encode()


@cache
def dev_pki(directory: Path = CERTS_DIR) -> DevPki:
    ensure_dev_pki(directory, PASSPHRASE, "http://127.0.0.1:5000")
    return load_dev_pki(directory, PASSPHRASE)


def person_identity(
    name: str = "Иванова Мария Сергеевна", *, now: datetime | None = None, days: int = 365
) -> SignerIdentity:
    """A P-256 certificate for `name` from the development issuing CA, made by the service's own issuer."""
    ca = issuing_ca(Settings(certs_dir=CERTS_DIR))
    key = generate_signing_key()
    person = Person(full_name=name, email="signer@example.ru")
    cert = issue_certificate(ca, person, key.public_key(), now=now or utcnow(), validity=timedelta(days=days))
    return SignerIdentity(certificate=cert, private_key=key, chain=ca.chain)


def plain_pdf(pages: int = 1, *, padding_bytes: int = 0, text: str = "Act No. 1") -> bytes:
    """An unsigned A4 PDF with `pages` pages of text; `padding_bytes` of incompressible data make it large."""
    writer = PdfFileWriter()
    for number in range(pages):
        content = f"BT /F1 14 Tf 72 770 Td ({text}, page {number + 1}) Tj ET".encode()
        page = RawContent(content, box=BoxConstraints(595, 842))
        font = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        })
        page_dict = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
            generic.NameObject("/Contents"): writer.add_object(generic.StreamObject(stream_data=page.data)),
            generic.NameObject("/Resources"): generic.DictionaryObject({
                generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font}),
            }),
        })
        writer.insert_page(page_dict)
    if padding_bytes:
        blob = writer.add_object(generic.StreamObject(stream_data=os.urandom(padding_bytes)))
        writer.root[generic.NameObject("/PodpisantPadding")] = blob
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_fields(pdf: bytes, names: list[str]) -> bytes:
    """Append an empty signature field per name on the last page, without the signature-page layout."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    last = int(writer.root["/Pages"]["/Count"]) - 1
    for index, name in enumerate(names):
        y = 40 + (index % 10) * 75
        x = 40 + (index // 10) * 270
        fields.append_signature_field(writer, fields.SigFieldSpec(name, box=(x, y, x + 250, y + 70), on_page=last))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def object_shape(value: object, reader: object = None) -> object:
    """A read PDF object down to its leaves: types, values, containers, and where references point (to which
    handler, or whether to `reader` when it is given)."""
    if isinstance(value, generic.IndirectObject):
        handler = value.get_pdf_handler()
        leaf: object = (value.idnum, value.generation, id(handler) if reader is None else handler is reader)
    elif isinstance(value, dict):
        leaf = [(object_shape(k, reader), object_shape(v, reader)) for k, v in value.items()]
    elif isinstance(value, list):
        leaf = [object_shape(v, reader) for v in value]
    else:
        leaf = value
    ref = getattr(value, "container_ref", None)
    if reader is not None and ref is not None:
        ref = type(ref).__name__, getattr(ref, "idnum", None), getattr(ref, "generation", None), \
            ref.get_pdf_handler() is reader
    return type(value).__name__, getattr(value, "autodetected_encoding", None), leaf, ref
