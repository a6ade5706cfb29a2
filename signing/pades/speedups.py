"""Faster readers for PDF tokens, installed into pyHanko when `signing.pades` is imported.

pyHanko's lexer reads one byte at a time through Python generators. A signed document is re-read in full for
every signature (each earlier revision's cross-reference stream, every field), so the lexer is most of the cost
of opening a many-signature document. These readers take each token in one slice and fall back to pyHanko's
own code for anything unusual (escapes, nesting, errors); their results, stream positions and errors are those
of the originals (`tests/signing/pades/test_speedups.py`).

- hex strings `<...>`: every signature's /Contents is ~20,000 hex digits;
- the scan to the next delimiter or whitespace, under names, object headers and keywords;
- names without `#` escapes;
- literal strings `(...)` without nested parentheses;
- dictionaries made only of names, integers, references, plain strings, arrays and dictionaries (every
  cross-reference stream's dictionary is one): parsed from one slice with one regular expression;
- cross-reference stream entries: decoded from the decompressed data in one `struct.iter_unpack` (or row by
  row with `int.from_bytes` for odd widths) instead of three reads through the /W array per entry, and written
  straight into the section's tables instead of one `XRefEntry` per object (pyHanko's code for anything unusual);
- cross-reference stream dictionaries spelt exactly as pyHanko writes them: built from one match of one
  regular expression (keys shared, values made as the general parser makes them);
- integers and hex strings in those dictionaries: without `NumberObject.__new__`, and PDFDocEncoding decoded by
  a table instead of a generator per character (every trailer's /ID);

And one writer: an incremental update's copy of the original file goes to the output in one write (pyHanko copies it
in 4 KB chunks, and an in-memory output grows by reallocations that copy what it holds again and again: ~10 copies
of the file).

Earlier revisions' sections are read lazily by `signing.pades.sections`, on top of these.
"""

from __future__ import annotations

import binascii
import codecs
import io
import itertools
import operator
import re
import struct
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import IO, Any

from pyhanko.pdf_utils import generic, incremental_writer, misc, xref
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.misc import PdfStreamError, PdfStrictReadError
from pyhanko.pdf_utils.xref import ObjStreamRef, XRefEntry, XRefType

__all__ = [
    "XREF_DICTIONARY",
    "XREF_KEYS",
    "XRefRows",
    "decode_name",
    "fill_section",
    "install",
    "number",
    "original_reader",
    "originals",
    "parse_xref_stream",
    "pdf_string",
    "process_entries",
    "read_dictionary",
    "read_hex_string",
    "read_literal_string_bytes",
    "read_until_class",
    "rows_by_object",
    "write_original",
]

_ORIGINAL_DICTIONARY = generic.DictionaryObject.read_from_stream
_ORIGINAL_NAME = generic._decode_name
_ORIGINAL_LITERAL = generic._read_string_literal_bytes
_ORIGINALS: dict[str, object] = {
    "hex": generic.read_hex_string_from_stream,
    "until_class": misc._read_until_class,
    "name": _ORIGINAL_NAME,
    "literal": _ORIGINAL_LITERAL,
    "dictionary": _ORIGINAL_DICTIONARY,
    "xref_stream": xref.parse_xref_stream,
    "process_entries": xref.XRefSectionData.process_entries,
    "write_original": incremental_writer.IncrementalPdfFileWriter._write_header,
}
_ORIGINAL_WRITE_ORIGINAL = incremental_writer.IncrementalPdfFileWriter._write_header
_ORIGINAL_XREF_STREAM = xref.parse_xref_stream
_ORIGINAL_PROCESS_ENTRIES = xref.XRefSectionData.process_entries
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


_LITERAL = re.compile(rb"\((?P<body>(?:[^()\\]|\\[\s\S])*)\)")
"""A literal string without nested parentheses; escapes are decoded by `_literal_bytes`."""
_ESCAPE = re.compile(rb"\\(?:(?P<octal>[0-9]{1,3})|(?P<eol>[\r\n][\r\n]?)|(?P<char>[\s\S]))")
_ESCAPED_CHARS = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
                  **{bytes((c,)): bytes((c,)) for c in b"() /%<>[]#_&$\\"}}


