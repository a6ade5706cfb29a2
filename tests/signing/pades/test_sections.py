"""Earlier cross-reference streams read lazily give exactly what pyHanko's own reader gives: sections, trailers,
object locations, decoding budget and errors, on signed, hybrid, classic and deliberately odd files."""

from __future__ import annotations

import io
import itertools
import random
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest
from pyhanko.pdf_utils import generic, xref
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pades import sections, speedups
from signing.pades.layout import SignatorySlot, prepare_for_round
from signing.pades.sections import LazySectionData, LazyTrailer, current_location, originals, read_xref_stream
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from tests.signing.pades_io.samples import hybrid_pdf
from tests.signing.pades_io.samples import plain_pdf as classic_pdf
from tests.support.pades import CERTS_DIR, PASSPHRASE, object_shape, person_identity, plain_pdf


@contextmanager
def pyhankos_own_reader() -> Iterator[None]:
    """pyHanko's own section reading, trailer and lookups while the block runs (the lazy code put back after)."""
    own = originals()
    patched = [(xref.XRefBuilder, "_read_xref_stream"), (xref.TrailerDictionary, "raw_get"),
               (xref.TrailerDictionary, "flatten"), (xref.TrailerDictionary, "keys"), (xref.XRefCache, "__getitem__")]
    ours = [vars(owner)[name] for owner, name in patched]
    for (owner, name), key in zip(patched, ["read_xref_stream", "trailer_raw_get", "trailer_flatten", "trailer_keys",
                                            "current_location"], strict=True):
        setattr(owner, name, own[key])
    try:
        yield
    finally:
        for (owner, name), function in zip(patched, ours, strict=True):
            setattr(owner, name, function)


@cache
def signed_pdf(signatures: int = 3) -> bytes:
    slots = [SignatorySlot(f"s{n}", f"Подписант {n}") for n in range(signatures + 1)]
    pdf = prepare_for_round(plain_pdf(2), slots)
    for n in range(signatures):
        pdf = sign_field(pdf, f"s{n}", person_identity(), timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE))
    return pdf


def _classic_updates() -> bytes:
    """A classic-table file with two classic-table incremental updates (no streams at all)."""
    pdf = classic_pdf(2)
    for title in ("one", "two"):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        writer.root[generic.NameObject("/PodpisantNote")] = generic.TextStringObject(title)
        writer.update_root()
        out = io.BytesIO()
        writer.write(out)
        pdf = out.getvalue()
    return pdf


def _startxref(pdf: bytes) -> int:
    return int(pdf[pdf.rindex(b"startxref") + 9:].split()[0])


def _row(kind: int, field: int, generation: int) -> bytes:
    return kind.to_bytes(1, "big") + field.to_bytes(8, "big") + generation.to_bytes(2, "big")


def with_stream_section(
    pdf: bytes, rows: bytes, index: list[int] | None, *, size: int | None = None, payload: bytes | None = None,
    length: int | None = None, info: bool = True, like: bytes | None = None, number: int | None = None,
) -> bytes:
    """`pdf` with a cross-reference stream section appended as pyHanko spells one (`rows` under /Index); the
    catalog, /Info and /Size are those of `like` (a readable version of `pdf`) when given."""
    reader = PdfFileReader(io.BytesIO(like or pdf), strict=False)
    number = number if number is not None else int(reader.trailer["/Size"])
    size = size if size is not None else number + 1
    payload = payload if payload is not None else zlib.compress(rows)
    root = reader.trailer.raw_get("/Root")
    info_line = b"/Info %d 0 R\n" % reader.trailer.raw_get("/Info").idnum if info else b""
    dictionary = (
        b"<<\n/W [ 1 8 2 ]\n/Type /XRef\n/Filter /FlateDecode\n/Root %d 0 R\n%s"
        b"/ID [ <0102030405060708090a0b0c0d0e0f10> <1112131415161718191a1b1c1d1e1f20> ]\n/Size %d\n/Prev %d\n"
        b"%s/Length %d\n>>"
        % (root.idnum, info_line, size, _startxref(pdf),
           b"" if index is None else b"/Index [ %s]\n" % b"".join(b"%d " % n for n in index),
           len(payload) if length is None else length)
    )
    offset = len(pdf)
    return pdf + b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n\nstartxref\n%d\n%%%%EOF\n" % (
        number, dictionary, payload, offset)


