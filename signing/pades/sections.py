"""Earlier revisions' cross-reference streams read without building their trailer dictionaries.

Opening a document, pyHanko reads every revision's cross-reference section: for a stream, the object header,
the dictionary (the trailer of that revision) as some twenty PDF objects, the payload and its filters. Signing
the k-th field of a document opens k-1 such earlier sections, and their objects were most of the extra cost of a
later signature (and of the garbage collector's work). Signing needs their entries, not their dictionaries.

So a stream spelt exactly as pyHanko writes one (header, dictionary, payload and `endstream` matched by one
regular expression, in any revision but the newest) is read from that match: its payload is decoded as before
(the same decoder, limits and budget) and kept as rows (`LazySectionData`: an object is resolved from its row,
pyHanko's tables are filled when something asks for them), and its dictionary is kept as a `LazyTrailer` that
knows its keys from the match and has pyHanko's reader parse it when a value is first asked for. The trailer's
lookups (`raw_get`, `flatten`, `keys`) consult those keys, so asking for a key that no revision has (pyHanko
asks for /Encrypt at every object) or that a newer revision overrides parses nothing.
Anything else (classic tables, hybrid files, other spellings, the newest section) is read by pyHanko's code.

Current-state object lookups (`XRefCache[ref]`) walk the sections newest first as pyHanko does, without the
KeyError pyHanko raises and catches in every section that does not hold the object, and without filling the
tables of lazy sections.

Every answer is compared with pyHanko's own reader in `tests/signing/pades/test_sections.py`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import IO, Any

from pyhanko.pdf_utils import filters, generic, xref
from pyhanko.pdf_utils.decode_limits import DEFAULT_DECODE_CONTEXT, DecodeContext, DecodePurpose
from pyhanko.pdf_utils.xref import ObjStreamRef, XRefSectionData

from signing.pades import speedups

__all__ = [
    "LazySectionData",
    "LazyTrailer",
    "current_location",
    "install",
    "originals",
    "read_xref_stream",
    "trailer_flatten",
    "trailer_keys",
    "trailer_raw_get",
]

_ORIGINALS: dict[str, Any] = {
    "read_xref_stream": xref.XRefBuilder._read_xref_stream,
    "trailer_raw_get": xref.TrailerDictionary.raw_get,
    "trailer_flatten": xref.TrailerDictionary.flatten,
    "trailer_keys": xref.TrailerDictionary.keys,
    "current_location": xref.XRefCache.__getitem__,
}
_ORIGINAL_READ_XREF_STREAM = xref.XRefBuilder._read_xref_stream
_TRANSPARENT = generic.EncryptedObjAccess.TRANSPARENT
_HEAD_BYTES = 4096
"""The header and dictionary must match within this many bytes (a few hundred as pyHanko writes them)."""
_XREF_SECTION = re.compile(
    rb"(?P<idnum>[1-9]\d{0,9}) (?P<generation>\d{1,5}) obj\n" + speedups.XREF_DICTIONARY.pattern + rb"\nstream\n"
)
"""An object header and a cross-reference stream dictionary exactly as pyHanko writes them, up to the payload."""
_ENDSTREAM = b"\nendstream"
_KEYS = speedups.XREF_KEYS


class LazyTrailer:
    """An earlier revision's cross-reference stream dictionary: its keys known from the match, its values read
    by pyHanko's reader (into the same `StreamObject` pyHanko would have built) when first asked for."""

    __slots__ = ("_data", "_ref", "_start", "_stream", "_strict", "_value", "key_set", "keys")

    def __init__(self, keys: tuple[generic.NameObject, ...], stream: IO[bytes], start: int,
                 ref: generic.Reference, strict: bool, data: bytes) -> None:
        self.keys = keys
        """The dictionary's keys, in the file's order."""
        self.key_set = frozenset(keys)
        self._stream, self._start, self._ref, self._strict, self._data = stream, start, ref, strict, data
        self._value: generic.StreamObject | None = None

    def __contains__(self, key: object) -> bool:
        return key in self.key_set

    def value(self) -> generic.StreamObject:
        """The dictionary as pyHanko reads it (its decoded data already in place), read once."""
        if self._value is None:
            stream = self._stream
            position = stream.tell()
            stream.seek(self._start)
            try:
                xref.read_object_header(stream, strict=self._strict)
                value = generic.StreamObject.read_from_stream(stream, self._ref)
            finally:
                stream.seek(position)
            assert isinstance(value, generic.StreamObject)
            value.container_ref = self._ref
            value._data = self._data
            self._value = value
        return self._value


