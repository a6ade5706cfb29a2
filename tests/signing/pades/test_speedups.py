"""The fast token readers give exactly what pyHanko's own readers give: values, stream positions, errors."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

import pytest
from pyhanko.pdf_utils import generic, misc, xref
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError, PdfStreamError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pades import speedups
from signing.pades.layout import SignatorySlot, prepare_for_round
from signing.pades.sign import sign_field
from signing.pades.speedups import (
    decode_name,
    original_reader,
    originals,
    parse_xref_stream,
    process_entries,
    read_dictionary,
    read_hex_string,
    read_literal_string_bytes,
    read_until_class,
)
from signing.pades.timestamps import dev_timestamper
from tests.signing.pades_io.samples import hybrid_pdf
from tests.support.pades import CERTS_DIR, PASSPHRASE, object_shape, person_identity, plain_pdf

SAMPLES = [
    b"<>", b"<00>", b"<48656C6C6F>", b"<48 65\n6c\r\n6C\t6f>", b"<ABC>", b"<feff0041>",
    b"<" + b"0" * 40000 + b">", b"<3031> trailing /Name", b"<\x0048>",
]


def _read(reader: Callable[[Any], Any], data: bytes) -> tuple[object, int]:
    stream = io.BytesIO(data)
    value = reader(stream)
    return (type(value), bytes(value.original_bytes)), stream.tell()


@pytest.mark.parametrize("data", SAMPLES)
def test_same_value_type_and_position_as_pyhanko(data: bytes) -> None:
    assert _read(read_hex_string, data) == _read(original_reader(), data)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"<4G>", b"<12", b"<12 /Name>"])
def test_same_refusals_as_pyhanko(data: bytes) -> None:
    with pytest.raises(PdfStreamError):
        _read(original_reader(), data)  # type: ignore[arg-type]
    with pytest.raises(PdfStreamError):
        _read(read_hex_string, data)


def test_random_hex_strings_read_alike() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = bytes(rng.choice(b"0123456789abcdefABCDEF \n\r\t") for _ in range(rng.randint(0, 300)))
        data = b"<" + body + b">" + bytes(rng.choice(b" /<>()") for _ in range(3))
        assert _read(read_hex_string, data) == _read(original_reader(), data)  # type: ignore[arg-type]


def test_the_fast_reader_is_the_one_pyhanko_uses() -> None:
    import signing.pades  # noqa: F401 - installs it

    assert generic.read_hex_string_from_stream is read_hex_string


UNTIL_CLASS_SAMPLES = [
    b"", b"abc", b"abc def", b"/Name/Other", b"obj\n<<", b"12 0 obj", b"x" * 200 + b" y", b"\x00lead", b"tail%c",
]


def _until_class(reader: Callable[..., tuple[bytes, bool]], data: bytes, chars: bytes, maxchars: int | None) -> object:
    stream = io.BytesIO(data)
    stream.seek(1 if data[:1] == b"/" else 0)
    return reader(chars, stream, maxchars=maxchars), stream.tell()


@pytest.mark.parametrize("data", UNTIL_CLASS_SAMPLES)
@pytest.mark.parametrize("maxchars", [None, 1, 3, 20, 150])
@pytest.mark.parametrize("chars", [misc.PDF_WHITESPACE, misc.PDF_WHITESPACE + misc.PDF_DELIMITERS])
def test_scanning_to_a_delimiter_stops_where_pyhankos_scan_stops(
    data: bytes, maxchars: int | None, chars: bytes
) -> None:
    original = originals()["until_class"]
    assert _until_class(read_until_class, data, chars, maxchars) == _until_class(original, data, chars, maxchars)  # type: ignore[arg-type]


NAME_SAMPLES = [b"", b"Type", b"Adobe.PPKLite", b"ETSI.CAdES.detached", b"A#20B", b"A#2", b"caf\xc3\xa9", b"\xe9t\xe9",
                b"Name\x01", b"!\"$&'*+,-.:;=?@^_`|~"]


def _name(decoder: Callable[[bytes], Any], data: bytes) -> tuple[type, str] | str:
    try:
        value = decoder(data)
    except PdfReadError as error:
        return f"refused: {error}"
    return type(value), str(value)


@pytest.mark.parametrize("data", NAME_SAMPLES)
def test_names_decode_as_pyhanko_decodes_them(data: bytes) -> None:
    assert _name(decode_name, data) == _name(originals()["name"], data)  # type: ignore[arg-type]


LITERAL_SAMPLES = [
    b"()", b"(signer0)", b"(D:20261121204131Z) /Next", b"(a(b)c)", b"(esc\\)aped)", b"(\\376\\377\\004\\037)",
    b"(line\\\nbreak)", b"(" + b"x" * 300 + b")", b"(unterminated", b"(nested (unterminated)", b"(bad \\q)",
    b"(\\072\\057\\0012)", b"(\\8)", b"(\\777)", b"(a\\\r\nb\\\n\rc\\\n\nd)",
    b"(\\(\\) \\\\ \\n\\r\\t\\b\\f \\/\\%\\#)",
    b"(D\\07220261121204131Z)", b"(" + b"y" * 100 + b"\\050)", b"(tail\\",
]


def _literal(reader: Callable[[Any], bytes], data: bytes) -> tuple[bytes, int] | str:
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"
    return value, stream.tell()


@pytest.mark.parametrize("data", LITERAL_SAMPLES)
def test_literal_strings_read_as_pyhanko_reads_them(data: bytes) -> None:
    assert _literal(read_literal_string_bytes, data) == _literal(originals()["literal"], data)  # type: ignore[arg-type]


def test_a_signed_document_reads_to_the_same_objects_with_and_without_the_fast_readers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slots = [SignatorySlot("first", "Иванов Иван"), SignatorySlot("second", "Петров Пётр")]
    pdf = prepare_for_round(plain_pdf(2), slots)
    pdf = sign_field(pdf, "first", person_identity("Иванов Иван Иванович"),
                     timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE))
    fast = _object_dump(pdf)
    for module, name, key in ((misc, "_read_until_class", "until_class"), (generic, "_decode_name", "name"),
                              (generic, "_read_string_literal_bytes", "literal"),
                              (generic, "read_hex_string_from_stream", "hex")):
        monkeypatch.setattr(module, name, originals()[key])
    monkeypatch.setattr(generic.DictionaryObject, "read_from_stream", staticmethod(originals()["dictionary"]))  # type: ignore[arg-type]
    assert _object_dump(pdf) == fast


def _object_dump(pdf: bytes) -> list[tuple[str, bytes]]:
    """Every object of the document, by type and as pyHanko writes it back out."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    objects = [reader.trailer.flatten()]
    objects += [reader.get_object(generic.Reference(n, 0, reader)) for n in range(1, int(reader.trailer["/Size"]))]
    dump = []
    for obj in objects:
        out = io.BytesIO()
        obj.write_to_stream(out)
        dump.append((type(obj).__name__, out.getvalue()))
    return dump


