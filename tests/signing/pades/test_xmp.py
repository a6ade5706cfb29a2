"""pyHanko's own XMP packet read without lxml: the structures pyHanko's parser builds, or pyHanko's parser."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pyhanko.pdf_utils.metadata import model, xmp_xml
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pades import xmp
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from tests.support.pades import CERTS_DIR, PASSPHRASE, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)


def _packet(meta: model.DocumentMetadata) -> bytes:
    out = io.BytesIO()
    xmp_xml.serialise_xmp(xmp_xml.update_xmp_with_meta(meta), out)
    return out.getvalue()


OWN = _packet(model.DocumentMetadata(last_modified="now"))
"""What every signature writes: the modification date and the producer."""


def _both(packet: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any], int]:
    """The fast reading, pyHanko's, and how often the fast one asked pyHanko."""
    original = xmp.original_parse_xmp()
    asked = []

    def counting(inp: Any) -> Any:
        asked.append(1)
        return original(inp)

    monkeypatch.setattr(xmp, "_ORIGINAL_PARSE_XMP", counting)
    fast = xmp.parse_xmp(io.BytesIO(packet))
    return fast, original(io.BytesIO(packet)), len(asked)


def _updated(roots: list[Any]) -> bytes:
    """The packet pyHanko writes when it updates these structures (field order included)."""
    out = io.BytesIO()
    meta = model.DocumentMetadata(last_modified="2026-11-22T10:00:00+03:00")
    xmp_xml.serialise_xmp(xmp_xml.update_xmp_with_meta(meta, roots=roots), out)
    return out.getvalue()


def test_the_packet_a_signature_writes_reads_as_pyhanko_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = with_fields(plain_pdf(), ["a", "b"])
    for name in ("a", "b"):
        pdf = sign_field(pdf, name, person_identity(), timestamper=TSA)
        packet = PdfFileReader(io.BytesIO(pdf), strict=False).root["/Metadata"].data
        fast, theirs, asked = _both(packet, monkeypatch)
        assert asked == 0, "our own packet must not need the XML parser"
        assert fast == theirs and _updated(fast) == _updated(theirs)
        assert [str(v.value) for _k, v in fast[0]][1] == model.VENDOR


@pytest.mark.parametrize("packet", [
    _packet(model.DocumentMetadata(title="Акт", author="Иванов", last_modified="now")),  # more fields
    OWN.replace(b'pdf:Producer="', b'pdf:Producer="a&amp;b '),  # an entity
    OWN.replace(b'pdf:Producer="', b'pdf:Producer="http://example.ru/ '),  # pyHanko reads a URI
    OWN.replace(b'pdf:Producer="', b'pdf:Producer="\t'),  # whitespace XML normalises
    OWN.replace(b'rdf:about=""', b'rdf:about="x"'),
    OWN.replace(b"<rdf:Description ", b"<rdf:Description  "),
    OWN + b"\n",
    OWN.replace(b"\xef\xbb\xbf", b""),
], ids=["fields", "entity", "uri", "tab", "about", "spacing", "trailing", "no-bom"])
def test_other_packets_are_read_by_pyhanko(packet: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, theirs, asked = _both(packet, monkeypatch)
    assert asked == 1
    assert fast == theirs


def test_a_stream_not_at_its_start_is_read_by_pyhanko(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def record(inp: Any) -> list[Any]:
        calls.append(inp.tell())
        return []

    monkeypatch.setattr(xmp, "_ORIGINAL_PARSE_XMP", record)
    stream = io.BytesIO(b"x" + OWN)
    stream.seek(1)
    assert xmp.parse_xmp(stream) == [] and calls == [1]


def test_pyhankos_metadata_streams_use_the_fast_reader() -> None:
    assert xmp_xml.parse_xmp is xmp.parse_xmp
    stream = xmp_xml.MetadataStream(stream_data=OWN)
    assert stream.xmp == xmp.original_parse_xmp()(io.BytesIO(OWN))
