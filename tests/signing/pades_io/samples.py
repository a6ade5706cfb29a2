"""PDF inputs written byte by byte, with correct offsets, so each test knows exactly what it feeds the reader."""

from __future__ import annotations

import io
import os
import random
import struct
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from signing.pades.inputs import PdfFacts, PdfLimits

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
A4 = b"[0 0 595 842]"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
INFO = b"<< /Producer (Microsoft\\256 Word for Microsoft 365) /Title (Hybrid) >>"


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(body), extra, body)


def _text(line: str) -> bytes:
    return _stream(b"BT /F1 24 Tf 72 760 Td (%s) Tj ET" % line.encode("ascii"))


def _xref_table(offsets: Sequence[int]) -> bytes:
    """A classic table for objects 0..len(offsets): object 0 is the head of the free list."""
    rows = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % offset for offset in offsets]
    return b"xref\n0 %d\n" % len(rows) + b"".join(rows)


def _body(head: bytes, objects: Sequence[bytes]) -> tuple[bytes, list[int]]:
    """Objects numbered from 1 in order, and where each one starts."""
    out = bytearray(head)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return bytes(out), offsets


def classic_pdf(objects: Sequence[bytes], trailer: bytes = b"") -> bytes:
    """Object 1 is the catalog; `trailer` adds entries to the trailer dictionary."""
    body, offsets = _body(HEADER, objects)
    table = _xref_table(offsets)
    return body + table + b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer, len(body)
    )


def plain_pdf(pages: int = 1, filler: int = 0) -> bytes:
    """A classic-xref PDF with `pages` A4 pages of text; `filler` adds that many bytes to page 1's contents."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    padding = b"\n" + b"%" + b"x" * (filler - 2) if filler >= 2 else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox %s >>" % (kids, pages, A4),
        FONT,
        _stream(b"BT /F1 24 Tf 72 760 Td (Podpisant) Tj ET" + padding),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>"] * pages
    objects.append(b"<< /Producer (Podpisant test generator) >>")
    return classic_pdf(objects, trailer=b" /Info %d 0 R" % len(objects))


def _object_stream(packed: Sequence[tuple[int, bytes]]) -> tuple[bytes, bytes]:
    """The decoded data of an object stream holding `packed` (number, body) and its dictionary entries."""
    index, bodies = b"", b""
    for number, body in packed:
        index += b"%d %d " % (number, len(bodies))
        bodies += body + b"\n"
    return index + bodies, b" /Type /ObjStm /N %d /First %d" % (len(packed), len(index))


def _xref_stream(rows: Sequence[tuple[int, int, int]], first: int, size: int, extra: bytes = b"") -> bytes:
    """An uncompressed xref stream body listing objects `first`.. with (type, field 2, field 3) rows."""
    data = b"".join(struct.pack(">BIH", *row) for row in rows)
    return _stream(data, b" /Type /XRef /Size %d /W [1 4 2] /Index [%d %d]%s" % (size, first, len(rows), extra))


def hybrid_pdf() -> bytes:
    """What office suites write: a classic table for objects 1-4 whose trailer's /XRefStm points to an xref
    stream that alone lists the font and /Info (compressed in object stream 6), 6 itself and the stream 7."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>" % A4,
        _text("Hybrid"),
    ]
    body, offsets = _body(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n", objects)
    objstm_offset = len(body)
    data, entries = _object_stream([(5, FONT), (8, INFO)])
    body += b"6 0 obj\n%s\nendobj\n" % _stream(data, entries)
    xref_stream_offset = len(body)
    rows = [(2, 6, 0), (1, objstm_offset, 0), (1, xref_stream_offset, 0), (2, 6, 1)]  # objects 5, 6, 7, 8
    body += b"7 0 obj\n%s\nendobj\n" % _xref_stream(rows, first=5, size=9)
    table_offset = len(body)
    return body + _xref_table(offsets) + (
        b"trailer\n<< /Size 9 /Root 1 0 R /Info 8 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (xref_stream_offset, table_offset)
    )


def deflate_bomb_pdf(inflated: int = 64 * 1024 * 1024) -> bytes:
    """The page tree root sits in an object stream compressed twice, inflating about 20,000-fold."""
    data, entries = _object_stream([(2, b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>" + b" " * inflated)])
    packed = zlib.compress(zlib.compress(data, 9), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        None,
        _stream(packed, entries + b" /Filter [/FlateDecode /FlateDecode]"),
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s >>" % A4,
    ]
    out, offsets = bytearray(HEADER), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        if body is not None:
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    rows = [(0, 0, 65535), (1, offsets[0], 0), (2, 3, 0), (1, offsets[2], 0), (1, offsets[3], 0), (1, xref_offset, 0)]
    out += b"5 0 obj\n%s\nendobj\n" % _xref_stream(rows, first=0, size=6, extra=b" /Root 1 0 R")
    return bytes(out) + b"startxref\n%d\n%%%%EOF\n" % xref_offset


def encrypted_pdf(user_password: str) -> bytes:
    """A one-page PDF encrypted by pyHanko's writer (AES-256); an empty user password opens without asking."""
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 760 Td (Secret) Tj ET"))
    writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842]))
    writer.encrypt("owner-password", user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_cycle_pdf() -> bytes:
    """A page tree whose intermediate node lists itself among its kids."""
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 >>",
    ])


def deeply_nested_pdf(depth: int = 200_000) -> bytes:
    """A page whose /Annots is an array nested `depth` levels deep."""
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Annots %s >>" % (A4, b"[" * depth + b"]" * depth),
    ])


def mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    """`count` copies of `data`, each with a few random bytes overwritten, inserted or deleted; deterministic."""
    rng = random.Random(seed)
    variants = []
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(len(mutated))
            action = rng.choice(("flip", "flip", "flip", "insert", "delete"))
            if action == "flip":
                mutated[where] = rng.randrange(256)
            elif action == "insert":
                mutated[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            else:
                del mutated[where:where + rng.randint(1, 16)]
        variants.append(bytes(mutated))
    return variants


def pid_reporting_pdf(pid_file: Path) -> bytes:
    """Input for `sleep_through`: a PDF header line, then where to write the child's process id."""
    return b"%PDF-1.7\n" + str(pid_file).encode() + b"\n"


def sleep_through(data: bytes, limits: PdfLimits) -> PdfFacts:
    """A stand-in reader for the timeout test: reports its process id (see `pid_reporting_pdf`), never finishes."""
    Path(data.splitlines()[1].decode()).write_text(str(os.getpid()))
    time.sleep(3600)
    raise AssertionError("unreachable")


def hog_memory(data: bytes, limits: PdfLimits) -> PdfFacts:
    """A stand-in reader that asks for more memory than the child may have."""
    hoard = bytearray(limits.max_memory_bytes)
    raise AssertionError(f"allocated {len(hoard)} bytes past the cap")