def _unescape_one(found: re.Match[bytes]) -> bytes:
    octal, char = found.group("octal"), found.group("char")
    if octal is not None:
        if b"8" in octal or b"9" in octal or int(octal, 8) > 0xFF:
            raise _NotSimple  # pyHanko raises ValueError here; let it
        return bytes((int(octal, 8),))
    if char is not None:
        if char not in _ESCAPED_CHARS:
            raise _NotSimple
        return _ESCAPED_CHARS[char]
    return b""  # an escaped line break


def _literal_bytes(body: bytes) -> bytes:
    """The bytes of a literal string's body, escapes decoded as pyHanko decodes them."""
    return _ESCAPE.sub(_unescape_one, body) if b"\\" in body else body


def read_literal_string_bytes(stream: IO[bytes]) -> bytes:
    """The bytes of `(...)` starting at the `(`; strings with nested parentheses go to pyHanko."""
    start = stream.tell()
    collected = b""
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:
            break
        collected += chunk
        found = _LITERAL.match(collected)
        if found is not None:
            try:
                value = _literal_bytes(found.group("body"))
            except _NotSimple:
                break
            stream.seek(start + found.end())
            return value
        if b"(" in collected[1:]:
            break
    stream.seek(start)
    return _ORIGINAL_LITERAL(stream)


_NEW_INT = int.__new__
"""`NumberObject(text)` without its Python-level `__new__` (which only converts to int first)."""


def number(text: bytes) -> generic.NumberObject:
    """`NumberObject(int(text))` for decimal digits, without its Python-level `__new__`."""
    value: generic.NumberObject = _NEW_INT(generic.NumberObject, int(text))
    return value
_PDFDOC = generic._pdfDocEncoding
_PDFDOC_UNDEFINED = re.compile(b"[" + re.escape(bytes(b for b in range(256) if _PDFDOC[b] == "\u0000")) + b"]")
"""Bytes PDFDocEncoding leaves undefined: pyHanko's decoder raises on them and keeps the bytes."""
_PDFDOC_TABLE = {b: _PDFDOC[b] for b in range(256)}
_BOMS = (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF8)


def pdf_string(data: bytes) -> generic.ByteStringObject | generic.TextStringObject:
    """`generic.pdf_string` for bytes: PDFDocEncoding decoded by a table instead of a generator per character."""
    if data.startswith(_BOMS):
        return generic.pdf_string(data)
    if _PDFDOC_UNDEFINED.search(data):
        return generic.ByteStringObject(data)
    value = generic.TextStringObject(data.decode("latin-1").translate(_PDFDOC_TABLE))
    value.autodetected_encoding = generic.TextStringEncoding.PDF_DOC
    return value


class _NotSimple(Exception):
    """The token or dictionary needs pyHanko's own reader."""


_WS = rb"[\x00\t\n\x0c\r ]"
_NAME_CHARS = re.escape(bytes(c for c in range(0x21, 0x7F) if c not in b"()<>[]{}/%#"))
_SIMPLE_TOKEN = re.compile(
    _WS + rb"*(?:"
    rb"(?P<name>/[" + _NAME_CHARS + rb"]*)"
    rb"|(?P<ref>(?P<id>\d+)[\t\n\x0b\x0c\r ]+(?P<gen>\d+)[\t\n\x0b\x0c\r ]+R)(?=[^a-zA-Z])"
    rb"|(?P<int>[-+]?\d+)(?=[\x00\t\n\x0c\r ()<>\[\]{}/%])"
    rb"|(?P<open><<|\[)|(?P<close>>>|\])"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)"
    rb"|(?P<literal>\((?:[^()\\]|\\[\s\S])*\))"
    rb")"
)
"""One token of a simple dictionary; whatever it does not match sends the dictionary to pyHanko's reader."""
_INTEGER_ARRAY = re.compile(rb"((?:" + _WS + rb"*[-+]?\d+(?=[\x00\t\n\x0c\r \]]))*)" + _WS + rb"*\]")
"""The rest of an array made only of integers (after its `[`)."""
_INTEGER = re.compile(rb"[-+]?\d+")
_DICTIONARY_CHUNKS = (4096, 1 << 16, 1 << 20)
"""Slices tried in turn; a larger one only when the one before ended inside the dictionary (a signature's /Contents
is ~20 KB: the middle size keeps it from copying up to a megabyte of the file)."""
_MAX_DEPTH = 16
_INDIRECT_PEEK = 20
"""pyHanko tells a reference from a number by a regular expression over the next 20 bytes."""