def _catalog_row(pdf: bytes) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = reader.trailer.raw_get("/Root")
    return _row(1, reader.xrefs[root.reference], 0)


def _odd(earlier: Callable[[bytes], bytes]) -> bytes:
    """A stream-based file whose middle section is `earlier`'s, under a plain newest section."""
    base = with_stream_section(classic_pdf(1), _row(0, 0, 65535), [0, 1])
    size = int(PdfFileReader(io.BytesIO(base), strict=False).trailer["/Size"])
    return with_stream_section(earlier(base), _row(0, 0, 65535) + _catalog_row(base), [0, 1, 1, 1], like=base,
                               number=size + 1, size=size + 2)


ODD_FILES: dict[str, Callable[[], bytes]] = {
    "plain": lambda: _odd(lambda pdf: with_stream_section(pdf, _catalog_row(pdf), [1, 1])),
    "no /Info": lambda: _odd(lambda pdf: with_stream_section(pdf, _row(0, 0, 65535), [0, 1], info=False)),
    "no /Index": lambda: _odd(lambda pdf: with_stream_section(pdf, _row(0, 0, 65535) + _catalog_row(pdf), None,
                                                              size=2)),
    "short data": lambda: _odd(lambda pdf: with_stream_section(pdf, _catalog_row(pdf) + b"\x01\x00", [1, 2])),
    "trailing data": lambda: _odd(lambda pdf: with_stream_section(pdf, _catalog_row(pdf) + b"\x00", [1, 1])),
    "decreasing subsections": lambda: _odd(lambda pdf: with_stream_section(
        pdf, _catalog_row(pdf) + _row(0, 0, 65535), [1, 1, 0, 1])),
    "odd /Index": lambda: _odd(lambda pdf: with_stream_section(pdf, _catalog_row(pdf), [1, 1, 5])),
    "unknown type and free list": lambda: _odd(lambda pdf: with_stream_section(
        pdf, _row(0, 3, 1) + _catalog_row(pdf) + _row(7, 1, 1) + _row(0, 0, 2), [0, 2, 3, 2])),
    "wide generation": lambda: _odd(lambda pdf: with_stream_section(pdf, _row(1, 10, 0xFFFF), [2, 1])),
    "length one too long": lambda: _odd(lambda pdf: with_stream_section(
        pdf, _catalog_row(pdf), [1, 1], length=len(zlib.compress(_catalog_row(pdf))) + 1)),
    "broken deflate": lambda: _odd(lambda pdf: with_stream_section(pdf, b"", [1, 1], payload=b"not deflate")),
}


def _section_facts(reader: PdfFileReader) -> list[object]:
    facts: list[object] = []
    for section in reader.xrefs._xref_sections:
        data = section.xref_data
        hybrid = data.hybrid and (data.hybrid.meta_info, data.hybrid.xref_data.standard_xrefs,
                                  data.hybrid.xref_data.xrefs_in_objstm, data.hybrid.xref_data.freed)
        facts.append((section.meta_info, data.freed, data.standard_xrefs, data.xrefs_in_objstm,
                      data.explicit_refs_in_revision, data.obj_streams_used, hybrid))
    return facts


TRAILER_KEYS = ("/Root", "/Info", "/ID", "/Size", "/Prev", "/Encrypt", "/W", "/Index", "/Length", "/Type", "/XRefStm",
                "/Nope")


def _answer(reader: PdfFileReader, get: Callable[[], Any]) -> object:
    try:
        return object_shape(get(), reader)
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"


