"""The signature page («Лист подписей»): appended before a round starts, one empty signature field per signatory.

Every field exists before the first signature, so each later signature only fills its own field — a change
DocMDP level 2 (form filling and signing) allows. The page is laid out like a sheet of handwritten signatures:
a row per signatory, the caption (name, organisation, role) on the left and the field for the stamp on the right.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.rw_common import PdfHandler
from pyhanko.pdf_utils.writer import BasePdfFileWriter, init_xobject_dictionary
from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields

from signing.errors import LayoutInvalid, PdfCorrupt, PdfEncrypted
from signing.pades.fontengine import ensure_form_font, show_text, text_width, wrap_text

__all__ = [
    "FIELD_NAME_PATTERN",
    "SLOTS_PER_PAGE",
    "STAMP_HEIGHT",
    "STAMP_WIDTH",
    "FieldInfo",
    "SignatorySlot",
    "prepare_for_round",
    "signature_fields",
]

FIELD_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""Field names pyHanko and viewers handle without surprises: no dots (they separate name parts), no spaces."""

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56.0, 42.0, 56.0, 42.0
HEADER_HEIGHT = 58.0
FOOTER_HEIGHT = 20.0
SLOTS_PER_PAGE = 6
ROW_HEIGHT = (PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - HEADER_HEIGHT - FOOTER_HEIGHT) / SLOTS_PER_PAGE
STAMP_WIDTH = 290.0
"""Width of every signature field, in points; the stamp is laid out for it."""
STAMP_HEIGHT = 100.0
"""Height of every signature field, in points."""
CAPTION_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT - STAMP_WIDTH - 16.0
TEXT_GREY = b"0.25 0.25 0.25 rg"
RULE_GREY = b"0.75 0.75 0.75 RG"


@dataclass(frozen=True)
class SignatorySlot:
    """One signatory's place on the signature page."""

    field_name: str
    """Name of the signature field (unique in the document; letters, digits, '_' and '-')."""
    name: str
    """The person's full name as shown under the signature, e.g. «Иванов Иван Иванович»."""
    organization: str | None = None
    """The organisation the person signs for, if any."""
    role: str | None = None
    """Position or role in the round («Генеральный директор», «Согласующий»), if any."""


@dataclass(frozen=True)
class FieldInfo:
    """A signature field as found in a document."""

    name: str
    """Fully qualified field name."""
    page_index: int
    """Zero-based index of the page carrying the field's widget, -1 if it is on no page."""
    rect: tuple[float, float, float, float]
    """Widget rectangle (x1, y1, x2, y2) in page space, normalised so x1 ≤ x2 and y1 ≤ y2."""
    signed: bool
    """Whether the field holds a signature."""


@dataclass(frozen=True)
class _Line:
    text: str
    size: float
    leading: float