class _SimpleParser:
    """Builds the objects pyHanko's reader would build for a simple dictionary, from one slice of the file."""

    def __init__(self, data: bytes, container_ref: Any) -> None:
        self.data = data
        self.truncated = False
        self.pos = 0
        self.container_ref = container_ref
        self.handler = container_ref.get_pdf_handler()

    def token(self) -> re.Match[bytes]:
        found = _SIMPLE_TOKEN.match(self.data, self.pos)
        if found is None or found.lastgroup is None:
            self.truncated = self.data.find(b">>", self.pos) < 0
            raise _NotSimple
        self.pos = found.end()
        return found

    def dictionary_body(self, depth: int) -> dict[generic.NameObject, generic.PdfObject]:
        """Entries up to the closing `>>` (the opening `<<` already read)."""
        if depth > _MAX_DEPTH:
            raise _NotSimple
        entries: dict[generic.NameObject, generic.PdfObject] = {}
        while True:
            found = self.token()
            if found.group("close") == b">>":
                return entries
            if found.lastgroup != "name":
                raise _NotSimple
            key = generic.NameObject(found.group("name").decode("ascii"))
            if key in entries:
                raise _NotSimple  # pyHanko warns or refuses; let it
            entries[key] = self.value(self.token(), depth)

    def value(self, found: re.Match[bytes], depth: int) -> generic.PdfObject:
        kind = found.lastgroup
        result: generic.PdfObject
        if kind == "name":
            result = generic.NameObject(found.group(kind).decode("ascii"))
        elif kind == "ref":
            if found.end() - found.start(kind) >= _INDIRECT_PEEK or int(found.group("id")) <= 0:
                raise _NotSimple
            result = generic.IndirectObject(int(found.group("id")), int(found.group("gen")), self.handler)
        elif kind == "int":
            result = _NEW_INT(generic.NumberObject, int(found.group(kind)))
        elif kind == "hex":
            digits = found.group(kind)[1:-1].translate(None, _WHITESPACE)
            result = pdf_string(binascii.unhexlify(digits + b"0" * (len(digits) % 2)))
        elif kind == "literal":
            result = generic.pdf_string(_literal_bytes(found.group(kind)[1:-1]))
        elif found.group("open") == b"<<":
            result = generic.DictionaryObject(self.dictionary_body(depth + 1))
        elif found.group("open") == b"[":
            result = self.array(depth + 1)
        else:
            raise _NotSimple
        result.container_ref = self.container_ref
        return result

    def array(self, depth: int) -> generic.ArrayObject:
        if depth > _MAX_DEPTH:
            raise _NotSimple
        numbers = _INTEGER_ARRAY.match(self.data, self.pos)
        if numbers is not None:  # /W, /Index, /ByteRange, /Kids-free boxes: no token can be a reference
            self.pos = numbers.end()
            items = generic.ArrayObject([_NEW_INT(generic.NumberObject, int(n))
                                         for n in _INTEGER.findall(numbers.group(1))])
            container = self.container_ref
            for item in items:
                item.container_ref = container
            return items
        items = generic.ArrayObject()
        while True:
            found = self.token()
            if found.group("close") == b"]":
                return items
            items.append(self.value(found, depth))


def read_dictionary(
    stream: IO[bytes], container_ref: Any, as_metadata_stream: bool = False,
    in_content_stream: generic.ContentOpReading = generic.ContentOpReading.NO,
) -> generic.DictionaryObject:
    """`DictionaryObject.read_from_stream`: a simple dictionary (or stream) from one slice, else pyHanko's reader."""
    start = stream.tell()
    if not in_content_stream:
        for size in _DICTIONARY_CHUNKS:
            stream.seek(start)
            parser = _SimpleParser(stream.read(size), container_ref)
            simple = _simple_dictionary(stream, start, parser, as_metadata_stream)
            if simple is not None:
                return simple
            if not (parser.truncated and len(parser.data) == size):
                break
        stream.seek(start)
    result: generic.DictionaryObject = _ORIGINAL_DICTIONARY(
        stream, container_ref, as_metadata_stream=as_metadata_stream, in_content_stream=in_content_stream
    )
    return result