def _trailer_facts(reader: PdfFileReader) -> list[object]:
    """Keys, flattened trailers and every key's lookup by revision; again after a change of this update."""
    trailer = reader.trailer
    revisions = reader.xrefs.total_revisions
    facts: list[object] = []
    for changed in (False, True):
        if changed:
            trailer["/Info"] = generic.NumberObject(5)
        facts += [sorted(trailer.keys()), _answer(reader, trailer.flatten)]
        for revision in range(revisions):
            facts.append(_answer(reader, lambda r=revision: trailer.flatten(r)))  # type: ignore[misc]
        for key, revision in itertools.product(TRAILER_KEYS, (None, *range(revisions))):
            facts.append((key, revision, _answer(reader, lambda k=key, r=revision: trailer.raw_get(k, revision=r)),  # type: ignore[misc]
                          key in trailer))
    return facts


def _locations(reader: PdfFileReader) -> list[object]:
    size = max(int(reader.trailer.raw_get("/Size")), *(s.meta_info.size for s in reader.xrefs._xref_sections)) + 2
    return [(idnum, generation, reader.xrefs[generic.Reference(idnum, generation, reader)])
            for idnum in range(size) for generation in (0, 1, 2, 65535)]


def _open(pdf: bytes, strict: bool, limits: DecodeLimits | None = None) -> object:
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=strict, decode_limits=limits)
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"
    locations = _locations(reader)  # first, while lazy sections still resolve from their rows
    return (reader.last_startxref, reader.has_xref_stream, reader.decode_context._remaining_budget,
            locations, _section_facts(reader), _trailer_facts(reader),
            # and after the trailer has been read in full, the same budget still
            reader.decode_context._remaining_budget)


def _alike(pdf: bytes, strict: bool, limits: DecodeLimits | None = None) -> tuple[object, object]:
    ours = _open(pdf, strict, limits)
    with pyhankos_own_reader():
        theirs = _open(pdf, strict, limits)
    return ours, theirs


DOCUMENTS: dict[str, Callable[[], bytes]] = {
    "three signatures": signed_pdf,
    "hybrid": hybrid_pdf,
    "classic tables only": _classic_updates,
    "hybrid, then signed": lambda: sign_field(
        prepare_for_round(hybrid_pdf(), [SignatorySlot("a", "А"), SignatorySlot("b", "Б")]), "a", person_identity(),
        timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE)),
    **ODD_FILES,
}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_documents_open_to_what_pyhankos_reader_gives(document: Callable[[], bytes], strict: bool) -> None:
    ours, theirs = _alike(document(), strict)
    assert ours == theirs


LAZY = {"plain": True, "no /Info": True, "no /Index": True, "short data": True, "trailing data": True,
        "unknown type and free list": True, "wide generation": True, "length one too long": False}


@pytest.mark.parametrize("name", LAZY)
def test_the_odd_files_open_and_take_the_path_they_are_meant_for(name: str) -> None:
    reader = PdfFileReader(io.BytesIO(ODD_FILES[name]()), strict=False)
    assert reader.xrefs.total_revisions == 4
    assert [isinstance(t, LazyTrailer) for t in reader.trailer._trailer_revisions] == [False, LAZY[name], True, False]


@pytest.mark.parametrize("name", ["broken deflate", "decreasing subsections", "odd /Index"])
def test_a_broken_earlier_section_is_refused_as_pyhanko_refuses_it(name: str) -> None:
    ours, theirs = _alike(ODD_FILES[name](), strict=False)
    assert ours == theirs and str(ours).startswith("refused")


def test_a_small_decoding_budget_runs_out_at_the_same_point() -> None:
    pdf = signed_pdf()
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    context = reader.decode_context
    assert context.input_size is not None and context.remaining_budget is not None
    decoded = context.limits.document_budget.total(context.input_size) - context.remaining_budget  # type: ignore[union-attr]
    assert decoded > 100
    for budget in (decoded - 40, decoded - 1, decoded, decoded + 1):
        limits = DecodeLimits(document_budget=DocumentDecodeBudget(base_allowance=budget, max_ratio=0))
        ours, theirs = _alike(pdf, strict=False, limits=limits)
        assert ours == theirs, budget


def _lazy(reader: PdfFileReader) -> list[LazyTrailer]:
    return [t for t in reader.trailer._trailer_revisions if isinstance(t, LazyTrailer)]  # type: ignore[misc]


