"""A draft as a PDF: A4, Cyrillic from the committed Podpisant Sans, the same bytes for the same draft.

The document ends with «Подписи сторон — на листе подписей»: the signing engine appends the signature page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from signing.drafting.draft import Draft
from signing.drafting.fields import format_date
from signing.drafting.kinds import DocumentKind
from signing.drafting.money import LineItem, VatRate, amount_in_words, format_amount, format_quantity
from signing.drafting.requisites import Party

__all__ = ["FONT", "FONT_BOLD", "PageFooter", "register_fonts", "render_pdf"]

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT = "PodpisantSans"
FONT_BOLD = "PodpisantSans-Bold"
MARGIN = 15 * mm
FRAME_PADDING = 6
"""Platypus frames keep 6 pt inside the page margins; tables are sized to what is left."""
CONTENT_WIDTH = A4[0] - 2 * (MARGIN + FRAME_PADDING)
SIGNATURES_NOTE = "Подписи сторон — на листе подписей"
CLOSING_TEXT = {
    DocumentKind.ACT: "Вышеперечисленные работы (услуги) выполнены полностью и в срок. "
                      "Заказчик претензий по объёму, качеству и срокам оказания услуг не имеет.",
    DocumentKind.ACCEPTANCE_ACT: "Передающая сторона передала, а Принимающая сторона приняла перечисленное выше. "
                                 "Стороны претензий друг к другу не имеют.",
}


@cache
def register_fonts() -> None:
    """Podpisant Sans (regular and bold, DejaVu subsets with Cyrillic, № and ₽) as one family for <b>."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "PodpisantSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "PodpisantSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
SMALL_RIGHT = ParagraphStyle("small-right", parent=SMALL, alignment=TA_RIGHT)
SMALL_CENTER = ParagraphStyle("small-center", parent=SMALL, alignment=TA_CENTER)
HEADING = ParagraphStyle("heading", parent=BODY, fontName=FONT_BOLD, fontSize=13, leading=16, alignment=TA_CENTER)
SUBHEADING = ParagraphStyle("subheading", parent=BODY, fontSize=10, leading=13, alignment=TA_CENTER)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=TA_RIGHT)
GRID = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), FONT),  # tables set a cell font even around paragraphs: keep it ours
    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
])
PLAIN = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
])


def render_pdf(draft: Draft) -> bytes:
    """The draft as an A4 PDF: the same draft always gives the same bytes (reportlab's invariant mode)."""
    register_fonts()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 5 * mm,
        title=draft.title, author="Подписант", subject=draft.kind.title, creator="Podpisant", invariant=1,
        initialFontName=FONT,
    )
    footer = PageFooter(draft.title)
    document.build(_story(draft), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


class PageFooter:
    """The document's title and the page number at the foot of every page."""

    def __init__(self, title: str) -> None:
        self.title = title

    def __call__(self, canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN + FRAME_PADDING, MARGIN, self.title)
        canvas.drawRightString(A4[0] - MARGIN - FRAME_PADDING, MARGIN, f"Стр. {document.page}")
        canvas.restoreState()


def _story(draft: Draft) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(_text(draft.title), HEADING)]
    if draft.period is not None:
        story.append(Paragraph(_text(draft.period.label()), SUBHEADING))
    story += [Spacer(1, 4 * mm), *_kind_header(draft), _parties(draft), Spacer(1, 4 * mm)]
    story += [_items_table(draft), Spacer(1, 2 * mm), _totals_table(draft), Spacer(1, 2 * mm)]
    story.append(Paragraph(_payable(draft), BODY))
    story += _kind_footer(draft)
    if draft.notes:
        story += [Spacer(1, 3 * mm), Paragraph(_text(draft.notes).replace("\n", "<br/>"), BODY)]
    story += [Spacer(1, 6 * mm), Paragraph(SIGNATURES_NOTE, BODY)]
    return story


def _kind_header(draft: Draft) -> list[Flowable]:
    """What a kind says between the title and the parties: place, subject, basis, payment document, transport."""
    extra = draft.extra
    lines: list[Flowable] = []
    if draft.kind is DocumentKind.CONTRACT:
        place = Table([[Paragraph(_text(f"г. {extra['city']}"), BODY), Paragraph(format_date(draft.date), RIGHT)]],
                      colWidths=[CONTENT_WIDTH / 2] * 2, style=PLAIN)
        lines += [place, _labelled("Предмет договора", extra["subject"])]
    if "basis_number" in extra or "basis_date" in extra:
        lines.append(_labelled("Основание", _reference("договор", extra.get("basis_number"), extra.get("basis_date"))))
    if "payment_document_number" in extra or "payment_document_date" in extra:
        reference = _reference("", extra.get("payment_document_number"), extra.get("payment_document_date"))
        lines.append(_labelled("К платёжно-расчётному документу", reference))
    if draft.kind is DocumentKind.WAYBILL:
        lines += [_labelled("Автомобиль", extra["vehicle"]), _labelled("Водитель", extra["driver"]),
                  _labelled("Пункт погрузки", extra["loading_address"]),
                  _labelled("Пункт разгрузки", extra["unloading_address"])]
    return [*lines, Spacer(1, 3 * mm)] if lines else []