XREF_DICTIONARY = re.compile(
    rb"<<\n/W \[ (?P<w>\d{1,2} \d{1,2} \d{1,2}) \]\n/Type /XRef\n/Filter /FlateDecode\n"
    rb"/Root (?P<root>[1-9]\d{0,8}) (?P<root_gen>\d{1,5}) R\n"
    rb"(?:/Info (?P<info>[1-9]\d{0,8}) (?P<info_gen>\d{1,5}) R\n)?"
    rb"/ID \[ <(?P<id0>[0-9a-f]*)> <(?P<id1>[0-9a-f]*)> \]\n/Size (?P<size>\d{1,10})\n"
    rb"(?:/Prev (?P<prev>\d{1,15})\n)?(?:/Index \[ (?P<index>(?:\d{1,10} )*)\]\n)?/Length (?P<length>\d{1,10})\n>>"
)
"""A cross-reference stream dictionary exactly as pyHanko writes it (keys in its order, one per line); any other
spelling goes through the general parser. References stay short of pyHanko's 20-byte peek and never name 0."""
XREF_KEYS = {key: generic.NameObject(key) for key in (
    "/W", "/Type", "/Filter", "/Root", "/Info", "/ID", "/Size", "/Prev", "/Index", "/Length")}


def _xref_dictionary(parser: _SimpleParser) -> dict[generic.NameObject, generic.PdfObject] | None:
    """The entries of a pyHanko-written cross-reference stream dictionary, built as the general parser builds
    them (same objects, order and containers) from one match; None for anything else."""
    found = XREF_DICTIONARY.match(parser.data)
    if found is None:
        return None
    container, handler = parser.container_ref, parser.handler
    numbers = _NEW_INT, generic.NumberObject

    def number(text: bytes) -> generic.NumberObject:
        value: generic.NumberObject = numbers[0](numbers[1], int(text))
        value.container_ref = container
        return value

    def array(items: list[Any]) -> generic.ArrayObject:
        result = generic.ArrayObject(items)
        for item in items:
            item.container_ref = container
        result.container_ref = container
        return result

    def reference(idnum: bytes, generation: bytes) -> generic.IndirectObject:
        value = generic.IndirectObject(int(idnum), int(generation), handler)
        value.container_ref = container
        return value

    def name(value: str) -> generic.NameObject:
        result = generic.NameObject(value)
        result.container_ref = container
        return result

    keys = XREF_KEYS
    entries: dict[generic.NameObject, generic.PdfObject] = {
        keys["/W"]: array([_NEW_INT(generic.NumberObject, int(w)) for w in found["w"].split()]),
        keys["/Type"]: name("/XRef"),
        keys["/Filter"]: name("/FlateDecode"),
        keys["/Root"]: reference(found["root"], found["root_gen"]),
    }
    if found["info"] is not None:
        entries[keys["/Info"]] = reference(found["info"], found["info_gen"])
    entries[keys["/ID"]] = array([pdf_string(binascii.unhexlify(h + b"0" * (len(h) % 2)))
                                  for h in (found["id0"], found["id1"])])
    entries[keys["/Size"]] = number(found["size"])
    if found["prev"] is not None:
        entries[keys["/Prev"]] = number(found["prev"])
    if found["index"] is not None:
        entries[keys["/Index"]] = array([_NEW_INT(generic.NumberObject, int(n)) for n in found["index"].split()])
    entries[keys["/Length"]] = number(found["length"])
    parser.pos = found.end()
    return entries


def _metadata_stream_class() -> type[generic.StreamObject]:
    """pyHanko's XMP stream class, imported when first needed as pyHanko's reader does (the import registers XML
    namespaces globally; without the XML library pyHanko builds a plain stream)."""
    try:
        from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream
    except ImportError:  # pragma: no cover - lxml is a dependency of the XMP writer every signature uses
        return generic.StreamObject
    return MetadataStream


def _simple_dictionary(
    stream: IO[bytes], start: int, parser: _SimpleParser, as_metadata_stream: bool
) -> generic.DictionaryObject | None:
    try:
        if parser.data[:2] != b"<<":
            return None
        entries = _xref_dictionary(parser)
        if entries is None:
            parser.pos = 2
            entries = parser.dictionary_body(0)
    except _NotSimple:
        return None
    stream.seek(start + parser.pos)
    payload = generic._maybe_read_stream_payload(stream, entries, parser.handler)
    if payload is None:
        return generic.DictionaryObject(entries)
    if as_metadata_stream:  # the class pyHanko's reader builds for an XMP stream (the catalog's /Metadata)
        return _metadata_stream_class()(entries, encoded_data=payload)
    return generic.StreamObject(entries, encoded_data=payload)