_MISS = object()
"""What `try_resolve` answers with a KeyError: the section says nothing about that reference."""
_TABLES = frozenset({"freed", "standard_xrefs", "xrefs_in_objstm", "explicit_refs_in_revision", "obj_streams_used"})


class LazySectionData(XRefSectionData):
    """An earlier cross-reference stream's entries kept as its decoded rows: one object is resolved from its row,
    and pyHanko's tables are filled only when something asks for them (validation does, signing does not).

    Only for third fields of at most two bytes: no generation can then exceed 65535, the one check (an error in
    strict mode) that filling the tables makes.
    """

    def __init__(self, widths: list[int], index: list[int], data: bytes, strict: bool) -> None:
        # pyHanko's __init__ (the empty tables) runs when the tables are first asked for
        self.hybrid = None
        self._rows = (widths, index, data, strict)
        self._by_object: dict[int, tuple[int, int, int]] | None = None

    def __getattr__(self, name: str) -> Any:
        if name not in _TABLES:
            raise AttributeError(name)
        widths, index, data, strict = self._rows
        XRefSectionData.__init__(self)
        speedups.fill_section(self, widths, index, data, strict)
        return getattr(self, name)

    def by_object(self) -> dict[int, tuple[int, int, int]]:
        """The decoded rows by object number."""
        by_object = self._by_object
        if by_object is None:
            widths, index, data, _strict = self._rows
            by_object = self._by_object = speedups.rows_by_object(widths, index, data)
        return by_object

    def resolve(self, idnum: int, generation: int) -> object:
        """What `try_resolve` answers from the tables, `_MISS` where it raises KeyError."""
        return _resolve_row(self.by_object().get(idnum), idnum, generation)

    def try_resolve(self, ref: generic.Reference | generic.IndirectObject) -> int | ObjStreamRef | None:
        found = self.resolve(ref.idnum, ref.generation)
        if found is _MISS:
            raise KeyError(ref)
        return found  # type: ignore[return-value]


def _resolve_row(row: tuple[int, int, int] | None, idnum: int, generation: int) -> object:
    """What a section whose row for `idnum` is `row` answers for the generation (`_MISS`: it says nothing)."""
    if row is None or idnum == 0:
        return _MISS
    kind, first, second = row
    if kind == 1:
        return first if second == generation else _MISS
    if kind == 2:
        return ObjStreamRef(first, second) if generation == 0 else _MISS
    if kind == 0:
        return None if generation == second - 1 else _MISS
    return _MISS


def _keys_of(found: re.Match[bytes]) -> tuple[generic.NameObject, ...]:
    """The dictionary's keys in the order pyHanko writes them, the optional ones when present."""
    return _key_order(found["info"] is not None, found["prev"] is not None, found["index"] is not None)


@lru_cache(maxsize=8)
def _key_order(info: bool, prev: bool, index: bool) -> tuple[generic.NameObject, ...]:
    names = ["/W", "/Type", "/Filter", "/Root", *(["/Info"] if info else []), "/ID", "/Size",
             *(["/Prev"] if prev else []), *(["/Index"] if index else []), "/Length"]
    return tuple(_KEYS[name] for name in names)


def _layout(found: re.Match[bytes]) -> tuple[list[int], list[int]] | None:
    """/W and the /Index subsections (or [0, /Size]) when the subsections increase, as pyHanko requires."""
    index_text = found["index"]
    index = list(map(int, index_text.split())) if index_text is not None else [0, int(found["size"])]
    if len(index) % 2:
        return None
    starts = index[::2]
    if any(map(operator.lt, starts[1:], map(operator.add, starts, index[1::2]))):
        return None  # a subsection starting before the previous one ends
    return _widths(found["w"]), index