def _reference(what: str, number: str | None, date: str | None) -> str:
    """«договор № 5 от 01.01.2026», with whichever of number and date is known."""
    parts = [what, f"№ {number}" if number else "", f"от {date}" if date else ""]
    return " ".join(part for part in parts if part)


def _labelled(label: str, value: str) -> Paragraph:
    return Paragraph(f"<b>{_text(label)}:</b> {_text(value)}", BODY)


def _parties(draft: Draft) -> Flowable:
    roles = draft.kind.roles
    blocks = [_party_block(roles.seller, draft.seller), _party_block(roles.buyer, draft.buyer)]
    if draft.carrier is not None and roles.carrier is not None:
        blocks.append(_party_block(roles.carrier, draft.carrier))
    return Table([blocks], colWidths=[CONTENT_WIDTH / len(blocks)] * len(blocks), style=PLAIN)


def _party_block(role: str, party: Party) -> Paragraph:
    """A party's requisites under its role: name, ИНН/КПП, ОГРН or ОГРНИП, address."""
    ids = f"ИНН {party.inn}" + (f", КПП {party.kpp}" if party.kpp else "")
    lines = [f"<b>{_text(role)}</b>", _text(party.name), ids]
    if party.ogrn:
        lines.append(f"{party.ogrn_label} {party.ogrn}")
    lines.append(f"Адрес: {_text(party.address)}")
    return Paragraph("<br/>".join(lines), BODY)


def _items_table(draft: Draft) -> Table:
    """№, name, quantity, unit, (weight,) price, VAT rate, VAT, sum with VAT; the header repeats on every page."""
    weights = draft.kind.spec.item_weight_required
    header = ["№", "Наименование", "Кол-во", "Ед.", *(["Масса, кг"] if weights else []), "Цена без НДС, ₽",
              "Ставка НДС", "Сумма НДС, ₽", "Сумма с НДС, ₽"]
    rows: list[list[Flowable]] = [[Paragraph(_text(cell), SMALL_CENTER) for cell in header]]
    rows += [_item_row(number, item, weights) for number, item in enumerate(draft.items, start=1)]
    fixed = [8 * mm, 15 * mm, 12 * mm, *([15 * mm] if weights else []), 23 * mm, 14 * mm, 21 * mm, 24 * mm]
    widths = [fixed[0], CONTENT_WIDTH - sum(fixed), *fixed[1:]]
    return Table(rows, colWidths=widths, repeatRows=1, style=GRID)


def _item_row(number: int, item: LineItem, weights: bool) -> list[Flowable]:
    vat = "—" if item.vat_rate is VatRate.NONE else format_amount(item.vat)
    weight = [format_quantity(item.weight_kg) if item.weight_kg is not None else ""] if weights else []
    numbers = [*weight, format_amount(item.price), item.vat_rate.label, vat, format_amount(item.gross)]
    return [Paragraph(str(number), SMALL_CENTER), Paragraph(_text(item.name), SMALL),
            Paragraph(format_quantity(item.quantity), SMALL_RIGHT), Paragraph(_text(item.unit), SMALL_CENTER),
            *(Paragraph(_text(cell), SMALL_RIGHT) for cell in numbers)]


def _totals_table(draft: Draft) -> Flowable:
    totals = draft.totals
    rows = [("Итого без НДС:", format_amount(totals.net))]
    for rate_total in totals.by_rate:
        if rate_total.rate is VatRate.NONE:
            rows.append(("Без НДС:", format_amount(rate_total.net)))
        else:
            rows.append((f"НДС {rate_total.rate.label}:", format_amount(rate_total.vat)))
    rows.append(("Всего с НДС:", format_amount(totals.gross)))
    cells = [[Paragraph(_text(label), RIGHT), Paragraph(f"{_text(value)} ₽", RIGHT)] for label, value in rows]
    return Table(cells, colWidths=[CONTENT_WIDTH - 45 * mm, 45 * mm], style=PLAIN)


def _payable(draft: Draft) -> str:
    gross = draft.totals.gross
    vat = "" if draft.totals.charges_vat else ", без НДС"
    return (f"<b>Всего к оплате: {_text(format_amount(gross))} ₽</b> "
            f"({_text(amount_in_words(gross))}{vat})")


def _kind_footer(draft: Draft) -> Sequence[Flowable]:
    """What a kind says after the totals: the act's acceptance wording, the waybill's total weight."""
    paragraphs: list[Flowable] = []
    if draft.kind.spec.item_weight_required:
        weight = sum((item.weight_kg for item in draft.items if item.weight_kg is not None), start=Decimal(0))
        paragraphs.append(Paragraph(_text(f"Общая масса груза: {format_quantity(weight)} кг"), BODY))
    if draft.kind in CLOSING_TEXT:
        paragraphs.append(Paragraph(_text(CLOSING_TEXT[draft.kind]), BODY))
    return [KeepTogether([Spacer(1, 3 * mm), *paragraphs])] if paragraphs else []


def _text(value: str) -> str:
    """User text made safe for reportlab's paragraph markup."""
    return escape(value)