def prepare_for_round(pdf: bytes, slots: Sequence[SignatorySlot], *, title: str = "Лист подписей") -> bytes:
    """Append the signature page(s) with an empty field per slot, as an incremental update of `pdf`."""
    _check_slots(slots)
    writer = _open_writer(pdf)
    _check_names_free(writer, slots)
    font_ref = ensure_form_font(writer)
    original_pages = int(writer.root["/Pages"]["/Count"])
    chunks = [slots[i : i + SLOTS_PER_PAGE] for i in range(0, len(slots), SLOTS_PER_PAGE)]
    for number, chunk in enumerate(chunks):
        header = _header(title, original_pages, number, len(chunks))
        _append_page(writer, font_ref, chunk, header, number * SLOTS_PER_PAGE)
        page_index = original_pages + number
        for row, slot in enumerate(chunk):
            _add_field(writer, font_ref, slot, page_index, _field_box(row))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signature_fields(pdf: bytes) -> list[FieldInfo]:
    """Every signature field of `pdf`, in form order, with its page, rectangle and whether it is signed."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        page_index = _annotation_pages(reader)
        return [_field_info(name, value, ref, page_index) for name, value, ref in enumerate_sig_fields(reader)]
    except (PdfError, KeyError, TypeError, ValueError) as error:
        raise PdfCorrupt(str(error)) from error


# ---------------------------------------------------------------- checks


def _check_slots(slots: Sequence[SignatorySlot]) -> None:
    if not slots:
        raise LayoutInvalid("a signature round needs at least one signatory")
    seen: set[str] = set()
    for slot in slots:
        if not FIELD_NAME_PATTERN.fullmatch(slot.field_name):
            raise LayoutInvalid(f"unusable signature field name {slot.field_name!r}")
        if slot.field_name in seen:
            raise LayoutInvalid(f"signature field name {slot.field_name!r} is used twice")
        if not slot.name.strip():
            raise LayoutInvalid(f"signatory of field {slot.field_name!r} has no name")
        seen.add(slot.field_name)


def _open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        if writer.prev.encrypted:
            raise PdfEncrypted("encrypted documents cannot be prepared")
        writer.root["/Pages"]["/Count"]
    except (PdfError, KeyError, TypeError, ValueError) as error:
        raise PdfCorrupt(str(error)) from error
    return writer


def _check_names_free(writer: BasePdfFileWriter, slots: Sequence[SignatorySlot]) -> None:
    existing = {name for name, _value, _ref in enumerate_sig_fields(writer)} | _other_field_names(writer)
    for slot in slots:
        if slot.field_name in existing:
            raise LayoutInvalid(f"the document already has a field named {slot.field_name!r}")


def _other_field_names(handler: PdfHandler) -> set[str]:
    """Top-level names of every form field, of any type (a text field may not share a signature's name)."""
    try:
        fields = handler.root["/AcroForm"]["/Fields"]
    except KeyError:
        return set()
    names = set()
    for ref in fields:
        field = ref.get_object()
        if isinstance(field, generic.DictionaryObject) and "/T" in field:
            names.add(str(field["/T"]))
    return names


# ---------------------------------------------------------------- geometry


def _row_top(row: int) -> float:
    return PAGE_HEIGHT - MARGIN_TOP - HEADER_HEIGHT - row * ROW_HEIGHT


def _field_box(row: int) -> tuple[int, int, int, int]:
    """The field of row `row`, in whole points (pyHanko's field box type)."""
    top = round(_row_top(row) - (ROW_HEIGHT - STAMP_HEIGHT) / 2)
    right = round(PAGE_WIDTH - MARGIN_RIGHT)
    return right - int(STAMP_WIDTH), top - int(STAMP_HEIGHT), right, top


# ---------------------------------------------------------------- page content


def _header(title: str, original_pages: int, number: int, count: int) -> list[bytes]:
    subtitle = f"к документу на {original_pages} стр."
    if number:
        subtitle = f"(продолжение) {subtitle}"
    top = PAGE_HEIGHT - MARGIN_TOP
    ops = [_centred(title, 15, top - 15), TEXT_GREY, _centred(subtitle, 10, top - 33)]
    if count > 1:
        ops.append(_centred(f"Лист {number + 1} из {count}", 8, MARGIN_BOTTOM + 4))
    return ops


def _centred(text: str, size: float, baseline: float) -> bytes:
    return _text_at(text, size, (PAGE_WIDTH - text_width(text, size)) / 2, baseline)


def _text_at(text: str, size: float, x: float, baseline: float) -> bytes:
    return b"BT /F1 %g Tf %g %g Td %s ET" % (size, x, baseline, show_text(text))


def _caption_lines(slot: SignatorySlot, ordinal: int) -> list[_Line]:
    parts = [(f"{ordinal}. {slot.name.strip()}", 11.0, 13.5, 3)]
    parts += [(text.strip(), 9.0, 11.0, 2) for text in (slot.organization, slot.role) if text and text.strip()]
    lines: list[_Line] = []
    for text, size, leading, max_lines in parts:
        wrapped = wrap_text(text, CAPTION_WIDTH, size)
        if len(wrapped) > max_lines:
            wrapped = [*wrapped[: max_lines - 1], _ellipsised(" ".join(wrapped[max_lines - 1 :]), size)]
        lines += [_Line(line, size, leading) for line in wrapped]
    return lines


def _ellipsised(text: str, size: float) -> str:
    while text and text_width(text + "…", size) > CAPTION_WIDTH:
        text = text[:-1]
    return text.rstrip() + "…"


def _slot_ops(slot: SignatorySlot, ordinal: int, row: int) -> Iterator[bytes]:
    _x1, _y1, _x2, field_top = _field_box(row)
    baseline = float(field_top)
    for line in _caption_lines(slot, ordinal):
        baseline -= line.leading
        yield b"0 0 0 rg" if line.size > 10 else TEXT_GREY
        yield _text_at(line.text, line.size, MARGIN_LEFT, baseline)
    rule_y = _row_top(row) - ROW_HEIGHT
    if row < SLOTS_PER_PAGE - 1:
        yield b"%s 0.5 w %g %g m %g %g l S" % (RULE_GREY, MARGIN_LEFT, rule_y, PAGE_WIDTH - MARGIN_RIGHT, rule_y)


def _append_page(
    writer: BasePdfFileWriter,
    font_ref: generic.IndirectObject,
    chunk: Sequence[SignatorySlot],
    header: list[bytes],
    first_ordinal: int,
) -> None:
    ops = [b"q", *header]
    for row, slot in enumerate(chunk):
        ops += [b"q", *_slot_ops(slot, first_ordinal + row + 1, row), b"Q"]
    ops.append(b"Q")
    contents = writer.add_object(generic.StreamObject(stream_data=b"\n".join(ops)))
    contents.get_object().compress()
    resources = generic.DictionaryObject({
        pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font_ref}),
    })
    page = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, PAGE_WIDTH, PAGE_HEIGHT)]),
        pdf_name("/Resources"): resources,
        pdf_name("/Contents"): contents,
    })
    writer.insert_page(page)