def test_earlier_signed_revisions_are_read_lazily_and_stay_unread_through_signing_lookups() -> None:
    pdf = signed_pdf()
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    lazy = _lazy(reader)
    assert len(lazy) == reader.xrefs.total_revisions - 1  # all but the newest one (the original has a stream too)
    with pytest.raises(KeyError):
        reader.trailer.raw_get("/Encrypt")
    assert reader.encrypt_dict is None
    reader.trailer.flatten()
    reader.trailer.keys()
    writer = IncrementalPdfFileWriter.from_reader(reader)
    writer.root[generic.NameObject("/PodpisantNote")] = generic.TextStringObject("x")
    writer.update_root()
    writer.write(io.BytesIO())
    assert all(t._value is None for t in lazy)
    sections_ = [s.xref_data for s in reader.xrefs._xref_sections]
    assert sum(isinstance(data, LazySectionData) for data in sections_) == len(lazy)
    assert all("standard_xrefs" not in vars(data) for data in sections_ if isinstance(data, LazySectionData))


def test_a_lazy_trailer_reads_to_the_stream_object_pyhanko_builds() -> None:
    pdf = signed_pdf()
    ours = PdfFileReader(io.BytesIO(pdf), strict=False)
    with pyhankos_own_reader():
        theirs = PdfFileReader(io.BytesIO(pdf), strict=False)
    pairs = list(zip(ours.trailer._trailer_revisions, theirs.trailer._trailer_revisions, strict=True))
    assert sum(isinstance(mine, LazyTrailer) for mine, _ in pairs) >= 2
    for mine, their in pairs:
        value = mine.value() if isinstance(mine, LazyTrailer) else mine
        assert object_shape(value, ours) == object_shape(their, theirs)
        assert (value._data, value.container_ref) == (their._data, their.container_ref)  # type: ignore[attr-defined]
        assert mine.keys == tuple(their.keys()) if isinstance(mine, LazyTrailer) else True


def test_a_document_with_lazy_sections_signs_and_every_object_reads_as_before() -> None:
    pdf = sign_field(signed_pdf(), "s3", person_identity(), timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE))
    ours = PdfFileReader(io.BytesIO(pdf), strict=False)
    with pyhankos_own_reader():
        theirs = PdfFileReader(io.BytesIO(pdf), strict=False)
        size = int(theirs.trailer["/Size"])
        expected = [object_shape(theirs.get_object(generic.Reference(n, 0, theirs)), theirs) for n in range(1, size)]
    assert [object_shape(ours.get_object(generic.Reference(n, 0, ours)), ours) for n in range(1, size)] == expected
    assert len(ours.embedded_signatures) == 4


def _section_data(standard: dict[int, tuple[int, int]], in_streams: dict[int, int], freed: dict[int, int],
                  hybrid: xref.XRefSectionData | None = None) -> xref.XRefSectionData:
    data = xref.XRefSectionData()
    data.standard_xrefs.update(standard)
    data.xrefs_in_objstm.update({n: xref.ObjStreamRef(stream, 0) for n, stream in in_streams.items()})
    data.freed.update(freed)
    if hybrid is not None:
        meta = xref.XRefSectionMetaInfo(xref.XRefSectionType.HYBRID_STREAM, 9, 0, 0, 0, None)
        data.hybrid = xref.XRefSection(meta, hybrid)
    return data


def test_object_locations_resolve_as_pyhankos_walk_resolves_them() -> None:
    """Generations, free entries, object streams and hybrid sections overriding each other across sections."""
    oldest = _section_data({1: (0, 10), 2: (0, 20), 3: (1, 30), 4: (0, 40)}, {5: 60}, {6: 1})
    hybrid = _section_data({7: (0, 70), 3: (2, 33)}, {8: 60, 2: 61}, {4: 3})
    middle = _section_data({2: (1, 21), 9: (0, 90)}, {}, {1: 1, 4: 1, 3: 3}, hybrid=hybrid)
    newest = _section_data({1: (1, 11), 6: (1, 66)}, {9: 62, 4: 63}, {5: 1, 2: 2})
    meta = xref.XRefSectionMetaInfo(xref.XRefSectionType.STREAM, 12, 0, 0, 0, None)
    cache_ = xref.XRefCache(None, [xref.XRefSection(meta, data) for data in (oldest, middle, newest)])
    pyhankos = originals()["current_location"]
    for idnum, generation in itertools.product(range(12), range(4)):
        ref = generic.Reference(idnum, generation)
        assert current_location(cache_, ref) == pyhankos(cache_, ref), (idnum, generation)


