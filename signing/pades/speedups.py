"""Faster readers for PDF tokens, installed into pyHanko when `signing.pades` is imported.

pyHanko's lexer reads one byte at a time through Python generators. A signed document is re-read in full for
every signature (each earlier revision's cross-reference stream, every field), so the lexer is most of the cost
of opening a many-signature document. These readers take each token in one slice and fall back to pyHanko's
own code for anything unusual (escapes, nesting, errors); their results, stream positions and errors are those
of the originals (`tests/signing/pades/test_speedups.py`).

- hex strings `<...>`: every signature's /Contents is ~20,000 hex digits;
- the scan to the next delimiter or whitespace, under names, object headers and keywords;
- names without `#` escapes;
- literal strings `(...)` without escapes or nested parentheses.
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache
from typing import IO

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PdfStreamError

__all__ = [
    "decode_name",
    "install",
    "original_reader",
    "originals",
    "read_hex_string",
    "read_literal_string_bytes",
    "read_until_class",
]

_ORIGINAL_NAME = generic._decode_name
_ORIGINAL_LITERAL = generic._read_string_literal_bytes
_ORIGINALS: dict[str, object] = {
    "hex": generic.read_hex_string_from_stream,
    "until_class": misc._read_until_class,
    "name": _ORIGINAL_NAME,
    "literal": _ORIGINAL_LITERAL,
}
_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_PLAIN_NAME = re.compile(rb"[!-\"$-~]*")
"""Name bytes that need no decoding: printable ASCII without '#' (delimiters were already cut off)."""
_CHUNK = 1 << 16
_TOKEN_CHUNK = 64


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


@lru_cache(maxsize=16)
def _class_pattern(class_chars: bytes) -> re.Pattern[bytes]:
    return re.compile(b"[" + re.escape(class_chars) + b"]")


def read_until_class(class_chars: bytes, stream: IO[bytes], maxchars: int | None = None) -> tuple[bytes, bool]:
    """Bytes up to the first of `class_chars` (consumed), and whether the stream ended first.

    At most `maxchars` bytes are read when it is given, as pyHanko's `_read_until_class` does.
    """
    pattern = _class_pattern(class_chars)
    start = stream.tell()
    collected = b""
    while True:
        want = _TOKEN_CHUNK if not maxchars else min(_TOKEN_CHUNK, maxchars - len(collected))
        if want <= 0:
            return collected, False
        chunk = stream.read(want)
        if not chunk:
            return collected, True
        found = pattern.search(chunk)
        if found is not None:
            collected += chunk[: found.start()]
            stream.seek(start + len(collected) + 1)
            return collected, False
        collected += chunk


def decode_name(name_bytes: bytes) -> generic.NameObject:
    """The name object for the bytes after `/`; escaped or non-ASCII names go to pyHanko's decoder."""
    if _PLAIN_NAME.fullmatch(name_bytes):
        return generic.NameObject("/" + name_bytes.decode("ascii"))
    return _ORIGINAL_NAME(name_bytes)


def read_literal_string_bytes(stream: IO[bytes]) -> bytes:
    """The bytes of `(...)` starting at the `(`; strings with escapes or nested parentheses go to pyHanko."""
    start = stream.tell()
    stream.read(1)
    collected = b""
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:
            break
        end = chunk.find(b")")
        if end >= 0:
            collected += chunk[:end]
            if b"(" in collected or b"\\" in collected:
                break
            stream.seek(start + len(collected) + 2)
            return collected
        collected += chunk
    stream.seek(start)
    return _ORIGINAL_LITERAL(stream)


def install() -> None:
    """Make pyHanko's lexer use these readers (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
    misc._read_until_class = read_until_class
    generic._decode_name = decode_name
    generic._read_string_literal_bytes = read_literal_string_bytes


def originals() -> dict[str, object]:
    """pyHanko's own readers by kind ("hex", "until_class", "name", "literal"), for the equivalence tests."""
    return dict(_ORIGINALS)


def original_reader() -> object:
    """pyHanko's own hex-string reader, for the equivalence tests."""
    return _ORIGINALS["hex"]