@lru_cache(maxsize=16)
def _widths_cached(text: bytes) -> tuple[int, ...]:
    return tuple(map(int, text.split()))


def _widths(text: bytes) -> list[int]:
    return list(_widths_cached(text))


def _decode_context(ref: generic.Reference) -> DecodeContext:
    """What `StreamObject._decode_context` finds for a stream in `ref`."""
    handler = ref.get_pdf_handler()
    if handler is None:
        return DEFAULT_DECODE_CONTEXT
    context: DecodeContext = handler.decode_context
    return context


def _decode(encoded: bytes, ref: generic.Reference, expected_size: int) -> bytes:
    """`StreamObject.read_data` for a /FlateDecode stream without parameters: the same decoder, caps and budget."""
    context = _decode_context(ref)
    cap = context.stream_output_cap(len(encoded), purpose=DecodePurpose.XREF_STREAM, expected_size=expected_size)
    data: bytes = filters.get_generic_decoder("/FlateDecode").decode_bounded(
        encoded, {}, context.stage_output_cap(cap))
    context.record_output(len(data))
    return data


def _payload(stream: IO[bytes], head: bytes, payload_start: int, offset: int, length: int) -> bytes | None:
    """The `length` bytes after `stream\\n` when `\\nendstream` follows them, else None."""
    needed = length + len(_ENDSTREAM)
    if len(head) >= offset + needed:
        chunk = head[offset:offset + needed]
    else:
        stream.seek(payload_start)
        chunk = stream.read(needed)
    return chunk[:length] if chunk[length:] == _ENDSTREAM and len(chunk) == needed else None


def read_xref_stream(builder: xref.XRefBuilder, declared_startxref: int) -> generic.NumberObject | None:
    """`XRefBuilder._read_xref_stream`: an earlier revision's stream spelt as pyHanko writes it is read from one
    match with a `LazyTrailer`; the newest section and anything else by pyHanko's code."""
    if builder.sections:
        stream = builder.stream
        start = stream.tell()
        head = stream.read(_HEAD_BYTES)
        found = _XREF_SECTION.match(head)
        layout = _layout(found) if found is not None else None
        if found is not None and layout is not None:
            length = int(found["length"])
            payload = _payload(stream, head, start + found.end(), found.end(), length)
            if payload is not None:
                return _read_lazily(builder, declared_startxref, start, found, layout, payload)
        stream.seek(start)
    prev: generic.NumberObject | None = _ORIGINAL_READ_XREF_STREAM(builder, declared_startxref)
    return prev


def _read_lazily(builder: xref.XRefBuilder, declared_startxref: int, start: int, found: re.Match[bytes],
                 layout: tuple[list[int], list[int]], payload: bytes) -> generic.NumberObject | None:
    widths, index = layout
    strict = builder.strict
    ref = generic.Reference(int(found["idnum"]), int(found["generation"]), pdf=builder.handler)
    count = sum(index[1::2])
    rows = count * sum(widths)
    data = _decode(payload, ref, expected_size=count * (sum(widths) + 1))
    end = start + found.end() + len(payload) + len(_ENDSTREAM)
    trailer = LazyTrailer(_keys_of(found), builder.stream, start, ref, strict, data)
    section: XRefSectionData
    if len(data) < rows or (strict and len(data) > rows):  # pyHanko's defaults or errors, from its dictionary
        section = XRefSectionData()
        section.process_entries(xref.parse_xref_stream(trailer.value(), strict=strict), strict=strict)
    elif widths[2] <= 2:
        section = LazySectionData(widths, index, data, strict)
    else:
        section = XRefSectionData()
        speedups.fill_section(section, widths, index, data, strict)
    meta = xref.XRefSectionMetaInfo(
        xref_section_type=xref.XRefSectionType.STREAM, size=int(found["size"]),
        declared_startxref=declared_startxref, start_location=start, end_location=end, stream_ref=ref,
    )
    builder.sections.append(xref.XRefSection(meta, section))
    builder.trailer.add_trailer_revision(trailer)  # type: ignore[arg-type]
    builder.stream.seek(end)
    prev = found["prev"]
    return speedups.number(prev) if prev is not None else None


