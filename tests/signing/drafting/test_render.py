"""Drafts rendered to PDF, read back with poppler: Cyrillic, № and ₽ as text, requisites, amount in words,
pagination with a repeated header, fonts embedded, the same bytes every time, ready for the signature page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from signing.drafting.draft import Draft, validate_draft
from signing.drafting.kinds import DocumentKind
from signing.drafting.money import amount_in_words
from signing.drafting.render import SIGNATURES_NOTE, render_pdf
from signing.pades.layout import SignatorySlot, prepare_for_round, signature_fields

from .examples import ENTREPRENEUR, SBERBANK, TODAY, YANDEX, form, item


def pdftotext(pdf: bytes, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    done = subprocess.run(["pdftotext", "-raw", *pages, "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def flat(text: str) -> str:
    """Text with every run of whitespace (line breaks, no-break spaces) as one space."""
    return " ".join(text.split())


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def draft_of(kind: DocumentKind = DocumentKind.ACT, **changes: Any) -> Draft:
    return validate_draft(form(kind, **changes), today=TODAY)


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_each_kind_renders_its_title_parties_and_amount_in_words(kind: DocumentKind) -> None:
    draft = draft_of(kind)
    text = flat(pdftotext(render_pdf(draft)))
    assert f"{kind.title} № 12 от 30.11.2026" in text
    assert "Всего к оплате: 3 661,22 ₽" in text
    assert f"({amount_in_words(draft.totals.gross)})" in text
    assert "Три тысячи шестьсот шестьдесят один рубль 22 копейки" in text
    assert f"{kind.roles.seller} {SBERBANK['name']} ИНН 7707083893, КПП 773601001" in text
    assert "ИНН 500100732259" in text and "ОГРНИП 304500116600011" in text
    assert text.endswith(SIGNATURES_NOTE)  # nothing after it: the signature page comes from the signing engine


def test_periodic_kinds_show_their_period() -> None:
    assert "за ноябрь 2026 г." in pdftotext(render_pdf(draft_of(DocumentKind.INVOICE)))
    partial = draft_of(period={"start": "01.11.2026", "end": "15.11.2026"})
    assert "с 01.11.2026 по 15.11.2026" in pdftotext(render_pdf(partial))


def test_kind_specific_blocks_are_printed() -> None:
    contract = flat(pdftotext(render_pdf(draft_of(DocumentKind.CONTRACT))))
    assert "г. Москва" in contract and "Предмет договора: Оказание услуг по сопровождению 1С" in contract
    waybill = flat(pdftotext(render_pdf(draft_of(DocumentKind.WAYBILL))))
    for expected in ("Перевозчик ООО «Яндекс» ИНН 7736207543", "Водитель: Петров Пётр Петрович",
                     "Пункт разгрузки: г. Тверь, ул. Заводская, д. 7", "Масса, кг", "Общая масса груза: 12,5 кг"):
        assert expected in waybill
    acceptance = flat(pdftotext(render_pdf(draft_of(DocumentKind.ACCEPTANCE_ACT))))
    assert "Основание: договор № 17 от 01.09.2026" in acceptance
    invoice = flat(pdftotext(render_pdf(draft_of(DocumentKind.INVOICE))))
    assert "К платёжно-расчётному документу: № 318 от 02.12.2026" in invoice
    assert "Продавец" in invoice and "Покупатель" in invoice


def test_vat_is_itemised_per_rate_and_a_document_without_vat_says_so() -> None:
    mixed = flat(pdftotext(render_pdf(draft_of(items=[item(), item(price="100", vat_rate="10")]))))
    assert "НДС 22 %: 660,22 ₽" in mixed and "НДС 10 %: 20,00 ₽" in mixed
    without = flat(pdftotext(render_pdf(draft_of(items=[item(vat_rate="без НДС")]))))
    assert "без НДС" in without
    assert "(Три тысячи один рубль 00 копеек, без НДС)" in without


def test_sixty_items_paginate_with_the_header_on_every_page_and_every_item_present() -> None:
    items = [item(name=f"Позиция {n:02d} " + "длинное наименование работ " * (n % 4)) for n in range(1, 61)]
    pdf = render_pdf(draft_of(items=items))
    pages = page_count(pdf)
    assert pages >= 2
    page_texts = [pdftotext(pdf, page, page) for page in range(1, pages + 1)]
    with_items = [text for text in page_texts if "Позиция" in text]
    assert len(with_items) >= 2
    assert all("Наименование Кол-во Ед." in flat(text) for text in with_items)  # the header row repeats
    text = flat(pdftotext(pdf))
    assert [n for n in range(1, 61) if f"Позиция {n:02d}" not in text] == []
    assert f"Стр. {pages}" in text


def test_long_names_wrap_instead_of_overflowing() -> None:
    long_name = "Выполнение работ по техническому обслуживанию " * 8
    text = pdftotext(render_pdf(draft_of(items=[item(name=long_name)])))
    assert flat(long_name) in flat(text)
    assert max(len(line) for line in text.splitlines()) < 100


def test_the_largest_fields_lay_out_without_error() -> None:
    party = {**SBERBANK, "name": "Ж" * 300, "address": "адрес " * 83}
    draft = draft_of(DocumentKind.WAYBILL, seller=party, buyer={**YANDEX, "name": "Я" * 300},
                     carrier={**ENTREPRENEUR, "address": "ш" * 500},
                     items=[item(name="ы" * 1000, weight_kg="999 999 999,999", price="999 999 999 999,99",
                                 vat_rate="0")] * 3,
                     notes=("заметка " * 249).strip())
    pdf = render_pdf(draft)
    assert page_count(pdf) >= 1
    assert amount_in_words(draft.totals.gross) in flat(pdftotext(pdf))


def test_markup_and_unusual_characters_in_user_text_are_printed_as_text() -> None:
    draft = draft_of(items=[item(name="Услуга <b>& «кавычки» </para> 🚚")], notes="a < b & c > d")
    text = flat(pdftotext(render_pdf(draft)))
    assert "Услуга <b>& «кавычки» </para>" in text
    assert "a < b & c > d" in text


def test_only_the_committed_fonts_are_used_and_embedded() -> None:
    fonts = subprocess.run(["pdffonts", "-"], input=render_pdf(draft_of()), capture_output=True, check=True)
    rows = fonts.stdout.decode().splitlines()[2:]
    assert sorted(row.split()[0].split("+")[1] for row in rows) == ["PodpisantSans", "PodpisantSans-Bold"]
    assert all(row.split()[-5] == "yes" for row in rows)  # emb


def test_the_same_draft_renders_to_the_same_bytes_in_any_process() -> None:
    draft = draft_of(DocumentKind.WAYBILL)
    first = render_pdf(draft)
    assert render_pdf(draft) == first
    script = ("import json, sys; from signing.drafting.draft import Draft; from signing.drafting.render import "
              "render_pdf; sys.stdout.buffer.write(render_pdf(Draft.from_dict(json.load(sys.stdin))))")
    other = subprocess.run([sys.executable, "-c", script], input=json.dumps(draft.to_dict()).encode(),
                           capture_output=True, check=True).stdout
    assert other == first


def test_a_different_draft_renders_differently() -> None:
    assert render_pdf(draft_of()) != render_pdf(draft_of(number="13"))


def test_the_signing_engine_appends_its_signature_page_to_a_rendered_draft() -> None:
    pdf = render_pdf(draft_of())
    prepared = prepare_for_round(pdf, [SignatorySlot("sig-1", "Иванов Иван Иванович"),
                                       SignatorySlot("sig-2", "Петров Пётр Петрович", organization="ПАО Сбербанк")])
    assert prepared.startswith(pdf)
    assert [field.name for field in signature_fields(prepared)] == ["sig-1", "sig-2"]
    assert page_count(prepared) == page_count(pdf) + 1


def test_a_ten_item_act_renders_quickly() -> None:
    draft = draft_of(items=[item(name=f"Работа {n}") for n in range(10)])
    render_pdf(draft)  # fonts registered, code warm
    started = time.perf_counter()
    render_pdf(draft)
    elapsed = time.perf_counter() - started
    print(f"10-item act rendered in {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0