DICTIONARY_SAMPLES = [
    b"<<>>", b"<< >>", b"<</Type/XRef/W[1 8 2]/Size 165/Prev 1467317/Index[0 1 162 3]/Length 46>>",
    b"<<\n/W [ 1 8 2 ]\n/Type /XRef\n/Root 1 0 R\n/ID [ <df9e3c09> <CC3F 34d> ]\n/Length 3\n>>\nstream\nabc\nendstream",
    b"<< /Kids [ 3 0 R 4 0 R ] /Count -2 /Sub << /A (plain) /B [ [ 1 ] << >> ] >> >> trailing",
    b"<< /Ref 0 0 R >>", b"<< /Big 1234567890 1234567890 R >>", b"<< /Num 1 0 Rx >>", b"<< /F 1.5 >>",
    b"<< /T (esc\\)aped) >>", b"<< /N#20x 1 >>", b"<< /Dup 1 /Dup 2 >>", b"<< /B true /N null >>",
    b"<< /A 1 % comment\n >>", b"<< /Unterminated 1", b"<< /Bad <4G> >>", b"<< (key) 1 >>", b"<</A 12abc>>",
    b"<< /S /Name\x80 >>", b"<< /L 5 >>stream\r\n12345\r\nendstream",
    b"<< /Length 5 >>stream\r\n12345\r\nendstream", b"<< /Length 2 0 R >>stream\n12345\nendstream",
    b"<< /I [] /J [ ] /K [1 -2 +3] /L [ 0 1 10 1 ] >>", b"<< /A [12 0 R 5] >>", b"<< /A [1 2 >>", b"<< /A [1.5 2] >>",
    b"<< /A [1 2]>>", b"<< /A [007 -0] /B [1\x002] >>", b"<< /A [1 2 R] >>", b"<< /A [1%c\n2] >>",
]


