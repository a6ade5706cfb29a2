"""The stamp font: embedded once per document, then reused by every signature appearance without subsetting.

`PodpisantSans.ttf` (built by bin/normalise-font) is a 1000-units-per-em subset of DejaVu Sans. Preparation puts it
in the document as one complete Type0/CIDFontType2 font (Identity-H, CIDs are glyph ids, full widths and a
ToUnicode CMap) under /AcroForm /DR /Font /PodpisantSans. A signature's appearance then only looks up glyph ids and
advances (cached here) and points at that font object: no fontTools work and no new font objects per signature,
which pyHanko's GlyphAccumulator would otherwise spend ~150 ms on.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

__all__ = [
    "FONT_PATH",
    "FONT_RESOURCE_NAME",
    "FontMetrics",
    "PodpisantFontEngine",
    "PodpisantFontEngineFactory",
    "embed_font",
    "ensure_form_font",
    "find_form_font",
    "font_metrics",
    "show_text",
    "text_width",
    "wrap_text",
]

FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "PodpisantSans.ttf"
FONT_RESOURCE_NAME = "PodpisantSans"
FALLBACK_CHARACTER = "?"
"""Drawn in place of a character the font lacks, so the gap is visible and text extraction still sees it."""
UNITS_PER_EM = 1000
FLATE = pdf_name("/FlateDecode")


@dataclass(frozen=True)
class FontMetrics:
    """What laying out text needs from the font, read once per process."""

    glyph_ids: dict[int, int]
    """Unicode code point → glyph id (equal to the CID under CIDToGIDMap /Identity)."""
    advances: tuple[int, ...]
    """Advance width of each glyph id, in thousandths of an em."""
    ascent: int
    """Ascender height, thousandths of an em."""
    descent: int
    """Descender depth (negative), thousandths of an em."""
    bbox: tuple[int, int, int, int]
    """Font bounding box, thousandths of an em."""
    program: bytes
    """The TrueType file itself, for embedding."""

    def glyph_for(self, char: str) -> int:
        """The glyph id for `char`, or for the fallback character when the font lacks it."""
        return self.glyph_ids.get(ord(char)) or self.glyph_ids[ord(FALLBACK_CHARACTER)]

    def to_unicode(self) -> dict[int, int]:
        """Glyph id → the lowest code point drawn with it (what text extraction reports)."""
        mapping: dict[int, int] = {}
        for code_point, gid in sorted(self.glyph_ids.items(), reverse=True):
            mapping[gid] = code_point
        return mapping


@cache
def font_metrics() -> FontMetrics:
    """The stamp font's metrics, loaded on first use and kept for the life of the process."""
    program = FONT_PATH.read_bytes()
    font = TTFont(FONT_PATH, lazy=True)
    if font["head"].unitsPerEm != UNITS_PER_EM:  # bin/normalise-font guarantees this
        raise RuntimeError(f"{FONT_PATH} is not normalised to {UNITS_PER_EM} units per em")
    order = font.getGlyphOrder()
    hmtx = font["hmtx"]
    head = font["head"]
    return FontMetrics(
        glyph_ids={cp: font.getGlyphID(name) for cp, name in font.getBestCmap().items()},
        advances=tuple(hmtx[name][0] for name in order),
        ascent=font["hhea"].ascent,
        descent=font["hhea"].descent,
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        program=program,
    )


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def text_width(text: str, size: float) -> float:
    """Width of `text` set in the stamp font at `size` points (no kerning, as it is drawn)."""
    metrics = font_metrics()
    return sum(metrics.advances[metrics.glyph_for(c)] for c in _normalised(text)) * size / UNITS_PER_EM


def show_text(text: str) -> bytes:
    """A `Tj` operation drawing `text` with the embedded font (two-byte glyph ids, Identity-H)."""
    metrics = font_metrics()
    glyphs = "".join(f"{metrics.glyph_for(c):04x}" for c in _normalised(text))
    return f"<{glyphs}> Tj".encode("ascii")


def wrap_text(text: str, width: float, size: float) -> list[str]:
    """Break `text` into lines no wider than `width` at `size` points: at spaces, after hyphens of words too long
    for a line (double surnames), and as a last resort inside a word."""
    lines: list[str] = []
    current = ""
    for piece, glue in _pieces(text, width, size):
        candidate = f"{current}{glue}{piece}" if current else piece
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = piece
        while text_width(current, size) > width and len(current) > 1:
            cut = _longest_fitting_prefix(current, width, size)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _pieces(text: str, width: float, size: float) -> Iterator[tuple[str, str]]:
    """Words with the glue that joins each to the previous one; overlong words split after their hyphens."""
    for word in text.split():
        parts = re.split(r"(?<=-)(?=.)", word) if text_width(word, size) > width else [word]
        yield parts[0], " "
        for part in parts[1:]:
            yield part, ""


def _longest_fitting_prefix(word: str, width: float, size: float) -> int:
    cut = len(word) - 1
    while cut > 1 and text_width(word[:cut], size) > width:
        cut -= 1
    return cut


# ---------------------------------------------------------------- the font objects in the PDF