def _plain_ints(value: object) -> list[int] | None:
    """The integers of an array of plain non-negative integers, else None."""
    if not isinstance(value, generic.ArrayObject):
        return None
    numbers = [v for v in value if type(v) is generic.NumberObject and v >= 0]
    return [int(v) for v in numbers] if len(numbers) == len(value) else None


def _xref_layout(xref_stream: generic.StreamObject) -> tuple[list[int], list[int]] | None:
    """/W (three widths) and the /Index subsections, when both are plain and the subsections increase."""
    widths = _plain_ints(xref_stream.raw_get("/W") if "/W" in xref_stream else None)
    if "/Index" in xref_stream:
        index = _plain_ints(xref_stream.raw_get("/Index"))
    else:
        size = xref_stream.raw_get("/Size") if "/Size" in xref_stream else None
        index = [0, int(size)] if type(size) is generic.NumberObject and size >= 0 else None
    if widths is None or len(widths) != 3 or index is None or len(index) % 2:
        return None
    end = 0
    for start, count in zip(index[::2], index[1::2], strict=True):
        if start < end:
            return None  # pyHanko asserts increasing subsections; let it
        end = start + count
    return widths, index


def _field(row: bytes, offset: int, width: int, default: int) -> int:
    if not width:
        return default
    return int.from_bytes(row[offset:offset + width], "big", signed=width == 8)  # pyHanko reads 8 bytes signed


_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "q"}
"""struct codes for the field widths it can read as pyHanko does (eight bytes signed, the others unsigned)."""


@lru_cache(maxsize=32)
def _row_format(*widths: int) -> struct.Struct | None:
    """The struct reading a row of these widths as pyHanko does, when there is one."""
    if all(w in _STRUCT_CODES for w in widths):
        return struct.Struct(">" + "".join(_STRUCT_CODES[w] for w in widths))
    return None


def _rows(data: bytes, widths: list[int], rows: int) -> Iterator[tuple[int, int, int]]:
    """(type, field 2, field 3) of each of the first `rows` rows, pyHanko's defaults for absent fields."""
    w0, w1, w2 = widths
    width = w0 + w1 + w2
    row_format = _row_format(w0, w1, w2)
    if row_format is not None:
        return row_format.iter_unpack(data[:rows * width])
    return ((_field(row, 0, w0, 1), _field(row, w0, w1, 0), _field(row, w0 + w1, w2, 0))
            for row in (data[n * width:(n + 1) * width] for n in range(rows)))


def _idnums(index: list[int]) -> Iterable[int]:
    if len(index) == 2:
        return range(index[0], index[0] + index[1])
    return itertools.chain.from_iterable(map(range, index[::2], map(operator.add, index[::2], index[1::2])))


class XRefRows:
    """The entries of a cross-reference stream: iterated, pyHanko's `XRefEntry`s; handed to `process_entries`,
    written straight into the section's tables (no entry objects)."""

    def __init__(self, xref_stream: generic.StreamObject, strict: bool) -> None:
        self.xref_stream = xref_stream
        self.strict = strict

    def _plain(self) -> tuple[list[int], list[int], bytes] | None:
        """/W, /Index and the decoded data when the stream is plain and its data has the expected length."""
        layout = _xref_layout(self.xref_stream)
        if layout is None:
            return None
        widths, index = layout
        rows = sum(index[1::2]) * sum(widths)
        data = self.xref_stream.read_data(DecodePurpose.XREF_STREAM, expected_size=rows + sum(index[1::2]))
        if len(data) < rows or (self.strict and len(data) > rows):
            return None  # short or trailing data: pyHanko's defaults or errors
        return widths, index, data

    def __iter__(self) -> Iterator[XRefEntry]:
        plain = self._plain()
        if plain is None:
            yield from _ORIGINAL_XREF_STREAM(self.xref_stream, self.strict)
            return
        widths, index, data = plain
        for idnum, (kind, first, second) in zip(_idnums(index), _rows(data, widths, sum(index[1::2])), strict=False):
            if kind == 1:
                yield XRefEntry(xref_type=XRefType.STANDARD, idnum=idnum, location=first, generation=second)
            elif kind == 2:
                yield XRefEntry(xref_type=XRefType.IN_OBJ_STREAM, idnum=idnum, location=ObjStreamRef(first, second))
            elif kind == 0:
                yield XRefEntry(xref_type=XRefType.FREE, idnum=idnum, generation=second, location=None)

    def fill(self, section: xref.XRefSectionData, strict: bool) -> int | None:
        """What `process_entries` does with these entries, or None (nothing done) for an unusual stream."""
        plain = self._plain()
        if plain is None:
            return None
        widths, index, data = plain
        return fill_section(section, widths, index, data, strict)