def _dictionary(reader: Callable[..., Any], data: bytes) -> object:
    pdf = PdfFileReader(io.BytesIO(plain_pdf(1)), strict=False)
    container = generic.Reference(7, 0, pdf)
    stream = io.BytesIO(data)
    try:
        value = reader(stream, container)
    except Exception as error:
        return f"refused: {type(error).__name__}"
    out = io.BytesIO()
    value.write_to_stream(out)
    refs = [(type(v).__name__, v.container_ref) for v in value.values()]
    return type(value).__name__, out.getvalue(), getattr(value, "encoded_data", None), refs, stream.tell()


@pytest.mark.parametrize("data", DICTIONARY_SAMPLES)
def test_dictionaries_read_as_pyhanko_reads_them(data: bytes) -> None:
    assert _dictionary(read_dictionary, data) == _dictionary(originals()["dictionary"], data)  # type: ignore[arg-type]


@cache
def _container_document() -> PdfFileReader:
    return PdfFileReader(io.BytesIO(plain_pdf(1)), strict=False)


def _deep(reader: Callable[..., Any], data: bytes) -> object:
    stream = io.BytesIO(data)
    try:
        value = reader(stream, generic.Reference(7, 0, _container_document()))
    except Exception as error:
        return f"refused: {type(error).__name__}"
    return object_shape(value), getattr(value, "encoded_data", None), stream.tell()


_XREF_DICT = (b"<<\n/W [ 1 8 2 ]\n/Type /XRef\n/Filter /FlateDecode\n/Root 1 0 R\n/Info 10 0 R\n"
              b"/ID [ <e7bc2998bf7496069cba726e561e096f> <2fcbc4200212854a88b08faa68ec8468> ]\n/Size 88\n"
              b"/Prev 1001128\n/Index [ 0 1 1 2 10 1 13 75 ]\n/Length 3\n>>\nstream\nabc\nendstream\n")
XREF_DICTIONARY_SAMPLES = {
    "as pyHanko writes it": _XREF_DICT,
    "no /Info": _XREF_DICT.replace(b"/Info 10 0 R\n", b""),
    "no /Prev": _XREF_DICT.replace(b"/Prev 1001128\n", b""),
    "no /Index": _XREF_DICT.replace(b"/Index [ 0 1 1 2 10 1 13 75 ]\n", b""),
    "empty /Index": _XREF_DICT.replace(b"[ 0 1 1 2 10 1 13 75 ]", b"[ ]"),
    "odd and empty /ID": _XREF_DICT.replace(b"<e7bc2998bf7496069cba726e561e096f>", b"<abc>").replace(
        b"<2fcbc4200212854a88b08faa68ec8468>", b"<>"),
    "text-like /ID": _XREF_DICT.replace(b"e7bc2998bf7496069cba726e561e096f", b"414243"),
    "upper-case /ID": _XREF_DICT.replace(b"e7bc", b"E7BC"),
    "leading zeros": _XREF_DICT.replace(b"/Size 88", b"/Size 0088"),
    "reference to object 0": _XREF_DICT.replace(b"/Root 1 0 R", b"/Root 0 0 R"),
    "long reference": _XREF_DICT.replace(b"/Root 1 0 R", b"/Root 1234567890 123456789 R"),
    "another key": _XREF_DICT.replace(b"/Size 88\n", b"/Size 88\n/Encrypt 5 0 R\n"),
    "other order": _XREF_DICT.replace(b"/Type /XRef\n/Filter /FlateDecode", b"/Filter /FlateDecode\n/Type /XRef"),
    "CR LF": _XREF_DICT.replace(b"\n", b"\r\n"),
    "no stream": _XREF_DICT.split(b"stream")[0],
    "cut short": _XREF_DICT[:60],
}


