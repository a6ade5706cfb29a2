"""The signature page: appended before any signature, one empty field per signatory, laid out without overlaps."""

from __future__ import annotations

import io
import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import LayoutInvalid, PdfCorrupt, PdfEncrypted
from signing.pades.layout import SLOTS_PER_PAGE, FieldInfo, SignatorySlot, prepare_for_round, signature_fields
from tests.signing.pades.poppler import page_text, words
from tests.support.pades import plain_pdf, with_fields

LONG_NAME = "Константинопольский-Воскресенский Александр Вячеславович"
LONG_ORGANIZATION = (
    "Общество с ограниченной ответственностью «Научно-производственное объединение «Северные технологии»»"
)


def _slots(count: int) -> list[SignatorySlot]:
    return [
        SignatorySlot(
            field_name=f"signatory-{n}",
            name=LONG_NAME if n % 4 == 0 else f"Подписант Номер {n}",
            organization=LONG_ORGANIZATION if n % 2 else None,
            role="Генеральный директор" if n % 3 else None,
        )
        for n in range(count)
    ]


def _page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])


def _media_box(pdf: bytes, page_index: int) -> tuple[float, ...]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    page, _resources = reader.find_page_for_modification(page_index)
    return tuple(float(v) for v in page.get_object()["/MediaBox"])


def _overlap(a: FieldInfo, b: FieldInfo) -> bool:
    ax1, ay1, ax2, ay2 = a.rect
    bx1, by1, bx2, by2 = b.rect
    return a.page_index == b.page_index and ax1 < bx2 and bx1 < ax2 and ay1 < by2 and by1 < ay2


@pytest.fixture(scope="module")
def original() -> bytes:
    return plain_pdf(3)


@pytest.fixture(scope="module")
def prepared(original: bytes) -> bytes:
    return prepare_for_round(original, _slots(20))


def test_twenty_signatories_get_four_appended_pages_keeping_the_document_pages(prepared: bytes) -> None:
    assert _page_count(prepared) == 3 + 4
    fields = signature_fields(prepared)
    assert [f.name for f in fields] == [f"signatory-{n}" for n in range(20)]
    assert [f.page_index for f in fields] == [3 + n // SLOTS_PER_PAGE for n in range(20)]


def test_every_field_is_empty_inside_its_page_and_overlaps_no_other(prepared: bytes) -> None:
    fields = signature_fields(prepared)
    assert not any(f.signed for f in fields)
    for field in fields:
        mx1, my1, mx2, my2 = _media_box(prepared, field.page_index)
        x1, y1, x2, y2 = field.rect
        assert mx1 <= x1 < x2 <= mx2 and my1 <= y1 < y2 <= my2, field
    assert not [(a.name, b.name) for a, b in combinations(fields, 2) if _overlap(a, b)]


def test_the_original_bytes_are_untouched_and_qpdf_finds_no_fault(
    original: bytes, prepared: bytes, tmp_path: Path
) -> None:
    assert prepared.startswith(original)
    (tmp_path / "prepared.pdf").write_bytes(prepared)
    check = subprocess.run(["qpdf", "--check", str(tmp_path / "prepared.pdf")], capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    assert b"No syntax or stream encoding errors" in check.stdout


def test_the_page_is_titled_and_names_each_signatory_in_extractable_text(prepared: bytes) -> None:
    first = page_text(prepared, 4)
    assert "Лист подписей к документу на 3 стр." in first
    assert "1. Константинопольский-Воскресенский Александр Вячеславович" in first
    assert "2. Подписант Номер 1" in first and "Генеральный директор" in first
    last = page_text(prepared, 7)
    assert "(продолжение)" in last and "20. Подписант Номер 19" in last and "Лист 4 из 4" in last


def test_captions_stay_left_of_the_signature_fields(prepared: bytes) -> None:
    fields = signature_fields(prepared)
    left_edge = min(f.rect[0] for f in fields)
    rows_top, rows_bottom = max(f.rect[3] for f in fields), min(f.rect[1] for f in fields)
    for page_number in range(4, 8):
        captions = [w for w in words(prepared, page_number) if w.y1 >= rows_bottom and w.y2 <= rows_top + 1]
        captions = [w for w in captions if w.x1 < left_edge]
        assert len(captions) > 10
        assert all(w.x2 <= left_edge for w in captions), captions


def test_a_long_organisation_is_cut_with_an_ellipsis_rather_than_overflowing() -> None:
    slot = SignatorySlot("only", "Петров Пётр", organization=" ".join([LONG_ORGANIZATION] * 3))
    text = page_text(prepare_for_round(plain_pdf(), [slot]), 2)
    assert "…" in text
    assert text.count("Общество") == 1


def test_one_signatory_on_a_ten_page_document_adds_exactly_one_page() -> None:
    prepared = prepare_for_round(plain_pdf(10), [SignatorySlot("director", "Сидоров Сидор Сидорович")])
    assert _page_count(prepared) == 11
    assert signature_fields(prepared) == [
        FieldInfo("director", 10, signature_fields(prepared)[0].rect, signed=False)
    ]


def test_preparing_again_reuses_the_embedded_font() -> None:
    once = prepare_for_round(plain_pdf(), _slots(2))
    twice = prepare_for_round(once, [SignatorySlot("late-signatory", "Поздний Подписант")])
    assert [f.name for f in signature_fields(twice)][-1] == "late-signatory"
    assert _page_count(twice) == 3
    assert twice.count(b"/FontFile2") == 1


@pytest.mark.parametrize(
    "slots",
    [
        [],
        [SignatorySlot("same", "Первый"), SignatorySlot("same", "Второй")],
        [SignatorySlot("", "Без имени поля")],
        [SignatorySlot("with.dot", "Точка в имени")],
        [SignatorySlot("with space", "Пробел в имени")],
        [SignatorySlot("поле", "Кириллица в имени поля")],
        [SignatorySlot("x" * 65, "Слишком длинное имя")],
        [SignatorySlot("nameless", "   ")],
    ],
    ids=["empty", "duplicate", "blank-field", "dot", "space", "cyrillic", "too-long", "blank-person"],
)
def test_unusable_slots_are_refused(slots: list[SignatorySlot]) -> None:
    with pytest.raises(LayoutInvalid):
        prepare_for_round(plain_pdf(), slots)


def test_a_field_name_the_document_already_has_is_refused() -> None:
    pdf = with_fields(plain_pdf(), ["taken"])
    with pytest.raises(LayoutInvalid, match="taken"):
        prepare_for_round(pdf, [SignatorySlot("taken", "Иванов Иван")])


def test_garbage_is_refused_as_corrupt() -> None:
    with pytest.raises(PdfCorrupt):
        prepare_for_round(b"%PDF-1.7\nnot really a pdf", _slots(1))


def test_an_encrypted_document_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain.pdf").write_bytes(plain_pdf())
    subprocess.run(["qpdf", "--encrypt", "", "owner", "256", "--", str(tmp_path / "plain.pdf"),
                    str(tmp_path / "locked.pdf")], check=True)
    with pytest.raises(PdfEncrypted):
        prepare_for_round((tmp_path / "locked.pdf").read_bytes(), _slots(1))