def test_pyhanko_reads_sections_trailers_and_locations_with_this_code() -> None:
    import signing.pades  # noqa: F401 - installs it

    assert vars(xref.XRefBuilder)["_read_xref_stream"] is read_xref_stream
    assert vars(xref.TrailerDictionary)["raw_get"] is sections.trailer_raw_get
    assert vars(xref.TrailerDictionary)["flatten"] is sections.trailer_flatten
    assert vars(xref.TrailerDictionary)["keys"] is sections.trailer_keys
    assert vars(xref.XRefCache)["__getitem__"] is current_location


@pytest.mark.parametrize("widths", [[1, 8, 2], [1, 2, 1], [0, 3, 2], [2, 4, 0]])
def test_an_object_resolves_from_its_row_as_from_pyhankos_tables(widths: list[int]) -> None:
    rng = random.Random(sum(widths))
    index = [0, 3, 5, 4, 20, 2]

    def field(position: int, width: int) -> bytes:
        if position == 0 and width == 1:
            return bytes([rng.choice([0, 1, 2, 3])])  # free, in use, compressed, unknown
        return bytes(rng.randrange(256) for _ in range(width))

    rows = b"".join(field(n, w) for _ in range(sum(index[1::2])) for n, w in enumerate(widths))
    lazy = LazySectionData(widths, index, rows, strict=False)
    filled = xref.XRefSectionData()
    speedups.fill_section(filled, widths, index, rows, strict=False)
    for idnum, generation in itertools.product(range(24), (0, 1, 2, 255, 256, 65534, 65535)):
        ref = generic.Reference(idnum, generation)
        assert _answer_of(lazy.try_resolve, ref) == _answer_of(filled.try_resolve, ref), (idnum, generation)
    assert "freed" not in vars(lazy)
    assert (lazy.freed, lazy.standard_xrefs, lazy.xrefs_in_objstm, lazy.explicit_refs_in_revision,
            lazy.obj_streams_used) == (filled.freed, filled.standard_xrefs, filled.xrefs_in_objstm,
                                       filled.explicit_refs_in_revision, filled.obj_streams_used)


def _answer_of(resolve: Callable[[generic.Reference], object], ref: generic.Reference) -> object:
    try:
        return resolve(ref)
    except KeyError:
        return "KeyError"


def test_runs_of_lazy_sections_resolve_as_pyhankos_walk_resolves_them() -> None:
    """Rows of every type and generation, overriding each other across lazy sections and a plain one between."""
    rng = random.Random(3)

    def lazy(index: list[int]) -> LazySectionData:
        rows = b"".join(bytes([rng.choice([0, 1, 1, 2, 5])]) + rng.randrange(40).to_bytes(8, "big")
                        + rng.choice([0, 0, 1, 2]).to_bytes(2, "big") for _ in range(sum(index[1::2])))
        return LazySectionData([1, 8, 2], index, rows, strict=False)

    datas = [lazy([0, 12]), lazy([2, 4, 8, 3]), _section_data({3: (1, 31), 4: (0, 41)}, {5: 61}, {6: 2}),
             lazy([0, 1, 3, 5]), lazy([4, 2, 9, 2]), lazy([1, 3])]
    meta = xref.XRefSectionMetaInfo(xref.XRefSectionType.STREAM, 12, 0, 0, 0, None)
    cache_ = xref.XRefCache(None, [xref.XRefSection(meta, data) for data in datas])
    pyhankos = originals()["current_location"]
    for idnum, generation in itertools.product(range(13), range(4)):
        ref = generic.Reference(idnum, generation)
        assert current_location(cache_, ref) == pyhankos(cache_, ref), (idnum, generation)
    assert all("standard_xrefs" not in vars(data) for data in datas if isinstance(data, LazySectionData))