@pytest.mark.parametrize("data", XREF_DICTIONARY_SAMPLES.values(), ids=XREF_DICTIONARY_SAMPLES.keys())
def test_cross_reference_stream_dictionaries_read_as_pyhanko_reads_them(data: bytes) -> None:
    assert _deep(read_dictionary, data) == _deep(originals()["dictionary"], data)  # type: ignore[arg-type]


def test_every_cross_reference_stream_dictionary_pyhanko_writes_takes_the_one_match_path() -> None:
    pdf = _signed_pdf()
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found = 0
    for section in reader.xrefs._xref_sections:
        start = pdf.index(b"<<", section.meta_info.start_location)
        parser = speedups._SimpleParser(pdf[start:start + 4096], generic.Reference(7, 0, reader))
        assert speedups._xref_dictionary(parser) is not None, pdf[start:start + 300]
        data = pdf[start:start + 4096]
        assert _deep(read_dictionary, data) == _deep(originals()["dictionary"], data)  # type: ignore[arg-type]
        found += 1
    assert found == len(reader.xrefs._xref_sections) >= 4


def test_the_strings_and_dictionaries_pyhanko_writes_never_reach_its_slow_readers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("fell back to pyHanko's reader")

    monkeypatch.setattr(speedups, "_ORIGINAL_LITERAL", refuse)
    monkeypatch.setattr(speedups, "_ORIGINAL_DICTIONARY", refuse)
    assert read_literal_string_bytes(io.BytesIO(rb"(\376\377\004\037 \(x\) \072)")) == b"\xfe\xff\x04\x1f (x) :"
    xref = (b"<<\n/W [ 1 8 2 ]\n/Type /XRef\n/ID [ <df9e> <cc3f> ]\n/M (D\\07220261121)\n/Length 1\n>>\n"
            b"stream\nx\nendstream")
    assert _dictionary(read_dictionary, xref)[0] == "StreamObject"  # type: ignore[index]


def _xref_stream(widths: list[object], rows: bytes, index: list[object] | None = None, size: object = 4,
                 indirect_w: bool = False) -> generic.StreamObject:
    def array(values: list[object]) -> generic.ArrayObject:
        return generic.ArrayObject(v if isinstance(v, generic.PdfObject) else generic.NumberObject(v)
                                   for v in values)
    entries: dict[generic.NameObject, generic.PdfObject] = {
        generic.NameObject("/Type"): generic.NameObject("/XRef"),
        generic.NameObject("/Size"): size if isinstance(size, generic.PdfObject) else generic.NumberObject(size),
        generic.NameObject("/W"): array(widths),
    }
    if index is not None:
        entries[generic.NameObject("/Index")] = array(index)
    if indirect_w:
        holder = generic.DictionaryObject()
        entries[generic.NameObject("/W")] = generic.IndirectObject(1, 0, holder)
    return generic.StreamObject(entries, stream_data=rows)


def _row(*fields: tuple[int, int]) -> bytes:
    return b"".join(value.to_bytes(width, "big") for value, width in fields)