def _add_field(
    writer: BasePdfFileWriter,
    font_ref: generic.IndirectObject,
    slot: SignatorySlot,
    page_index: int,
    box: tuple[int, int, int, int],
) -> None:
    spec = SigFieldSpec(
        sig_field_name=slot.field_name, on_page=page_index, box=box, readable_field_name=slot.name.strip()
    )
    append_signature_field(writer, spec)
    _name, _value, ref = next(enumerate_sig_fields(writer, with_name=slot.field_name))
    field = ref.get_object()
    field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): writer.add_object(_empty_appearance(font_ref))})
    writer.update_container(field)


def _empty_appearance(font_ref: generic.IndirectObject) -> generic.StreamObject:
    """A dashed frame with «Место для электронной подписи»; the signature's stamp replaces it."""
    label, size = "Место для электронной подписи", 8.0
    x = (STAMP_WIDTH - text_width(label, size)) / 2
    ops = b"q %s 0.5 w [3 2] 0 d 0.5 0.5 %g %g re S Q q 0.6 0.6 0.6 rg %s Q" % (
        RULE_GREY, STAMP_WIDTH - 1, STAMP_HEIGHT - 1, _text_at(label, size, x, STAMP_HEIGHT / 2 - size / 3),
    )
    resources = generic.DictionaryObject({
        pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font_ref}),
    })
    return init_xobject_dictionary(ops, STAMP_WIDTH, STAMP_HEIGHT, resources)


# ---------------------------------------------------------------- reading fields back


def _annotation_pages(reader: PdfHandler) -> dict[generic.Reference, int]:
    """Annotation reference → index of the page listing it in /Annots."""
    pages: dict[generic.Reference, int] = {}
    for index, page_ref in enumerate(_page_refs(reader)):
        for annot in page_ref.get_object().get("/Annots", ()):
            if isinstance(annot, generic.IndirectObject):
                pages.setdefault(annot.reference, index)
    return pages


def _page_refs(reader: PdfHandler) -> list[generic.IndirectObject]:
    """Page objects in document order (an explicit walk, so a cyclic page tree ends instead of looping)."""
    pages: list[generic.IndirectObject] = []
    seen: set[generic.Reference] = set()
    stack = [reader.root.raw_get("/Pages")]
    while stack:
        ref = stack.pop()
        if not isinstance(ref, generic.IndirectObject) or ref.reference in seen:
            continue
        seen.add(ref.reference)
        node = ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            stack.extend(reversed(list(node.get("/Kids", ()))))
        else:
            pages.append(ref)
    return pages


def _field_info(
    name: str, value: object, ref: generic.IndirectObject, page_index: dict[generic.Reference, int]
) -> FieldInfo:
    field = ref.get_object()
    widget_ref = field.raw_get("/Kids")[0] if "/Kids" in field else ref
    widget = widget_ref.get_object()
    index = page_index.get(widget_ref.reference, -1)
    x1, y1, x2, y2 = (float(v) for v in widget.get("/Rect", (0, 0, 0, 0)))
    return FieldInfo(
        name=name,
        page_index=index,
        rect=(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)),
        signed=value is not None,
    )
