"""A faster reader for PDF hex strings, installed into pyHanko when `signing.pades` is imported.

pyHanko reads `<...>` one byte at a time through a Python generator. Every signature's /Contents is such a
string of ~20,000 hex digits, and pyHanko reads all earlier ones when it opens a signed document, so the k-th
signature of a document cost ~2× the first. This reader takes the string in one slice and decodes it with
`binascii`; its results and errors are those of the original (`tests/signing/pades/test_speedups.py`).
"""

from __future__ import annotations

import binascii
import re
from typing import IO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

__all__ = ["install", "read_hex_string"]

_ORIGINAL = generic.read_hex_string_from_stream
_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_CHUNK = 1 << 16


def read_hex_string(stream: IO[bytes]) -> generic.ByteStringObject | generic.TextStringObject:
    """Read `<hex digits and whitespace>` starting at the `<`; the stream ends just after the `>`."""
    stream.read(1)
    start = stream.tell()
    collected = bytearray()
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            raise PdfStreamError("Stream has ended unexpectedly")
        end = chunk.find(b">")
        if end >= 0:
            collected += chunk[:end]
            stream.seek(start + len(collected) + 1)
            break
        collected += chunk
    digits = bytes(collected).translate(None, _WHITESPACE)
    if not _HEX.fullmatch(digits):
        bad = re.search(rb"[^0-9A-Fa-f]", digits)
        raise PdfStreamError("Unexpected token in hex string: " + repr(bad.group() if bad else digits[:1]))
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install() -> None:
    """Make pyHanko's object reader use `read_hex_string` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string


def original_reader() -> object:
    """pyHanko's own reader, for the equivalence tests."""
    return _ORIGINAL