XREF_STREAM_SAMPLES = {
    "types 0, 1, 2 and unknown": _xref_stream(
        [1, 3, 1], _row((0, 1), (0, 3), (255, 1)) + _row((1, 1), (1234, 3), (0, 1)) + _row((2, 1), (9, 3), (4, 1))
        + _row((7, 1), (5, 3), (5, 1))),
    "subsections": _xref_stream([1, 2, 1], _row((1, 1), (10, 2), (0, 1)) * 3, index=[3, 1, 10, 2]),
    "zero widths take the defaults": _xref_stream([0, 2, 0], _row((10, 2)) * 4),
    "eight-byte offsets read signed": _xref_stream([1, 8, 1], _row((1, 1), (2**63 + 5, 8), (0, 1)) * 4),
    "nine-byte offsets": _xref_stream([1, 9, 2], _row((1, 1), (2**70, 9), (3, 2)) * 4),
    "short data": _xref_stream([1, 3, 1], _row((1, 1), (10, 3), (0, 1)) * 3 + b"\x01\x00"),
    "trailing data": _xref_stream([1, 3, 1], _row((1, 1), (10, 3), (0, 1)) * 4 + b"\x00"),
    "decreasing subsections": _xref_stream([1, 2, 1], _row((1, 1), (10, 2), (0, 1)) * 2, index=[5, 1, 2, 1]),
    "odd /Index": _xref_stream([1, 2, 1], _row((1, 1), (10, 2), (0, 1)), index=[5, 1, 2]),
    "four widths": _xref_stream([1, 2, 1, 1], _row((1, 1), (10, 2), (0, 1), (0, 1)) * 4),
    "negative width": _xref_stream([1, -2, 1], _row((1, 1), (0, 1)) * 4),
    "no /Size": _xref_stream([1, 2, 1], b"", size=generic.NullObject()),
    "indirect /W": _xref_stream([1, 2, 1], _row((1, 1), (10, 2), (0, 1)) * 4, indirect_w=True),
    "wide generations": _xref_stream([1, 4, 4], _row((1, 1), (10, 4), (70000, 4)) + _row((0, 1), (0, 4), (65536, 4))
                                     + _row((2, 1), (6, 4), (1, 4)) + _row((1, 1), (11, 4), (3, 4))),
    "three-byte generations": _xref_stream([1, 2, 3], _row((1, 1), (10, 2), (70000, 3)) * 4),
    "object 0 and a free list": _xref_stream([1, 2, 2], _row((0, 1), (0, 2), (65535, 2)) + _row((0, 1), (3, 2), (1, 2))
                                             + _row((1, 1), (10, 2), (0, 2)) + _row((2, 1), (9, 2), (0, 2))),
}


def _entries(parser: Callable[..., Any], stream: generic.StreamObject, strict: bool) -> object:
    try:
        return list(parser(stream, strict))
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("stream", XREF_STREAM_SAMPLES.values(), ids=XREF_STREAM_SAMPLES.keys())
def test_cross_reference_stream_entries_decode_as_pyhanko_decodes_them(
    stream: generic.StreamObject, strict: bool
) -> None:
    assert _entries(parse_xref_stream, stream, strict) == _entries(originals()["xref_stream"], stream, strict)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["types 0, 1, 2 and unknown", "subsections", "zero widths take the defaults",
                                  "eight-byte offsets read signed", "nine-byte offsets", "trailing data"])
def test_plain_cross_reference_streams_never_reach_pyhankos_decoder(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("fell back to pyHanko's decoder")

    monkeypatch.setattr(speedups, "_ORIGINAL_XREF_STREAM", refuse)
    assert len(list(parse_xref_stream(XREF_STREAM_SAMPLES[name], strict=False))) >= 3


@cache
def _signed_pdf(signatures: int = 3) -> bytes:
    slots = [SignatorySlot(f"s{n}", f"Подписант {n}") for n in range(signatures)]
    pdf = prepare_for_round(plain_pdf(2), slots)
    for n in range(signatures):
        pdf = sign_field(pdf, f"s{n}", person_identity(), timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE))
    return pdf


def _xref_streams_of_signed_and_hybrid_files() -> list[generic.StreamObject]:
    """Every cross-reference stream (hybrid ones included) of a three-signature document and a hybrid file."""
    streams = []
    for document in (_signed_pdf(), hybrid_pdf()):
        reader = PdfFileReader(io.BytesIO(document), strict=False)
        for section in reader.xrefs._xref_sections:
            for ref in filter(None, (section.meta_info.stream_ref,
                                     section.xref_data.hybrid and section.xref_data.hybrid.meta_info.stream_ref)):
                streams.append(reader.get_object(ref))
    assert len(streams) >= 6
    return streams