def embed_font(writer: BasePdfFileWriter) -> generic.IndirectObject:
    """Write the complete font (Type0 → CIDFontType2 → descriptor → FontFile2, ToUnicode) and return its reference."""
    metrics = font_metrics()
    program = generic.StreamObject(
        {pdf_name("/Length1"): generic.NumberObject(len(metrics.program)), pdf_name("/Filter"): FLATE},
        encoded_data=_compressed_program(),
    )
    descriptor = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/FontDescriptor"),
        pdf_name("/FontName"): pdf_name(f"/{FONT_RESOURCE_NAME}"),
        pdf_name("/Flags"): generic.NumberObject(32),  # non-symbolic
        pdf_name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in metrics.bbox),
        pdf_name("/ItalicAngle"): generic.NumberObject(0),
        pdf_name("/Ascent"): generic.NumberObject(metrics.ascent),
        pdf_name("/Descent"): generic.NumberObject(metrics.descent),
        pdf_name("/CapHeight"): generic.NumberObject(729),
        pdf_name("/StemV"): generic.NumberObject(80),
        pdf_name("/FontFile2"): writer.add_object(program),
    })
    cid_font = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"),
        pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
        pdf_name("/BaseFont"): pdf_name(f"/{FONT_RESOURCE_NAME}"),
        pdf_name("/CIDSystemInfo"): generic.DictionaryObject({
            pdf_name("/Registry"): generic.pdf_string("Adobe"),
            pdf_name("/Ordering"): generic.pdf_string("Identity"),
            pdf_name("/Supplement"): generic.NumberObject(0),
        }),
        pdf_name("/FontDescriptor"): writer.add_object(descriptor),
        pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
        pdf_name("/W"): generic.ArrayObject([
            generic.NumberObject(0), generic.ArrayObject(generic.NumberObject(w) for w in metrics.advances)
        ]),
    })
    type0 = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"),
        pdf_name("/Subtype"): pdf_name("/Type0"),
        pdf_name("/BaseFont"): pdf_name(f"/{FONT_RESOURCE_NAME}"),
        pdf_name("/Encoding"): pdf_name("/Identity-H"),
        pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
        pdf_name("/ToUnicode"): writer.add_object(generic.StreamObject(
            {pdf_name("/Filter"): FLATE}, encoded_data=_compressed_to_unicode_cmap())),
    })
    return writer.add_object(type0)


@cache
def _compressed_program() -> bytes:
    """The font program, Flate-compressed once per process (the same bytes go into every prepared document)."""
    return zlib.compress(font_metrics().program)


@cache
def _compressed_to_unicode_cmap() -> bytes:
    """The ToUnicode CMap, built and compressed once per process."""
    return zlib.compress(_to_unicode_cmap(font_metrics()))


def _to_unicode_cmap(metrics: FontMetrics) -> bytes:
    pairs = [f"<{gid:04x}> <{cp:04x}>" for gid, cp in sorted(metrics.to_unicode().items())]
    blocks = [pairs[i : i + 100] for i in range(0, len(pairs), 100)]
    body = "\n".join(f"{len(b)} beginbfchar\n" + "\n".join(b) + "\nendbfchar" for b in blocks)
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    return cmap.encode("ascii")


def find_form_font(writer: BasePdfFileWriter) -> generic.IndirectObject | None:
    """The font preparation put in /AcroForm /DR /Font, if this document has been prepared."""
    try:
        fonts = writer.root["/AcroForm"]["/DR"]["/Font"]
        ref = fonts.raw_get(f"/{FONT_RESOURCE_NAME}")
    except KeyError:
        return None
    return ref if isinstance(ref, generic.IndirectObject) else None


def ensure_form_font(writer: BasePdfFileWriter) -> generic.IndirectObject:
    """The form's stamp font, embedding it into /AcroForm /DR first if needed (preparation time only)."""
    existing = find_form_font(writer)
    if existing is not None:
        return existing
    ref = embed_font(writer)
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form_ref = root.raw_get("/AcroForm")
    form = form_ref.get_object()
    resources = form.setdefault(pdf_name("/DR"), generic.DictionaryObject()).get_object()
    fonts = resources.setdefault(pdf_name("/Font"), generic.DictionaryObject()).get_object()
    fonts[pdf_name(f"/{FONT_RESOURCE_NAME}")] = ref
    for container in (form, resources, fonts):
        writer.update_container(container)
    return ref


# ---------------------------------------------------------------- pyHanko's font engine interface


class PodpisantFontEngine(FontEngine):
    """Shapes text by glyph lookup only and points the appearance at the document's existing font object."""

    def __init__(self, writer: BasePdfFileWriter, font_ref: generic.IndirectObject | None) -> None:
        super().__init__(writer, FONT_RESOURCE_NAME, embedded_subset=False)
        self._font_ref = font_ref

    @property
    def uses_complex_positioning(self) -> bool:
        return False  # plain Tj; the text box moves to the next line with T*

    def shape(self, txt: str) -> ShapeResult:
        return ShapeResult(graphics_ops=show_text(txt), x_advance=text_width(txt, 1), y_advance=0)

    def as_resource(self) -> generic.PdfObject:
        if self._font_ref is None:  # an unprepared document: embed once into this revision
            self._font_ref = embed_font(self.writer)
        return self._font_ref

    def prepare_write(self) -> None:
        """Nothing to do: the font is complete, never subset."""


class PodpisantFontEngineFactory(FontEngineFactory):
    """Hands pyHanko's text boxes a `PodpisantFontEngine` bound to the document's prepared font."""

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> FontEngine:
        return PodpisantFontEngine(writer, find_form_font(writer))