def rows_by_object(widths: list[int], index: list[int], data: bytes) -> dict[int, tuple[int, int, int]]:
    """(type, field 2, field 3) of each object's row in a plain cross-reference stream, by object number."""
    return dict(zip(_idnums(index), _rows(data, widths, sum(index[1::2])), strict=False))


def fill_section(section: xref.XRefSectionData, widths: list[int], index: list[int], data: bytes,
                 strict: bool) -> int:
    """`process_entries` for the rows of a plain cross-reference stream (three widths, increasing subsections,
    at least the expected data): the tables filled straight from the rows, the highest object number returned."""
    standard, in_streams, freed = section.standard_xrefs, section.xrefs_in_objstm, section.freed
    explicit, streams_used = section.explicit_refs_in_revision, section.obj_streams_used
    highest = 0
    for idnum, (kind, first, second) in zip(_idnums(index), _rows(data, widths, sum(index[1::2])), strict=False):
        if kind not in (0, 1, 2):
            continue
        highest = max(idnum, highest)
        if kind != 2 and second > 0xFFFF:
            if strict:
                raise PdfStrictReadError(f"Illegal generation {second} for object ID {idnum}.")
            continue
        if idnum == 0:
            continue
        if kind == 1:
            standard[idnum] = (second, first)
            explicit.add((idnum, second))
        elif kind == 2:
            in_streams[idnum] = ObjStreamRef(first, second)
            streams_used.add(first)
            explicit.add((idnum, 0))
        else:
            freed[idnum] = second
            explicit.add((idnum, second - 1))
    return highest


def parse_xref_stream(xref_stream: generic.StreamObject, strict: bool = True) -> XRefRows:
    """`pyhanko.pdf_utils.xref.parse_xref_stream`: the same entries, decoded from the rows in one pass."""
    return XRefRows(xref_stream, strict)


def process_entries(section: xref.XRefSectionData, entries: Iterable[XRefEntry], strict: bool) -> int:
    """`XRefSectionData.process_entries`, filling the tables straight from a plain cross-reference stream."""
    if isinstance(entries, XRefRows):
        highest = entries.fill(section, strict)
        if highest is not None:
            return highest
    result: int = _ORIGINAL_PROCESS_ENTRIES(section, iter(entries), strict)
    return result


def write_original(writer: incremental_writer.IncrementalPdfFileWriter, stream: IO[bytes]) -> None:
    """`IncrementalPdfFileWriter._write_header`: the original file copied to `stream` in one write when it is
    in memory, pyHanko's chunked copy otherwise; the input's position is kept."""
    original = writer.input_stream
    if not isinstance(original, io.BytesIO):
        _ORIGINAL_WRITE_ORIGINAL(writer, stream)
        return
    stream.write(original.getvalue())  # the bytes it was made from, not a copy (a buffer view would copy them)


def install() -> None:
    """Make pyHanko's lexer use these readers (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
    misc._read_until_class = read_until_class
    generic._decode_name = decode_name
    generic._read_string_literal_bytes = read_literal_string_bytes
    generic.DictionaryObject.read_from_stream = staticmethod(read_dictionary)  # type: ignore[method-assign]
    xref.parse_xref_stream = parse_xref_stream  # type: ignore[assignment]
    xref.XRefSectionData.process_entries = process_entries  # type: ignore[method-assign,assignment]
    incremental_writer.IncrementalPdfFileWriter._write_header = write_original  # type: ignore[method-assign]


def originals() -> dict[str, object]:
    """pyHanko's own readers by kind ("hex", "until_class", "name", "literal", "dictionary", "xref_stream",
    "process_entries", "write_original"), for the equivalence tests."""
    return dict(_ORIGINALS)


def original_reader() -> object:
    """pyHanko's own hex-string reader, for the equivalence tests."""
    return _ORIGINALS["hex"]