def test_every_cross_reference_stream_of_signed_and_hybrid_files_decodes_as_pyhanko_decodes_it() -> None:
    for stream in _xref_streams_of_signed_and_hybrid_files():
        for strict in (False, True):
            ours = _entries(parse_xref_stream, stream, strict)
            original = originals()["xref_stream"]
            assert isinstance(ours, list) and ours == _entries(original, stream, strict)  # type: ignore[arg-type]


def _section(process: Callable[..., Any], entries: object, strict: bool) -> object:
    section = xref.XRefSectionData()
    try:
        highest = process(section, entries, strict)
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"
    return (highest, section.freed, section.standard_xrefs, section.xrefs_in_objstm,
            section.explicit_refs_in_revision, section.obj_streams_used)


def _sections_alike(stream: generic.StreamObject, strict: bool) -> tuple[object, object]:
    ours = _section(process_entries, parse_xref_stream(stream, strict), strict)
    theirs = _section(originals()["process_entries"],  # type: ignore[arg-type]
                      originals()["xref_stream"](stream, strict), strict)  # type: ignore[operator]
    return ours, theirs


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("stream", XREF_STREAM_SAMPLES.values(), ids=XREF_STREAM_SAMPLES.keys())
def test_cross_reference_sections_fill_as_pyhanko_fills_them(stream: generic.StreamObject, strict: bool) -> None:
    ours, theirs = _sections_alike(stream, strict)
    assert ours == theirs


def test_every_section_of_signed_and_hybrid_files_fills_as_pyhanko_fills_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for stream in _xref_streams_of_signed_and_hybrid_files():
        for strict in (False, True):
            ours, theirs = _sections_alike(stream, strict)
            assert isinstance(ours, tuple) and ours == theirs

    def refuse(*_args: object) -> None:
        raise AssertionError("fell back to pyHanko's bookkeeping")

    monkeypatch.setattr(speedups, "_ORIGINAL_PROCESS_ENTRIES", refuse)
    assert len(PdfFileReader(io.BytesIO(_signed_pdf()), strict=False).embedded_signatures) == 3


def test_text_strings_decode_as_pyhanko_decodes_them() -> None:
    rng = random.Random(5)
    samples = [b"", b"plain", b"\x00", b"\x7f", b"\x9f", b"\xad", b"\xfe\xff\x00A", b"\xff\xfeA\x00", b"\xef\xbb\xbfok",
               bytes(range(256))]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randint(0, 24))) for _ in range(400)]
    samples += [bytes(rng.choice(b"abc\x18\x80\x95\xa0") for _ in range(6)) for _ in range(200)]
    for data in samples:
        ours, theirs = speedups.pdf_string(data), generic.pdf_string(data)
        assert (type(ours), ours, getattr(ours, "autodetected_encoding", None)) == \
            (type(theirs), theirs, getattr(theirs, "autodetected_encoding", None)), data


def test_pyhanko_reads_cross_reference_streams_with_the_fast_code() -> None:
    import signing.pades  # noqa: F401 - installs it

    assert vars(xref)["parse_xref_stream"] is parse_xref_stream
    assert vars(xref.XRefSectionData)["process_entries"] is process_entries
    assert vars(IncrementalPdfFileWriter)["_write_header"] is speedups.write_original


def test_random_integer_arrays_read_as_pyhanko_reads_them() -> None:
    rng = random.Random(11)
    pieces = [b"0", b"7", b"-3", b"+12", b"007", b"65535", b"R", b"1.5", b"/N", b"%c\n", b"<>", b"[", b"]"]
    spaces = [b" ", b"\n", b"\r\n", b"\x00", b"\x0c", b"\t", b""]
    for _ in range(300):
        body = b"".join(rng.choice(pieces[:6] if rng.random() < 0.8 else pieces) + rng.choice(spaces)
                        for _ in range(rng.randint(0, 8)))
        data = b"<< /A [" + body + b"] /B 1 >>"
        assert _dictionary(read_dictionary, data) == _dictionary(originals()["dictionary"], data), data  # type: ignore[arg-type]