Revision = generic.DictionaryObject | LazyTrailer


def _has(revision: Revision, key: object) -> bool:
    if isinstance(revision, LazyTrailer):
        return key in revision.key_set
    return dict.__contains__(revision, key)


def _raw_get(revision: Revision, key: str, decrypt: generic.EncryptedObjAccess) -> generic.PdfObject:
    if isinstance(revision, LazyTrailer):
        if key not in revision.key_set:
            raise KeyError(key)
        revision = revision.value()
    found: generic.PdfObject = revision.raw_get(key, decrypt)
    return found


def _item(revision: Revision, key: generic.NameObject) -> generic.PdfObject:
    """The value as stored (no decryption proxy resolved), as `dict.items` gives it."""
    stored: generic.PdfObject = dict.__getitem__(
        revision.value() if isinstance(revision, LazyTrailer) else revision, key)
    return stored


def _keys(revision: Revision) -> Iterable[generic.NameObject]:
    return revision.keys if isinstance(revision, LazyTrailer) else revision.keys()


def trailer_raw_get(
    trailer: xref.TrailerDictionary, key: str, decrypt: generic.EncryptedObjAccess = _TRANSPARENT,
    revision: int | None = None,
) -> generic.PdfObject:
    """`TrailerDictionary.raw_get`, looking keys up instead of catching a KeyError from every earlier trailer
    (pyHanko asks for /Encrypt, absent from all of them, at every object it reads)."""
    revisions: list[Revision] = trailer._trailer_revisions  # type: ignore[assignment]
    found: generic.PdfObject
    if revision is None:
        if dict.__contains__(trailer._new_changes, key):
            found = trailer._new_changes.raw_get(key, decrypt)
            return found
    else:
        revisions = revisions[len(revisions) - 1 - revision:]
    if key in trailer.non_trailer_keys:
        return _raw_get(revisions[0], key, decrypt)
    if revision is None:
        holder = _holders(trailer).get(key)  # type: ignore[call-overload]
        if holder is None:
            raise KeyError(key)
        return _raw_get(revisions[holder], key, decrypt)
    for rev in revisions:
        if _has(rev, key):
            return _raw_get(rev, key, decrypt)
    raise KeyError(key)


def _holders(trailer: xref.TrailerDictionary) -> dict[generic.NameObject, int]:
    """The position (newest first) of the newest revision holding each key, for all the revisions read; the
    revisions are not changed once read (an update's own changes are kept apart, in `_new_changes`)."""
    revisions: list[Revision] = trailer._trailer_revisions  # type: ignore[assignment]
    known: tuple[int, dict[generic.NameObject, int]] | None = vars(trailer).get("_podpisant_holders")
    if known is None or known[0] != len(revisions):
        holders: dict[generic.NameObject, int] = {}
        for position in range(len(revisions) - 1, -1, -1):
            for key in _keys(revisions[position]):
                holders[key] = position
        known = trailer._podpisant_holders = (len(revisions), holders)  # type: ignore[attr-defined]
    return known[1]


def trailer_flatten(trailer: xref.TrailerDictionary, revision: int | None = None) -> generic.DictionaryObject:
    """`TrailerDictionary.flatten`: each key where its oldest revision puts it, with its newest value; a lazy
    trailer is read only for a key no newer revision has."""
    relevant: list[Revision] = trailer._trailer_revisions  # type: ignore[assignment]
    if revision is not None:
        relevant = relevant[-revision - 1:]
    newest: dict[generic.NameObject, Revision] = {}
    for rev in reversed(relevant):
        for key in _keys(rev):
            newest[key] = rev
    flat = generic.DictionaryObject({key: _item(rev, key) for key, rev in newest.items()})
    if revision is None:
        flat.update(trailer._new_changes)
    for key in trailer.non_trailer_keys:
        flat.pop(key, None)
    return flat


