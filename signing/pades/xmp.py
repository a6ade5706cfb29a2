"""The XMP packet pyHanko writes into a signed document, read back without an XML parser.

Every signature's incremental update rewrites the catalog's XMP metadata (modification date, producer); from the
second signature on, pyHanko first parses the packet the previous signature wrote (lxml and its tree walk, ~40 us
of each later signature). A packet exactly as pyHanko serialises its own metadata (one description with
printable ASCII attribute values) is read with one regular expression into the structure pyHanko's parser builds;
any other packet is pyHanko's parser's.
"""

from __future__ import annotations

import io
import re
from typing import Any, BinaryIO

from pyhanko.pdf_utils.metadata import model, xmp_xml

__all__ = ["install", "original_parse_xmp", "parse_xmp"]

_ORIGINAL_PARSE_XMP = xmp_xml.parse_xmp
_VALUE = rb'[ !#-%\'-;=?-~]*'
"""An attribute value that needs no decoding: printable ASCII without quotes, `&`, `<` and `>` (no entity, no
whitespace that XML would normalise)."""
_OWN_PACKET = re.compile(
    rb'<\?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"\?>\n'
    rb'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="' + _VALUE + rb'">\n'
    rb'<rdf:RDF xmlns:rdf="http://www\.w3\.org/1999/02/22-rdf-syntax-ns#">\n'
    rb'<rdf:Description xmlns:rdf="http://www\.w3\.org/1999/02/22-rdf-syntax-ns#" '
    rb'xmlns:xmp="http://ns\.adobe\.com/xap/1\.0/" xmlns:pdf="http://ns\.adobe\.com/pdf/1\.3/" '
    rb'xmp:ModifyDate="(?P<modified>' + _VALUE + rb')" pdf:Producer="(?P<producer>' + _VALUE + rb')" '
    rb'rdf:about=""/>\n</rdf:RDF>\n</x:xmpmeta>\n<\?xpacket end="r"\?>'
)
"""The packet pyHanko writes for a document whose metadata is its modification date and producer."""


def _simple(value: bytes) -> model.XmpValue | None:
    text = value.decode("ascii")
    return None if xmp_xml.HTTP_URI_RE.match(text) else model.XmpValue(text)  # pyHanko makes URIs XmpUri


def parse_xmp(inp: BinaryIO) -> list[model.XmpStructure]:
    """`xmp_xml.parse_xmp`: pyHanko's own packet from one match, anything else by pyHanko's parser."""
    if isinstance(inp, io.BytesIO) and inp.tell() == 0:
        found = _OWN_PACKET.fullmatch(inp.getvalue())
        if found is not None:
            modified, producer = _simple(found["modified"]), _simple(found["producer"])
            if modified is not None and producer is not None:
                return [model.XmpStructure({
                    model.XMP_MODDATE: modified, model.PDF_PRODUCER: producer, model.RDF_ABOUT: model.XmpValue(""),
                })]
    return _ORIGINAL_PARSE_XMP(inp)


def install() -> None:
    """Make pyHanko's XMP streams parse their packet with `parse_xmp` (idempotent)."""
    xmp_xml.parse_xmp = parse_xmp


def original_parse_xmp() -> Any:
    """pyHanko's own parser, for the equivalence tests."""
    return _ORIGINAL_PARSE_XMP