def _updated(stream: IO[bytes]) -> tuple[bytes, bytes, int]:
    """The copy of the original alone, the whole update, and where the input stood after the copy."""
    writer = IncrementalPdfFileWriter(stream, strict=False)
    stream.seek(17)
    copy = io.BytesIO()
    writer._write_header(copy)
    position = stream.tell()
    writer.root[generic.NameObject("/PodpisantNote")] = generic.TextStringObject("updated")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return copy.getvalue(), out.getvalue(), position


@pytest.mark.parametrize("in_memory", [True, False])
def test_an_incremental_update_writes_the_same_bytes_as_with_pyhankos_chunked_copy(
    in_memory: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = _signed_pdf()
    tail = signed.rindex(b"startxref")
    pdf = signed[:tail] + b"%" + b"x" * 3000 + b"\n" + signed[tail:]  # not a whole number of pyHanko's 4 KB chunks
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)

    def updated() -> tuple[bytes, bytes, int]:
        if in_memory:
            return _updated(io.BytesIO(pdf))
        with path.open("rb") as stream:
            return _updated(stream)

    copy, whole, position = updated()
    monkeypatch.setattr(IncrementalPdfFileWriter, "_write_header", originals()["write_original"])
    their_copy, their_whole, their_position = updated()
    assert (copy, position) == (their_copy, their_position) == (pdf, 17)
    for update in (whole, their_whole):  # the rest differs by the new /ID and dates alone
        assert update.startswith(pdf) and len(update) - len(pdf) == len(their_whole) - len(pdf) > 0


METADATA_SAMPLES = [
    b"<<\n/Type /Metadata\n/Subtype /XML\n/Length 5\n>>\nstream\n<x/>\n\nendstream",
    b"<< /Length 3 >>stream\r\nabc\r\nendstream",  # pyHanko's class sets /Type and /Subtype itself
    b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length 4 >>\nstream\nxxxx\nendstream",
    b"<< /Type /Metadata /Subtype /XML >>",  # no payload: a plain dictionary
    b"<< /Type /Metadata /Length 99 >>\nstream\nshort\nendstream",
]


@pytest.mark.parametrize("data", METADATA_SAMPLES)
def test_metadata_streams_read_as_pyhanko_reads_them(data: bytes) -> None:
    def reader(fast: bool) -> Callable[..., Any]:
        read = read_dictionary if fast else originals()["dictionary"]
        return lambda stream, container: read(stream, container, as_metadata_stream=True)  # type: ignore[operator]

    assert _dictionary(reader(True), data) == _dictionary(reader(False), data)


def test_a_signed_documents_xmp_reads_as_with_pyhankos_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = _signed_pdf()

    def xmp() -> tuple[str, bytes, object]:
        stream = PdfFileReader(io.BytesIO(pdf), strict=False).root["/Metadata"]
        return type(stream).__name__, stream.data, stream.xmp

    fast = xmp()
    monkeypatch.setattr(generic.DictionaryObject, "read_from_stream", staticmethod(originals()["dictionary"]))  # type: ignore[arg-type]
    assert fast == xmp()
    assert fast[0] == "MetadataStream" and b"pyHanko" in fast[1]


def test_an_xmp_stream_as_pyhanko_writes_it_never_reaches_its_slow_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("fell back to pyHanko's reader")

    monkeypatch.setattr(speedups, "_ORIGINAL_DICTIONARY", refuse)
    container = generic.Reference(7, 0, _container_document())
    value = read_dictionary(io.BytesIO(METADATA_SAMPLES[0]), container, as_metadata_stream=True)
    assert type(value).__name__ == "MetadataStream"
    assert isinstance(value, generic.StreamObject) and value.data == b"<x/>\n"