def trailer_keys(trailer: xref.TrailerDictionary) -> frozenset[generic.NameObject]:
    """`TrailerDictionary.keys` without reading lazy trailers."""
    revisions: list[Revision] = trailer._trailer_revisions  # type: ignore[assignment]
    keys = set(trailer._new_changes)
    for rev in revisions:
        keys.update(_keys(rev))
    return frozenset(keys)


def _resolve(data: XRefSectionData, idnum: int, generation: int) -> object:
    """`XRefSectionData.try_resolve` (of a section read by pyHanko) returning `_MISS` where it raises KeyError."""
    if generation == 0:
        in_stream = data.xrefs_in_objstm.get(idnum)
        if in_stream is not None:
            return in_stream
    standard = data.standard_xrefs.get(idnum)
    if standard is not None:
        return standard[1] if standard[0] == generation else _MISS
    freed = data.freed.get(idnum)
    if freed is not None and generation == freed - 1:
        return None
    if data.hybrid is not None:
        return _resolve(data.hybrid.xref_data, idnum, generation)
    return _MISS


class _LazyRun:
    """Consecutive lazy sections with their rows merged by object number (the newest row of each object): a
    lookup reads one row instead of asking every section, and walks them only when that row does not answer
    (another generation)."""

    __slots__ = ("newest_rows", "sections")

    def __init__(self, sections: list[LazySectionData]) -> None:
        self.sections = sections
        """Newest first."""
        self.newest_rows: dict[int, tuple[int, int, int]] = {}
        for data in reversed(sections):
            self.newest_rows.update(data.by_object())

    def resolve(self, idnum: int, generation: int) -> object:
        found = _resolve_row(self.newest_rows.get(idnum), idnum, generation)
        if found is not _MISS or idnum not in self.newest_rows:
            return found
        for data in self.sections:
            found = data.resolve(idnum, generation)
            if found is not _MISS:
                return found
        return _MISS


def _segments(cache: xref.XRefCache) -> list[XRefSectionData | _LazyRun]:
    """The sections newest first, runs of lazy ones merged; made once per reader (sections do not change)."""
    segments: list[XRefSectionData | _LazyRun] | None = vars(cache).get("_podpisant_segments")
    if segments is None:
        segments = []
        run: list[LazySectionData] = []
        for section in reversed(cache._xref_sections):
            data = section.xref_data
            if type(data) is LazySectionData:
                run.append(data)
                continue
            if run:
                segments.append(_LazyRun(run))
                run = []
            segments.append(data)
        if run:
            segments.append(_LazyRun(run))
        cache._podpisant_segments = segments  # type: ignore[attr-defined]
    return segments


def current_location(cache: xref.XRefCache, ref: generic.Reference) -> int | ObjStreamRef | None:
    """`XRefCache[ref]`: the newest section that resolves the reference answers, as in pyHanko's walk."""
    idnum, generation = ref.idnum, ref.generation
    for segment in _segments(cache):
        found = segment.resolve(idnum, generation) if type(segment) is _LazyRun else \
            _resolve(segment, idnum, generation)  # type: ignore[arg-type]
        if found is not _MISS:
            return found  # type: ignore[return-value]
    return None


def install() -> None:
    """Make pyHanko read earlier cross-reference streams lazily and look trailer keys and objects up without
    exceptions (idempotent)."""
    xref.XRefBuilder._read_xref_stream = read_xref_stream  # type: ignore[method-assign,assignment]
    xref.TrailerDictionary.raw_get = trailer_raw_get  # type: ignore[method-assign,assignment]
    xref.TrailerDictionary.flatten = trailer_flatten  # type: ignore[method-assign,assignment]
    xref.TrailerDictionary.keys = trailer_keys  # type: ignore[method-assign]
    xref.XRefCache.__getitem__ = current_location  # type: ignore[method-assign]


def originals() -> dict[str, Any]:
    """pyHanko's own code by name ("read_xref_stream", "trailer_raw_get", "trailer_flatten", "trailer_keys",
    "current_location"), for the equivalence tests."""
    return dict(_ORIGINALS)
